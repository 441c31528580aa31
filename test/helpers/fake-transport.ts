/**
 * A Transport for unit tests of the services: no ssh, no root, no lab. It answers the facts script with
 * output captured from real lab nodes (test/fixtures/facts/<scenario>/, see capture-facts.ts), records
 * every other script in the order each node was sent it, and answers those with a result per node
 * (success by default). Nodes can be unreachable or time out (thrown as the SshTransport throws them:
 * a TransportError classified from what ssh would print), and a node's lock can be held by another run
 * (answered as SshTransport answers it: result.lock, exit 75, the script not run). Round trips are counted
 * as SshTransport counts them: one per run and per lock, none for unlock.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { SECTION } from '../../src/facts/gather.js';
import { parseInventory, type Inventory } from '../../src/inventory/load.js';
import { classifySshFailure, lockOutcome } from '../../src/transport/ssh.js';
import { SSH_PROGRAMS, TransportError, type ExecResult, type LockResult, type NodeTarget, type RunOptions, type Transport } from '../../src/transport/types.js';

/** How a round trip to a node fails before its script reports back. */
export type FakeFailure = 'unreachable' | 'timeout' | 'disconnected' | 'auth';

/** What a script prints and exits with on the node, or how its round trip fails. */
export type FakeAnswer = { exitCode?: number; stdout?: string; stderr?: string } | { fail: FakeFailure };

export interface FakeNode {
  /** what the facts script prints on this node (a capture), or how it fails */
  facts?: string | FakeAnswer;
  /** every round trip to the node fails so (facts, scripts, locks) */
  fail?: FakeFailure;
  /**
   * Another run holds the node's lock: its owner line; with `attempts`, that run lets go after this many
   * lock attempts of ours failed (a run that finishes while we wait).
   */
  lockedBy?: string | { holder: string; attempts: number };
  /** the node has no flock (util-linux missing): every lock attempt fails with exit 127 */
  noFlock?: boolean;
  /** this inventory entry reaches the same machine as another entry: the two share one lock */
  sameMachineAs?: string;
  /** the answer to every script other than the facts script (default: exit 0, no output) */
  answer?: FakeAnswer | ((script: string, node: NodeTarget) => FakeAnswer | Promise<FakeAnswer>);
  /** simulated time per round trip, in ms (really waited for, so concurrency shows) */
  latencyMs?: number;
}

export interface FakeCall {
  node: string;
  kind: 'facts' | 'script' | 'lock' | 'unlock';
  script?: string;
  /** the owner a lock was asked for (run with lock, or lock) */
  lockAs?: string;
  /** whether the script reached the node's shell and ran (not: unreachable, or the lock was held) */
  ran: boolean;
}

/**
 * The facts script is the only script that carries the section marker (however it prints it: literal
 * echo lines, or a variable its text reads); change scripts, down and probe scripts never do.
 */
export function isFactsScript(script: string): boolean {
  return script.includes(SECTION);
}

/** What ssh prints for each failure; SshTransport's own classifier turns it into the TransportError. */
function failureOf(node: NodeTarget, kind: FakeFailure): TransportError {
  const a = node.address;
  const r = {
    unreachable: { exitCode: 255, stderr: `ssh: connect to host ${a} port ${node.ssh.port}: Connection refused\n`, timedOut: false },
    timeout: { exitCode: 124, stderr: '', timedOut: true },
    disconnected: { exitCode: 255, stderr: `Connection to ${a} closed by remote host.\n`, timedOut: false },
    auth: { exitCode: 255, stderr: `${node.ssh.user}@${a}: Permission denied (publickey).\n`, timedOut: false },
  }[kind];
  return classifySshFailure(node, r) ?? new TransportError(node.name, 'disconnected', `${node.name}: the SSH session ended (exit ${r.exitCode})`);
}

export class FakeTransport implements Transport {
  readonly programs = SSH_PROGRAMS;
  readonly calls: FakeCall[] = [];
  closed = false;
  private readonly trips = new Map<string, number>();
  private readonly timeMs = new Map<string, number>();
  /** machine → who holds its lock: an inventory entry of this run, or another run */
  private readonly holders = new Map<string, { entry?: string; owner: string; attemptsLeft?: number }>();

  constructor(readonly nodes: Record<string, FakeNode> = {}) {
    for (const [name, n] of Object.entries(nodes)) {
      if (n.lockedBy === undefined) continue;
      const l = typeof n.lockedBy === 'string' ? { holder: n.lockedBy, attempts: Infinity } : n.lockedBy;
      this.holders.set(this.machine(name), { owner: l.holder, attemptsLeft: l.attempts });
    }
  }

  get roundTrips(): ReadonlyMap<string, number> {
    return this.trips;
  }

  get nodeTimeMs(): ReadonlyMap<string, number> {
    return this.timeMs;
  }

  /** Scripts other than the facts script that ran on a node, in order. */
  scriptsRun(node: string): string[] {
    return this.calls.filter((c) => c.node === node && c.kind === 'script' && c.ran).map((c) => c.script!);
  }

