/**
 * Address translation that breaks the pod network model: masquerading pod→pod traffic (the bridge
 * plugin's ipMasq, or a broad POSTROUTING rule), and hostPort DNAT rules left behind by pods that are gone.
 */
import { defineCheck } from '../types.js';
import { chainOf, mayMatchCidr, reachableChains, ruleArg } from '../../facts/iptables.js';
import { cidrContainsIp } from '../../net/cidr.js';

export const podNat = defineCheck({
  findings: { 'pod-nat': { severity: 'error', title: 'pod→pod traffic is masqueraded' } },
  needs: ['iptablesNat'],
  perFamily: true,
  run(n, ctx, emit) {
    const live = n.live;
    // The bridge plugin's ipMasq covers every family: named once, in the primary family's run.
    if (live?.bridge?.ipMasq && ctx.family === (ctx.families?.[0] ?? ctx.family)) {
      emit('pod-nat', `the bridge plugin masquerades (ipMasq: true): traffic to pods outside ${live.bridge.subnets.join(', ') || 'the node subnet'} leaves with the node IP`, `${live.file.name}: "ipMasq": true`, 'set "ipMasq": false and masquerade only traffic leaving the cluster CIDR');
    }
    const rules = n.facts.iptablesNat;
    const chains = reachableChains(rules, 'POSTROUTING');
    for (const r of rules) {
      if (!chains.has(chainOf(r)) || !/ -j (MASQUERADE|SNAT)\b/.test(r) || / -m mark | --mark /.test(r) || /^-A CNI-/.test(r)) continue;
      // "! -s X" / "! -d X" spares pods only when X holds the whole cluster CIDR.
      if (mayMatchCidr(ruleArg(r, '-s'), ctx.clusterCIDR) && mayMatchCidr(ruleArg(r, '-d'), ctx.clusterCIDR) && !/ -o /.test(r)) {
        emit('pod-nat', 'a masquerade rule applies to pod→pod traffic: receivers see the node IP instead of the pod IP', r, `exclude the cluster CIDR (! -d ${ctx.clusterCIDR}) or remove the rule: ${ctx.family.iptables} -t nat -D ${r.slice(3)}`);
      }
    }
  },
});

interface HostPortRule {
  rule: string;
  chain: string;
  proto: string;
  port: string;
  to: string;
}

/** portmap's per-pod chains: "-A CNI-DN-… -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.244.1.5:80" (ip6tables: "[fd00::5]:80"). */
function hostPortRules(rules: string[]): HostPortRule[] {
  const out: HostPortRule[] = [];
  for (const r of rules) {
    const m = /^-A (CNI-DN-\S+) .*-p (tcp|udp|sctp) .*--dport (\d+) .*-j DNAT --to-destination (?:(\d+\.\d+\.\d+\.\d+)|\[([0-9A-Fa-f:.]+)\])/.exec(r);
    if (m) out.push({ rule: r, chain: m[1]!, proto: m[2]!, port: m[3]!, to: (m[4] ?? m[5])! });
  }
  return out;
}

export const staleHostPort = defineCheck({
  findings: { 'stale-hostport': { severity: 'error', title: 'hostPort DNAT rules left behind for pods that are gone' } },
  needs: ['iptablesNat', 'ipam'],
  perFamily: true,
  run(n, ctx, emit) {
    const ipt = ctx.family.iptables;
    const live = n.live;
    const subnet = live?.bridge?.subnet;
    if (!subnet || live?.bridge?.ipamType !== 'host-local' || !live.name || live.bridge.ipamDataDir) return;
    const reserved = new Set((n.facts.ipam.networks[live.name] ?? []).map((r) => r.ip));
    const stale = hostPortRules(n.facts.iptablesNat).filter((h) => cidrContainsIp(subnet, h.to) && !reserved.has(h.to));
    if (!stale.length) return;
    const ports = [...new Set(stale.map((h) => `${h.port}/${h.proto}`))];
    emit('stale-hostport', `hostPort ${ports.slice(0, 5).join(', ')}${ports.length > 5 ? ', …' : ''} still forward${ports.length === 1 ? 's' : ''} to ${[...new Set(stale.map((h) => h.to))].slice(0, 3).join(', ')}, which no pod holds: a new pod with that hostPort is shadowed by the old rule (portmap appends, the first match wins)`, stale.slice(0, 3).map((h) => h.rule).join('; '), `remove the stale chain${stale.length > 1 ? 's' : ''} and the rules that jump to it: ${[...new Set(stale.map((h) => h.chain))].slice(0, 3).map((c) => `${ipt} -t nat -S CNI-HOSTPORT-DNAT | grep -- '-j ${c}$' | sed 's/^-A/-D/' | while IFS= read -r r; do eval "${ipt} -t nat $r"; done; ${ipt} -t nat -F ${c}; ${ipt} -t nat -X ${c}`).join('; ')}`);
  },
});

export const NAT = [podNat, staleHostPort] as const;
