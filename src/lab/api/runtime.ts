/**
 * The stand-in's container runtime: start a container (sandbox.ts's argv) as a child of the API server,
 * learn its host PID and mount namespace, signal it, and kill everything that runs in its mount
 * namespace (its processes, and the ones `pods/exec` started there). Spawns directly: these are the
 * lab's own processes on its own nodes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { nsInode, pidsInNamespaces, processAlive } from '../host.js';
import { sandboxStartArgv, type SandboxSpec } from './sandbox.js';

export interface ContainerProcess {
  pid: number;
  mntIno: number;
  startedAt: Date;
  child: ChildProcess;
  /** resolves when the container's process has exited: its exit code (128 + signal when killed) */
  exited: Promise<number>;
}

export type StartResult = { ok: true; process: ContainerProcess } | { ok: false; message: string };

const RUNTIME_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };
const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (SIGNALS[signal] ?? 9) : 9);
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * Start a container; resolves once it runs (its PID is known) or its setup failed. `hostDir` is the
 * container's directory as the host sees it (spec.dir is the node's view of the same directory).
 */
export async function startContainer(spec: SandboxSpec, hostDir: string, logFile: string, timeoutMs = 15_000): Promise<StartResult> {
  for (const d of ['upper', 'work', 'root']) mkdirSync(`${hostDir}/${d}`, { recursive: true });
  const fd = openSync(logFile, 'a');
  const [file, ...args] = sandboxStartArgv(spec);
  let child: ChildProcess;
  try {
    child = spawn(file!, args, { stdio: ['ignore', fd, fd], env: RUNTIME_ENV });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => resolve(exitCodeOf(code, signal)));
    child.on('error', () => resolve(127));
  });
  let done = false;
  void exited.then(() => (done = true));
  const pidFile = `${hostDir}/pid`;
  const t0 = Date.now();
  while (!existsSync(pidFile) || readText(pidFile) === '') {
    if (done || Date.now() - t0 > timeoutMs) {
      if (!done) child.kill('SIGKILL');
      const why = readText(`${hostDir}/setup.err`).split('\n').filter(Boolean).pop();
      return { ok: false, message: why || (done ? `the container's setup exited with ${await exited}` : 'the container did not start in time') };
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const pid = Number(readText(pidFile));
  const mntIno = nsInode(`/proc/${pid}/ns/mnt`) ?? -1;
  return { ok: true, process: { pid, mntIno, startedAt: new Date(), child, exited } };
}

export function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone */
  }
}

/** SIGKILL every process in a mount namespace (a container's, with what exec started in it). */
export async function killNamespace(mntIno: number): Promise<void> {
  if (mntIno < 0) return;
  for (let round = 0; round < 50; round++) {
    const pids = pidsInNamespaces(new Set(), new Set([mntIno])).filter(processAlive);
    if (pids.length === 0) return;
    for (const p of pids) signalProcess(p, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 20));
  }
}
