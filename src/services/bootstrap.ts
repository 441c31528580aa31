/**
 * The bootstrap service behind `plan`, `up`, `status` and `down`: facts from every node in parallel (one
 * round trip each), a pure plan and diff, then at most one more round trip per node that changes
 * something. A node that fails is reported with its step and error; the others carry on.
 */
import type { Inventory, InventoryNode } from '../inventory/load.js';
import type { LockResult, Transport } from '../transport/types.js';
import { TransportError } from '../transport/types.js';
import { renderFactsScript } from '../facts/gather.js';
import { parseFacts, type NodeFacts } from '../facts/parse.js';
import { PluginVersionCache } from '../facts/plugin-cache.js';
import { planCluster, type ClusterPlan, type NodePlan } from '../plan/desired.js';
import { withFiles } from '../render/files.js';
import { describeChange, diffNode, type Change } from '../plan/diff.js';
import { FAIL_MARK, STEP_MARK, renderNodeScript } from '../render/node-script.js';
import { renderDownScript, REMOVED_MARK, KEPT_MARK } from '../render/down-script.js';
import { mapLimit } from '../util/concurrency.js';
import { errorMessage, NodeBusy, UserError } from '../util/errors.js';
import { describeValue } from '../util/describe.js';
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { Progress } from './progress.js';

export interface NodeFailure {
  node: string;
  step: string;
  error: string;
  hint?: string;
  /** the node answered, but what ran there failed (not a transport failure) */
  reached?: boolean;
}

export interface FactsResult {
  facts: Map<string, NodeFacts>;
  failures: NodeFailure[];
}

export interface RunContext {
  transport: Transport;
  concurrency: number;
  progress: Progress;
}

function failureOf(node: string, step: string, err: unknown): NodeFailure {
  if (err instanceof TransportError) return { node, step, error: err.message, hint: err.hint };
  return { node, step, error: errorMessage(err), reached: true };
}

/** Who runs podnet, for the lock's owner line; a uid without a passwd entry (CI containers) makes userInfo throw. */
function whoami(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER || `uid ${process.getuid?.() ?? '?'}`;
  }
}

/**
 * The locks of one changing run (up, down): each node's owner line names this process and run, so a lock
 * this very run already holds shows that two entries reach one machine.
 */
export class RunLocks {
  private readonly ours: RegExp;
  readonly busy: string[] = [];
  readonly duplicates: [string, string][] = [];

  constructor(
    readonly command: string,
    readonly run = randomBytes(6).toString('hex'),
  ) {
    this.ours = new RegExp(`\\(pid ${process.pid}, run ${this.run}, as ([a-z0-9-]+)\\)`);
  }

  ownerOf(n: InventoryNode): string {
    return `podnet ${this.command} by ${whoami()}@${hostname()} (pid ${process.pid}, run ${this.run}, as ${n.name}) since ${new Date().toISOString()}`;
  }

  /** Record a node's outcome; a failure (no flock, cannot open the file) to report for the node, if any. */
  record(n: InventoryNode, r: LockResult): NodeFailure | undefined {
    if (r.locked) return undefined;
    const twin = this.ours.exec(r.holder ?? '')?.[1];
    if (twin) this.duplicates.push([twin, n.name]);
    else if (r.holder !== undefined) this.busy.push(`${n.name}: ${r.holder}`);
    else return { node: n.name, step: 'lock', error: r.error ?? 'cannot lock', hint: r.hint };
    return undefined;
  }

  /**
   * After every node answered: a machine listed twice is bad input (exit 2); a node another run holds
   * stops this run (exit 3, naming node and holder) — in both cases before anything was changed.
   */
  check(inv: Inventory): void {
    const dup = this.duplicates[0];
    if (dup) throw duplicateMachine(inv, dup[0], dup[1], 'took its lock already');
    if (this.busy.length) {
      this.busy.sort();
      throw new NodeBusy(
        `another podnet run is changing ${this.busy.length === 1 ? 'a node' : `${this.busy.length} nodes`}; nothing was changed: ${this.busy[0]}${this.busy.length > 1 ? ` (and ${this.busy.length - 1} more)` : ''}`,
        'wait for that run to finish, then run again',
      );
    }
  }
}

