/**
 * Addresses: the cluster CIDR apart from the node network and the service CIDR, pod CIDRs disjoint across
 * nodes, and the bridge holding the gateway address of its own range, up.
 */
import { defineCheck } from '../types.js';
import { cidrContainsIp, cidrsOverlap } from '../../net/cidr.js';

export const cidrOverlap = defineCheck({
  findings: { 'cidr-overlap': { severity: 'error', title: 'the cluster CIDR overlaps the node network or the service CIDR' } },
  needs: ['addrs', 'links'],
  perFamily: true,
  run(n, ctx, emit) {
    const bridge = n.live?.bridge?.name ?? 'cni0';
    for (const a of n.facts.addrs) {
      // The pod bridge's own address and an overlay's are pod-side addresses, not the node network.
      if (a.family !== ctx.family.inet || a.scope === 'host' || a.scope === 'link' || a.ifname === bridge || n.facts.links.find((l) => l.ifname === a.ifname)?.kind === 'vxlan') continue;
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
  perFamily: true,
  run(n, ctx, emit) {
    if (!n.podCIDR) return;
    const others = ctx.nodes.filter((o) => o.name !== n.name && o.podCIDR && cidrsOverlap(o.podCIDR, n.podCIDR!));
    if (others.length) emit('dup-podcidr', `pod CIDR ${n.podCIDR} overlaps ${others.map((o) => `${o.name} (${o.podCIDR})`).join(', ')}: duplicate pod IPs`, `live conflist ${n.live?.file.name ?? '-'} subnet ${n.podCIDR}`, 'give every node its own pod CIDR (podnet plan allocates disjoint ones) and recreate the pods');
  },
});

export const bridgeAddress = defineCheck({
  findings: { 'bridge-mismatch': { severity: 'error', title: "the bridge's address is not the live config's gateway" } },
  needs: ['links', 'addrs'],
  perFamily: true,
  run(n, ctx, emit) {
    const live = n.live;
    if (!live?.bridge) return;
    const name = live.bridge.name;
    if (!n.facts.links.some((l) => l.ifname === name)) return;
    // The family's addresses (IPv6 link-local ones are the kernel's, not a gateway).
    const a = n.facts.addrs.filter((x) => x.ifname === name && x.family === ctx.family.inet && x.scope !== 'link');
    if (live.bridge.gateway && a.length && !a.some((x) => x.local === live.bridge!.gateway)) {
      emit('bridge-mismatch', `bridge ${name} has ${a.map((x) => `${x.local}/${x.prefixlen}`).join(', ')}, but the live config's gateway is ${live.bridge.gateway}`, `${live.file.name}: subnet ${live.bridge.subnet ?? '?'}`, 'remove the stale bridge address (podnet up repairs it)');
    }
  },
});

export const bridgeDown = defineCheck({
  findings: { 'bridge-down': { severity: 'error', title: 'the pod bridge is administratively down' } },
  needs: ['links'],
  run(n, _ctx, emit) {
    const name = n.live?.bridge?.name;
    const br = name ? n.facts.links.find((l) => l.ifname === name) : undefined;
    if (!br || br.flags.includes('UP')) return;
    emit('bridge-down', `bridge ${name} is down: the node cannot reach its pods and its pods reach nothing off the node`, `ip link show ${name}: flags ${br.flags.join(',') || '-'}; state ${br.operstate ?? '?'}`, `ip link set ${name} up (podnet up does it for its bridge); if it keeps going down, a network manager is taking it (see nm-managed)`);
  },
});

/** kube-controller-manager's limit on --node-cidr-mask-size against the cluster CIDR's prefix. */
const MAX_NODE_MASK_BITS = 16;

export const nodeMask = defineCheck({
  findings: { 'node-mask': { severity: 'warning', title: 'pod CIDRs more than 16 bits longer than the cluster CIDR (Kubernetes cannot allocate them)' } },
  needs: [],
  perFamily: true,
  run(n, ctx, emit) {
    if (!n.podCIDR || !cidrsOverlap(n.podCIDR, ctx.clusterCIDR)) return;
    const node = Number(n.podCIDR.split('/')[1]);
    const cluster = Number(ctx.clusterCIDR.split('/')[1]);
    if (node - cluster <= MAX_NODE_MASK_BITS) return;
    emit('node-mask', `the pod CIDR ${n.podCIDR} is ${node - cluster} bits longer than the cluster CIDR ${ctx.clusterCIDR}: kube-controller-manager refuses a node mask more than ${MAX_NODE_MASK_BITS} bits longer, so the Nodes' spec.podCIDRs can never match what this node hands out`, `live config subnet /${node}; cluster CIDR /${cluster}`, `use a node mask of at most /${cluster + MAX_NODE_MASK_BITS} (IPv6: a /64 per node inside a /48 to /56 cluster CIDR), or a shorter cluster CIDR`);
  },
});

export const ADDRESSING = [cidrOverlap, dupPodCidr, bridgeAddress, bridgeDown, nodeMask] as const;
