#!/usr/bin/env node
// `podnet doctor` and `podnet probe` benchmark (not a test): wall time, peak RSS and result counts by
// cluster size, plus where a full-mesh probe spends its time. Runs against local labs only (network
// namespaces; no traffic leaves them).
//
// Usage: node --import tsx scripts/bench-diagnose.ts [--sizes 4,8,16,32] [--families ipv4] [--access ssh] [--repeat 3] [--sample 3]
//                                                    [--out docs/benchmarks.md] [--skip-phases] [--max-wait 90] [--check]
//   --sizes        flat lab sizes; each lab is brought up, `podnet up` once, then measured
//   --families     IP families to measure, comma-separated: ipv4, ipv6, dual. Each family gets a lab of its
//                  own per size (`lab up --ip-family F`); a size's labs are up together and their runs
//                  alternate command by command, so every family sees the same machine conditions. With
//                  ipv4 and dual, the report compares the dual-stack full mesh (every cell once per family:
//                  twice the cells) with IPv4-only, and targets dual ≤ 2× IPv4-only at the largest size.
//   --access       how podnet reaches the nodes: ssh (the default), or ssh,kube: the labs are started with
//                  the stand-in Kubernetes API (`lab up --api`), and doctor and the full-mesh probe run over
//                  SSH (-i inventory) and through the API (no -i: the nodes from the Node objects, helper pods
//                  and pods/exec) in the same lab, taking turns as the families do. The report is then the
//                  section "## doctor and probe through the Kubernetes API" (the sampled probe is left out):
//                  wall times side by side, API requests per node per command (PODNET_STATS_FILE), and the
//                  target: through the API within 1.5× of SSH at 32 nodes.
//   --repeat       runs of each command per lab; the report gives medians (doctor and probe leave the
//                  nodes as they found them, so the runs share one lab)
//   --sample       K for the sampled probe (`podnet probe --sample K`)
//   --out          append the Markdown section "## doctor and probe" (with kube: the one named above) to this
//                  file (a section of that name from an earlier run is replaced; the rest of the file is kept)
//   --skip-phases  skip the extra, traced full-mesh probe per size that times each phase from its progress
//                  lines on stderr
//   --max-wait     seconds to wait for other load to settle before each measurement
//   --check        exit 1 if a target is missed (default: report only, exit 0)
// Needs root, the lab's packages (scripts/setup.sh) and a build (npm run build). Labs are named bdiag<N>
// (IPv4), bdiag<N>d (dual-stack) and bdiag<N>v6 (IPv6-only), bkube<N>… with --access kube, and every lab is
// torn down again, also on failure or Ctrl-C.
//
// Labs, CPU accounting and the rusage probe are shared with bench-up in scripts/bench-lib.ts.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { labExecArgv, labExecEnv, labRun } from '../src/lab/service.js';
import { apiPaths } from '../src/lab/api/paths.js';
import { neighNeed } from '../src/lab/neigh.js';
import type { LabIpFamily, LabPlan } from '../src/lab/topology.js';
import type { IpFamily } from '../src/net/family.js';
import { FAMILY_LABEL, PROBE_CHECKS } from '../src/probe/plan.js';
import type { ProbeReport } from '../src/services/probe.js';
import type { DoctorReport } from '../src/services/doctor.js';
import { setBenchName, interrupted, CORES, fail, log, median, liveLabs, labDown, withLabs, labCpuMs, type Cpu, measured, waitQuiet, parseMaxWait, loadLine, ruWrapper, takeRusage, ms, writeSections, startBench, headerLines, type BenchStart, parseFamilies, probedFamilies, labName, FAMILY_NAME } from './bench-lib.js';

setBenchName('bench-diagnose');

const SECTION = '## doctor and probe';
const API_SECTION = '## doctor and probe through the Kubernetes API';
const PROBE_TARGET_MS = 10_000;
/** Through the API at 32 nodes: at most this many times the wall time over SSH (doctor and full-mesh probe). */
const API_RATIO_TARGET = 1.5;

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '4,8,16,32' },
    repeat: { type: 'string', default: '3' },
    sample: { type: 'string', default: '3' },
    families: { type: 'string', default: 'ipv4' },
    access: { type: 'string', default: 'ssh' },
    out: { type: 'string' },
    'skip-phases': { type: 'boolean', default: false },
    'max-wait': { type: 'string', default: '90' },
    check: { type: 'boolean', default: false },
  },
});
const families = parseFamilies(values.families!);
/** the family column, comparisons and family names in labels: only when more than IPv4-only is measured */
const showFamily = families.some((f) => f !== 'ipv4');
const maxWait = parseMaxWait(values['max-wait']!);

type Access = 'ssh' | 'kube';
const ACCESSES: readonly Access[] = ['ssh', 'kube'];

/** `--access`: ssh, or ssh,kube (SSH is the baseline the API is compared with), each once, SSH first. */
function parseAccesses(s: string): Access[] {
  const asked = s.split(',').map((x) => x.trim());
  const bad = asked.filter((x) => !(ACCESSES as readonly string[]).includes(x));
  if (bad.length || !asked.includes('ssh')) fail(`--access: expected ssh or ssh,kube (SSH is the baseline the API is compared with), got "${s}"`);
  return ACCESSES.filter((a) => asked.includes(a));
}
const accesses = parseAccesses(values.access!);
/** with kube: labs with the stand-in API, doctor and the full mesh over both accesses, a report of its own */
const viaApi = accesses.includes('kube');
const sizes = values.sizes!.split(',').map((x) => Number(x.trim()));
if (sizes.some((n) => !Number.isInteger(n) || n < 2 || n > 200)) fail(`--sizes: expected comma-separated whole numbers from 2 to 200, got "${values.sizes}"`);
const repeat = Number(values.repeat);
if (!Number.isInteger(repeat) || repeat < 1 || repeat > 20) fail(`--repeat: expected a whole number from 1 to 20, got "${values.repeat}"`);
const sampleK = Number(values.sample);
if (!Number.isInteger(sampleK) || sampleK < 1) fail(`--sample: expected a whole number of at least 1, got "${values.sample}"`);
if (process.getuid?.() !== 0) fail('needs root (the lab creates network namespaces): run it with sudo');

// ------------------------------------------------------------------------------ kernel neighbour table

