// Shared by the benchmark scripts (bench-up, bench-diagnose): lab lifecycle, CPU accounting, the CLI's
// peak RSS/CPU probe and report formatting. Benchmarks, not tests: every lab is torn down again.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isExecutable, labRun, readLabPlan, type ExecTarget } from '../src/lab/service.js';
import { cgroup2Root } from '../src/lab/host.js';
import type { LabPlan } from '../src/lab/topology.js';
import { runLocal, type RunResult } from '../src/transport/local.js';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const runJs = join(root, 'bin', 'run.js');
export const CORES = cpus().length;

let benchName = 'bench';
/** The prefix of log and error lines. */
export function setBenchName(name: string): void {
  benchName = name;
}

export function fail(msg: string): never {
  process.stderr.write(`${benchName}: ${msg}\n`);
  process.exit(2);
}

export function log(msg: string): void {
  process.stderr.write(`${benchName}: ${msg}\n`);
}

export const median = (xs: number[]): number => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
};

// ---------------------------------------------------------------------------------------------- labs

export const liveLabs = new Set<string>();
export const env = { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1' } as Record<string, string>;

export async function podnetLocal(args: string[], timeoutMs = 180_000): Promise<RunResult> {
  return runLocal(process.execPath, [runJs, ...args], { env, timeoutMs });
}

export async function labUp(name: string, nodes: number): Promise<LabPlan> {
  // A leftover of an earlier, killed run of this benchmark would make `lab up` refuse.
  await podnetLocal(['lab', 'down', '--name', name]);
  liveLabs.add(name);
  const r = await podnetLocal(['lab', 'up', '--nodes', String(nodes), '--name', name, '--topology', 'flat']);
  if (r.exitCode !== 0) throw new Error(`lab up ${name} (${nodes} nodes) failed: ${r.stderr.trim()}`);
  return readLabPlan(name);
}

export async function labDown(name: string): Promise<void> {
  const r = await podnetLocal(['lab', 'down', '--name', name]);
  if (r.exitCode !== 0) throw new Error(`lab down ${name} failed: ${r.stderr.trim()}`);
  liveLabs.delete(name);
}

export async function withLab<T>(name: string, nodes: number, fn: (plan: LabPlan) => Promise<T>): Promise<T> {
  try {
    const plan = await labUp(name, nodes);
    return await fn(plan);
  } finally {
    await labDown(name);
  }
}

/** set once Ctrl-C or SIGTERM arrived: the scripts stop starting new measurements (a live ESM binding) */
export let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${sig}: tearing down ${[...liveLabs].join(', ') || 'nothing'}`);
    void Promise.allSettled([...liveLabs].map((n) => podnetLocal(['lab', 'down', '--name', n]))).finally(() => process.exit(130));
  });
}

export function run(plan: LabPlan, target: ExecTarget, argv: string[], input?: string, timeoutMs = 600_000): Promise<RunResult> {
  return labRun(plan, target, argv, { input, timeoutMs });
}

// ----------------------------------------------------------------------------------- CPU accounting

/** Busy CPU time of the whole machine, in ms (all cores), from /proc/stat. */
export function machineBusyMs(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return ((user + nice + system + irq + softirq + steal) * 1000) / 100; // USER_HZ is 100 on Linux
}

/** CPU used by the lab's cgroup (its sshds, their children, and everything run through labRun), in ms. */
export function labCpuMs(plan: LabPlan): number {
  const cg = cgroup2Root();
  if (!cg) return NaN;
  try {
    const m = /^usage_usec (\d+)$/m.exec(readFileSync(`${cg}/${plan.cgroupName}/cpu.stat`, 'utf8'));
    return m ? Number(m[1]) / 1000 : NaN;
  } catch {
    return NaN;
  }
}

export interface Cpu {
  wallMs: number;
  labCpuMs: number;
  /** CPU used by processes outside the lab (other labs, other users) during the run */
  otherCpuMs: number;
}

export async function measured<T>(plan: LabPlan, fn: () => Promise<T>): Promise<[T, Cpu]> {
  const b0 = machineBusyMs();
  const l0 = labCpuMs(plan);
  const t0 = performance.now();
  const out = await fn();
  const wallMs = performance.now() - t0;
  const lab = labCpuMs(plan) - l0;
  // The benchmark process itself is outside the lab: it only waits, a few ms.
  return [out, { wallMs, labCpuMs: lab, otherCpuMs: Math.max(0, machineBusyMs() - b0 - (Number.isFinite(lab) ? lab : 0)) }];
}

/** Wait until other load is below a quarter of a core (sampled over 1 s), at most maxMs. */
export async function waitQuiet(what: string, maxMs = 90_000): Promise<void> {
  const t0 = performance.now();
  let warned = false;
  for (;;) {
    const b0 = machineBusyMs();
    await new Promise((r) => setTimeout(r, 1000));
    const cores = (machineBusyMs() - b0) / 1000;
    if (cores < 0.25) return;
    if (performance.now() - t0 > maxMs) {
      log(`${what}: the machine is still busy (${cores.toFixed(2)} cores used by others); measuring anyway`);
      return;
    }
    if (!warned) log(`${what}: waiting for other load to settle (${cores.toFixed(2)} cores busy)`);
    warned = true;
  }
}

// -------------------------------------------------------------------------------- CLI resource probe

/**
 * How to learn the CLI's peak RSS and CPU: GNU time if installed (Debian package `time`), else python3 (in
 * scripts/setup.sh) reading getrusage(RUSAGE_CHILDREN) after the child exits. Both report the waited-for
 * process tree: ru_maxrss is the largest single process (node; its ssh children are a few MB), CPU is node
 * plus its ssh clients (not the ssh control masters, which detach; the lab CPU column includes those).
 */
const RU_MARK = '@@bench-rusage';
export const ruWrapper: { name: string; argv: string[] } | undefined = isExecutable('/usr/bin/time')
  ? { name: 'GNU time', argv: ['/usr/bin/time', '-f', `${RU_MARK} %M %U %S`] }
  : isExecutable('/usr/bin/python3')
    ? {
        name: 'python3 getrusage (GNU time is not installed)',
        argv: [
          '/usr/bin/python3',
          '-c',
          `import resource,subprocess,sys\nr=subprocess.run(sys.argv[1:])\nu=resource.getrusage(resource.RUSAGE_CHILDREN)\nprint("${RU_MARK}", u.ru_maxrss, u.ru_utime, u.ru_stime, file=sys.stderr)\nsys.exit(r.returncode)`,
        ],
      }
    : undefined;

export function takeRusage(stderr: string): { rssMB: number; cpuMs: number } {
  const m = [...stderr.matchAll(new RegExp(`^${RU_MARK} (\\d+) ([\\d.]+) ([\\d.]+)$`, 'gm'))].pop();
  return m ? { rssMB: Number(m[1]) / 1024, cpuMs: (Number(m[2]) + Number(m[3])) * 1000 } : { rssMB: NaN, cpuMs: NaN };
}

export function ms(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  return x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`;
}
export function machine(): string {
  const c = cpus();
  let distro = '';
  try {
    distro = execFileSync('sh', ['-c', '. /etc/os-release && echo "$PRETTY_NAME"'], { encoding: 'utf8' }).trim();
  } catch {
    /* unknown */
  }
  return `${c.length} cores (${c[0]?.model ?? 'unknown CPU'}), Linux ${release()}${distro ? `, ${distro}` : ''}, Node.js ${process.version}`;
}


