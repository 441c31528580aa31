/**
 * Forwarding on the node: the kernel switch, the FORWARD chain (policy and rules, iptables and native
 * nftables), br_netfilter, reverse-path filtering, conntrack and split iptables backends.
 */
import { defineCheck, type NodeView } from '../types.js';
import { chainOf, coversCidr, droppingPath, podPaths, reachableChains, ruleArg, targetOf } from '../../facts/iptables.js';
import { nftFirstVerdict } from '../../facts/nftables.js';
import { IPV4 } from '../../net/family.js';

/** An ACCEPT in FORWARD (or a chain it reaches) that lets new pod flows through. */
function acceptsPods(rules: string[], cidr: string): boolean {
  const chains = reachableChains(rules, 'FORWARD');
  return rules.some((r) => chains.has(chainOf(r)) && targetOf(r) === 'ACCEPT' && (coversCidr(ruleArg(r, '-s'), cidr) || coversCidr(ruleArg(r, '-d'), cidr)) && !/ -m (conntrack|state)/.test(r));
}

/** The ways pod traffic crosses this node: between pods on the bridge, and bridge ↔ uplink or overlay. */
const pathsOf = (n: NodeView) => podPaths(n.live?.bridge?.name ?? 'cni0', n.uplink?.ifname, n.facts.links.filter((l) => l.kind === 'vxlan').map((l) => l.ifname));

export const ipForward = defineCheck({
  findings: { 'ip-forward-off': { severity: 'error', title: 'IPv4 forwarding is off' } },
  needs: ['sysctl'],
  // IPv4's: IPv6 forwarding is ip6-forward-off (areas/ipv6.ts), judged on the live config's IPv6 pods.
  perFamily: true,
  run(n, ctx, emit) {
    if (ctx.family !== IPV4) return;
    const v = n.facts.sysctl[IPV4.forwarding];
    if (v !== '1') emit('ip-forward-off', 'IPv4 forwarding is off: pods cannot reach other nodes', `${IPV4.forwarding} = ${v ?? 'unknown'}`, `sysctl -w ${IPV4.forwarding}=1 and persist it in /etc/sysctl.d (podnet up does both)`);
  },
});

export const forwardDrop = defineCheck({
  findings: { 'forward-drop': { severity: 'error', title: 'iptables (ip6tables) FORWARD policy DROP with no ACCEPT for the cluster CIDR' } },
  needs: ['iptablesFilter'],
  perFamily: true,
  run(n, ctx, emit) {
    const rules = n.facts.iptablesFilter;
    const ipt = ctx.family.iptables;
    if (!rules.includes('-P FORWARD DROP') || acceptsPods(rules, ctx.clusterCIDR)) return;
    emit('forward-drop', `${ipt} FORWARD policy DROP and no ACCEPT for ${ctx.clusterCIDR}: cross-node pod traffic is dropped`.replace(/^iptables /, ''), '-P FORWARD DROP; no rule accepting the cluster CIDR in FORWARD or the chains it jumps to', `accept the cluster CIDR: ${ipt} -I FORWARD -s ${ctx.clusterCIDR} -j ACCEPT; ${ipt} -I FORWARD -d ${ctx.clusterCIDR} -j ACCEPT (podnet up installs this)`);
  },
});


export const forwardReject = defineCheck({
  findings: { 'forward-reject': { severity: 'error', title: 'a DROP or REJECT rule in FORWARD catches pod traffic before any ACCEPT' } },
  needs: ['iptablesFilter', 'links'],
  perFamily: true,
  run(n, ctx, emit) {
    const ipt = ctx.family.iptables;
    const paths = pathsOf(n);
    const v = droppingPath(n.facts.iptablesFilter, 'FORWARD', ctx.clusterCIDR, paths);
    if (!v) return;
    const where = v.path.in === v.path.out ? `between pods on ${v.path.in}` : `from ${v.path.in} to ${v.path.out}`;
    emit('forward-reject', `a ${v.verdict} rule in the FORWARD path applies to pod traffic (${where}) before any ACCEPT: pods on this node lose that traffic`, v.rule, `remove it (${ipt} -D ${v.rule.slice(3)}) or accept the cluster CIDR before it: ${ipt} -I FORWARD 1 -s ${ctx.clusterCIDR} -j ACCEPT; ${ipt} -I FORWARD 1 -d ${ctx.clusterCIDR} -j ACCEPT (RHEL's iptables-services default rules do this: disable iptables.service or edit /etc/sysconfig/iptables)`);
  },
});

export const brNetfilter = defineCheck({
  findings: { 'br-netfilter': { severity: 'warning', title: 'br_netfilter not loaded or bridge-nf-call-iptables off' } },
  needs: ['sysctl', 'iptablesFilter'],
  // IPv4's: IPv6's is br-netfilter-ip6 (areas/ipv6.ts).
  perFamily: true,
  run(n, ctx, emit) {
    if (ctx.family !== IPV4) return;
    const v = n.facts.sysctl[IPV4.bridgeNf];
    if (v === '1') return;
    const drop = n.facts.iptablesFilter.includes('-P FORWARD DROP');
    emit('br-netfilter', v === '-' || v === undefined ? 'br_netfilter is not loaded: bridged pod traffic bypasses iptables' : 'bridge-nf-call-iptables is 0: bridged pod traffic bypasses iptables', `${IPV4.bridgeNf} = ${v ?? 'missing'}`, `modprobe br_netfilter; sysctl -w ${IPV4.bridgeNf}=1 (podnet up does both)`, drop ? 'error' : 'warning');
  },
});

