/**
 * IPv6 on a node whose live config gives pods IPv6 addresses (a dual-stack or IPv6-only bridge network,
 * podnet's or another's): forwarding and br_netfilter for IPv6, duplicate address detection on the bridge,
 * the router-advertised default route that forwarding makes the kernel drop, and the IPv6 minimum MTU.
 */
import { defineCheck, type NodeView } from '../types.js';
import { familyOf, IPV6 } from '../../net/family.js';
import { chainOf, reachableChains, ruleArg, targetOf } from '../../facts/iptables.js';

const v6Pods = (n: NodeView) => (n.live?.bridge?.subnets ?? []).filter((s) => familyOf(s) === IPV6);

export const ipv6Kernel = defineCheck({
  findings: {
    'ip6-forward-off': { severity: 'error', title: 'IPv6 forwarding is off on a node with IPv6 pods' },
    'br-netfilter-ip6': { severity: 'warning', title: 'bridged IPv6 pod traffic bypasses ip6tables' },
  },
  needs: ['sysctl'],
  run(n, _ctx, emit) {
    const pods = v6Pods(n);
    if (!pods.length) return;
    const fwd = n.facts.sysctl[IPV6.forwarding];
    if (fwd !== '1') emit('ip6-forward-off', `IPv6 forwarding is off: the IPv6 pods (${pods.join(', ')}) cannot reach other nodes`, `${IPV6.forwarding} = ${fwd ?? 'unknown'}`, `sysctl -w ${IPV6.forwarding}=1 and persist it in /etc/sysctl.d (mind the router-advertised default route: see ra-default-route)`);
    const nf = n.facts.sysctl[IPV6.bridgeNf];
    if (nf !== '1') emit('br-netfilter-ip6', `${nf === '-' || nf === undefined ? 'br_netfilter is not loaded' : `${IPV6.bridgeNf} is 0`}: bridged IPv6 pod traffic bypasses ip6tables (policies and hairpin for IPv6 misbehave)`, `${IPV6.bridgeNf} = ${nf ?? 'missing'}`, `modprobe br_netfilter; sysctl -w ${IPV6.bridgeNf}=1`);
  },
});

export const ipv6Addresses = defineCheck({
  findings: { 'dad-failed': { severity: 'error', title: 'an IPv6 address on the pod bridge failed or is stuck in duplicate address detection' } },
  needs: ['addrs'],
  run(n, _ctx, emit) {
    const bridge = n.live?.bridge?.name;
    if (!bridge || !v6Pods(n).length) return;
    for (const a of n.facts.addrs.filter((x) => x.ifname === bridge && x.family === IPV6.inet && (x.dadfailed || x.tentative))) {
      const failed = Boolean(a.dadfailed);
      emit('dad-failed', `the bridge's IPv6 address ${a.local}/${a.prefixlen} is ${failed ? 'dadfailed: another host on the link claims it, and the kernel will not use it' : 'still tentative (duplicate address detection has not finished): pods have no IPv6 gateway until it does'}`, `ip -6 addr show dev ${bridge}: ${a.local}/${a.prefixlen} ${failed ? 'dadfailed' : 'tentative'}`, failed ? `find the duplicate (ip -6 neigh; another node or bridge with the same gateway), then ip addr del ${a.local}/${a.prefixlen} dev ${bridge} and add it back with nodad` : `if it stays tentative, add the gateway with nodad (ip addr replace ${a.local}/${a.prefixlen} dev ${bridge} nodad) or set net.ipv6.conf.${bridge}.accept_dad=0`, failed ? 'error' : 'warning');
    }
  },
});

export const raDefaultRoute = defineCheck({
  findings: { 'ra-default-route': { severity: 'warning', title: 'the router-advertised IPv6 default route is lost once forwarding is on' } },
  needs: ['routes6', 'sysctl'],
  run(n, _ctx, emit) {
    if (!v6Pods(n).length) return;
    for (const r of n.facts.routes6.filter((x) => x.dst === 'default' && x.protocol === 'ra' && x.dev)) {
      const ra = n.facts.sysctl[`net.ipv6.conf.${r.dev}.accept_ra`];
      if (ra === '2') continue;
      const on = n.facts.sysctl[IPV6.forwarding] === '1';
      emit('ra-default-route', `the IPv6 default route via ${r.gateway ?? '?'} on ${r.dev} comes from router advertisements, and with forwarding on the kernel stops accepting them (accept_ra=${ra ?? '?'}): ${on ? 'forwarding is on, so the route expires with its lifetime and the node loses IPv6 beyond its link' : 'the first IPv6 pod turns forwarding on (the bridge plugin does), and then it expires'}`, `ip -6 route: default via ${r.gateway ?? '-'} dev ${r.dev} proto ra; net.ipv6.conf.${r.dev}.accept_ra = ${ra ?? '?'}; ${IPV6.forwarding} = ${n.facts.sysctl[IPV6.forwarding] ?? '?'}`, `sysctl -w net.ipv6.conf.${r.dev}.accept_ra=2 and persist it (systemd-networkd: IPv6AcceptRA=yes in the link's .network file; NetworkManager: ipv6.method auto keeps it), or give the node a static IPv6 default route`, on ? 'error' : 'warning');
    }
  },
});

