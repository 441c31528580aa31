/**
 * Static checks: facts of every node → findings. Each area of the node has its file in areas/, each check
 * there is a declared unit (the finding ids it emits, their severity, the facts it reads); this list is
 * the catalogue, and the finding ids are the union of what the units declare.
 */
import type { CheckContext, CheckUnit, Declared, Finding, NodeView, Severity } from './types.js';
import { familyOf, IPV4, type FamilyTable } from '../net/family.js';
import { FORWARDING } from './areas/forwarding.js';
import { ROUTING } from './areas/routing.js';
import { OVERLAY } from './areas/overlay.js';
import { ADDRESSING } from './areas/addressing.js';
import { CNI_CONFIG } from './areas/cni-config.js';
import { IPAM } from './areas/ipam.js';
import { NAT } from './areas/nat.js';
import { NETMGR } from './areas/netmgr.js';
import { LEFTOVERS } from './areas/leftovers.js';
import { PERSISTENCE } from './areas/persistence.js';
import { IPV6_CHECKS } from './areas/ipv6.js';

export type { CheckContext, CheckUnit, Finding, NodeView, Severity } from './types.js';

export const CHECKS = [...FORWARDING, ...ROUTING, ...OVERLAY, ...ADDRESSING, ...CNI_CONFIG, ...IPAM, ...NAT, ...LEFTOVERS, ...NETMGR, ...PERSISTENCE, ...IPV6_CHECKS] as const;

type IdsOf<U> = U extends CheckUnit<infer I> ? I : never;
/** Findings about a node that are not static checks: it could not be read, or the Kubernetes API disagrees. */
export const OTHER_FINDINGS = {
  unreachable: { severity: 'error', title: 'the node could not be reached' },
  'facts-failed': { severity: 'error', title: "the node answered, but its facts script failed" },
  'kube-node-missing': { severity: 'warning', title: 'no Node object in the Kubernetes API for this machine' },
  'kube-node-unknown': { severity: 'warning', title: 'a Node in the cluster that is not in the inventory' },
  'kube-podcidr': { severity: 'error', title: "the API's spec.podCIDRs disagree with the node or the cluster CIDR" },
  'kube-network-unavailable': { severity: 'error', title: 'the Node has NetworkUnavailable=True: tainted, nothing is scheduled there' },
  'kube-node-notready-cni': { severity: 'error', title: "the Node is NotReady: its container runtime has no CNI config loaded" },
  'kube-api': { severity: 'warning', title: 'the Kubernetes API could not be read' },
} as const satisfies Record<string, Declared>;

export type FindingId = IdsOf<(typeof CHECKS)[number]> | keyof typeof OTHER_FINDINGS;

/** Every finding id with its default severity and title: the catalogue doctor --list-checks prints. */
export function catalogue(): { id: FindingId; severity: Severity; title: string }[] {
  const out = new Map<string, Declared>();
  for (const u of CHECKS as readonly CheckUnit[]) for (const [id, d] of Object.entries(u.findings)) out.set(id, d);
  for (const [id, d] of Object.entries(OTHER_FINDINGS)) out.set(id, d);
  return [...out].map(([id, d]) => ({ id: id as FindingId, severity: d.severity, title: d.title }));
}

export function runUnit<I extends string>(unit: CheckUnit<I>, node: CheckContext['nodes'][number], ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  unit.run(node, ctx, (id, message, evidence, fix, severity) => {
    out.push({ id: id as unknown as FindingId, node: node.name, severity: severity ?? unit.findings[id].severity, message, evidence, fix, ...(unit.perFamily ? { family: ctx.family.name } : {}) });
  });
  return out;
}

/** A node as a per-family check of `family` sees it: that family's routes, rules, addresses and pod range. */
export function familyView(n: NodeView, family: FamilyTable): NodeView {
  const f = n.facts;
  // IPv6 has no policy rules or extra tables in the facts (they are IPv4's): none are judged against IPv6 CIDRs.
  const facts = family === IPV4 ? f : { ...f, routes: f.routes6, iptablesFilter: f.ip6tablesFilter, iptablesNat: f.ip6tablesNat, rules: [], routeTables: {} };
  const mine = n.byFamily?.[family.name];
  // The live config's range of this family (a config may list IPv6 first); an IPv4 config without ranges keeps its subnet.
  const range = n.live?.bridge?.ranges.find((r) => familyOf(r.subnet) === family);
  const live = n.live?.bridge && (range || family !== IPV4) ? { ...n.live, bridge: { ...n.live.bridge, subnet: range?.subnet, gateway: range?.gateway } } : n.live;
  if (!mine) return family === IPV4 ? { ...n, live } : { ...n, facts, live, nodeIP: undefined, podCIDR: undefined };
  return { ...n, facts, live, nodeIP: mine.nodeIP, podCIDR: mine.podCIDR };
}

/**
 * Every check on every node. `contexts` holds one context per IP family of the cluster, the primary
 * first: per-family units run in each (with each node's view of that family), the others once.
 */
export function runChecks(contexts: CheckContext | CheckContext[]): Finding[] {
  const all = Array.isArray(contexts) ? contexts : [contexts];
  const primary = all[0]!;
  return primary.nodes.flatMap((n) =>
    (CHECKS as readonly CheckUnit[]).flatMap((u) => {
      if (!u.perFamily) return runUnit(u, n, primary);
      return all.flatMap((ctx) => runUnit(u, familyView(n, ctx.family), { ...ctx, nodes: ctx.nodes.map((x) => familyView(x, ctx.family)) }));
    }),
  );
}
