/**
 * Boundary: SSH to nodes. Uses the system's OpenSSH client (so ~/.ssh/config, agents, ProxyJump and
 * known_hosts work as the user expects) with one long-lived session per node for the whole run: one
 * `ssh node sh -s` process whose shell runs every script podnet sends, each framed as a here-document
 * with a random delimiter and followed by end markers on stdout and stderr. One TCP connection, one
 * key exchange and one login per node, no ssh process per round trip (a control master still costs a
 * client process, a session and a login shell per command). Scripts travel on stdin; nothing from the
 * inventory is spliced into a command line that a shell parses (ssh's argv is passed without a shell,
 * and the remote command is a constant).
 */
import { randomBytes } from 'node:crypto';
import { execa, type ResultPromise } from 'execa';
import { TransportError, type ExecResult, type LockResult, type NodeTarget, type RunOptions, type Transport } from './types.js';

/** The remote command is a constant: the scripts arrive on stdin. */
export function remoteCommand(sudo: boolean): string {
  return sudo ? 'sudo -n -- sh -s' : 'sh -s';
}

export function sshArgv(node: NodeTarget): string[] {
  const s = node.ssh;
  const argv: string[] = [];
  if (s.configFile) argv.push('-F', s.configFile);
  argv.push('-p', String(s.port), '-l', s.user);
  if (s.identityFile) argv.push('-i', s.identityFile);
  argv.push(
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${s.connectTimeout}`,
    '-o', 'ServerAliveInterval=5',
    '-o', 'ServerAliveCountMax=3',
    '-o', 'LogLevel=ERROR',
  );
  // Always on the command line, where it wins over any ssh_config: podnet never talks to a node whose
  // host key it cannot verify (first-seen keys only with --accept-new-host-keys; a changed key never).
  argv.push('-o', `StrictHostKeyChecking=${s.acceptNewHostKeys ? 'accept-new' : 'yes'}`);
  for (const o of s.options) argv.push('-o', o);
  // "--" ends ssh's options: an address can never be read as a flag (the inventory also forbids a leading "-").
  argv.push('--', node.address, remoteCommand(s.sudo));
  return argv;
}

/**
 * With --accept-new-host-keys, a known-hosts file of /dev/null (in the user's ssh_config) would make
 * every key "new", so a changed key would be accepted too. Asks `ssh -G` (no connection) for the
 * effective settings of each node; returns the nodes where first-seen keys cannot be remembered.
 */
export async function nodesThatForgetHostKeys(nodes: NodeTarget[]): Promise<{ node: string; file: string }[]> {
  const out: { node: string; file: string }[] = [];
  await Promise.all(
    nodes
      .filter((n) => n.ssh.acceptNewHostKeys)
      .map(async (n) => {
        const argv = sshArgv(n).slice(0, -1); // without the remote command
        const r = await execa('ssh', ['-G', ...argv], { reject: false, stdin: 'ignore', timeout: 10_000 });
        if (r.exitCode !== 0) return;
        const files = r.stdout
          .split('\n')
          .filter((l) => l.startsWith('userknownhostsfile '))
          .flatMap((l) => l.split(' ').slice(1));
        // ssh records a first-seen key in the first file only: /dev/null there forgets every key.
        if (files[0] === '/dev/null') out.push({ node: n.name, file: files[0] });
      }),
  );
  return out;
}

/** Map ssh's stderr and exit code to what went wrong and what the user should do. */
export function classifySshFailure(node: NodeTarget, r: { exitCode: number; stderr: string; timedOut: boolean }, timeoutMs?: number): TransportError | undefined {
  const e = r.stderr;
  const a = node.address;
  if (r.timedOut) {
    // The inventory's limit is the user's to raise; a limit podnet computed (a probe batch, a lock) is not.
    const own = timeoutMs === undefined || timeoutMs === node.ssh.commandTimeout * 1000;
    const s = Math.round((timeoutMs ?? node.ssh.commandTimeout * 1000) / 1000);
    return new TransportError(node.name, 'timeout', `${node.name}: no answer within ${s}s`, own ? 'raise ssh.commandTimeout in the inventory, or check the node' : 'the node stopped answering in the middle of the run: check it (load, network, sshd)');
  }
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i.test(e)) {
    return new TransportError(node.name, 'host-key-changed', `host key for ${a} changed`, `if the node was reinstalled run: ssh-keygen -R ${a}`);
  }
  if (/Host key verification failed|No .* host key is known/i.test(e)) {
    return new TransportError(node.name, 'host-key-unknown', `host key for ${a} is not known`, `verify and add it (ssh-keyscan ${a} >> ~/.ssh/known_hosts), or pass --accept-new-host-keys`);
  }
  if (/sudo: (a password is required|a terminal is required)/.test(e)) {
    return new TransportError(node.name, 'sudo-password', `${node.name}: sudo asks ${node.ssh.user} for a password`, `allow passwordless sudo for ${node.ssh.user} (NOPASSWD in /etc/sudoers.d) or connect as root`);
  }
  if (/sudo: (not found|command not found)|sh: \d*:? *sudo: not found/.test(e)) {
    return new TransportError(node.name, 'sudo-missing', `${node.name}: sudo is not installed`, 'install sudo on the node or connect as root (ssh.user: root, ssh.sudo: false)');
  }
  if (r.exitCode === 255) {
    if (/Permission denied/.test(e)) {
      return new TransportError(node.name, 'auth', `${node.name}: ssh login as ${node.ssh.user}@${a} was refused`, 'check ssh.user and ssh.identityFile, and that the key is in authorized_keys');
    }
    if (/Connection (timed out|refused)|No route to host|Network is unreachable|Could not resolve|Connection closed|connect to host/.test(e)) {
      return new TransportError(node.name, 'unreachable', `${node.name}: cannot reach ${a}: ${lastLine(e)}`, 'check the address, that sshd runs on the node and that the network lets you in');
    }
    return new TransportError(node.name, 'disconnected', `${node.name}: ssh failed: ${lastLine(e) || 'connection lost'}`);
  }
  return undefined;
}

function lastLine(s: string): string {
  return s.trim().split('\n').filter(Boolean).pop() ?? '';
}

/**
 * What the session's shell is sent for one script: the script as a here-document (quoted delimiter:
 * no expansion; the delimiter is random, so no script line can end it early) for a fresh `sh -s`, then
 * the exit code after an end marker on stdout and an end marker on stderr. Each marker follows a
 * newline so it starts a line whatever the script printed last; the parser drops that newline again.
 */
export function frameScript(script: string, nonce: string): string {
  const body = script.endsWith('\n') ? script : `${script}\n`;
  // fd 9 is the session's node lock (see lockCommand): scripts, and what they leave running, must not hold it.
  return `sh -s 9>&- <<'@@podnet:${nonce}'\n${body}@@podnet:${nonce}\n${endMarkers(nonce)}`;
}

function endMarkers(nonce: string): string {
  return `printf '\\n@@podnet:end ${nonce} %s\\n' "$?"; printf '\\n@@podnet:end ${nonce}\\n' >&2\n`;
}

/** The node-wide lock podnet's changing runs take; it lives in /run, so a reboot clears it. */
export const LOCK_FILE = '/run/podnet.lock';

/**
 * Run in the session's own shell (not a child), so the lock on fd 9 lasts exactly as long as the
 * session: released when podnet closes it, and when podnet dies (the node's sshd ends the session).
 * `command exec` keeps a failing redirection from ending the shell. Exit 75 = held by another run
 * (its owner line follows), 127 = no flock on the node.
 */
export function lockCommand(owner: string): string {
  const o = owner.replace(/[^A-Za-z0-9 @:._,()/-]/g, '?');
  return `if ! command -v flock >/dev/null 2>&1; then (exit 127); elif ! command exec 9>>${LOCK_FILE}; then (exit 1); elif flock -n 9; then printf '%s\\n' '${o}' > ${LOCK_FILE}.owner; else cat ${LOCK_FILE}.owner 2>/dev/null; (exit 75); fi`;
}

export function frameInShell(command: string, nonce: string): string {
  return `${command}\n${endMarkers(nonce)}`;
}

export const LOCK_FAILED_MARK = '@@podnet:lock-failed';

/**
 * The lock and a script in one round trip: the session's shell takes the lock, then runs the script only
 * if it got it; otherwise the holder (or nothing) and a marker with the lock's exit code are printed.
 */
export function frameLocked(script: string, nonce: string, owner: string): string {
  const body = script.endsWith('\n') ? script : `${script}\n`;
  return `${lockCommand(owner)}
podnet_lock=$?
if [ "$podnet_lock" -eq 0 ]; then sh -s 9>&- <<'@@podnet:${nonce}'
${body}@@podnet:${nonce}
else printf '\\n${LOCK_FAILED_MARK} ${nonce} %s\\n' "$podnet_lock"; fi
${endMarkers(nonce)}`;
}

/** What a lock attempt's exit code and output mean. */
export function lockOutcome(code: number, stdout: string, stderr: string): LockResult {
  if (code === 0) return { locked: true };
  if (code === 75) return { locked: false, holder: lastLine(stdout) || 'another podnet run' };
  if (code === 127) return { locked: false, error: 'flock is missing on the node (util-linux): podnet cannot keep two runs from changing it at once', hint: 'install util-linux on the node' };
  return { locked: false, error: `cannot open ${LOCK_FILE}: ${lastLine(stderr) || `exit ${code}`}`, hint: 'connect as root, or set ssh.sudo: true for a user with passwordless sudo' };
}

/** Split a framed run's output off the session's streams; undefined until both end markers arrived. */
export function parseFramed(out: string, err: string, nonce: string): { exitCode: number; stdout: string; stderr: string; restOut: string; restErr: string } | undefined {
  const om = `\n@@podnet:end ${nonce} `;
  const em = `\n@@podnet:end ${nonce}\n`;
  const oi = out.indexOf(om);
  const ei = err.indexOf(em);
  if (oi < 0 || ei < 0) return undefined;
  const eol = out.indexOf('\n', oi + om.length);
  if (eol < 0) return undefined;
  return {
    exitCode: Number(out.slice(oi + om.length, eol)),
    stdout: out.slice(0, oi),
    stderr: err.slice(0, ei),
    restOut: out.slice(eol + 1),
    restErr: err.slice(ei + em.length),
  };
}

/** A script's outcome; `framed` when the node's shell reported its end (else the session ended first). */
interface SessionResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  framed: boolean;
}

interface Pending {
  nonce: string;
  resolve: (r: SessionResult) => void;
  timer?: NodeJS.Timeout;
}

/** One `ssh node sh -s` process: runs scripts one after another. */
class NodeSession {
  private readonly proc: ResultPromise;
  private out = '';
  private err = '';
  private pending: Pending | undefined;
  private dead = false;
  private readonly exited: Promise<void>;

  constructor(readonly node: NodeTarget) {
    this.proc = execa('ssh', sshArgv(node), {
      buffer: false,
      reject: false,
      stdin: 'pipe',
      // Its own process group: a Ctrl-C in the terminal reaches podnet, which still needs this
      // connection to undo what it set up on the node, and then closes it.
      detached: true,
      cleanup: false,
    });
    this.proc.stdout!.setEncoding('utf8');
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stdout!.on('data', (d: string) => {
      this.out += d;
      this.settle();
    });
    this.proc.stderr!.on('data', (d: string) => {
      this.err += d;
      this.settle();
    });
    // A write after the far end went away fails with EPIPE; the exit handler reports it.
    this.proc.stdin!.on('error', () => undefined);
    this.proc.catch(() => undefined);
    this.exited = new Promise((resolve) =>
      this.proc.once('exit', () => {
        this.dead = true;
        resolve();
      }),
    );
    // 'close' comes after the last output: what ssh said before it ended is complete by then.
    this.proc.once('close', (code: number | null) => this.onExit(code ?? 255));
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
      this.pending.timer = setTimeout(() => {
        // The script may be stuck anywhere on the node: drop the whole session (a new one serves the
        // next script) and report a timeout.
        this.finish({ exitCode: 124, stdout: this.out, stderr: this.err, timedOut: true, framed: false });
        this.kill();
      }, timeoutMs);
      this.proc.stdin!.write(frame(nonce));
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
    // ssh ended with a script in flight: what it printed (a refused login, a lost connection, sudo
    // asking for a password) is the answer to that script.
    this.finish({ exitCode: code, stdout: this.out, stderr: this.err, timedOut: false, framed: false });
  }

  private kill(): void {
    this.dead = true;
    try {
      // the whole process group (ssh and anything it started, such as a ProxyCommand)
      process.kill(-this.proc.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }

  /** End of input: the node's shell exits, then ssh. Killed if it does not within `ms`. */
  async close(ms: number): Promise<void> {
    this.proc.stdin!.end();
    const t = setTimeout(() => this.kill(), ms);
    await this.exited;
    clearTimeout(t);
  }
}

export class SshTransport implements Transport {
  private readonly trips = new Map<string, number>();
  private readonly sessions = new Map<string, NodeSession[]>();
  /** the session whose shell holds each node's lock */
  private readonly lockedBy = new Map<string, NodeSession>();

  private readonly timeMs = new Map<string, number>();

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
    const session = this.session(node);
    const { framed, ...r } = await session.run(frame, timeoutMs);
    this.timeMs.set(node.name, (this.timeMs.get(node.name) ?? 0) + performance.now() - t0);
    if (!framed) {
      throw classifySshFailure(node, r, timeoutMs) ?? new TransportError(node.name, 'disconnected', `${node.name}: the SSH session ended (exit ${r.exitCode})${lastLine(r.stderr) ? `: ${lastLine(r.stderr)}` : ''}`);
    }
    return { session, r };
  }

  /** An idle session to the node; a new one when there is none (or all are busy: runs never queue). */
  private session(node: NodeTarget): NodeSession {
    const list = (this.sessions.get(node.name) ?? []).filter((s) => s.alive);
    let s = list.find((x) => x.idle);
    if (!s) {
      s = new NodeSession(node);
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
    const { session, r } = await this.exchange(node, frame, opts.timeoutMs ?? node.ssh.commandTimeout * 1000);
    if (owner !== undefined) {
      // Only the exact tail with this run's nonce: a script (or a file it prints) cannot fake it.
      const m = new RegExp(`\\n${LOCK_FAILED_MARK} ${used} (\\d+)\\n$`).exec(r.stdout);
      if (m) {
        const code = Number(m[1]);
        return { exitCode: code, stdout: '', stderr: r.stderr, timedOut: false, durationMs: performance.now() - t0, lock: lockOutcome(code, r.stdout.slice(0, m.index), r.stderr) };
      }
      this.lockedBy.set(node.name, session);
      return { ...r, durationMs: performance.now() - t0, lock: { locked: true } };
    }
    return { ...r, durationMs: performance.now() - t0 };
  }

  async lock(node: NodeTarget, owner: string): Promise<LockResult> {
    // The node's first session takes it (the run's later scripts normally go through it too, at no extra
    // connection); the lock lasts while that session does.
    const { session, r } = await this.exchange(node, (nonce) => frameInShell(lockCommand(owner), nonce), node.ssh.connectTimeout * 1000 + 10_000);
    const outcome = lockOutcome(r.exitCode, r.stdout, r.stderr);
    if (outcome.locked) this.lockedBy.set(node.name, session);
    return outcome;
  }

  async unlock(node: NodeTarget): Promise<void> {
    const session = this.lockedBy.get(node.name);
    this.lockedBy.delete(node.name);
    if (!session?.alive) return;
    await session.run((nonce) => frameInShell('flock -u 9 2>/dev/null; exec 9>&-', nonce), node.ssh.connectTimeout * 1000 + 10_000);
  }

  async close(): Promise<void> {
    const all = [...this.sessions.values()].flat();
    this.sessions.clear();
    await Promise.all(all.map((s) => s.close(5000)));
  }
}
