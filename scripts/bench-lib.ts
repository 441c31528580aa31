// Shared by the benchmark scripts (bench-up, bench-diagnose): lab lifecycle, CPU accounting, the CLI's
// peak RSS/CPU probe and report formatting. Benchmarks, not tests: every lab is torn down again.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isExecutable, labRun, readLabPlan, type ExecTarget } from '../src/lab/service.js';
import { cgroup2Root } from '../src/lab/host.js';
import { LAB_IP_FAMILIES, type LabIpFamily, type LabPlan } from '../src/lab/topology.js';
import type { IpFamily } from '../src/net/family.js';
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

/**
 * `lab up` and `lab down` of concurrent labs (other users' on a shared machine) can collide on the shared
 * neighbour-limit records in /run/podnet (read, change, write without a lock): a failed attempt is retried
 * once, after the same command has cleaned up what the failed one left.
 */
async function retried(what: string, attempt: () => Promise<RunResult>, cleanup: () => Promise<unknown>): Promise<RunResult> {
  let r = await attempt();
  if (r.exitCode === 0) return r;
  log(`${what} failed (${r.stderr.trim().split('\n')[0]}); retrying once`);
  await cleanup();
  await new Promise((res) => setTimeout(res, 1000));
  r = await attempt();
  return r;
}

/** `api`: start the lab's stand-in Kubernetes API server too (`lab up --api`). */
export async function labUp(name: string, nodes: number, family: LabIpFamily = 'ipv4', api = false): Promise<LabPlan> {
  // A leftover of an earlier, killed run of this benchmark would make `lab up` refuse.
  await podnetLocal(['lab', 'down', '--name', name]);
  liveLabs.add(name);
  const args = ['lab', 'up', '--nodes', String(nodes), '--name', name, '--topology', 'flat', ...(family === 'ipv4' ? [] : ['--ip-family', family]), ...(api ? ['--api'] : [])];
  const r = await retried(`lab up ${name}`, () => podnetLocal(args), () => podnetLocal(['lab', 'down', '--name', name]));
  if (r.exitCode !== 0) throw new Error(`lab up ${name} (${nodes} nodes${family === 'ipv4' ? '' : `, ${family}`}${api ? ', --api' : ''}) failed: ${r.stderr.trim()}`);
  return readLabPlan(name);
}

