/**
 * Forwarding on the node: the kernel switch, the FORWARD chain (policy and rules, iptables and native
 * nftables), br_netfilter, reverse-path filtering, conntrack and split iptables backends.
 */
import { defineCheck } from '../types.js';
import { chainOf, coversCidr, firstVerdict, reachableChains, ruleArg, targetOf } from '../../facts/iptables.js';

/** An ACCEPT in FORWARD (or a chain it reaches) that lets new pod flows through. */
function acceptsPods(rules: string[], cidr: string): boolean {
  const chains = reachableChains(rules, 'FORWARD');
  return rules.some((r) => chains.has(chainOf(r)) && targetOf(r) === 'ACCEPT' && (coversCidr(ruleArg(r, '-s'), cidr) || coversCidr(ruleArg(r, '-d'), cidr)) && !/ -m (conntrack|state)/.test(r));
}

export const ipForward = defineCheck({
  findings: { 'ip-forward-off': { severity: 'error', title: 'IPv4 forwarding is off' } },
  needs: ['sysctl'],
  run(n, _ctx, emit) {
    const v = n.facts.sysctl['net.ipv4.ip_forward'];
    if (v !== '1') emit('ip-forward-off', 'IPv4 forwarding is off: pods cannot reach other nodes', `net.ipv4.ip_forward = ${v ?? 'unknown'}`, 'sysctl -w net.ipv4.ip_forward=1 and persist it in /etc/sysctl.d (podnet up does both)');
  },
});

export const forwardDrop = defineCheck({
  findings: { 'forward-drop': { severity: 'error', title: 'iptables FORWARD policy DROP with no ACCEPT for the cluster CIDR' } },
  needs: ['iptablesFilter'],
  run(n, ctx, emit) {
    const rules = n.facts.iptablesFilter;
    if (!rules.includes('-P FORWARD DROP') || acceptsPods(rules, ctx.clusterCIDR)) return;
    emit('forward-drop', `FORWARD policy DROP and no ACCEPT for ${ctx.clusterCIDR}: cross-node pod traffic is dropped`, '-P FORWARD DROP; no rule accepting the cluster CIDR in FORWARD or the chains it jumps to', `accept the cluster CIDR: iptables -I FORWARD -s ${ctx.clusterCIDR} -j ACCEPT; iptables -I FORWARD -d ${ctx.clusterCIDR} -j ACCEPT (podnet up installs this)`);
  },
});


export const forwardReject = defineCheck({
  findings: { 'forward-reject': { severity: 'error', title: 'a DROP or REJECT rule in FORWARD catches pod traffic before any ACCEPT' } },
  needs: ['iptablesFilter', 'links'],
  run(n, ctx, emit) {
    const devs = [n.live?.bridge?.name ?? 'cni0', n.uplink?.ifname, ...n.facts.links.filter((l) => l.kind === 'vxlan').map((l) => l.ifname)].filter((x): x is string => Boolean(x));
    const v = firstVerdict(n.facts.iptablesFilter, 'FORWARD', ctx.clusterCIDR, devs);
    if (!v || v.verdict === 'ACCEPT') return;
    emit('forward-reject', `a ${v.verdict} rule in the FORWARD path applies to pod traffic before any ACCEPT: pods on this node cannot reach pods elsewhere (and, with br_netfilter, each other)`, v.rule, `remove it (iptables -D ${v.rule.slice(3)}) or accept the cluster CIDR before it: iptables -I FORWARD 1 -s ${ctx.clusterCIDR} -j ACCEPT; iptables -I FORWARD 1 -d ${ctx.clusterCIDR} -j ACCEPT (RHEL's iptables-services default rules do this: disable iptables.service or edit /etc/sysconfig/iptables)`);
  },
});

export const brNetfilter = defineCheck({
  findings: { 'br-netfilter': { severity: 'warning', title: 'br_netfilter not loaded or bridge-nf-call-iptables off' } },
  needs: ['sysctl', 'iptablesFilter'],
  run(n, _ctx, emit) {
    const v = n.facts.sysctl['net.bridge.bridge-nf-call-iptables'];
    if (v === '1') return;
    const drop = n.facts.iptablesFilter.includes('-P FORWARD DROP');
    emit('br-netfilter', v === '-' || v === undefined ? 'br_netfilter is not loaded: bridged pod traffic bypasses iptables' : 'bridge-nf-call-iptables is 0: bridged pod traffic bypasses iptables', `net.bridge.bridge-nf-call-iptables = ${v ?? 'missing'}`, 'modprobe br_netfilter; sysctl -w net.bridge.bridge-nf-call-iptables=1 (podnet up does both)', drop ? 'error' : 'warning');
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

/** Does an nftables rule accept pod traffic: an address match on the cluster CIDR or the bridge, no state match? */
function nftAccepts(rule: string, cidr: string, bridge: string): boolean {
  if (!/\baccept\b/.test(rule) || /\bct state\b/.test(rule)) return false;
  const addrs = [...rule.matchAll(/\bip6? [sd]addr (\S+)/g)].map((m) => m[1]!);
  if (addrs.some((a) => /^[0-9.]+(\/\d+)?$/.test(a) && coversCidr({ value: a, negated: false }, cidr))) return true;
  return new RegExp(`\\b[io]ifname "?${bridge.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"?`).test(rule);
}

export const nftForwardDrop = defineCheck({
  findings: { 'nft-forward-drop': { severity: 'error', title: 'a native nftables forward chain drops pod traffic' } },
  needs: ['nftForward', 'iptablesVersion'],
  run(n, ctx, emit) {
    const bridge = n.live?.bridge?.name ?? 'cni0';
    for (const c of n.facts.nftForward) {
      // iptables-nft's own FORWARD chain is what iptables -S shows: the forward-drop check reads it there.
      if (c.table === 'filter' && (c.family === 'ip' || c.family === 'ip6') && c.chain === 'FORWARD') continue;
      if (c.policy !== 'drop' || c.rules.some((r) => nftAccepts(r, ctx.clusterCIDR, bridge))) continue;
      emit('nft-forward-drop', `the nftables chain ${c.family} ${c.table} ${c.chain} hooks forwarding with policy drop and accepts nothing for ${ctx.clusterCIDR}: pod traffic between nodes is dropped whatever iptables says (a packet must pass every base chain on the hook)`, `table ${c.family} ${c.table} chain ${c.chain}: policy drop; ${c.rules.length} rule${c.rules.length === 1 ? '' : 's'}${c.rules.length ? `: ${c.rules.slice(0, 3).join('; ')}` : ''}`, `accept the cluster CIDR in it: nft insert rule ${c.family} ${c.table} ${c.chain} ip saddr ${ctx.clusterCIDR} accept; nft insert rule ${c.family} ${c.table} ${c.chain} ip daddr ${ctx.clusterCIDR} accept (firewalld: firewall-cmd --permanent --zone=trusted --add-source=${ctx.clusterCIDR}, and allow forwarding in that zone)`);
    }
  },
});

export const FORWARDING = [ipForward, forwardDrop, forwardReject, nftForwardDrop, brNetfilter, rpFilter, conntrack, iptablesSplit] as const;
