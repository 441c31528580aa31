/**
 * Routes on the node: to each peer's pod CIDR (present, pointing at the peer, on-link), for its own pod
 * CIDR (on the bridge), which interface reaches the peers, and what can take pod traffic away from the main
 * table: blackhole routes and policy-routing rules.
 */
import { defineCheck, type NodeView } from '../types.js';
import { cidrsOverlap, cidrContainsIp } from '../../net/cidr.js';
import { ROUTE_PROTO } from '../../facts/marks.js';
import { lookupRoute, routeDst } from '../../facts/routes.js';
import type { RouteFact, RuleFact } from '../../facts/parse.js';

const DROPPING = new Set(['blackhole', 'unreachable', 'prohibit']);

export const peerRoutes = defineCheck({
  findings: {
    'missing-route': { severity: 'error', title: "no route to a peer's pod CIDR" },
    'stale-route': { severity: 'error', title: "podnet's route to a peer's pod CIDR goes elsewhere" },
    'foreign-route': { severity: 'error', title: "a route podnet did not create takes a peer's pod CIDR" },
    'hostgw-l3': { severity: 'error', title: 'a direct route to a peer that is not on-link' },
  },
  needs: ['routes', 'links'],
  perFamily: true,
  run(n, ctx, emit) {
    for (const p of ctx.nodes) {
      if (p.name === n.name || !p.podCIDR || !p.nodeIP) continue;
      const exact = n.facts.routes.find((r) => routeDst(r, ctx.family) === p.podCIDR);
      const best = lookupRoute(n.facts, p.podCIDR.split('/')[0]!);
      const r = exact ?? best;
      const dst = r ? routeDst(r, ctx.family) : undefined;
      // Blackhole and unreachable routes have their own finding (blackhole-route).
      if (r && DROPPING.has(r.type ?? '')) continue;
      if (!r || dst === ctx.family.anyRoute) {
        emit('missing-route', `no route to ${p.name}'s pod CIDR ${p.podCIDR}`, `ip route get ${p.podCIDR.split('/')[0]} → ${r ? `default via ${r.gateway ?? '-'}` : 'unreachable'}`, `ip route add ${p.podCIDR} via ${p.nodeIP} (or through the overlay); podnet up programs all peer routes`);
        continue;
      }
      if (n.facts.links.find((l) => l.ifname === r.dev)?.kind === 'vxlan') continue;
      // The node's own pod CIDR overlapping the peer's: dup-podcidr names that cause; no route finding.
      if (!r.gateway && n.podCIDR && r.dev === (n.live?.bridge?.name ?? 'cni0') && cidrsOverlap(n.podCIDR, p.podCIDR)) continue;
      if (r.gateway !== p.nodeIP) {
        const onlink = r.gateway ? lookupRoute(n.facts, r.gateway) : undefined;
        const evidence = `${dst} via ${r.gateway ?? '-'} dev ${r.dev ?? '-'} proto ${r.protocol ?? '-'}`;
        const goes = `goes via ${r.gateway ?? `dev ${r.dev}`}, not ${p.name}'s IP ${p.nodeIP}`;
        if (r.gateway && onlink?.gateway) {
          emit('hostgw-l3', `route to ${p.name}'s pod CIDR ${p.podCIDR} ${goes}`, evidence, `ip route replace ${p.podCIDR} via ${p.nodeIP} — only when it is on-link; across a router use an overlay (podnet mode auto)`);
        } else if (r.protocol === String(ROUTE_PROTO)) {
          emit('stale-route', `podnet's route to ${p.name}'s pod CIDR ${p.podCIDR} ${goes}`, evidence, 'podnet up replaces it');
        } else {
          const del = `ip route del ${dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}`;
          emit('foreign-route', `a route podnet did not create takes ${p.name}'s pod CIDR ${p.podCIDR}: it ${goes}`, evidence, `podnet never replaces routes it did not create: if nothing needs it, remove it on ${n.name} (${del}), then run podnet up`);
        }
      } else if (lookupRoute(n.facts, p.nodeIP)?.gateway) {
        emit('hostgw-l3', `${p.name} (${p.nodeIP}) is not on-link, so a direct route to its pods cannot work`, `ip route get ${p.nodeIP} → via ${lookupRoute(n.facts, p.nodeIP)?.gateway}`, 'use an overlay for peers behind a router (podnet mode auto or vxlan)');
      }
    }
  },
});

