/**
 * The path between nodes: MTU along it, the VXLAN overlay (its port not blocked, peers' VTEP entries
 * current) and the kernel's VXLAN checksum bug.
 */
import { defineCheck, type NodeView } from '../types.js';
import { familyOf, IPV4, IPV6 } from '../../net/family.js';

export const mtu = defineCheck({
  findings: { mtu: { severity: 'error', title: 'pod, overlay and uplink MTUs that do not fit the path' } },
  needs: ['links', 'routes', 'routes6'],
  run(n, ctx, emit) {
    const podMtu = n.live?.bridge?.mtu;
    const routed = (x: NodeView) => [...x.facts.routes, ...x.facts.routes6];
    // The overlay device pod routes of either family go through (a leftover VXLAN device nothing routes through does not count).
    const vx = n.facts.links.find((l) => l.kind === 'vxlan' && l.vxlan?.port === ctx.vxlanPort && routed(n).some((r) => r.dev === l.ifname));
    const up = n.uplink;
    // What the overlay costs depends on the family that carries it: its local end's (else the node IP's).
    const costOf = (x: NodeView) => (familyOf(x.facts.links.find((l) => l.kind === 'vxlan' && l.vxlan?.local)?.vxlan?.local ?? x.nodeIP ?? '') ?? IPV4).vxlanOverhead;
    const overhead = costOf(n);
    if (up && vx && vx.mtu > up.mtu - overhead) {
      emit('mtu', `VXLAN device ${vx.ifname} MTU ${vx.mtu} leaves no room for the ${overhead}-byte overhead on ${up.ifname} (MTU ${up.mtu})`, `${vx.ifname} mtu ${vx.mtu}, ${up.ifname} mtu ${up.mtu}`, `ip link set ${vx.ifname} mtu ${up.mtu - overhead}`);
    }
    const uplinks = ctx.nodes.map((x) => `${x.name}=${x.uplink?.mtu ?? '?'}`).join(' ');
    const minUplink = Math.min(...ctx.nodes.map((x) => x.uplink?.mtu ?? 65535));
    // The overhead counts where pod routes use an overlay (not for a leftover VXLAN device nothing routes through).
    const overlay = ctx.nodes.some((x) => routed(x).some((r) => x.facts.links.find((l) => l.ifname === r.dev)?.kind === 'vxlan'));
    const limit = Math.min(up?.mtu ?? 65535, minUplink) - (overlay ? Math.max(...ctx.nodes.map(costOf)) : 0);
    if (podMtu !== undefined && podMtu > limit) {
      emit('mtu', `pod MTU ${podMtu} is larger than the path allows (${limit}): large packets are dropped, small ones pass`, `conflist mtu ${podMtu}; uplink MTUs: ${uplinks}`, `set the pod MTU to ${limit} (podnet up derives it from the smallest uplink) and recreate pods`);
    }
    if (up && up.mtu !== Math.max(...ctx.nodes.map((x) => x.uplink?.mtu ?? 0)) && up.mtu === minUplink) {
      emit('mtu', `uplink ${up.ifname} MTU ${up.mtu} is lower than on other nodes`, `uplink MTUs: ${uplinks}`, 'give all nodes the same uplink MTU, or size the pod MTU for the smallest', 'warning');
    }
  },
});

export const vxlanBlocked = defineCheck({
  findings: { 'vxlan-blocked': { severity: 'error', title: 'the VXLAN UDP port is blocked' } },
  needs: ['links', 'iptablesFilter', 'ip6tablesFilter'],
  run(n, ctx, emit) {
    const vx = n.facts.links.find((l) => l.kind === 'vxlan');
    if (!vx) return;
    // The overlay's packets are of its underlay's family: ip6tables filters an overlay over IPv6.
    const v6 = familyOf(vx.vxlan?.local ?? n.nodeIP ?? '') === IPV6;
    const ipt = v6 ? IPV6.iptables : IPV4.iptables;
    const bad = (v6 ? n.facts.ip6tablesFilter : n.facts.iptablesFilter).filter((r) => /^-A INPUT /.test(r) && / -p udp/.test(r) && new RegExp(`--dport ${ctx.vxlanPort}\\b`).test(r) && / -j (DROP|REJECT)/.test(r));
    if (bad.length) emit('vxlan-blocked', `UDP ${ctx.vxlanPort} (VXLAN) is blocked: overlay traffic from peers is dropped`, bad.join('; '), `${ipt} -D ${bad[0]!.slice(3)}; allow UDP ${ctx.vxlanPort} from the other nodes`);
  },
});

export const vtepMac = defineCheck({
  findings: { 'vtep-mac': { severity: 'error', title: "stale VXLAN forwarding entries for a peer's VTEP" } },
  needs: ['fdb', 'links'],
  run(n, ctx, emit) {
    for (const e of n.facts.fdb) {
      if (!e.dst) continue;
      const peer = ctx.nodes.find((p) => p.nodeIP === e.dst);
      const dev = peer?.facts.links.find((l) => l.kind === 'vxlan' && l.ifname === e.dev);
      if (peer && dev && dev.address && !n.facts.fdb.some((x) => x.dst === e.dst && x.mac === dev.address)) {
        emit('vtep-mac', `stale VXLAN entry for ${peer.name}: its VTEP MAC is ${dev.address}, this node has ${e.mac}`, `bridge fdb: ${e.mac} dev ${e.dev} dst ${e.dst}`, `bridge fdb replace ${dev.address} dev ${e.dev} dst ${e.dst}; ip neigh replace … lladdr ${dev.address} (podnet uses stable MACs and up fixes it)`);
      }
      // A peer's VTEP with this node's own MAC: frames for it are taken as this node's own and never leave.
      const own = n.facts.links.find((l) => l.kind === 'vxlan' && l.ifname === e.dev);
      if (peer && dev && own?.address && dev.address === own.address && e.mac === own.address) {
        emit('vtep-mac', `${peer.name}'s VTEP has this node's own MAC ${own.address}: overlay traffic to ${peer.name} is taken as this node's and never leaves`, `${e.dev} address ${own.address}; bridge fdb: ${e.mac} dev ${e.dev} dst ${e.dst}`, 'give the two VTEPs distinct MACs (podnet derives them from the node IP: IPv4 directly, IPv6 by a hash; up refuses a clash)');
      }
    }
  },
});

export const oldKernel = defineCheck({
  findings: { 'old-kernel-vxlan-csum': { severity: 'warning', title: 'a kernel with the VXLAN checksum offload bug' } },
  needs: ['kernel', 'links'],
  run(n, _ctx, emit) {
    const m = /^(\d+)\.(\d+)/.exec(n.facts.kernel);
    if (!m || !n.facts.links.some((l) => l.kind === 'vxlan')) return;
    if (Number(m[1]) < 5 || (Number(m[1]) === 5 && Number(m[2]) < 7)) emit('old-kernel-vxlan-csum', `kernel ${n.facts.kernel} has the VXLAN checksum offload bug: ~63 s stalls to Services`, `kernel ${n.facts.kernel}, VXLAN in use`, 'ethtool -K <vxlan dev> tx-checksum-ip-generic off, or upgrade to ≥ 5.7');
  },
});

export const OVERLAY = [mtu, vxlanBlocked, vtepMac, oldKernel] as const;