export async function labDown(name: string): Promise<void> {
  const down = () => podnetLocal(['lab', 'down', '--name', name]);
  const r = await retried(`lab down ${name}`, down, async () => undefined);
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

/**
 * Several labs up at once (one per family of a size, so that their measurements can alternate and see
 * the same machine conditions); all of them torn down again, the first teardown error rethrown.
 */
export async function withLabs<T>(labs: { name: string; nodes: number; family: LabIpFamily; api?: boolean }[], fn: (plans: LabPlan[]) => Promise<T>): Promise<T> {
  // One after the other: two `lab down`s at once would collide on the neighbour-limit records.
  const downAll = async () => {
    let first: unknown;
    for (const l of labs.filter((x) => liveLabs.has(x.name))) {
      try {
        await labDown(l.name);
      } catch (e) {
        first ??= e;
      }
    }
    if (first !== undefined) throw first;
  };
  let out: T;
  try {
    const plans: LabPlan[] = [];
    for (const l of labs) plans.push(await labUp(l.name, l.nodes, l.family, l.api));
    out = await fn(plans);
  } catch (e) {
    await downAll().catch((d: unknown) => log(`tearing down after an error: ${d instanceof Error ? d.message : String(d)}`));
    throw e;
  }
  await downAll();
  return out;
}

// ------------------------------------------------------------------------------------------ families

/** The IP families a benchmark measures (`--families`), each on labs of its own (`lab up --ip-family`). */
export function parseFamilies(s: string): LabIpFamily[] {
  const asked = s.split(',').map((x) => x.trim());
  const bad = asked.filter((x) => !(LAB_IP_FAMILIES as readonly string[]).includes(x));
  if (bad.length || !asked.length) fail(`--families: expected a comma-separated list of ${LAB_IP_FAMILIES.join(', ')}, got "${s}"`);
  // Canonical order (IPv4-only first, the baseline the others are compared with), each once.
  return LAB_IP_FAMILIES.filter((f) => asked.includes(f));
}

export const FAMILY_NAME: Record<LabIpFamily, string> = { ipv4: 'IPv4-only', ipv6: 'IPv6-only', dual: 'dual-stack' };

/** The families whose cells a probe on a lab of this family runs (dual-stack: the whole matrix twice). */
export function probedFamilies(f: LabIpFamily): IpFamily[] {
  return f === 'dual' ? ['ipv4', 'ipv6'] : [f];
}

/** A benchmark lab's name: bup16 (IPv4, as always), bup16d (dual-stack), bup16v6 (IPv6-only). */
export function labName(prefix: string, nodes: number, family: LabIpFamily): string {
  return `${prefix}${nodes}${family === 'ipv4' ? '' : family === 'dual' ? 'd' : 'v6'}`;
}

/** set once Ctrl-C or SIGTERM arrived: the scripts stop starting new measurements (a live ESM binding) */
export let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${sig}: tearing down ${[...liveLabs].join(', ') || 'nothing'}`);
    // One after the other (see withLabs).
    void (async () => {
      for (const n of [...liveLabs]) await podnetLocal(['lab', 'down', '--name', n]).catch(() => undefined);
    })().finally(() => process.exit(130));
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

/** How long waitQuiet waits for other load to settle (`--max-wait`), and what it saw. */
export const quiet = { maxMs: 90_000, waits: 0, busyStarts: 0, waitedMs: 0 };

/** `--max-wait SECONDS`: how long to wait for other load to settle before each measurement. */
export function parseMaxWait(s: string): number {
  const v = Number(s);
  if (!Number.isFinite(v) || v < 0 || v > 3600) fail(`--max-wait: expected seconds from 0 to 3600, got "${s}"`);
  quiet.maxMs = v * 1000;
  return v;
}

/** Wait until other load is below a quarter of a core (sampled over 1 s), at most maxMs. */
export async function waitQuiet(what: string, maxMs = quiet.maxMs): Promise<void> {
  const t0 = performance.now();
  let warned = false;
  quiet.waits++;
  try {
    for (;;) {
      const b0 = machineBusyMs();
      await new Promise((r) => setTimeout(r, 1000));
      const cores = (machineBusyMs() - b0) / 1000;
      if (cores < 0.25) return;
      if (performance.now() - t0 > maxMs) {
        quiet.busyStarts++;
        log(`${what}: the machine is still busy (${cores.toFixed(2)} cores used by others); measuring anyway`);
        return;
      }
      if (!warned) log(`${what}: waiting for other load to settle (${cores.toFixed(2)} cores busy)`);
      warned = true;
    }
  } finally {
    quiet.waitedMs += performance.now() - t0;
  }
}

/**
 * How loaded the machine was: other processes' CPU during the measured runs (in cores: their CPU time
 * over the run's wall time), and how many measurements started before other load had settled.
 */
export function loadLine(runs: Cpu[]): string {
  const cores = runs.map((r) => r.otherCpuMs / r.wallMs).filter(Number.isFinite);
  const busy = cores.filter((c) => c >= 0.25).length;
  return `- other load while measuring: ${cores.length ? `median ${median(cores).toFixed(2)}, max ${Math.max(...cores).toFixed(2)} of ${CORES} cores used outside the lab during the ${cores.length} measured runs (${busy} of them with ≥ 0.25 cores)` : 'n/a'}; ${quiet.busyStarts} of ${quiet.waits} measurements started while others still used ≥ 0.25 cores after waiting up to ${Math.round(quiet.maxMs / 1000)} s (waited ${ms(quiet.waitedMs)} in all)`;
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