/**
 * The kernel's ARP table is one table for all network namespaces, capped by gc_thresh3 of the initial
 * namespace; `lab up` raises it for big labs (src/lab/neigh.ts). Should the kernel still log "neighbor
 * table overflow" during a size, the report says so: such timeouts would be the lab's, not the network's.
 */
function gcThresh3(family: IpFamily = 'ipv4'): number {
  try {
    return Number(readFileSync(`/proc/sys/net/${family}/neigh/default/gc_thresh3`, 'utf8').trim());
  } catch {
    return NaN;
  }
}

/** "neighbor table overflow" messages in the kernel log so far (NaN if the log cannot be read). */
function neighOverflows(): number {
  try {
    return (execFileSync('dmesg', [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 }).match(/neighbor table overflow/g) ?? []).length;
  } catch {
    return NaN;
  }
}

// ------------------------------------------------------------------------------------- podnet runs

/** What a run cost each node, as podnet writes it to PODNET_STATS_FILE at its end (src/cli/session.ts). */
interface RunStats {
  access: Access;
  nodes: number;
  /** round trips per node */
  roundTrips?: Record<string, number>;
  /** API requests per key: a node's name, or "cluster" for those that concern no one node */
  apiRequests?: Record<string, number>;
}

interface CliRun extends Cpu {
  exitCode: number;
  rssMB: number;
  cliCpuMs: number;
  /** undefined if podnet wrote no stats (a build from before PODNET_STATS_FILE) */
  stats?: RunStats;
  /** CPU of the lab's stand-in API server process during the run (NaN for a lab without one) */
  apiServerCpuMs: number;
}

/** Where podnet leaves its stats, one run at a time (outside the lab: the operator namespace shares the host's files). */
const statsDir = mkdtempSync(join(tmpdir(), 'bench-diagnose-'));
const statsFile = join(statsDir, 'stats.json');

function takeStats(): RunStats | undefined {
  try {
    return JSON.parse(readFileSync(statsFile, 'utf8')) as RunStats;
  } catch {
    return undefined;
  }
}