export const ownCidrRoute = defineCheck({
  findings: { 'own-cidr-route': { severity: 'error', title: "the node's own pod CIDR is not routed to the bridge" } },
  needs: ['routes', 'links'],
  perFamily: true,
  run(n, ctx, emit) {
    if (!n.podCIDR) return;
    const bridge = n.live?.bridge?.name ?? 'cni0';
    const r = n.facts.routes.find((x) => routeDst(x, ctx.family) === n.podCIDR);
    // A bridge that is down has no connected route: bridge-down names that cause.
    if (!r && n.facts.links.some((l) => l.ifname === bridge && !l.flags.includes('UP'))) return;
    if (!r) {
      if (n.facts.links.some((l) => l.ifname === bridge)) emit('own-cidr-route', `no route for the node's own pod CIDR ${n.podCIDR} on ${bridge}`, `bridge ${bridge} has no address in ${n.podCIDR}`, `ip addr add ${n.live?.bridge?.gateway ?? 'GATEWAY'}/${n.podCIDR.split('/')[1]} dev ${bridge}`);
      return;
    }
    if (r.dev === bridge && !r.gateway) return;
    emit('own-cidr-route', `the route for the node's own pod CIDR ${n.podCIDR} does not point at ${bridge}: local pods are unreachable`, `${r.dst} via ${r.gateway ?? '-'} dev ${r.dev ?? '-'} proto ${r.protocol ?? '-'}`, `ip route del ${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}; the bridge address provides the right route`);
  },
});

export const wrongIface = defineCheck({
  findings: { 'wrong-iface': { severity: 'warning', title: 'peers are reached through another interface than the node IP' } },
  needs: ['routes'],
  perFamily: true,
  run(n, ctx, emit) {
    if (!n.nodeIP || !n.uplink) return;
    for (const p of ctx.nodes) {
      if (p.name === n.name || !p.nodeIP) continue;
      const r = lookupRoute(n.facts, p.nodeIP);
      if (r && r.dev !== n.uplink.ifname) {
        emit('wrong-iface', `traffic to ${p.name} (${p.nodeIP}) leaves through ${r.dev}, not ${n.uplink.ifname} which holds the node IP ${n.nodeIP}`, `ip route get ${p.nodeIP} → dev ${r.dev}${r.prefsrc ? ` src ${r.prefsrc}` : ''}`, 'set nodes[].ip to the address on the interface peers are reached through');
        return;
      }
    }
  },
});

/** Pod CIDRs this node must deliver to: its own and its peers'. */
const podCidrs = (n: NodeView, nodes: NodeView[]) => [...new Set([n.podCIDR, ...nodes.filter((p) => p.name !== n.name).map((p) => p.podCIDR)].filter((c): c is string => Boolean(c)))];

export const blackholeRoute = defineCheck({
  findings: { 'blackhole-route': { severity: 'error', title: 'a blackhole or unreachable route inside the cluster CIDR (a leftover of another CNI)' } },
  needs: ['routes'],
  perFamily: true,
  run(n, ctx, emit) {
    for (const r of n.facts.routes) {
      if (!DROPPING.has(r.type ?? '')) continue;
      const dst = routeDst(r, ctx.family);
      // Only where it wins: a wide sink that more specific routes override (unreachable 10.0.0.0/8) drops nothing.
      const hit = podCidrs(n, ctx.nodes).filter((c) => {
        if (!cidrsOverlap(dst, c)) return false;
        const inner = Number(dst.split('/')[1]) >= Number(c.split('/')[1]) ? dst : c;
        const best = lookupRoute(n.facts, inner.split('/')[0]!);
        return !best || Number(routeDst(best, ctx.family).split('/')[1]) <= Number(dst.split('/')[1]);
      });
      if (!hit.length) continue;
      const whose = hit.map((c) => (c === n.podCIDR ? `this node's pods (${c})` : `${ctx.nodes.find((p) => p.podCIDR === c)?.name ?? '?'}'s pods (${c})`));
      emit('blackhole-route', `a ${r.type} route for ${dst} drops traffic to ${whose.join(', ')}: Calico and kube-router install these for their address blocks and leave them behind`, `${r.type} ${dst}${r.protocol ? ` proto ${r.protocol}` : ''}`, `podnet never removes routes it did not create: if the CNI that made it is gone, ip route del ${r.type} ${dst}`);
    }
  },
});