export const ipv6Mtu = defineCheck({
  findings: { 'ipv6-mtu': { severity: 'error', title: 'a link MTU below the IPv6 minimum (1280)' } },
  needs: ['links'],
  run(n, _ctx, emit) {
    if (!v6Pods(n).length) return;
    const small = [n.uplink, n.facts.links.find((l) => l.ifname === n.live?.bridge?.name)].filter((l) => l && l.mtu < IPV6.minMtu);
    const podMtu = n.live?.bridge?.mtu;
    for (const l of small) emit('ipv6-mtu', `${l!.ifname} has MTU ${l!.mtu}, below IPv6's minimum of ${IPV6.minMtu}: the kernel turns IPv6 off on it`, `${l!.ifname} mtu ${l!.mtu}`, `raise the MTU of ${l!.ifname} to at least ${IPV6.minMtu}`);
    if (podMtu !== undefined && podMtu < IPV6.minMtu) emit('ipv6-mtu', `the pod MTU ${podMtu} is below IPv6's minimum of ${IPV6.minMtu}: pods get no IPv6`, `${n.live!.file.name}: "mtu": ${podMtu}`, `raise the pod MTU to at least ${IPV6.minMtu} (an IPv6 overlay needs an uplink of ${IPV6.minMtu + IPV6.vxlanOverhead} or more)`);
  },
});

/** The ICMPv6 type a rule matches: a number, a name ip6tables knows, or undefined for every type. */
function icmp6Type(rule: string): string | undefined {
  return / --icmpv6-type (\S+)/.exec(rule)?.[1];
}
const isIcmp6 = (rule: string) => / -p (ipv6-icmp|icmpv6|58)\b/.test(rule);
const ND_TYPES = new Set(['135', '136', 'neighbour-solicitation', 'neighbor-solicitation', 'neighbour-advertisement', 'neighbor-advertisement']);
const PTB_TYPES = new Set(['2', 'packet-too-big']);

export const neighbourDiscovery = defineCheck({
  findings: { 'nd-dropped': { severity: 'error', title: 'ip6tables FORWARD drops neighbour discovery between pods on one bridge' } },
  needs: ['ip6tablesFilter', 'sysctl'],
  run(n, _ctx, emit) {
    const bridge = n.live?.bridge?.name;
    if (!bridge || !v6Pods(n).length || n.facts.sysctl[IPV6.bridgeNf] !== '1') return;
    const rules = n.facts.ip6tablesFilter;
    if (!rules.includes('-P FORWARD DROP')) return;
    const chains = reachableChains(rules, 'FORWARD');
    // A neighbour solicitation goes from a pod's link-local address to a solicited-node multicast address:
    // a cluster-CIDR rule never matches it; only a rule without addresses (or conntrack state) that takes
    // ICMPv6 (all of it, or the two ND types) or everything on the bridge does.
    const accepts = rules.some((r) => {
      if (!chains.has(chainOf(r)) || targetOf(r) !== 'ACCEPT' || / -[sd] /.test(r) || / -m (conntrack|state) /.test(r) || / -m (mark|set|physdev) /.test(r)) return false;
      const io = [ruleArg(r, '-i'), ruleArg(r, '-o')].filter((a) => a !== undefined);
      if (io.some((a) => a!.negated || a!.value !== bridge)) return false;
      if (/ -p /.test(r) && !isIcmp6(r)) return false;
      const t = icmp6Type(r);
      return t === undefined || ND_TYPES.has(t);
    });
    if (accepts) return;
    emit('nd-dropped', `ip6tables FORWARD drops by policy and nothing accepts ICMPv6 neighbour discovery, which br_netfilter hands to it for pods on ${bridge}: two pods on this node cannot resolve each other's IPv6 address (IPv4 works: ARP is not IP)`, `-P FORWARD DROP; ${IPV6.bridgeNf} = 1; no FORWARD rule accepts ICMPv6 types 135/136 from link-local to multicast addresses`, 'ip6tables -I FORWARD -p ipv6-icmp --icmpv6-type neighbour-solicitation -j ACCEPT; ip6tables -I FORWARD -p ipv6-icmp --icmpv6-type neighbour-advertisement -j ACCEPT (podnet up accepts both in PODNET-FORWARD)');
  },
});

export const packetTooBig = defineCheck({
  findings: { 'icmp6-ptb-dropped': { severity: 'error', title: 'ip6tables drops ICMPv6 packet-too-big (IPv6 path MTU discovery breaks)' } },
  needs: ['ip6tablesFilter'],
  run(n, _ctx, emit) {
    if (!v6Pods(n).length) return;
    const rules = n.facts.ip6tablesFilter;
    for (const builtin of ['INPUT', 'FORWARD']) {
      const chains = reachableChains(rules, builtin);
      // IPv6 routers never fragment: a dropped packet-too-big leaves the sender sending too-large packets for ever.
      const bad = rules.find((r) => chains.has(chainOf(r)) && isIcmp6(r) && ['DROP', 'REJECT'].includes(targetOf(r) ?? '') && !/ -m (conntrack|state) /.test(r) && (icmp6Type(r) === undefined || PTB_TYPES.has(icmp6Type(r)!)));
      if (!bad) continue;
      const whose = builtin === 'INPUT' ? 'the node (its overlay and hostNetwork traffic)' : 'pods';
      emit('icmp6-ptb-dropped', `an ip6tables rule in ${builtin} drops ICMPv6${icmp6Type(bad) ? ' packet-too-big' : ' (all of it, packet-too-big included)'}: IPv6 never fragments in the network, so ${whose} never learn a smaller path MTU and large packets vanish (connections hang after the handshake)`, bad, `ip6tables -D ${bad.slice(3)}; never filter ICMPv6 packet-too-big (RFC 4890): ip6tables -I ${builtin} -p ipv6-icmp --icmpv6-type packet-too-big -j ACCEPT`);
    }
  },
});

export const IPV6_CHECKS = [ipv6Kernel, ipv6Addresses, raDefaultRoute, ipv6Mtu, neighbourDiscovery, packetTooBig] as const;
