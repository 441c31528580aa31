/**
 * The shape of a static check. A check is a declared unit: the finding ids it can produce (each with its
 * default severity and a one-line title), the facts it reads, and `run`, which reports through `emit`
 * (typed: a unit can only emit the ids it declares). Units live one area per file in checks/areas/ and are
 * listed once in checks/index.ts; adding a check to an area touches that area's file only.
 */
import type { NodeFacts, LinkFact } from '../facts/parse.js';
import type { LiveConfig } from './live-config.js';
import type { FindingId } from './index.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  id: FindingId;
  node: string;
  severity: Severity;
  message: string;
  evidence: string;
  fix: string;
}

export interface NodeView {
  name: string;
  facts: NodeFacts;
  nodeIP?: string;
  uplink?: LinkFact;
  live?: LiveConfig;
  podCIDR?: string;
}

export interface CheckContext {
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
  run(node: NodeView, ctx: CheckContext, emit: Emit<I>): void;
}

export function defineCheck<const I extends string>(unit: CheckUnit<I>): CheckUnit<I> {
  return unit;
}
