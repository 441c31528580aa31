/**
 * What every long-lived node session has in common, whatever carries it: one shell on the node reading
 * podnet's scripts from a byte stream (an `ssh node sh -s` process, or a pods/exec stream into a helper
 * pod), each script framed as a here-document with end markers (framing in ssh.ts), one script at a
 * time per session, a new session when all are busy, the node lock held by a session's own shell. The
 * SSH and the Kubernetes API transports differ only in how a stream to a node's shell is opened and how
 * its failures are named (`openChannel`, `failure`).
 */
import { randomBytes } from 'node:crypto';
import { lastLine } from './util.js';
import { frameInShell, frameLocked, frameScript, LOCK_FAILED_MARK, lockCommand, lockOutcome, parseFramed } from './framing.js';
import { TransportError, type ExecResult, type LockResult, type NodePrograms, type NodeTarget, type RunOptions, type Transport } from './types.js';

/** A byte stream to a shell on the node. */
export interface Channel {
  write(data: string): void;
  /** end of input: the node's shell exits once it has read everything */
  end(): void;
  /** stop it now (and whatever it started on this side) */
  kill(): void;
  onStdout(fn: (data: string) => void): void;
  onStderr(fn: (data: string) => void): void;
  /** once, after the last output: the channel's exit code and, when it failed to open or broke, why */
  onClose(fn: (code: number, reason?: string) => void): void;
}

/** A script's outcome; `framed` when the node's shell reported its end (else the session ended first). */
export interface SessionResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  framed: boolean;
  /** the channel's own account of why it ended (an API error, a deleted pod) */
  reason?: string;
}

interface Pending {
  nonce: string;
  resolve: (r: SessionResult) => void;
  timer?: NodeJS.Timeout;
}

/** One shell on the node: runs scripts one after another. */
export class NodeSession {
  private out = '';
  private err = '';
  private pending: Pending | undefined;
  private dead = false;
  private readonly exited: Promise<void>;
  private endReason: string | undefined;

  constructor(private readonly channel: Channel) {
    let resolveExit!: () => void;
    this.exited = new Promise((r) => (resolveExit = r));
    channel.onStdout((d) => {
      this.out += d;
      this.settle();
    });
    channel.onStderr((d) => {
      this.err += d;
      this.settle();
    });
    channel.onClose((code, reason) => {
      this.endReason = reason;
      this.onExit(code);
      resolveExit();
    });
  }

  get alive(): boolean {
    return !this.dead;
  }

  get idle(): boolean {
    return this.alive && !this.pending;
  }

  /** Send what `frame` builds for a fresh nonce; resolves when the node's shell reports its end. */
  run(frame: (nonce: string) => string, timeoutMs: number): Promise<SessionResult> {
    return new Promise((resolve) => {
      const nonce = randomBytes(12).toString('hex');
      this.pending = { nonce, resolve };
      if (this.dead) {
        this.finish({ exitCode: 255, stdout: this.out, stderr: this.err, timedOut: false, framed: false, reason: this.endReason });
        return;
      }
      this.pending.timer = setTimeout(() => {
        // The script may be stuck anywhere on the node: drop the whole session (a new one serves the
        // next script) and report a timeout.
        this.finish({ exitCode: 124, stdout: this.out, stderr: this.err, timedOut: true, framed: false });
        this.kill();
      }, timeoutMs);
      this.channel.write(frame(nonce));
    });
  }

  private settle(): void {
    if (!this.pending) return;
    const r = parseFramed(this.out, this.err, this.pending.nonce);
    if (!r) return;
    this.out = r.restOut;
    this.err = r.restErr;
    this.finish({ exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, timedOut: false, framed: true });
  }

  private finish(r: SessionResult): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.resolve(r);
  }

  private onExit(code: number): void {
    this.dead = true;
    // The channel ended with a script in flight: what it said before (a refused login, a lost
    // connection, sudo asking for a password, a deleted pod) is the answer to that script.
    this.finish({ exitCode: code, stdout: this.out, stderr: this.err, timedOut: false, framed: false, reason: this.endReason });
  }

  private kill(): void {
    this.dead = true;
    this.channel.kill();
  }

  /** End of input: the node's shell exits, then the channel. Killed if it does not within `ms`. */
  async close(ms: number): Promise<void> {
    this.channel.end();
    const t = setTimeout(() => this.kill(), ms);
    await this.exited;
    clearTimeout(t);
  }
}

export { lastLine };

/** A transport of long-lived sessions; subclasses open the channels and name their failures. */
export abstract class SessionTransport implements Transport {
  private readonly trips = new Map<string, number>();
  private readonly sessions = new Map<string, NodeSession[]>();
  /** the session whose shell holds each node's lock */
  private readonly lockedBy = new Map<string, NodeSession>();
  private readonly timeMs = new Map<string, number>();