/**
 * Facts of every node, one round trip each, in parallel. `onFacts` runs for a node as soon as its facts
 * are parsed, within the same concurrency slot (probe makes the node's probe pod there). With `lockAs`
 * (a changing run: the command's name, for the lock's owner line), each node's lock is taken in that same round trip, so two changing runs never
 * interleave on a node and each plans from what the other left; see RunLocks.check.
 */
export async function gatherFacts(
  inv: Inventory,
  ctx: RunContext,
  nodes: InventoryNode[] = inv.nodes,
  onFacts?: (node: InventoryNode, facts: NodeFacts) => Promise<void>,
  lockAs?: string,
): Promise<FactsResult> {
  const cache = new PluginVersionCache();
  if (!lockAs) return gatherOnce(inv, ctx, nodes, onFacts, cache);
  // Two runs started together can each take some nodes' locks and find the others held: both would stop.
  // So a run that finds a node busy gives back the locks it took, waits a random moment and tries again
  // (up to 6 rounds, at most ~7 s of waiting); a run that holds a node longer still stops this one, naming it.
  const run = randomBytes(6).toString('hex');
  for (let attempt = 1; ; attempt++) {
    const round = new RunLocks(lockAs, run);
    const r = await gatherOnce(inv, ctx, nodes, onFacts, cache, round);
    if (round.duplicates.length || !round.busy.length || attempt >= LOCK_ATTEMPTS) {
      round.check(inv);
      return r;
    }
    await Promise.allSettled(nodes.map((n) => ctx.transport.unlock(n)));
    for (const n of nodes) ctx.progress.update(n.name, `waiting for another podnet run (${round.busy[0]})`);
    await new Promise((res) => setTimeout(res, 300 + Math.random() * 500 * attempt));
  }
}

const LOCK_ATTEMPTS = 6;

async function gatherOnce(
  inv: Inventory,
  ctx: RunContext,
  nodes: InventoryNode[],
  onFacts: ((node: InventoryNode, facts: NodeFacts) => Promise<void>) | undefined,
  cache: PluginVersionCache,
  locks?: RunLocks,
): Promise<FactsResult> {
  const facts = new Map<string, NodeFacts>();
  const failures: NodeFailure[] = [];
  await mapLimit(nodes, ctx.concurrency, async (n) => {
    ctx.progress.update(n.name, locks ? 'locking, reading facts' : 'reading facts');
    try {
      const script = renderFactsScript({ cniBinDir: inv.cluster.cniBinDir, known: cache.known(n.name) });
      const r = await ctx.transport.run(n, script, locks ? { lock: locks.ownerOf(n) } : {});
      if (locks && r.lock && !r.lock.locked) {
        const failure = locks.record(n, r.lock);
        if (failure) {
          failures.push(failure);
          ctx.progress.done(n.name, false, `lock: ${failure.error}`);
        }
        return;
      }
      if (r.exitCode !== 0 && !r.stdout.includes('@@podnet:section end')) {
        throw new Error(`facts script failed (exit ${r.exitCode}): ${lastLine(r.stderr)}`);
      }
      const f = parseFacts(r.stdout);
      facts.set(n.name, f);
      cache.remember(n.name, f);
      await onFacts?.(n, f);
    } catch (err) {
      const f = failureOf(n.name, 'facts', err);
      failures.push(f);
      ctx.progress.done(n.name, false, `facts: ${f.error}`);
    }
  });
  cache.save();
  return { facts, failures };
}

/**
 * Take every node's lock before anything is changed (down, which needs no facts). A node whose lock is
 * held stops the whole run before any change; an unreachable node is a per-node failure like any other.
 */
