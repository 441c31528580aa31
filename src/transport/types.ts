import type { ResolvedSsh } from '../inventory/schema.js';

/**
 * The transport port: the only way podnet talks to a node. SshTransport implements it for real nodes;
 * tests can use any object that satisfies the same interface.
 */
/** SSH settings of one node, as the inventory resolves them (defaults, then top level, then per node). */
export type SshSettingsLike = ResolvedSsh;

export interface NodeTarget {
  name: string;
  address: string;
  ssh: SshSettingsLike;
}

export interface RunOptions {
  timeoutMs?: number;
  /** take the node's lock for this owner first, in the same round trip */
  lock?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  /** with RunOptions.lock: whether the lock was taken (the script ran only then) */
  lock?: LockResult;
}

/**
 * How a script runs programs that are not the node's own: the probe's python3 comes from the node over
 * SSH, from the helper pod's image through the API (the node may have no python3 at all).
 */
export interface NodePrograms {
  /** the command prefix that runs python3 (isolated, no site) */
  python: string;
  /** where that python3 sees the node's root filesystem ('' when it is the node's own) */
  nodeRoot: string;
  /** a descriptor the script opens on the node's root for that python3 to return to ('' when not needed) */
  rootFdRedirect: string;
  /** the node itself must have python3 (the facts say whether it has) */
  needsNodePython: boolean;
  /** how the access is named to users: "SSH", "the Kubernetes API" */
  via: string;
}

export const SSH_PROGRAMS: NodePrograms = { python: 'python3 -I -S', nodeRoot: '', rootFdRedirect: '', needsNodePython: true, via: 'SSH' };

export interface Transport {
  /** how scripts run programs that are not the node's own */
  readonly programs: NodePrograms;
  /**
   * Run a POSIX sh script as root on the node; the script travels on stdin. One call is one round trip.
   * With `lock`, the node's lock is taken first in the same round trip (see `lock`) and the script runs
   * only if it was; `result.lock` says how that went.
   */
  run(node: NodeTarget, script: string, opts?: RunOptions): Promise<ExecResult>;
  /**
   * Take the node-wide lock of podnet's changing runs (up, down) for as long as this transport is open.
   * Not locked: another run holds it (`holder` says which) or the node cannot lock (`error`).
   */
  lock(node: NodeTarget, owner: string): Promise<LockResult>;
  /** Give a node's lock back before the transport closes (a run that backs off to let another finish). */
  unlock(node: NodeTarget): Promise<void>;
  /** Round trips made so far, per node name. */
  readonly roundTrips: ReadonlyMap<string, number>;
  /** Time spent waiting on each node so far (sum of its round trips), per node name, in ms. */
  readonly nodeTimeMs: ReadonlyMap<string, number>;
  /** Close multiplexed connections and remove temporary files. */
  close(): Promise<void>;
}

export type LockResult = { locked: true } | { locked: false; holder?: string; error?: string; hint?: string };

/** A failure to reach or act on a node, classified so the user is told what to do. */
export class TransportError extends Error {
  constructor(
    readonly node: string,
    readonly kind: 'unreachable' | 'host-key-unknown' | 'host-key-changed' | 'auth' | 'sudo-password' | 'sudo-missing' | 'timeout' | 'disconnected' | 'api' | 'helper-pod',
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}