  abstract readonly programs: NodePrograms;

  /** A new channel to the node's shell (it may still be connecting: writes are queued). */
  protected abstract openChannel(node: NodeTarget): Channel;

  /** Why a session ended or stalled before the node's shell reported back. */
  protected abstract failure(node: NodeTarget, r: Omit<SessionResult, 'framed'>, timeoutMs: number): TransportError | Promise<TransportError>;

  /** The limit of one script when the caller names none. */
  protected abstract defaultTimeoutMs(node: NodeTarget): number;

  /** Before the first session to a node (a helper pod to start): may throw a TransportError. */
  protected async prepare(_node: NodeTarget): Promise<void> {}

  get roundTrips(): ReadonlyMap<string, number> {
    return this.trips;
  }

  get nodeTimeMs(): ReadonlyMap<string, number> {
    return this.timeMs;
  }

  /**
   * One round trip through an idle session: counted, timed, and a transport failure when the session
   * ended or stalled before the node's shell reported back (the script's own exit code is its business).
   */
  private async exchange(node: NodeTarget, frame: (nonce: string) => string, timeoutMs: number): Promise<{ session: NodeSession; r: Omit<SessionResult, 'framed'> }> {
    const t0 = performance.now();
    this.trips.set(node.name, (this.trips.get(node.name) ?? 0) + 1);
    try {
      await this.prepare(node);
      const session = this.session(node);
      const { framed, ...r } = await session.run(frame, timeoutMs);
      if (!framed) throw await this.failure(node, r, timeoutMs);
      return { session, r };
    } finally {
      this.timeMs.set(node.name, (this.timeMs.get(node.name) ?? 0) + performance.now() - t0);
    }
  }

  /** An idle session to the node; a new one when there is none (or all are busy: runs never queue). */
  private session(node: NodeTarget): NodeSession {
    const list = (this.sessions.get(node.name) ?? []).filter((s) => s.alive);
    let s = list.find((x) => x.idle);
    if (!s) {
      s = new NodeSession(this.openChannel(node));
      list.push(s);
    }
    this.sessions.set(node.name, list);
    return s;
  }

  async run(node: NodeTarget, script: string, opts: RunOptions = {}): Promise<ExecResult> {
    const t0 = performance.now();
    const owner = opts.lock;
    let used = '';
    const frame = owner === undefined ? (nonce: string) => frameScript(script, nonce) : (nonce: string) => frameLocked(script, (used = nonce), owner);
    const { session, r } = await this.exchange(node, frame, opts.timeoutMs ?? this.defaultTimeoutMs(node));
    const { reason: _reason, ...out } = r;
    if (owner !== undefined) {
      // Only the exact tail with this run's nonce: a script (or a file it prints) cannot fake it.
      const m = new RegExp(`\\n${LOCK_FAILED_MARK} ${used} (\\d+)\\n$`).exec(out.stdout);
      if (m) {
        const code = Number(m[1]);
        return { exitCode: code, stdout: '', stderr: out.stderr, timedOut: false, durationMs: performance.now() - t0, lock: lockOutcome(code, out.stdout.slice(0, m.index), out.stderr) };
      }
      this.lockedBy.set(node.name, session);
      return { ...out, durationMs: performance.now() - t0, lock: { locked: true } };
    }
    return { ...out, durationMs: performance.now() - t0 };
  }

  async lock(node: NodeTarget, owner: string): Promise<LockResult> {
    // The node's first session takes it (the run's later scripts normally go through it too, at no extra
    // connection); the lock lasts while that session does.
    const { session, r } = await this.exchange(node, (nonce) => frameInShell(lockCommand(owner), nonce), this.lockTimeoutMs(node));
    const outcome = lockOutcome(r.exitCode, r.stdout, r.stderr);
    if (outcome.locked) this.lockedBy.set(node.name, session);
    return outcome;
  }

  protected lockTimeoutMs(node: NodeTarget): number {
    return this.defaultTimeoutMs(node);
  }

  async unlock(node: NodeTarget): Promise<void> {
    const session = this.lockedBy.get(node.name);
    this.lockedBy.delete(node.name);
    if (!session?.alive) return;
    await session.run((nonce) => frameInShell('flock -u 9 2>/dev/null; exec 9>&-', nonce), this.lockTimeoutMs(node));
  }

  /** Close every session (their shells exit). */
  protected async closeSessions(): Promise<void> {
    const all = [...this.sessions.values()].flat();
    this.sessions.clear();
    await Promise.all(all.map((s) => s.close(5000)));
  }

  async close(): Promise<void> {
    await this.closeSessions();
  }
}

export { TransportError };
