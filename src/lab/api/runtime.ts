/**
 * The stand-in's container runtime: start a container (sandbox.ts's argv) as a child of the API server,
 * in a cgroup of its own when the machine has cgroup v2, learn its host PID and mount namespace, signal
 * it, and kill everything that runs in its cgroup or its mount namespace: its processes, and the ones
 * `pods/exec` started there — also those that entered other namespaces since (a hostPID helper's session
 * that entered the node's), as containerd kills a container's whole cgroup when its init exits. Spawns
 * directly: these are the lab's own processes on its own nodes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { cgroupDirs, cgroupPids, nsInode, pidsInNamespaces, processAlive } from '../host.js';
import { cgroupJoinArgv, sandboxStartArgv, type SandboxSpec } from './sandbox.js';

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
 * container's directory as the host sees it (spec.dir is the node's view of the same directory); with
 * `cgroupDir` (made by createCgroup) the container runs in that cgroup from its first instruction.
 */
export async function startContainer(spec: SandboxSpec, hostDir: string, logFile: string, opts: { cgroupDir?: string; timeoutMs?: number } = {}): Promise<StartResult> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  for (const d of ['upper', 'work', 'root']) mkdirSync(`${hostDir}/${d}`, { recursive: true });
  const fd = openSync(logFile, 'a');
  const argv = sandboxStartArgv(spec);
  const [file, ...args] = opts.cgroupDir ? cgroupJoinArgv(opts.cgroupDir, argv) : argv;
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
  // The script wrote its PID as its own /proc shows it: the node's PID namespace in a lab with the API,
  // not the host's. Never taken for a host PID: a container already gone has none (0: nothing to signal,
  // its cgroup is what kills what it left).
  const pid = hostPidOf(child.pid, Number(readText(pidFile))) ?? 0;
  const mntIno = pid > 0 ? (nsInode(`/proc/${pid}/ns/mnt`) ?? -1) : -1;
  return { ok: true, process: { pid, mntIno, startedAt: new Date(), child, exited } };
}

/**
 * The container's PID on the host. The container's script wrote its PID as the node's /proc shows it (the
 * node's PID namespace); the host's is the descendant of the spawned process whose NSpid line (host PID,
 * node PID, …) names that PID second.
 */
function hostPidOf(spawned: number | undefined, nodePid: number): number | undefined {
  const queue = spawned === undefined ? [] : [spawned];
  for (let seen = 0; queue.length && seen < 16; seen++) {
    const pid = queue.shift()!;
    try {
      const ns = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]?.split(/\s+/).map(Number) ?? [];
      if (ns.length > 1 && ns[1] === nodePid) return pid;
      queue.push(...readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      /* gone */
    }
  }
  return undefined;
}

export function signalProcess(pid: number, signal: NodeJS.Signals): void {
  // never 0 or negative (a process group, or every process)
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    process.kill(pid, signal);
  } catch {
    /* gone */
  }
}

/** SIGKILL every process in a mount namespace (a container's, with what exec started in it). */
export async function killNamespace(mntIno: number): Promise<void> {
  // never the host's own mount namespace (or this server's)
  if (mntIno < 0 || mntIno === nsInode('/proc/self/ns/mnt') || mntIno === nsInode('/proc/1/ns/mnt')) return;
  for (let round = 0; round < 50; round++) {
    const pids = pidsInNamespaces(new Set(), new Set([mntIno])).filter(processAlive);
    if (pids.length === 0) return;
    for (const p of pids) signalProcess(p, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Make a container's cgroup (and its parents); false when the machine does not let us. */
export function createCgroup(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    return existsSync(`${dir}/cgroup.procs`);
  } catch {
    return false;
  }
}

/** SIGKILL every process in a cgroup and the cgroups below it: cgroup.kill (Linux 5.14+), then one by one until none is left. */
export async function killCgroup(dir: string): Promise<void> {
  for (const d of cgroupDirs(dir)) {
    try {
      writeFileSync(`${d}/cgroup.kill`, '1');
    } catch {
      /* older kernel, or gone */
    }
  }
  for (let round = 0; round < 100; round++) {
    const pids = cgroupPids(dir).filter((p) => p !== process.pid && processAlive(p));
    if (pids.length === 0) return;
    for (const p of pids) signalProcess(p, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Remove a cgroup and the ones below it (each must be empty: killCgroup first). */
export function removeCgroup(dir: string): void {
  for (const d of cgroupDirs(dir).reverse()) {
    try {
      rmdirSync(d);
    } catch {
      /* not empty yet, or gone */
    }
  }
}