/** Does a policy rule apply to pod traffic toward `cidr` (no selectors podnet cannot judge)? */
function ruleHits(r: RuleFact, cluster: string, cidr: string): boolean {
  if (r.selectors.length) return false;
  if (r.src && r.src !== 'all' && !cidrsOverlap(r.src, cluster)) return false;
  if (r.dst && r.dst !== 'all' && !cidrsOverlap(r.dst, cidr)) return false;
  return true;
}

export const policyRoute = defineCheck({
  findings: { 'policy-route': { severity: 'error', title: 'a policy-routing rule sends pod traffic to another table' } },
  needs: ['rules', 'routeTables'],
  perFamily: true,
  run(n, ctx, emit) {
    for (const cidr of podCidrs(n, ctx.nodes)) {
      const probe = cidr.split('/')[0]!;
      for (const rule of [...n.facts.rules].sort((a, b) => a.priority - b.priority)) {
        if (rule.table === 'main' || rule.table === 'local' || rule.table === 'default') {
          if (rule.table === 'main' && ruleHits(rule, ctx.clusterCIDR, cidr)) break;
          continue;
        }
        if (!ruleHits(rule, ctx.clusterCIDR, cidr)) continue;
        const desc = `${rule.priority}: from ${rule.src ?? 'all'}${rule.dst ? ` to ${rule.dst}` : ''} ${rule.action && rule.action !== 'lookup' ? rule.action : `lookup ${rule.table}`}`;
        const whose = cidr === n.podCIDR ? "this node's pods" : `${ctx.nodes.find((p) => p.podCIDR === cidr)?.name}'s pods`;
        if (rule.action && ['blackhole', 'unreachable', 'prohibit'].includes(rule.action)) {
          emit('policy-route', `the policy rule "${desc}" drops traffic to ${whose} (${cidr})`, `ip rule: ${desc}`, `ip rule del pref ${rule.priority}`);
          break;
        }
        const table: RouteFact[] = n.facts.routeTables[rule.table ?? ''] ?? [];
        const hit = table.filter((r) => cidrContainsIp(routeDst(r, ctx.family), probe)).sort((a, b) => Number(routeDst(b).split('/')[1]) - Number(routeDst(a).split('/')[1]))[0];
        // "throw" sends the lookup on to the next rule: not where the traffic goes.
        if (!hit || hit.type === 'throw') continue;
        emit('policy-route', `the policy rule "${desc}" sends traffic to ${whose} (${cidr}) to table ${rule.table}, which routes it ${hit.type && hit.type !== 'unicast' ? `as ${hit.type}` : `via ${hit.gateway ?? `dev ${hit.dev}`}`}: the main table's pod routes are never consulted`, `ip rule: ${desc}; table ${rule.table}: ${hit.type && hit.type !== 'unicast' ? `${hit.type} ` : ''}${routeDst(hit, ctx.family)}${hit.gateway ? ` via ${hit.gateway}` : ''}${hit.dev ? ` dev ${hit.dev}` : ''}`, `exclude the cluster CIDR from that rule's tool (VPN clients: Tailscale, WireGuard wg-quick, …), or add ip rule add to ${ctx.clusterCIDR} lookup main pref ${Math.max(1, rule.priority - 1)}`);
        break;
      }
    }
  },
});

export const ROUTING = [peerRoutes, ownCidrRoute, wrongIface, blackholeRoute, policyRoute] as const;