  /** Who holds a node's lock now: an owner line, or undefined. */
  lockHolder(node: string): string | undefined {
    return this.holders.get(this.machine(node))?.owner;
  }

  private machine(node: string): string {
    return this.nodes[node]?.sameMachineAs ?? node;
  }

  private async trip(node: NodeTarget): Promise<number> {
    this.trips.set(node.name, (this.trips.get(node.name) ?? 0) + 1);
    const ms = this.nodes[node.name]?.latencyMs ?? 0;
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    this.timeMs.set(node.name, (this.timeMs.get(node.name) ?? 0) + ms);
    return ms;
  }

  /** The lock as lockCommand takes it: one holder per machine; this entry taking it again is a no-op. */
  private takeLock(node: NodeTarget, owner: string): LockResult {
    const cfg = this.nodes[node.name] ?? {};
    if (cfg.noFlock) return lockOutcome(127, '', '');
    const m = this.machine(node.name);
    const h = this.holders.get(m);
    if (h && h.entry !== node.name) {
      if (h.attemptsLeft !== undefined && --h.attemptsLeft <= 0) this.holders.delete(m);
      return lockOutcome(75, `${h.owner}\n`, '');
    }
    this.holders.set(m, { entry: node.name, owner });
    return { locked: true };
  }

  async run(node: NodeTarget, script: string, opts: RunOptions = {}): Promise<ExecResult> {
    const cfg = this.nodes[node.name] ?? {};
    const facts = isFactsScript(script);
    const call: FakeCall = { node: node.name, kind: facts ? 'facts' : 'script', script: facts ? undefined : script, lockAs: opts.lock, ran: false };
    this.calls.push(call);
    const durationMs = await this.trip(node);
    if (cfg.fail) throw failureOf(node, cfg.fail);
    let lock: LockResult | undefined;
    if (opts.lock !== undefined) {
      lock = this.takeLock(node, opts.lock);
      // SshTransport: the exit code is the lock command's, no stdout, and the script did not run.
      if (!lock.locked) return { exitCode: lock.holder ? 75 : 127, stdout: '', stderr: '', durationMs, timedOut: false, lock };
    }
    let answer: FakeAnswer;
    if (facts) {
      if (cfg.facts === undefined) throw new Error(`FakeTransport: no facts for ${node.name}`);
      answer = typeof cfg.facts === 'string' ? { stdout: cfg.facts } : cfg.facts;
    } else {
      answer = typeof cfg.answer === 'function' ? await cfg.answer(script, node) : (cfg.answer ?? {});
    }
    if ('fail' in answer) throw failureOf(node, answer.fail);
    call.ran = true;
    return { exitCode: answer.exitCode ?? 0, stdout: answer.stdout ?? '', stderr: answer.stderr ?? '', durationMs, timedOut: false, ...(lock ? { lock } : {}) };
  }

  async lock(node: NodeTarget, owner: string): Promise<LockResult> {
    const call: FakeCall = { node: node.name, kind: 'lock', lockAs: owner, ran: false };
    this.calls.push(call);
    await this.trip(node);
    if (this.nodes[node.name]?.fail) throw failureOf(node, this.nodes[node.name]!.fail!);
    call.ran = true;
    return this.takeLock(node, owner);
  }

  async unlock(node: NodeTarget): Promise<void> {
    this.calls.push({ node: node.name, kind: 'unlock', ran: true });
    const m = this.machine(node.name);
    if (this.holders.get(m)?.entry === node.name) this.holders.delete(m);
  }

  async close(): Promise<void> {
    this.closed = true;
    // The locks last as long as the sessions: closing gives back every lock this run took.
    for (const [m, h] of this.holders) if (h.entry !== undefined) this.holders.delete(m);
  }
}

const FIXTURES = new URL('../fixtures/facts/', import.meta.url);

export interface Capture {
  inventory: Inventory;
  /** node name → facts script output */
  facts: Record<string, string>;
}

/** A captured scenario (test/fixtures/facts/<name>/): its inventory and every node's facts output. */
export function loadCapture(scenario: string): Capture {
  const dir = new URL(`${scenario}/`, FIXTURES);
  const inventory = parseInventory(readFileSync(new URL('inventory.yaml', dir), 'utf8'), `${scenario}/inventory.yaml`, { checkFiles: false });
  const facts: Record<string, string> = {};
  for (const f of readdirSync(dir)) if (f.endsWith('.txt')) facts[f.slice(0, -4)] = readFileSync(new URL(f, dir), 'utf8');
  return { inventory, facts };
}

/** A FakeTransport whose nodes answer with a capture's facts; `nodes` adds to (or replaces) per node. */
export function fakeFromCapture(capture: Capture, nodes: Record<string, FakeNode> = {}): FakeTransport {
  const all: Record<string, FakeNode> = {};
  for (const [name, facts] of Object.entries(capture.facts)) all[name] = { facts, ...nodes[name] };
  for (const [name, n] of Object.entries(nodes)) all[name] ??= n;
  return new FakeTransport(all);
}