function splitSections(md: string): { preamble: string; sections: { heading: string; text: string }[] } {
  const parts = md.split(/^(?=## )/m);
  const preamble = parts[0]!.startsWith('## ') ? '' : parts.shift()!;
  return { preamble: preamble.trim(), sections: parts.map((t) => ({ heading: t.split('\n')[0]!.trim(), text: t.trim() })) };
}

/**
 * Write `md` into `file` section by section ("## …"): sections of the same heading are replaced, the
 * file's other sections (another benchmark's results) are kept, so each script owns only its own part.
 */
export function writeSections(file: string, md: string): void {
  const old = splitSections(existsSync(file) ? readFileSync(file, 'utf8') : '');
  const neu = splitSections(md);
  const mine = new Set(neu.sections.map((x) => x.heading));
  const parts: string[] = [];
  const preamble = neu.preamble || old.preamble;
  if (preamble) parts.push(preamble);
  if (neu.preamble) {
    parts.push(...neu.sections.map((x) => x.text), ...old.sections.filter((x) => !mine.has(x.heading)).map((x) => x.text));
  } else {
    parts.push(...old.sections.map((x) => (mine.has(x.heading) ? neu.sections.find((y) => y.heading === x.heading)!.text : x.text)));
    parts.push(...neu.sections.filter((x) => !old.sections.some((y) => y.heading === x.heading)).map((x) => x.text));
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${parts.join('\n\n')}\n`);
}

/** When and under what load a benchmark started; warms the page cache for node, oclif and dist/ so the first size does not pay for cold files. */
export interface BenchStart {
  started: Date;
  load: number[];
}

export async function startBench(): Promise<BenchStart> {
  const at: BenchStart = { started: new Date(), load: loadavg() };
  if (!ruWrapper) log('neither /usr/bin/time nor python3 found: peak RSS will be n/a (add the Debian package `time` to scripts/setup.sh)');
  if (!cgroup2Root()) log('no cgroup2 mount: lab CPU will be n/a');
  await podnetLocal(['--version']);
  return at;
}

/** The report lines every benchmark starts with: date, machine, load, how RSS was measured. */
export function headerLines(at: BenchStart): string[] {
  return [
    `- date: ${at.started.toISOString().replace(/\.\d+Z$/, 'Z')}`,
    `- machine: ${machine()}`,
    `- load average at start: ${at.load.map((x) => x.toFixed(2)).join(' ')}`,
    `- CLI peak RSS and CPU measured with: ${ruWrapper?.name ?? 'nothing (install the Debian package `time`)'}`,
  ];
}
