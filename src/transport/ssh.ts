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
import { execa, type ResultPromise } from 'execa';
import { lastLine, SessionTransport, type Channel, type SessionResult } from './session.js';
export { frameInShell, frameLocked, frameScript, LOCK_FAILED_MARK, LOCK_FILE, lockCommand, lockOutcome, parseFramed } from './framing.js';
import { SSH_PROGRAMS, TransportError, type NodePrograms, type NodeTarget } from './types.js';

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

/** An `ssh node sh -s` process as a session's channel. */
class SshChannel implements Channel {
  private readonly proc: ResultPromise;

  constructor(node: NodeTarget) {
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
    // A write after the far end went away fails with EPIPE; the close handler reports it.
    this.proc.stdin!.on('error', () => undefined);
    this.proc.catch(() => undefined);
  }

  write(data: string): void {
    this.proc.stdin!.write(data);
  }

  end(): void {
    this.proc.stdin!.end();
  }

  kill(): void {
    try {
      // the whole process group (ssh and anything it started, such as a ProxyCommand)
      process.kill(-this.proc.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }

  onStdout(fn: (d: string) => void): void {
    this.proc.stdout!.on('data', fn);
  }

  onStderr(fn: (d: string) => void): void {
    this.proc.stderr!.on('data', fn);
  }

  onClose(fn: (code: number) => void): void {
    // 'close' comes after the last output: what ssh said before it ended is complete by then.
    this.proc.once('close', (code: number | null) => fn(code ?? 255));
  }
}

export class SshTransport extends SessionTransport {
  readonly programs: NodePrograms = SSH_PROGRAMS;

  protected openChannel(node: NodeTarget): Channel {
    return new SshChannel(node);
  }

  protected failure(node: NodeTarget, r: Omit<SessionResult, 'framed'>, timeoutMs: number): TransportError {
    return classifySshFailure(node, r, timeoutMs) ?? new TransportError(node.name, 'disconnected', `${node.name}: the SSH session ended (exit ${r.exitCode})${lastLine(r.stderr) ? `: ${lastLine(r.stderr)}` : ''}`);
  }

  protected defaultTimeoutMs(node: NodeTarget): number {
    return node.ssh.commandTimeout * 1000;
  }

  protected override lockTimeoutMs(node: NodeTarget): number {
    return node.ssh.connectTimeout * 1000 + 10_000;
  }
}