export const rpFilter = defineCheck({
  findings: { 'rp-filter': { severity: 'warning', title: 'strict reverse-path filtering on the uplink or overlay' } },
  needs: ['sysctl', 'links'],
  run(n, _ctx, emit) {
    const s = n.facts.sysctl;
    const all = Number(s['net.ipv4.conf.all.rp_filter'] ?? 0);
    for (const dev of [n.uplink?.ifname, ...n.facts.links.filter((l) => l.kind === 'vxlan').map((l) => l.ifname)]) {
      if (!dev) continue;
      const eff = Math.max(all, Number(s[`net.ipv4.conf.${dev}.rp_filter`] ?? 0));
      if (eff === 1) emit('rp-filter', `strict reverse-path filtering on ${dev}: asymmetric pod paths are dropped`, `effective rp_filter of ${dev} = max(all=${all}, ${dev}=${s[`net.ipv4.conf.${dev}.rp_filter`] ?? '?'}) = 1`, `sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.${dev}.rp_filter=2 (loose)`);
    }
  },
});

export const conntrack = defineCheck({
  findings: { 'conntrack-full': { severity: 'warning', title: 'the conntrack table is nearly full' } },
  needs: ['sysctl'],
  run(n, _ctx, emit) {
    const c = Number(n.facts.sysctl['net.netfilter.nf_conntrack_count']);
    const m = Number(n.facts.sysctl['net.netfilter.nf_conntrack_max']);
    if (m > 0 && c / m > 0.9) emit('conntrack-full', 'the conntrack table is nearly full: new connections get dropped at random', `nf_conntrack_count ${c} of nf_conntrack_max ${m}`, `sysctl -w net.netfilter.nf_conntrack_max=${m * 2}`);
  },
});

export const iptablesSplit = defineCheck({
  findings: { 'iptables-split': { severity: 'warning', title: 'rules in both the legacy and the nft iptables backends' } },
  needs: ['iptablesBackends'],
  run(n, _ctx, emit) {
    const b = n.facts.iptablesBackends;
    if ((b.legacy ?? 0) > 0 && (b.nft ?? 0) > 0) emit('iptables-split', 'rules exist in both the legacy and the nft iptables backends: one set may be ignored', `iptables-legacy-save: ${b.legacy} rules, iptables-nft-save: ${b.nft} rules`, 'use one backend (update-alternatives --set iptables …) and clear the other');
  },
});

export const nftForwardDrop = defineCheck({
  findings: { 'nft-forward-drop': { severity: 'error', title: 'a native nftables forward chain drops pod traffic' } },
  needs: ['nftTables', 'links'],
  perFamily: true,
  run(n, ctx, emit) {
    const paths = pathsOf(n);
    // The tables that see this family's forwarded packets: inet and bridge ones, and ip (IPv4) or ip6.
    const ip = ctx.family === IPV4 ? 'ip' : 'ip6';
    for (const t of n.facts.nftTables) {
      if (!['inet', ip, 'bridge'].includes(t.family)) continue;
      for (const c of t.chains.filter((x) => x.hook === 'forward')) {
        // Every base chain on the hook must let a packet through: a drop in any one is final.
        const hit = paths
          .map((path) => ({ path, v: nftFirstVerdict(t, c.name, path, ctx.clusterCIDR) }))
          .find(({ v }) => (v ? v.verdict !== 'accept' : c.policy === 'drop'));
        if (!hit) continue;
        const where = hit.path.in === hit.path.out ? `between pods on ${hit.path.in}` : `from ${hit.path.in} to ${hit.path.out}`;
        const what = hit.v ? `its rule "${hit.v.rule}"` : 'its policy drop';
        emit('nft-forward-drop', `the nftables chain ${t.family} ${t.name} ${c.name} on the forward hook drops pod traffic (${where}) by ${what}, before anything accepts ${ctx.clusterCIDR}: it is dropped whatever iptables says (a packet must pass every base chain on the hook)`, `table ${t.family} ${t.name} chain ${c.name}: policy ${c.policy}; ${hit.v ? hit.v.rule : `${c.rules.length} rule(s), none accepting the cluster CIDR`}`, `accept the cluster CIDR at the top of that chain: nft insert rule ${t.family} ${t.name} ${c.name} ${ip} saddr ${ctx.clusterCIDR} accept; nft insert rule ${t.family} ${t.name} ${c.name} ${ip} daddr ${ctx.clusterCIDR} accept (firewalld: firewall-cmd --permanent --zone=trusted --add-source=${ctx.clusterCIDR} && firewall-cmd --reload)`);
        break;
      }
    }
  },
});

export const FORWARDING = [ipForward, forwardDrop, forwardReject, nftForwardDrop, brNetfilter, rpFilter, conntrack, iptablesSplit] as const;