/** CPU time of the lab's stand-in API server process so far, in ms (NaN for a lab without one). */
function apiServerCpuMs(plan: LabPlan): number {
  if (!plan.api) return NaN;
  try {
    const stat = readFileSync(`/proc/${readFileSync(apiPaths(plan.dir).pid, 'utf8').trim()}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime and stime (fields 14, 15), USER_HZ is 100
  } catch {
    return NaN;
  }
}

/**
 * How a run reaches the nodes: over SSH with the lab's inventory, or through the lab's API with the
 * nodes from its Node objects (no -i, so --access kube is the default; `lab exec` sets KUBECONFIG).
 */
function accessArgs(plan: LabPlan, access: Access): string[] {
  return access === 'ssh' ? ['-i', `${plan.dir}/inventory.yaml`] : [];
}

/** Run `podnet <args> --json` in the operator namespace, under the rusage wrapper, and parse its report. */
async function podnetJson<R extends { kind: string }>(plan: LabPlan, access: Access, kind: string, args: string[]): Promise<[R, CliRun]> {
  rmSync(statsFile, { force: true });
  // `env` in the operator's argv (labExecArgv) takes the assignment before the command.
  const argv = [`PODNET_STATS_FILE=${statsFile}`, ...(ruWrapper?.argv ?? []), 'podnet', ...args, ...accessArgs(plan, access), '--json'];
  const a0 = apiServerCpuMs(plan);
  const [r, cpu] = await measured(plan, () => labRun(plan, { kind: 'operator' }, argv, { timeoutMs: 600_000 }));
  const apiCpu = apiServerCpuMs(plan) - a0;
  let report: R;
  try {
    report = JSON.parse(r.stdout) as R;
  } catch {
    throw new Error(`podnet ${args.join(' ')} in lab ${plan.name} printed no JSON report (exit ${r.exitCode}): ${r.stderr.trim().slice(-2000)}`);
  }
  if (report.kind !== kind) throw new Error(`podnet ${args.join(' ')} in lab ${plan.name}: expected a ${kind}, got ${report.kind}`);
  const ru = takeRusage(r.stderr);
  return [report, { ...cpu, exitCode: r.exitCode, rssMB: ru.rssMB, cliCpuMs: ru.cpuMs, stats: takeStats(), apiServerCpuMs: apiCpu }];
}

interface DoctorRun extends CliRun {
  errors: number;
  warnings: number;
}

async function doctor(plan: LabPlan, access: Access): Promise<DoctorRun> {
  const [rep, run] = await podnetJson<DoctorReport & { kind: string }>(plan, access, 'DoctorReport', ['doctor']);
  return { ...run, errors: rep.summary.errors, warnings: rep.summary.warnings };
}

interface ProbeRun extends CliRun {
  records: number;
  expected: number;
  /** what is off in the records per family (the families probed, each family's count), empty if nothing */
  familyErrors: string[];
  pass: number;
  fail: number;
  warn: number;
  skip: number;
  cleanupErrors: number;
  firstFailures: string[];
}

/**
 * Result records the probe should produce per IP family: every check per ordered pair (self included),
 * localhost once per node. A dual-stack network runs the whole matrix once per family: twice as many.
 */
function expectedRecords(n: number, sample?: number): number {
  const pairs = n * ((sample === undefined ? n - 1 : Math.min(sample, n - 1)) + 1);
  const perPair = Object.keys(PROBE_CHECKS).length - 1;
  return pairs * perPair + n;
}

async function probe(plan: LabPlan, access: Access, sample?: number): Promise<ProbeRun> {
  const args = sample === undefined ? ['probe'] : ['probe', '--sample', String(sample)];
  const [rep, run] = await podnetJson<ProbeReport & { kind: string }>(plan, access, 'ProbeReport', args);
  if (rep.cleanupErrors.length) log(`${plan.name}: probe cleanup errors: ${rep.cleanupErrors.map((c) => `${c.node}: ${c.error}`).join('; ')}`);
  const want = probedFamilies(plan.ipFamily);
  const perFamily = expectedRecords(plan.nodes.length, sample);
  const familyErrors: string[] = [];
  if ((rep.families ?? []).join(',') !== want.join(',')) familyErrors.push(`families probed ${(rep.families ?? []).join(',') || 'none'}, expected ${want.join(',')}`);
  for (const f of want) {
    const got = rep.results.filter((x) => x.family === f).length;
    if (got !== perFamily) familyErrors.push(`${FAMILY_LABEL[f]} ${got}/${perFamily}`);
  }
  const stray = rep.results.filter((x) => !want.includes(x.family)).length;
  if (stray) familyErrors.push(`${stray} record(s) of another family`);
  return {
    ...run,
    records: rep.results.length,
    expected: perFamily * want.length,
    familyErrors,
    ...rep.summary,
    cleanupErrors: rep.cleanupErrors.length,
    firstFailures: rep.failures.slice(0, 3).map((f) => `${plan.ipFamily === 'ipv4' ? '' : `${FAMILY_LABEL[f.cell.family]} `}${f.cell.check} ${f.cell.src}→${f.cell.dst}: ${f.cell.reason ?? 'failed'}`),
  };
}

/** `podnet --version` in the operator namespace: node + oclif start-up, the floor under every command. */
async function startup(plan: LabPlan): Promise<number> {
  const [r, cpu] = await measured(plan, () => labRun(plan, { kind: 'operator' }, ['podnet', '--version'], { timeoutMs: 60_000 }));
  if (r.exitCode !== 0) throw new Error(`podnet --version in lab ${plan.name} failed: ${r.stderr.trim()}`);
  return cpu.wallMs;
}

interface Phase {
  wallMs: number;
  labCpuMs: number;
}

interface Phases {
  /** process start → first "creating probe pod": node start-up, inventory, ssh connect, facts of every node */
  factsMs: Phase;
  /** process start → first "reading facts": node start-up, the inventory (through the API: the Node objects) */
  startMs: Phase;
  /** first "reading facts" → first "creating probe pod": connecting (through the API: the helper pods) and facts */
  connectFactsMs: Phase;
  /** → first "probing": the probe pods of all nodes created (netns, CNI ADD, echo services ready) */
  setupMs: Phase;
  /** → last "ok"/"FAILED": every node's probe batch */
  probingMs: Phase;
  /** → process exit: pods removed, ssh connections closed, report rendered */
  teardownMs: Phase;
  totalMs: number;
  /** per node, first "probing" → its "ok"/"FAILED" line: slowest and fastest batch */
  batchMaxMs: number;
  batchMinMs: number;
  checksPerNode: number;
}

/**
 * One extra full-mesh probe without --json: its progress lines ("node: step", plain on a pipe) are
 * timestamped as they arrive, and the lab cgroup's CPU is read at each phase boundary.
 */
async function probePhases(plan: LabPlan, access: Access): Promise<Phases> {
  const [file, ...args] = labExecArgv(plan, { kind: 'operator' }, ['podnet', 'probe', ...accessArgs(plan, access)]);
  const l0 = labCpuMs(plan);
  const t0 = performance.now();
  const child = spawn(file!, args, { env: { ...labExecEnv(), NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.resume();
  const marks = new Map<string, { t: number; lab: number }>();
  const mark = (k: string) => marks.set(k, { t: performance.now() - t0, lab: labCpuMs(plan) - l0 });
  const probingAt = new Map<string, number>();
  const batches: number[] = [];
  let checksPerNode = 0;
  let tail = '';
  const lines = createInterface({ input: child.stderr });
  lines.on('line', (line) => {
    tail = `${tail}${line}\n`.slice(-2000);
    const m = /^(\S+): (creating probe pod|probing \((\d+) checks\)|ok — |FAILED — |cleaning up|(?:locking, )?reading facts)/.exec(line);
    if (!m) return;
    const [, node, step, checks] = m;
    const now = performance.now() - t0;
    if (step!.endsWith('reading facts')) {
      if (!marks.has('facts')) mark('facts');
    } else if (step === 'creating probe pod') {
      if (!marks.has('create')) mark('create');
    } else if (step!.startsWith('probing')) {
      if (!marks.has('probing')) mark('probing');
      probingAt.set(node!, now);
      checksPerNode = Math.max(checksPerNode, Number(checks));
    } else if (step === 'cleaning up') {
      if (!marks.has('cleanup')) mark('cleanup');
    } else {
      mark('probed'); // the last one wins
      const p = probingAt.get(node!);
      if (p !== undefined) batches.push(now - p);
    }
  });
  const code = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => child.kill('SIGTERM'), 600_000);
    child.on('error', rej);
    child.on('close', (c) => {
      clearTimeout(timer);
      res(c ?? 1);
    });
  });
  mark('exit');
  const at = (k: string) => marks.get(k) ?? { t: NaN, lab: NaN };
  const span = (a: string, b: string): Phase => ({ wallMs: at(b).t - at(a).t, labCpuMs: at(b).lab - at(a).lab });
  if (!marks.has('probed')) throw new Error(`traced probe in lab ${plan.name} printed no progress (exit ${code}): ${tail.trim()}`);
  marks.set('start', { t: 0, lab: 0 });
  return {
    factsMs: span('start', 'create'),
    startMs: span('start', 'facts'),
    connectFactsMs: span('facts', 'create'),
    setupMs: span('create', 'probing'),
    probingMs: span('probing', 'probed'),
    teardownMs: span('probed', 'exit'),
    totalMs: at('exit').t,
    batchMaxMs: Math.max(...batches),
    batchMinMs: Math.min(...batches),
    checksPerNode,
  };
}

// ------------------------------------------------------------------------------------------ per size

interface Sample {
  doctor: DoctorRun;
  full: ProbeRun;
  /** not measured with --access kube */
  sampled?: ProbeRun;
}

/** One lab and one way of reaching its nodes (with --access ssh,kube, each lab gives two). */
interface SizeResult {
  nodes: number;
  family: LabIpFamily;
  access: Access;
  /** `podnet up` over SSH, once per lab */
  upMs: number;
  startupMs: number;
  samples: Sample[];
  phases?: Phases;
}

/** The kernel's neighbour tables while a size's labs were up (machine-wide, shared by those labs). */
interface NeighInfo {
  nodes: number;
  /** kernel "neighbor table overflow" messages while this size ran (ARP and NDP alike) */
  overflows: number;
  /** net.ipv4.neigh.default.gc_thresh3 while the labs were up */
  gcThresh3: number;
  /** net.ipv6.neigh.default.gc_thresh3, when a lab of this size had IPv6 */
  gcThresh3v6?: number;
}

/** " (dual)" in log lines when more than IPv4-only is measured */
const famTag = (f: LabIpFamily) => (showFamily ? ` (${f})` : '');
/** " over SSH" / " through the API" in log lines with --access ssh,kube */
const accessTag = (a: Access) => (viaApi ? (a === 'ssh' ? ' over SSH' : ' through the API') : '');

/** API requests of one run: all of them over the nodes, and those of single nodes (without "cluster"). */
function apiPerNode(stats: RunStats | undefined): { all: number; node: number; nodeMax: number; cluster: number } {
  if (!stats?.apiRequests || !stats.nodes) return { all: NaN, node: NaN, nodeMax: NaN, cluster: NaN };
  const { cluster = 0, ...byNode } = stats.apiRequests;
  const per = Object.values(byNode);
  const sum = per.reduce((a, b) => a + b, 0);
  return { all: (sum + cluster) / stats.nodes, node: sum / stats.nodes, nodeMax: Math.max(0, ...per), cluster };
}

/** The most round trips one node took in a run (NaN without stats). */
function maxRoundTrips(stats: RunStats | undefined): number {
  const v = Object.values(stats?.roundTrips ?? {});
  return v.length ? Math.max(...v) : NaN;
}

/** ", 12.3 API requests per node (9.0 of single nodes, 104 cluster)" for a run through the API */
function requestsNote(r: CliRun): string {
  if (r.stats?.access !== 'kube') return '';
  const q = apiPerNode(r.stats);
  return `, ${q.all.toFixed(1)} API requests per node (${q.node.toFixed(1)} of single nodes, ${q.cluster} cluster), API server CPU ${ms(r.apiServerCpuMs)}`;
}

async function benchSize(n: number): Promise<{ results: SizeResult[]; neigh: NeighInfo }> {
  const o0 = neighOverflows();
  const labs = families.map((family) => ({ name: labName(viaApi ? 'bkube' : 'bdiag', n, family), nodes: n, family, api: viaApi }));
  const v6 = families.some((f) => f !== 'ipv4');
  const neigh: NeighInfo = { nodes: n, overflows: 0, gcThresh3: NaN };
  const results = await withLabs(labs, async (plans) => {
    neigh.gcThresh3 = gcThresh3('ipv4');
    if (v6) neigh.gcThresh3v6 = gcThresh3('ipv6');
    for (const [table, thresh] of [['net.ipv4', neigh.gcThresh3], ['net.ipv6', neigh.gcThresh3v6]] as const) {
      if (thresh !== undefined && neighNeed(n) > thresh) log(`${n} nodes: the full mesh needs about ${neighNeed(n)} neighbour entries, more than ${table}.neigh.default.gc_thresh3 = ${thresh}: expect probe timeouts`);
    }
    // One entry per lab and access, in step: rs[i] is measured on variants[i].
    const rs: SizeResult[] = [];
    const variants: { plan: LabPlan; access: Access }[] = [];
    for (const plan of plans) {
      const [up, upCpu] = await podnetJson<{ kind: string; nodes: { node: string; result: string; error?: string }[] }>(plan, 'ssh', 'UpReport', ['up']);
      const failed = up.nodes.filter((x) => x.result === 'failed');
      if (failed.length) throw new Error(`podnet up in lab ${plan.name} failed on ${failed.map((x) => `${x.node}: ${x.error ?? 'failed'}`).join('; ')}`);
      log(`${n} nodes${famTag(plan.ipFamily)}: podnet up ${ms(upCpu.wallMs)}`);
      const startups: number[] = [];
      for (let k = 0; k < 3; k++) startups.push(await startup(plan));
      for (const access of accesses) {
        rs.push({ nodes: n, family: plan.ipFamily, access, upMs: upCpu.wallMs, startupMs: median(startups), samples: [] });
        variants.push({ plan, access });
      }
    }
    const where = (i: number) => `${n} nodes${famTag(variants[i]!.plan.ipFamily)}${accessTag(variants[i]!.access)}`;
    for (let k = 1; k <= repeat && !interrupted; k++) {
      // The families (and the accesses of a lab) take turns command by command, and go first in turn from
      // run to run, so that each command's runs follow each other closely under the same load.
      const order = variants.map((_, i) => i);
      if (k % 2 === 0) order.reverse();
      const tag = (i: number) => `${where(i)}, run ${k}/${repeat}`;
      const doctors: DoctorRun[] = [];
      const fulls: ProbeRun[] = [];
      const sampleds: ProbeRun[] = [];
      for (const i of order) {
        await waitQuiet(tag(i));
        const d = await doctor(variants[i]!.plan, variants[i]!.access);
        log(`${tag(i)}: doctor ${ms(d.wallMs)}, ${d.errors} error(s), peak RSS ${mb(d.rssMB)}${requestsNote(d)}`);
        doctors[i] = d;
      }
      for (const i of order) {
        await waitQuiet(tag(i));
        const full = await probe(variants[i]!.plan, variants[i]!.access);
        log(`${tag(i)}: probe full mesh ${ms(full.wallMs)}, ${full.records} records (${full.pass} pass, ${full.fail} fail), peak RSS ${mb(full.rssMB)}, lab CPU ${ms(full.labCpuMs)}, others ${ms(full.otherCpuMs)}${requestsNote(full)}`);
        for (const f of full.firstFailures) log(`  ${f}`);
        for (const e of full.familyErrors) log(`  records: ${e}`);
        fulls[i] = full;
      }
      // The sampled probe is this benchmark's SSH report only.
      for (const i of viaApi ? [] : order) {
        await waitQuiet(tag(i));
        const sampled = await probe(variants[i]!.plan, variants[i]!.access, sampleK);
        log(`${tag(i)}: probe --sample ${sampleK} ${ms(sampled.wallMs)}, ${sampled.records} records (${sampled.pass} pass, ${sampled.fail} fail), peak RSS ${mb(sampled.rssMB)}`);
        for (const e of sampled.familyErrors) log(`  records: ${e}`);
        sampleds[i] = sampled;
      }
      for (const i of order) rs[i]!.samples.push({ doctor: doctors[i]!, full: fulls[i]!, ...(sampleds[i] ? { sampled: sampleds[i] } : {}) });
    }
    if (!values['skip-phases']) {
      for (const [i, { plan, access }] of variants.entries()) {
        if (interrupted) break;
        await waitQuiet(`${where(i)}, traced probe`);
        const phases = await probePhases(plan, access);
        log(`${where(i)}: traced probe: start-up ${ms(phases.startMs.wallMs)}, connect+facts ${ms(phases.connectFactsMs.wallMs)}, pods ${ms(phases.setupMs.wallMs)}, probing ${ms(phases.probingMs.wallMs)}, teardown+exit ${ms(phases.teardownMs.wallMs)}`);
        rs[i]!.phases = phases;
      }
    }
    return rs;
  });
  neigh.overflows = Math.max(0, neighOverflows() - o0);
  if (neigh.overflows) log(`${n} nodes: the kernel logged "neighbor table overflow" ${neigh.overflows} time(s)`);
  return { results, neigh };
}

// -------------------------------------------------------------------------------------------- report

function mb(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(0)} MB` : 'n/a';
}

function pct(cpuMs: number, wallMs: number): string {
  const s = cpuMs / (wallMs * CORES);
  return Number.isFinite(s) ? `${Math.round(s * 100)}%` : 'n/a';
}

interface Target {
  name: string;
  measured: string;
  ok: boolean | undefined;
}

/** Dual-stack full mesh at the largest size: at most this many times IPv4-only's wall time (it does twice the cells). */
const DUAL_RATIO_TARGET = 2;

const med = (r: SizeResult, pick: (s: Sample) => number) => median(r.samples.map(pick));

/** The probes of a run, the sampled one included; and every command of it. */
const probesOf = (s: Sample) => (s.sampled ? [s.full, s.sampled] : [s.full]);
const commandsOf = (s: Sample): CliRun[] => [s.doctor, ...probesOf(s)];

/** What every report checks of its probes: one record per cell, no failures and no cleanup errors. */
function probeTargets(results: SizeResult[], where: (r: SizeResult) => string): Target[] {
  const wrong = results.flatMap((r) => r.samples.flatMap(probesOf).filter((p) => p.records !== p.expected || p.familyErrors.length).map((p) => `${where(r)}: ${p.records}/${p.expected}${p.familyErrors.length ? ` (${p.familyErrors.join(', ')})` : ''}`));
  const failing = results.flatMap((r) => r.samples.flatMap(probesOf).filter((p) => p.fail || p.cleanupErrors).map((p) => `${where(r)}: ${p.fail} fail, ${p.cleanupErrors} cleanup error(s)`));
  return [
    { name: `every probe returns one record per cell${showFamily ? ' (per family: a dual-stack probe twice as many as IPv4-only)' : ''}`, measured: wrong.length ? wrong.join(', ') : 'yes', ok: wrong.length === 0 },
    { name: 'no probe failures or cleanup errors on a converged lab', measured: failing.length ? [...new Set(failing)].join(', ') : 'none', ok: failing.length === 0 },
  ];
}

function targetTable(targets: Target[]): string[] {
  return ['### Targets', '', '| target | measured | result |', '|---|---|---|', ...targets.map((t) => `| ${t.name} | ${t.measured} | ${t.ok === undefined ? 'n/a' : t.ok ? 'PASS' : 'MISS'} |`), ''];
}

function reproduceLine(): string {
  const opt = [
    `--sizes ${sizes.join(',')}`,
    ...(showFamily ? [`--families ${families.join(',')}`] : []),
    ...(viaApi ? [`--access ${accesses.join(',')}`] : []),
    `--repeat ${repeat}`,
    ...(viaApi ? [] : [`--sample ${sampleK}`]),
    ...(values['skip-phases'] ? ['--skip-phases'] : []),
    ...(maxWait !== 90 ? [`--max-wait ${maxWait}`] : []),
    ...(values.out ? [`--out ${values.out}`] : []),
  ];
  return `- reproduce (root, after \`scripts/setup.sh\` and \`npm run build\`): \`node --import tsx scripts/bench-diagnose.ts ${opt.join(' ')}\``;
}

function neighLines(neigh: NeighInfo[]): string[] {
  const num = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? String(x) : '?');
  return neigh.map((g) => {
    const overflow = `the kernel logged "neighbor table overflow" ${num(g.overflows)} time(s).${g.overflows > 0 ? " Failures at this size may be the lab machine's, not the pod network's." : ''}`;
    return g.gcThresh3v6 === undefined
      ? `Neighbour table, ${g.nodes} nodes: \`gc_thresh3\` was ${num(g.gcThresh3)} while the lab${families.length > 1 ? 's were' : ' was'} up (a full mesh needs about ${neighNeed(g.nodes)} entries${families.length > 1 ? ' per lab' : ''}); ${overflow}`
      : `Neighbour tables, ${g.nodes} nodes: \`gc_thresh3\` was ${num(g.gcThresh3)} (IPv4, ARP) and ${num(g.gcThresh3v6)} (IPv6, NDP) while the labs were up (a full mesh needs about ${neighNeed(g.nodes)} entries per lab and family); ${overflow}`;
  });
}

/** A traced phase: wall time (lab CPU saturation of the machine's cores). */
const phaseCell = (p: Phase) => `${ms(p.wallMs)} (${pct(p.labCpuMs, p.wallMs)})`;

function report(results: SizeResult[], neigh: NeighInfo[], at: BenchStart): { md: string; targets: Target[] } {
  const max = (r: SizeResult, pick: (s: Sample) => number) => Math.max(...r.samples.map(pick));
  const find = (n: number, f: LabIpFamily) => results.find((r) => r.nodes === n && r.family === f && r.samples.length);
  /** "32 nodes" or, with several families, "32 nodes (dual)" */
  const where = (r: SizeResult) => `${r.nodes} nodes${famTag(r.family)}`;
  const targets: Target[] = [];
  const big = find(32, 'ipv4');
  if (big) {
    const full = med(big, (s) => s.full.wallMs);
    targets.push({ name: `32-node ${showFamily ? 'IPv4-only ' : ''}full-mesh probe ≤ 10 s (wall, median)`, measured: ms(full), ok: full <= PROBE_TARGET_MS });
  }
  for (const f of families) {
    const r = find(32, f);
    if (r) targets.push({ name: `doctor at 32 nodes${showFamily ? `, ${FAMILY_NAME[f]}` : ''} (report only)`, measured: ms(med(r, (s) => s.doctor.wallMs)), ok: undefined });
  }
  // Each other family against IPv4-only at the largest size measured with both.
  const comparisons = families
    .filter((f) => f !== 'ipv4')
    .map((f) => ({ family: f, pairs: [...new Set(results.map((r) => r.nodes))].map((n) => ({ n, base: find(n, 'ipv4'), other: find(n, f) })).filter((p) => p.base && p.other) as { n: number; base: SizeResult; other: SizeResult }[] }))
    .filter((c) => c.pairs.length);
  for (const c of comparisons) {
    const top = c.pairs.reduce((a, b) => (b.n > a.n ? b : a));
    const o = med(top.other, (s) => s.full.wallMs);
    const b = med(top.base, (s) => s.full.wallMs);
    const ratio = o / b;
    const dual = c.family === 'dual';
    targets.push({
      name: `${FAMILY_NAME[c.family]} full-mesh probe at ${top.n} nodes${dual ? ` ≤ ${DUAL_RATIO_TARGET}× IPv4-only (twice the cells; wall, median)` : ' vs IPv4-only (report only)'}`,
      measured: `${ms(o)} / ${ms(b)} = ${ratio.toFixed(2)}×`,
      ok: dual && Number.isFinite(ratio) ? ratio <= DUAL_RATIO_TARGET : undefined,
    });
  }
  targets.push(...probeTargets(results, where));

  const md: string[] = [SECTION, ''];
  md.push(...headerLines(at));
  md.push(loadLine(results.flatMap((r) => r.samples.flatMap(commandsOf))));
  md.push(reproduceLine());
  md.push(
    `- labs: flat, one fresh lab per size${showFamily ? ' and family (`lab up --ip-family`)' : ''}, \`podnet up\` once, then ${repeat} run(s) of each command (medians; peak RSS is the maximum). Every node is a network namespace with its own sshd and scripts on this machine, sharing the same ${CORES} cores with the CLI: a full-mesh probe at N nodes creates N probe pods (CNI ADD and DEL of bridge, host-local and portmap, whose iptables calls are a large share of the lab CPU), starts N echo services and N probe processes, and sends ${Object.keys(PROBE_CHECKS).length - 1}·N² probes on those cores. Wall time is around the whole CLI process (start-up included); lab CPU is the lab cgroup's CPU time; "others" is CPU used outside the lab during the run.`,
  );
  if (showFamily) {
    md.push(
      `- families: ${families.map((f) => FAMILY_NAME[f]).join(', ')}. A size's labs are up at the same time and their runs take turns command by command (doctor of each, then the full mesh of each, then the sampled probe of each; the family that goes first alternates from run to run), so the families see the same machine conditions. A dual-stack probe runs every cell once per family: twice the records and probes of IPv4-only, over the same probe pods (one CNI ADD per node that assigns both addresses), the same echo services and one probe process per node.`,
    );
  }
  md.push('');
  md.push(...targetTable(targets));
  md.push('### By cluster size', '');
  const famHead = showFamily ? ' family |' : '';
  const famAlign = showFamily ? '---|' : '';
  const famCell = (r: SizeResult) => (showFamily ? ` ${r.family} |` : '');
  md.push(
    `| nodes |${famHead} start-up (\`--version\`) | doctor (wall) | doctor RSS | probe full mesh (wall) | lab CPU | saturation | others | records | pass / fail / warn / skip | RSS | probe \`--sample ${sampleK}\` (wall) | records | pass / fail / warn / skip | RSS |`,
    `|---:|${famAlign}---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---:|`,
  );
  const counts = (p: ProbeRun) => `${p.pass} / ${p.fail} / ${p.warn} / ${p.skip}`;
  for (const r of results) {
    const last = r.samples[r.samples.length - 1] as Required<Sample> | undefined; // the sampled probe runs without --access kube
    if (!last) continue;
    const fullWall = med(r, (s) => s.full.wallMs);
    const fullLab = med(r, (s) => s.full.labCpuMs);
    md.push(
      `| ${r.nodes} |${famCell(r)} ${ms(r.startupMs)} | ${ms(med(r, (s) => s.doctor.wallMs))} | ${mb(max(r, (s) => s.doctor.rssMB))} | ${ms(fullWall)} | ${ms(fullLab)} | ${pct(fullLab, fullWall)} | ${ms(med(r, (s) => s.full.otherCpuMs))} | ${last.full.records} | ${counts(last.full)} | ${mb(max(r, (s) => s.full.rssMB))} | ${ms(med(r, (s) => s.sampled!.wallMs))} | ${last.sampled.records} | ${counts(last.sampled)} | ${mb(max(r, (s) => s.sampled!.rssMB))} |`,
    );
  }
  md.push('');
  for (const c of comparisons) {
    md.push(`### ${FAMILY_NAME[c.family]} against IPv4-only`, '');
    md.push(
      `The full-mesh probe on the ${FAMILY_NAME[c.family]} lab next to the IPv4-only lab of the same size, in the same run (medians). Cells per second: result records over the probe's wall time (start-up, facts, probe pods and teardown included). ${c.family === 'dual' ? `The dual-stack probe runs twice the cells; target: at most ${DUAL_RATIO_TARGET}× IPv4-only's wall time at the largest size.` : 'The same number of cells, over the other family.'}`,
      '',
    );
    md.push(
      `| nodes | IPv4-only full mesh (wall) | cells | cells/s | ${c.family} full mesh (wall) | cells | cells/s | wall time ratio | lab CPU ratio | doctor ratio | \`up\` ratio | others (IPv4 / ${c.family}) |`,
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const { n, base, other } of c.pairs) {
      const bw = med(base, (s) => s.full.wallMs);
      const ow = med(other, (s) => s.full.wallMs);
      const cells = (r: SizeResult) => r.samples[r.samples.length - 1]!.full.records;
      const rate = (r: SizeResult, wall: number) => `${Math.round(cells(r) / (wall / 1000)).toLocaleString('en-US')}`;
      const ratio = (pick: (s: Sample) => number) => `${(med(other, pick) / med(base, pick)).toFixed(2)}×`;
      md.push(
        `| ${n} | ${ms(bw)} | ${cells(base).toLocaleString('en-US')} | ${rate(base, bw)} | ${ms(ow)} | ${cells(other).toLocaleString('en-US')} | ${rate(other, ow)} | ${(ow / bw).toFixed(2)}× | ${ratio((s) => s.full.labCpuMs)} | ${ratio((s) => s.doctor.wallMs)} | ${(other.upMs / base.upMs).toFixed(2)}× | ${ms(med(base, (s) => s.full.otherCpuMs))} / ${ms(med(other, (s) => s.full.otherCpuMs))} |`,
      );
    }
    md.push('');
  }
  md.push('<details><summary>every run (doctor; full mesh wall / lab CPU / CLI CPU / others; sampled)</summary>', '');
  for (const r of results) {
    md.push(`- ${where(r)} (podnet up ${ms(r.upMs)}): ${r.samples.map((s) => `${ms(s.doctor.wallMs)}; ${ms(s.full.wallMs)} / ${ms(s.full.labCpuMs)} / ${ms(s.full.cliCpuMs)} / ${ms(s.full.otherCpuMs)}; ${ms(s.sampled!.wallMs)}`).join(' — ')}`);
  }
  md.push('', '</details>', '');
  md.push(...neighLines(neigh), '');
  const traced = results.filter((r) => r.phases);
  if (traced.length) {
    md.push('### Where a full-mesh probe spends its time', '');
    md.push(
      'One extra full-mesh `podnet probe` per size without `--json`, its plain progress lines on stderr timestamped as they arrive. Phases: start-up and facts (process start → first "creating probe pod": node, oclif, ssh connections, one facts round trip per node), probe pods (→ first "probing": netns, CNI ADD of the chain and echo services on every node), probing (→ last node\'s result: every node\'s batch of probes), teardown and exit (pods removed, connections closed, matrices rendered). Each cell: wall time (lab CPU saturation of the machine\'s cores).',
      '',
    );
    md.push(`| nodes |${famHead} checks/node | start-up + facts | probe pods | probing | per-node batch (min–max) | teardown + exit | total |`, `|---:|${famAlign}---:|---:|---:|---:|---:|---:|---:|`);
    for (const r of traced) {
      const p = r.phases!;
      md.push(`| ${r.nodes} |${famCell(r)} ${p.checksPerNode} | ${phaseCell(p.factsMs)} | ${phaseCell(p.setupMs)} | ${phaseCell(p.probingMs)} | ${ms(p.batchMinMs)}–${ms(p.batchMaxMs)} | ${phaseCell(p.teardownMs)} | ${ms(p.totalMs)} |`);
    }
    md.push('');
  }
  return { md: `${md.join('\n')}\n`, targets };
}

/** The commands compared over the two accesses, and how a run of each reads in a table. */
const API_COMMANDS: { name: string; pick: (s: Sample) => CliRun; outcome: (s: Sample) => string }[] = [
  { name: 'doctor', pick: (s) => s.doctor, outcome: (s) => `${s.doctor.errors} error(s), ${s.doctor.warnings} warning(s)` },
  { name: 'full-mesh probe', pick: (s) => s.full, outcome: (s) => `${s.full.pass} / ${s.full.fail} / ${s.full.warn} / ${s.full.skip}` },
];

/**
 * --access ssh,kube: each lab's doctor and full mesh over SSH next to the same through the API (medians),
 * what the API runs cost in requests per node, and the target at 32 nodes.
 */
function reportApi(results: SizeResult[], neigh: NeighInfo[], at: BenchStart): { md: string; targets: Target[] } {
  const find = (n: number, f: LabIpFamily, a: Access) => results.find((r) => r.nodes === n && r.family === f && r.access === a && r.samples.length);
  const pairs = sizes.flatMap((n) => families.map((f) => ({ n, family: f, ssh: find(n, f, 'ssh'), kube: find(n, f, 'kube') }))).filter((p) => p.ssh && p.kube) as { n: number; family: LabIpFamily; ssh: SizeResult; kube: SizeResult }[];
  const where = (r: SizeResult) => `${r.nodes} nodes${famTag(r.family)}${accessTag(r.access)}`;
  const run = (r: SizeResult, c: (typeof API_COMMANDS)[number], pick: (x: CliRun) => number) => med(r, (s) => pick(c.pick(s)));
  const requests = (r: SizeResult, c: (typeof API_COMMANDS)[number]) => ({
    all: run(r, c, (x) => apiPerNode(x.stats).all),
    node: run(r, c, (x) => apiPerNode(x.stats).node),
    nodeMax: run(r, c, (x) => apiPerNode(x.stats).nodeMax),
    cluster: run(r, c, (x) => apiPerNode(x.stats).cluster),
  });
  const fixed = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

  const targets: Target[] = [];
  for (const f of families) {
    const mine = pairs.filter((p) => p.family === f);
    if (!mine.length) continue;
    const top = mine.find((p) => p.n === 32) ?? mine.reduce((a, b) => (b.n > a.n ? b : a));
    const at32 = top.n === 32;
    for (const c of API_COMMANDS) {
      const k = run(top.kube, c, (x) => x.wallMs);
      const s = run(top.ssh, c, (x) => x.wallMs);
      const ratio = k / s;
      targets.push({
        name: `${c.name} through the API within ${API_RATIO_TARGET}× of SSH at ${top.n} nodes${showFamily ? `, ${FAMILY_NAME[f]}` : ''} (wall, median${at32 ? '' : '; report only, the target is at 32 nodes'})`,
        measured: `${ms(k)} / ${ms(s)} = ${fixed(ratio, 2)}×`,
        ok: at32 && Number.isFinite(ratio) ? ratio <= API_RATIO_TARGET : undefined,
      });
    }
    targets.push({
      name: `API requests per node at ${top.n} nodes${showFamily ? `, ${FAMILY_NAME[f]}` : ''} (all requests ÷ nodes, median; report only)`,
      measured: API_COMMANDS.map((c) => `${c.name} ${fixed(requests(top.kube, c).all)}`).join(', '),
      ok: undefined,
    });
  }
  // The same lab read both ways must give the same answers.
  const differ = pairs.flatMap((p) =>
    API_COMMANDS.flatMap((c) => {
      const seen = (r: SizeResult) => [...new Set(r.samples.map(c.outcome))].join(' or ');
      return seen(p.ssh) === seen(p.kube) ? [] : [`${p.n} nodes${famTag(p.family)}, ${c.name}: ${seen(p.ssh)} over SSH, ${seen(p.kube)} through the API`];
    }),
  );
  targets.push({ name: 'the same results over SSH and through the API (doctor errors and warnings; probe pass / fail / warn / skip)', measured: differ.length ? differ.join('; ') : 'yes', ok: differ.length === 0 });
  targets.push(...probeTargets(results, where));

  const md: string[] = [API_SECTION, ''];
  md.push(...headerLines(at));
  md.push(loadLine(results.flatMap((r) => r.samples.flatMap(commandsOf))));
  md.push(reproduceLine());
  md.push(
    `- labs: flat, one fresh lab per size${showFamily ? ' and family' : ''} started with the stand-in Kubernetes API (\`lab up --api\`), \`podnet up\` once over SSH, then ${repeat} run(s) of doctor and of the full-mesh probe over each access in the same lab (medians), taking turns command by command (the access that goes first alternates from run to run), so both see the same machine conditions. Over SSH: \`-i inventory.yaml\`, one SSH session per node. Through the API: no \`-i\`, so the nodes come from the Node objects and \`--access kube\` is the default: a namespace, one privileged helper pod per node, one pods/exec WebSocket session per node, and the namespace deleted at the end.`,
  );
  md.push(
    `- the API server is podnet's stand-in (\`src/lab/api\`): one Node.js process in the lab's operator namespace and cgroup, serving HTTPS, running the helper pods' processes in the lab nodes' namespaces as the kubelet would, on the same ${CORES} cores as the CLI and the nodes. "API server CPU" is that process's own CPU time during the run (the processes it starts count in the lab CPU). A real control plane runs elsewhere, so these ratios include work a real cluster would not put on the nodes' cores.`,
  );
  md.push(
    '- API requests: counted by podnet itself (`PODNET_STATS_FILE`): "per node" is all requests of the run over the number of nodes; "of single nodes" those made for one node (creating its helper pod, its exec sessions), mean and maximum per node; "cluster" those made once for the run (reading the Nodes, the kubeadm-config ConfigMap, creating and deleting the namespace, listing the helper pods while they start). Round trips: scripts run per node, the most any node took.',
  );
  md.push('');
  md.push(...targetTable(targets));
  for (const p of pairs) {
    md.push(`### ${p.n} nodes${showFamily ? `, ${FAMILY_NAME[p.family]}` : ''}`, '');
    md.push(
      '| command | over SSH (wall) | through the API (wall) | API / SSH | API requests per node | of single nodes (mean / max) | "cluster" requests | round trips per node (SSH / API) | lab CPU (SSH / API) | API server CPU | CLI CPU (SSH / API) | others (SSH / API) |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const c of API_COMMANDS) {
      const both = (pick: (x: CliRun) => number, f = ms) => `${f(run(p.ssh, c, pick))} / ${f(run(p.kube, c, pick))}`;
      const s = run(p.ssh, c, (x) => x.wallMs);
      const k = run(p.kube, c, (x) => x.wallMs);
      const q = requests(p.kube, c);
      md.push(
        `| ${c.name} | ${ms(s)} | ${ms(k)} | ${fixed(k / s, 2)}× | ${fixed(q.all)} | ${fixed(q.node)} / ${fixed(q.nodeMax, 0)} | ${fixed(q.cluster, 0)} | ${both((x) => maxRoundTrips(x.stats), (x) => fixed(x, 0))} | ${both((x) => x.labCpuMs)} | ${ms(run(p.kube, c, (x) => x.apiServerCpuMs))} | ${both((x) => x.cliCpuMs)} | ${both((x) => x.otherCpuMs)} |`,
      );
    }
    md.push('');
  }
  const traced = results.filter((r) => r.phases);
  if (traced.length) {
    md.push('### Where a full-mesh probe spends its time, over SSH and through the API', '');
    md.push(
      'One extra full-mesh `podnet probe` per lab and access without `--json`, its plain progress lines on stderr timestamped as they arrive. Phases: start-up (process start → first "reading facts": node, oclif, the inventory or the Node objects), connect and facts (→ first "creating probe pod": SSH sessions, or the namespace, helper pods and exec sessions; one facts round trip per node), probe pods (→ first "probing"), probing (→ last node\'s result), teardown and exit (probe pods removed, sessions closed, through the API the namespace deleted). Each cell: wall time (lab CPU saturation of the machine\'s cores).',
      '',
    );
    md.push(`| nodes |${showFamily ? ' family |' : ''} access | start-up | connect + facts | probe pods | probing | teardown + exit | total |`, `|---:|${showFamily ? '---|' : ''}---|---:|---:|---:|---:|---:|---:|`);
    for (const r of traced) {
      const ph = r.phases!;
      md.push(`| ${r.nodes} |${showFamily ? ` ${r.family} |` : ''} ${r.access === 'ssh' ? 'SSH' : 'API'} | ${phaseCell(ph.startMs)} | ${phaseCell(ph.connectFactsMs)} | ${phaseCell(ph.setupMs)} | ${phaseCell(ph.probingMs)} | ${phaseCell(ph.teardownMs)} | ${ms(ph.totalMs)} |`);
    }
    md.push('');
  }
  md.push('<details><summary>every run (doctor, full mesh: wall over SSH / through the API; API requests per node)</summary>', '');
  for (const p of pairs) {
    const runs = p.ssh.samples.map((s, i) => {
      const k = p.kube.samples[i];
      return API_COMMANDS.map((c) => `${c.name} ${ms(c.pick(s).wallMs)} / ${k ? `${ms(c.pick(k).wallMs)} (${fixed(apiPerNode(c.pick(k).stats).all)} req/node)` : 'n/a'}`).join(', ');
    });
    md.push(`- ${p.n} nodes${famTag(p.family)} (podnet up ${ms(p.ssh.upMs)}): ${runs.join(' — ')}`);
  }
  md.push('', '</details>', '');
  md.push(...neighLines(neigh), '');
  return { md: `${md.join('\n')}\n`, targets };
}

// ---------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const at = await startBench();

  const results: SizeResult[] = [];
  const neigh: NeighInfo[] = [];
  for (const n of sizes) {
    if (interrupted) return;
    const r = await benchSize(n);
    results.push(...r.results);
    neigh.push(r.neigh);
  }
  if (interrupted) return;
  const famOrder = (f: LabIpFamily) => families.indexOf(f);
  results.sort((a, b) => a.nodes - b.nodes || famOrder(a.family) - famOrder(b.family) || accesses.indexOf(a.access) - accesses.indexOf(b.access));
  neigh.sort((a, b) => a.nodes - b.nodes);

  const { md, targets } = viaApi ? reportApi(results, neigh, at) : report(results, neigh, at);
  process.stdout.write(md);
  if (values.out) {
    writeSections(resolve(values.out), md);
    log(`wrote section "${viaApi ? API_SECTION : SECTION}" of ${values.out}`);
  }
  if (values.check && targets.some((t) => t.ok === false)) process.exitCode = 1;
}

try {
  await main();
} catch (e) {
  log(`failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
} finally {
  for (const name of [...liveLabs]) await labDown(name).catch((e: unknown) => log(`could not tear down lab ${name}: ${String(e)}`));
  rmSync(statsDir, { recursive: true, force: true });
}