export async function lockNodes(inv: Inventory, ctx: RunContext, command: string): Promise<{ nodes: InventoryNode[]; failures: NodeFailure[] }> {
  const locks = new RunLocks(command);
  const failures: NodeFailure[] = [];
  const locked: InventoryNode[] = [];
  await mapLimit(inv.nodes, ctx.concurrency, async (n) => {
    ctx.progress.update(n.name, 'locking');
    try {
      const r = await ctx.transport.lock(n, locks.ownerOf(n));
      if (r.locked) locked.push(n);
      const failure = locks.record(n, r);
      if (failure) {
        failures.push(failure);
        ctx.progress.done(n.name, false, `lock: ${failure.error}`);
      }
    } catch (err) {
      const f = failureOf(n.name, 'lock', err);
      failures.push(f);
      ctx.progress.done(n.name, false, `lock: ${f.error}`);
    }
  });
  locks.check(inv);
  const order = new Map(inv.nodes.map((n, i) => [n.name, i]));
  locked.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
  return { nodes: locked, failures };
}

export function duplicateMachine(inv: Inventory, a: string, b: string, how: string): UserError {
  const at = (name: string) => {
    const i = inv.nodes.findIndex((n) => n.name === name);
    return `nodes[${i}] (${name}, ${describeValue(inv.nodes[i]!.address)})`;
  };
  const [first, second] = [a, b].sort((x, y) => inv.nodes.findIndex((n) => n.name === x) - inv.nodes.findIndex((n) => n.name === y));
  return new UserError(
    `${at(second!)}: the same machine as ${at(first!)} (${how}); expected each machine once in nodes`,
    'remove one of the two entries (an IP and an ssh_config alias, or a HostName in ssh_config, can name the same machine)',
  );
}

/** Two entries whose facts come from the same network stack of the same boot: one machine listed twice. */
export function checkDistinctMachines(inv: Inventory, facts: Map<string, NodeFacts>): void {
  const seen = new Map<string, string>();
  for (const n of inv.nodes) {
    const id = facts.get(n.name)?.identity;
    if (!id) continue;
    const other = seen.get(id);
    if (other) throw duplicateMachine(inv, other, n.name, `same boot id and network namespace, hostname ${describeValue(facts.get(n.name)!.hostname)}`);
    seen.set(id, n.name);
  }
}

export interface PlannedCluster {
  plan: ClusterPlan;
  facts: Map<string, NodeFacts>;
  failures: NodeFailure[];
}

export async function planFromNodes(inv: Inventory, ctx: RunContext, opts: { lock?: string } = {}): Promise<PlannedCluster> {
  const { facts, failures } = await gatherFacts(inv, ctx, inv.nodes, undefined, opts.lock);
  checkDistinctMachines(inv, facts);
  const plan = planCluster(inv, facts);
  plan.nodes = plan.nodes.map(withFiles);
  for (const e of plan.errors) {
    failures.push({ node: e.name, step: e.step, error: e.error, hint: e.hint });
    ctx.progress.done(e.name, false, e.error);
  }
  return { plan, facts, failures };
}

export interface NodeOutcome {
  node: string;
  podCIDR?: string;
  /** every family's pod CIDR, the primary first */
  podCIDRs?: string[];
  result: 'unchanged' | 'changed' | 'would-change' | 'failed';
  changes: string[];
  step?: string;
  error?: string;
  hint?: string;
  /** time spent on this node's own round trips (not since the run started) */
  durationMs: number;
  roundTrips: number;
  /** with a cluster: the condition set on the Node after it came up */
  nodeStatus?: string;
}

export interface UpReport {
  dryRun: boolean;
  clusterCIDR: string;
  /** every family's cluster CIDR, the primary first */
  clusterCIDRs: string[];
  mode: string;
  mtu: number;
  nodes: NodeOutcome[];
  persistence: { node: string; persistence: 'systemd' | 'none' }[];
  scripts?: Record<string, string>;
}

