/**
 * Questions about a node's routing table, answered from its facts: pure.
 */
import { cidrContainsIp } from '../net/cidr.js';
import type { NodeFacts, RouteFact } from './parse.js';
import { familyOf, IPV4, IPV6, type FamilyTable } from '../net/family.js';

/** A route's destination as a CIDR ("default" → the family's any-route, a host route → one address). */
export function routeDst(r: RouteFact, family: FamilyTable = IPV4): string {
  if (r.dst === 'default') return family.anyRoute;
  return r.dst.includes('/') ? r.dst : `${r.dst}/${family.hostPrefix}`;
}

/** Longest-prefix match in the node's main table: the route the kernel would use to reach `ip`. */
export function lookupRoute(facts: NodeFacts, ip: string): RouteFact | undefined {
  let best: RouteFact | undefined;
  let bestLen = -1;
  const family = familyOf(ip) ?? IPV4;
  for (const r of family === IPV6 ? facts.routes6 : facts.routes) {
    if (r.type && r.type !== 'unicast') continue;
    const dst = routeDst(r, family);
    const len = Number(dst.split('/')[1]);
    if (len > bestLen && cidrContainsIp(dst, ip)) {
      best = r;
      bestLen = len;
    }
  }
  return best;
}

/** Whether `peerIP` is on-link from this node: reachable without a gateway, on the uplink. */
export function isOnLink(facts: NodeFacts, peerIP: string, uplink: string): boolean {
  const r = lookupRoute(facts, peerIP);
  return r !== undefined && !r.gateway && r.dev === uplink;
}

/** The node's main-table routes of one family. */
export function routesOf(facts: NodeFacts, family: FamilyTable): RouteFact[] {
  return family === IPV6 ? facts.routes6 : facts.routes;
}
