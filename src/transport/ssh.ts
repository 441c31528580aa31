/**
 * Boundary: SSH to nodes. Uses the system's OpenSSH client (so ~/.ssh/config, agents, ProxyJump and
 * known_hosts work as the user expects) with one multiplexed master connection per node for the whole
 * run. Scripts go on stdin to a fixed remote command; nothing from the inventory is spliced into a
 * command line that a shell parses (ssh's argv is passed by execa without a shell, and the remote
 * command is a constant).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { runLocal } from './local.js';
import { TransportError, type ExecResult, type NodeTarget, type Transport } from './types.js';

/** The remote command is a constant: the script arrives on stdin. */
export function remoteCommand(sudo: boolean): string {
  return sudo ? 'sudo -n -- sh -s' : 'sh -s';
}

export function sshArgv(node: NodeTarget, controlDir: string | undefined): string[] {
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
  if (s.acceptNewHostKeys) argv.push('-o', 'StrictHostKeyChecking=accept-new');
  if (controlDir) argv.push('-o', 'ControlMaster=auto', '-o', `ControlPath=${controlDir}/%C`, '-o', 'ControlPersist=120');
  for (const o of s.options) argv.push('-o', o);
  // "--" ends ssh's options: an address can never be read as a flag (the inventory also forbids a leading "-").
  argv.push('--', node.address, remoteCommand(s.sudo));
  return argv;
}

/** Map ssh's stderr and exit code to what went wrong and what the user should do. */
export function classifySshFailure(node: NodeTarget, r: { exitCode: number; stderr: string; timedOut: boolean }): TransportError | undefined {
  const e = r.stderr;
  const a = node.address;
  if (r.timedOut) {
    return new TransportError(node.name, 'timeout', `${node.name}: no answer within ${node.ssh.commandTimeout}s`, 'raise ssh.commandTimeout in the inventory, or check the node');
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

export class SshTransport implements Transport {
  private readonly trips = new Map<string, number>();
  private readonly used = new Map<string, NodeTarget>();
  private controlDir: string | undefined;

  constructor(private readonly multiplex = true) {}

  get roundTrips(): ReadonlyMap<string, number> {
    return this.trips;
  }

  private dir(): string | undefined {
    if (!this.multiplex) return undefined;
    // Short path: a unix socket path must fit in 108 bytes.
    this.controlDir ??= mkdtempSync(`${tmpdir()}/podnet-ssh-`);
    return this.controlDir;
  }

  async run(node: NodeTarget, script: string, opts: { timeoutMs?: number } = {}): Promise<ExecResult> {
    const t0 = performance.now();
    this.used.set(node.name, node);
    this.trips.set(node.name, (this.trips.get(node.name) ?? 0) + 1);
    const r = await runLocal('ssh', sshArgv(node, this.dir()), {
      input: script,
      timeoutMs: opts.timeoutMs ?? node.ssh.commandTimeout * 1000,
    });
    const failure = classifySshFailure(node, r);
    if (failure) throw failure;
    return { ...r, durationMs: performance.now() - t0 };
  }

  async close(): Promise<void> {
    const dir = this.controlDir;
    if (!dir) return;
    await Promise.all(
      [...this.used.values()].map((n) => {
        const argv = sshArgv(n, dir);
        // Replace the trailing "-- address command" with "-O exit -- address".
        const base = argv.slice(0, argv.indexOf('--'));
        return runLocal('ssh', [...base, '-O', 'exit', '--', n.address], { timeoutMs: 5000 }).catch(() => undefined);
      }),
    );
    rmSync(dir, { recursive: true, force: true });
    this.controlDir = undefined;
  }
}

