/**
 * The shape of a static check. A check is a declared unit: the finding ids it can produce (each with its
 * default severity and a one-line title), the facts it reads, and `run`, which reports through `emit`
 * (typed: a unit can only emit the ids it declares). Units live one area per file in checks/areas/ and are
 * listed once in checks/index.ts; adding a check to an area touches that area's file only.
 */
import type { NodeFacts, LinkFact } from '../facts/parse.js';
import type { LiveConfig } from './live-config.js';
import type { FindingId } from './index.js';
import type { FamilyTable, IpFamily } from '../net/family.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  id: FindingId;
  node: string;
  severity: Severity;
  message: string;
  evidence: string;
  fix: string;
  /** the IP family a per-family check found it in */
  family?: IpFamily;
}

export interface NodeView {
  name: string;
  facts: NodeFacts;
  nodeIP?: string;
  uplink?: LinkFact;
  live?: LiveConfig;
  podCIDR?: string;
  /** the node IP and pod CIDR of each family the cluster has (a per-family check sees its family's as nodeIP and podCIDR) */
  byFamily?: Partial<Record<IpFamily, { nodeIP?: string; podCIDR?: string }>>;
}

export interface CheckContext {
  /** the family a per-family check is run for (the primary one for the others) */
  family: FamilyTable;
  /** every family of the cluster, the primary first (absent: the one above) */
  families?: FamilyTable[];
  clusterCIDR: string;
  serviceCIDR?: string;
  vxlanPort: number;
  nodes: NodeView[];
}

/** What one finding id means, for `doctor --list-checks`, the catalogue and its tests. */
export interface Declared {
  severity: Severity;
  title: string;
}

export type Emit<I extends string> = (id: I, message: string, evidence: string, fix: string, severity?: Severity) => void;

export interface CheckUnit<I extends string = string> {
  /** the finding ids this unit can emit */
  findings: Record<I, Declared>;
  /** the node facts it reads (enforced by a unit test that hands it only these) */
  needs: readonly (keyof NodeFacts)[];
  /**
   * Run once per IP family of the cluster, each time with that family's view: its routes as `routes`, its
   * ip6tables/iptables rules as `iptablesFilter`/`iptablesNat`, its node IP, pod CIDR and live range as
   * the node's, its cluster CIDR as ctx.clusterCIDR. Its findings carry the family.
   */
  perFamily?: true;
  run(node: NodeView, ctx: CheckContext, emit: Emit<I>): void;
}

export function defineCheck<const I extends string>(unit: CheckUnit<I>): CheckUnit<I> {
  return unit;
}