function outcomeOrder(inv: Inventory, outcomes: NodeOutcome[]): NodeOutcome[] {
  const idx = new Map(inv.nodes.map((n, i) => [n.name, i]));
  return outcomes.sort((a, b) => (idx.get(a.node) ?? 0) - (idx.get(b.node) ?? 0));
}

export async function runUp(inv: Inventory, ctx: RunContext, opts: { dryRun: boolean; showScripts?: boolean }): Promise<UpReport> {
  // A dry run changes nothing and does not wait for, or keep out, another run.
  const { plan, facts, failures } = await planFromNodes(inv, ctx, opts.dryRun ? {} : { lock: 'up' });
  const outcomes: NodeOutcome[] = failures.map((f) => ({
    node: f.node,
    result: 'failed',
    changes: [],
    step: f.step,
    error: f.error,
    hint: f.hint,
    durationMs: ctx.transport.nodeTimeMs.get(f.node) ?? 0,
    roundTrips: ctx.transport.roundTrips.get(f.node) ?? 0,
  }));
  const scripts: Record<string, string> = {};
  const byName = new Map(inv.nodes.map((n) => [n.name, n]));
  await mapLimit(plan.nodes, ctx.concurrency, async (p: NodePlan) => {
    const changes = diffNode(p, facts.get(p.name)!);
    const described = changes.map(describeChange);
    const base = { node: p.name, podCIDR: p.podCIDR, podCIDRs: p.families.map((x) => x.podCIDR), changes: described };
    if (changes.length === 0 || opts.dryRun) {
      if (opts.showScripts && changes.length) scripts[p.name] = renderNodeScript(changes);
      outcomes.push({ ...base, result: changes.length ? 'would-change' : 'unchanged', durationMs: ctx.transport.nodeTimeMs.get(p.name) ?? 0, roundTrips: ctx.transport.roundTrips.get(p.name) ?? 0 });
      ctx.progress.done(p.name, true, changes.length ? `${changes.length} change(s) planned` : 'converged, nothing to do');
      return;
    }
    ctx.progress.update(p.name, `applying ${changes.length} change(s)`);
    const outcome = await applyChanges(byName.get(p.name)!, changes, ctx);
    outcomes.push({ ...base, ...outcome, durationMs: ctx.transport.nodeTimeMs.get(p.name) ?? 0, roundTrips: ctx.transport.roundTrips.get(p.name) ?? 0 });
    ctx.progress.done(p.name, outcome.result !== 'failed', outcome.result === 'failed' ? `${outcome.step}: ${outcome.error}` : `${changes.length} change(s) applied`);
  });
  return {
    dryRun: opts.dryRun,
    clusterCIDR: plan.clusterCIDR,
    clusterCIDRs: plan.clusterCIDRs,
    mode: plan.mode,
    mtu: plan.mtu,
    nodes: outcomeOrder(inv, outcomes),
    persistence: plan.nodes.map((n) => ({ node: n.name, persistence: n.persistence })),
    ...(opts.showScripts ? { scripts } : {}),
  };
}

async function applyChanges(node: InventoryNode, changes: Change[], ctx: RunContext): Promise<Pick<NodeOutcome, 'result' | 'step' | 'error' | 'hint'>> {
  try {
    const r = await ctx.transport.run(node, renderNodeScript(changes));
    if (r.exitCode === 0) return { result: 'changed' };
    const { step, error } = scriptFailure(r.stderr);
    return { result: 'failed', step, error: error || `exit ${r.exitCode}` };
  } catch (err) {
    const f = failureOf(node.name, 'apply', err);
    return { result: 'failed', step: 'apply', error: f.error, hint: f.hint };
  }
}

/** The failed step and the error line from a node script's stderr. */
export function scriptFailure(stderr: string): { step: string; error: string } {
  const lines = stderr.split('\n').filter(Boolean);
  let step = 'apply';
  const errors: string[] = [];
  for (const l of lines) {
    if (l.startsWith(`${FAIL_MARK} `)) step = l.slice(FAIL_MARK.length + 1);
    else if (l.startsWith(`${STEP_MARK} `)) {
      step = l.slice(STEP_MARK.length + 1);
      errors.length = 0;
    } else errors.push(l);
  }
  return { step, error: errors.join('; ') };
}

