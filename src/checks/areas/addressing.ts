/**
 * Addresses: the cluster CIDR apart from the node network and the service CIDR, pod CIDRs disjoint across
 * nodes, and the bridge holding the gateway address of its own range, up.
 */
import { defineCheck } from '../types.js';
import { cidrContainsIp, cidrsOverlap } from '../../net/cidr.js';
import { IPV4 } from '../../net/family.js';

export const cidrOverlap = defineCheck({
  findings: { 'cidr-overlap': { severity: 'error', title: 'the cluster CIDR overlaps the node network or the service CIDR' } },
  needs: ['addrs', 'links'],
  run(n, ctx, emit) {
    const bridge = n.live?.bridge?.name ?? 'cni0';
    for (const a of n.facts.addrs) {
      // The pod bridge's own address and an overlay's are pod-side addresses, not the node network.
      if (a.family !== IPV4.inet || a.scope === 'host' || a.ifname === bridge || n.facts.links.find((l) => l.ifname === a.ifname)?.kind === 'vxlan') continue;
      if (cidrContainsIp(ctx.clusterCIDR, a.local)) emit('cidr-overlap', `the cluster CIDR ${ctx.clusterCIDR} contains the node address ${a.local} (${a.ifname})`, `${a.ifname}: ${a.local}/${a.prefixlen}`, 'choose a cluster CIDR apart from the node network');
    }
    if (ctx.serviceCIDR && cidrsOverlap(ctx.serviceCIDR, ctx.clusterCIDR)) {
      emit('cidr-overlap', `the cluster CIDR ${ctx.clusterCIDR} overlaps the service CIDR ${ctx.serviceCIDR}`, `serviceCIDR ${ctx.serviceCIDR}`, 'choose disjoint pod and service CIDRs');
    }
  },
});

export const dupPodCidr = defineCheck({
  findings: { 'dup-podcidr': { severity: 'error', title: 'two nodes with overlapping pod CIDRs' } },
  needs: [],
  run(n, ctx, emit) {
    if (!n.podCIDR) return;
    const others = ctx.nodes.filter((o) => o.name !== n.name && o.podCIDR && cidrsOverlap(o.podCIDR, n.podCIDR!));
    if (others.length) emit('dup-podcidr', `pod CIDR ${n.podCIDR} overlaps ${others.map((o) => `${o.name} (${o.podCIDR})`).join(', ')}: duplicate pod IPs`, `live conflist ${n.live?.file.name ?? '-'} subnet ${n.podCIDR}`, 'give every node its own pod CIDR (podnet plan allocates disjoint ones) and recreate the pods');
  },
});

export const bridgeState = defineCheck({
  findings: {
    'bridge-mismatch': { severity: 'error', title: "the bridge's address is not the live config's gateway" },
    'bridge-down': { severity: 'error', title: 'the pod bridge is administratively down' },
  },
  needs: ['links', 'addrs'],
  run(n, _ctx, emit) {
    const live = n.live;
    if (!live?.bridge) return;
    const name = live.bridge.name;
    const br = n.facts.links.find((l) => l.ifname === name);
    if (!br) return;
    const a = n.facts.addrs.filter((x) => x.ifname === name && x.family === IPV4.inet);
    if (live.bridge.gateway && a.length && !a.some((x) => x.local === live.bridge!.gateway)) {
      emit('bridge-mismatch', `bridge ${name} has ${a.map((x) => `${x.local}/${x.prefixlen}`).join(', ')}, but the live config's gateway is ${live.bridge.gateway}`, `${live.file.name}: subnet ${live.bridge.subnet ?? '?'}`, 'remove the stale bridge address (podnet up repairs it)');
    }
    if (!br.flags.includes('UP')) {
      emit('bridge-down', `bridge ${name} is down: the node cannot reach its pods and its pods reach nothing off the node`, `ip link show ${name}: flags ${br.flags.join(',') || '-'}; state ${br.operstate ?? '?'}`, `ip link set ${name} up (podnet up does it for its bridge); if it keeps going down, a network manager is taking it (see nm-managed)`);
    }
  },
});

export const ADDRESSING = [cidrOverlap, dupPodCidr, bridgeState] as const;