export interface StatusNode {
  node: string;
  podCIDR?: string;
  /** every family's pod CIDR, the primary first */
  podCIDRs?: string[];
  state: 'converged' | 'drift' | 'failed';
  drift: string[];
  step?: string;
  error?: string;
  hint?: string;
}

export interface StatusReport {
  clusterCIDR: string;
  /** every family's cluster CIDR, the primary first */
  clusterCIDRs: string[];
  mode: string;
  nodes: StatusNode[];
}

export async function runStatus(inv: Inventory, ctx: RunContext): Promise<StatusReport> {
  const { plan, facts, failures } = await planFromNodes(inv, ctx);
  const nodes: StatusNode[] = failures.map((f) => ({ node: f.node, state: 'failed', drift: [], step: f.step, error: f.error, hint: f.hint }));
  for (const p of plan.nodes) {
    const drift = diffNode(p, facts.get(p.name)!).map(describeChange);
    nodes.push({ node: p.name, podCIDR: p.podCIDR, podCIDRs: p.families.map((x) => x.podCIDR), state: drift.length ? 'drift' : 'converged', drift });
    ctx.progress.done(p.name, drift.length === 0, drift.length ? `${drift.length} difference(s)` : 'converged');
  }
  const idx = new Map(inv.nodes.map((n, i) => [n.name, i]));
  nodes.sort((a, b) => (idx.get(a.node) ?? 0) - (idx.get(b.node) ?? 0));
  return { clusterCIDR: plan.clusterCIDR, clusterCIDRs: plan.clusterCIDRs, mode: plan.mode, nodes };
}

export interface DownNode {
  node: string;
  result: 'removed' | 'nothing' | 'failed';
  removed: string[];
  kept: string[];
  step?: string;
  error?: string;
  hint?: string;
}

export async function runDown(inv: Inventory, ctx: RunContext, opts: { force: boolean }): Promise<DownNode[]> {
  const script = renderDownScript(inv.cluster, opts);
  const locked = await lockNodes(inv, ctx, 'down');
  const unlocked: DownNode[] = locked.failures.map((f) => ({ node: f.node, result: 'failed', removed: [], kept: [], step: f.step, error: f.error, hint: f.hint }));
  const out = await mapLimit(locked.nodes, ctx.concurrency, async (n): Promise<DownNode> => {
    ctx.progress.update(n.name, 'removing podnet state');
    try {
      const r = await ctx.transport.run(n, script);
      const removed = markers(r.stdout, REMOVED_MARK);
      const kept = markers(r.stdout, KEPT_MARK);
      if (r.exitCode !== 0) {
        const { step, error } = scriptFailure(r.stderr);
        ctx.progress.done(n.name, false, `${step}: ${error}`);
        return { node: n.name, result: 'failed', removed, kept, step, error: error || `exit ${r.exitCode}` };
      }
      ctx.progress.done(n.name, true, removed.length ? `removed ${removed.length} item(s)` : 'nothing to remove');
      return { node: n.name, result: removed.length ? 'removed' : 'nothing', removed, kept };
    } catch (err) {
      const f = failureOf(n.name, 'down', err);
      ctx.progress.done(n.name, false, f.error);
      return { node: n.name, result: 'failed', removed: [], kept: [], step: 'connect', error: f.error, hint: f.hint };
    }
  });
  const order = new Map(inv.nodes.map((n, i) => [n.name, i]));
  return [...unlocked, ...out].sort((a, b) => order.get(a.node)! - order.get(b.node)!);
}

function markers(stdout: string, mark: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith(`${mark} `))
    .map((l) => l.slice(mark.length + 1));
}

function lastLine(s: string): string {
  return s.trim().split('\n').filter(Boolean).pop() ?? '';
}
