#!/usr/bin/env node
// `podnet up` benchmark (not a test): scaling, round trips, memory, a naive ssh-per-command baseline and
// bulk route programming, all against local labs (network namespaces; no traffic leaves them).
//
// Usage: node --import tsx scripts/bench-up.ts [--sizes 4,8,16,32] [--families ipv4] [--repeat 3] [--naive-sizes 4,16]
//                                              [--routes 5000] [--out docs/benchmarks.md] [--max-wait 90] [--check]
//   --sizes        flat lab sizes for `podnet up`: a converging run, then an already-converged run
//   --families     IP families to measure, comma-separated: ipv4, ipv6, dual. Each family gets labs of its
//                  own (`lab up --ip-family F`); per size and run the families' labs are up together and
//                  their runs take turns, so every family sees the same machine conditions; the report
//                  compares each with IPv4-only. The naive baseline and the bulk routes stay IPv4.
//   --repeat       fresh labs per size; the report gives medians
//   --naive-sizes  sizes for the hand-written-script baseline (one ssh per command, node after node; run once)
//   --routes       routes programmed in one batch on one node with podnet's renderer
//   --out          also write the report into this file, replacing its own sections and keeping the others
//   --max-wait     seconds to wait for other load to settle before each measurement
//   --check        exit 1 if a target is missed (default: report only, exit 0)
// Needs root, the lab's packages (scripts/setup.sh) and a build (npm run build). Labs are named b<what><N>
// (bup<N>d dual-stack, bup<N>v6 IPv6-only) and every lab is torn down again, also on failure or Ctrl-C.
//
// The machine may be shared (other labs, test suites): before each measurement the benchmark waits up to
// 90 s (--max-wait) for other load to settle, and it reports the CPU that other processes used during each run. Lab CPU
// (the lab's cgroup: CLI, ssh, every node's sshd and scripts) is accounted separately, so the numbers show
// how much of the wall time is the lab's own nodes sharing the machine's cores with the CLI.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { LabIpFamily, LabPlan } from '../src/lab/topology.js';
import { renderNodeScript } from '../src/render/node-script.js';
import type { Change } from '../src/plan/diff.js';
import { setBenchName, interrupted, CORES, fail, log, median, liveLabs, labDown, withLab, withLabs, run, type Cpu, measured, waitQuiet, parseMaxWait, loadLine, ruWrapper, takeRusage, ms, writeSections, startBench, headerLines, type BenchStart, parseFamilies, labName, FAMILY_NAME } from './bench-lib.js';

setBenchName('bench-up');


const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '4,8,16,32' },
    repeat: { type: 'string', default: '3' },
    'naive-sizes': { type: 'string', default: '4,16' },
    routes: { type: 'string', default: '5000' },
    families: { type: 'string', default: 'ipv4' },
    out: { type: 'string' },
    'max-wait': { type: 'string', default: '90' },
    check: { type: 'boolean', default: false },
  },
});
const families = parseFamilies(values.families!);
/** the family column, comparisons and family names in labels: only when more than IPv4-only is measured */
const showFamily = families.some((f) => f !== 'ipv4');
const famTag = (f: LabIpFamily) => (showFamily ? ` (${f})` : '');
const maxWait = parseMaxWait(values['max-wait']!);
const sizes = parseSizes('--sizes', values.sizes!);
const naiveSizes = values['naive-sizes'] === '' ? [] : parseSizes('--naive-sizes', values['naive-sizes']!);
const repeat = Number(values.repeat);
if (!Number.isInteger(repeat) || repeat < 1 || repeat > 20) fail(`--repeat: expected a whole number from 1 to 20, got "${values.repeat}"`);
const routeCount = Number(values.routes);
if (!Number.isInteger(routeCount) || routeCount < 0 || routeCount > 60_000) fail(`--routes: expected a whole number from 0 to 60000, got "${values.routes}"`);
if (process.getuid?.() !== 0) fail('needs root (the lab creates network namespaces): run it with sudo');

function parseSizes(flag: string, s: string): number[] {
  const out = s.split(',').map((x) => Number(x.trim()));
  if (out.some((n) => !Number.isInteger(n) || n < 2 || n > 200)) fail(`${flag}: expected comma-separated whole numbers from 2 to 200, got "${s}"`);
  return out;
}

// ------------------------------------------------------------------------------------- podnet up runs

interface UpNode {
  node: string;
  changes: string[];
  result: string;
  roundTrips: number;
  error?: string;
}
interface UpReport {
  kind: string;
  nodes: UpNode[];
  elapsedMs: number;
}

interface UpRun extends Cpu {
  /** podnet's own elapsedMs (excludes node start-up and module loading) */
  elapsedMs: number;
  maxRoundTrips: number;
  changes: number;
  rssMB: number;
  cliCpuMs: number;
}

async function podnetUp(plan: LabPlan): Promise<UpRun> {
  const argv = [...(ruWrapper?.argv ?? []), 'podnet', 'up', '-i', `${plan.dir}/inventory.yaml`, '--json'];
  const [r, cpu] = await measured(plan, () => run(plan, { kind: 'operator' }, argv));
  let report: UpReport;
  try {
    report = JSON.parse(r.stdout) as UpReport;
  } catch {
    throw new Error(`podnet up in lab ${plan.name} printed no JSON report (exit ${r.exitCode}): ${r.stderr.trim().slice(-2000)}`);
  }
  if (report.kind !== 'UpReport') throw new Error(`podnet up in lab ${plan.name}: expected an UpReport, got ${report.kind}`);
  const failed = report.nodes.filter((n) => n.result === 'failed').map((n) => `${n.node}: ${n.error ?? 'failed'}`);
  if (failed.length) throw new Error(`podnet up in lab ${plan.name} failed on ${failed.join('; ')}`);
  const ru = takeRusage(r.stderr);
  return {
    ...cpu,
    elapsedMs: report.elapsedMs,
    maxRoundTrips: Math.max(...report.nodes.map((n) => n.roundTrips)),
    changes: report.nodes.reduce((s, n) => s + n.changes.length, 0),
    rssMB: ru.rssMB,
    cliCpuMs: ru.cpuMs,
  };
}

interface SizeSample {
  converge: UpRun;
  converged: UpRun;
}

interface SizeResult {
  nodes: number;
  family: LabIpFamily;
  samples: SizeSample[];
}

/**
 * `runs` fresh labs per family at size n. In each run the families' labs are up together and take turns
 * (converging runs one after the other, then the converged runs; the family going first alternates).
 */
async function benchSize(n: number, runs: number, fams: LabIpFamily[] = families): Promise<SizeResult[]> {
  const out: SizeResult[] = fams.map((family) => ({ nodes: n, family, samples: [] }));
  for (let k = 1; k <= runs && !interrupted; k++) {
    const labs = fams.map((family) => ({ name: labName('bup', n, family), nodes: n, family }));
    await withLabs(labs, async (plans) => {
      const order = plans.map((_, i) => i);
      if (k % 2 === 0) order.reverse();
      const tag = (i: number) => `${n} nodes${famTag(fams[i]!)}, run ${k}/${runs}`;
      const converge: UpRun[] = [];
      for (const i of order) {
        await waitQuiet(tag(i));
        const c = await podnetUp(plans[i]!);
        log(`${tag(i)}: converging ${ms(c.wallMs)} (lab CPU ${ms(c.labCpuMs)}, CLI CPU ${ms(c.cliCpuMs)}, others ${ms(c.otherCpuMs)}), ${c.maxRoundTrips} round trip(s)/node`);
        converge[i] = c;
      }
      for (const i of order) {
        await waitQuiet(tag(i));
        const converged = await podnetUp(plans[i]!);
        log(`${tag(i)}: converged ${ms(converged.wallMs)}, ${converged.changes} change(s)`);
        out[i]!.samples.push({ converge: converge[i]!, converged });
      }
    });
  }
  return out;
}

/** Median of a metric over a size's samples. */
function med(r: SizeResult, pick: (s: SizeSample) => number): number {
  return median(r.samples.map(pick));
}

// ------------------------------------------------------------------------------------ naive baseline

/** What a hand-written bootstrap script does: one ssh per command, node after node. */
function naiveScript(plan: LabPlan): string {
  const cfg = `${plan.dir}/ssh_config`;
  const ssh = (node: string, cmd: string) => `ssh -n -F ${cfg} ${node} '${cmd}'`;
  const lines = ['#!/bin/bash', 'set -euo pipefail'];
  plan.nodes.forEach((node, i) => {
    const subnet = `10.244.${i}`;
    lines.push(
      `# ${node.name}`,
      ssh(node.name, 'sysctl -w net.ipv4.ip_forward=1'),
      ssh(node.name, 'ip link add cni0 type bridge'),
      ssh(node.name, `ip addr add ${subnet}.1/24 dev cni0`),
      ssh(node.name, 'ip link set cni0 up'),
      `ssh -F ${cfg} ${node.name} 'mkdir -p /etc/cni/net.d && cat > /etc/cni/net.d/10-podnet.conflist' <<'EOF'`,
      conflist(`${subnet}.0/24`, `${subnet}.1`),
      'EOF',
    );
    plan.nodes.forEach((peer, j) => {
      if (j !== i) lines.push(ssh(node.name, `ip route add 10.244.${j}.0/24 via ${peer.ip}`));
    });
    lines.push(
      ssh(node.name, 'iptables -A FORWARD -s 10.244.0.0/16 -j ACCEPT'),
      ssh(node.name, 'iptables -A FORWARD -d 10.244.0.0/16 -j ACCEPT'),
      ssh(node.name, `iptables -t nat -A POSTROUTING -s ${subnet}.0/24 ! -d 10.244.0.0/16 -j MASQUERADE`),
    );
  });
  return `${lines.join('\n')}\n`;
}

function naiveSshCount(n: number): number {
  return n * (4 + 1 + (n - 1) + 3);
}

function conflist(subnet: string, gateway: string): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'podnet',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          mtu: 1500,
          ipam: { type: 'host-local', ranges: [[{ subnet, gateway }]], routes: [{ dst: '10.244.0.0/16' }, { dst: '0.0.0.0/0' }] },
        },
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      ],
    },
    null,
    2,
  );
}

interface NaiveResult extends Cpu {
  nodes: number;
  sshCalls: number;
}

async function benchNaive(n: number): Promise<NaiveResult> {
  return withLab(`bnaive${n}`, n, async (plan) => {
    const script = naiveScript(plan);
    log(`${n} nodes: naive baseline (${naiveSshCount(n)} sequential ssh calls)`);
    await waitQuiet(`naive ${n}`);
    const [r, cpu] = await measured(plan, () => run(plan, { kind: 'operator' }, ['bash', '-s'], script));
    if (r.exitCode !== 0) throw new Error(`naive baseline failed in lab ${plan.name} (exit ${r.exitCode}): ${r.stderr.trim().slice(-2000)}`);
    // Sanity: the last node got a route to every peer.
    const last = plan.nodes[plan.nodes.length - 1]!.name;
    const routes = await run(plan, { kind: 'node', node: last }, ['ip', '-4', 'route', 'show', 'root', '10.244.0.0/16']);
    const via = routes.stdout.split('\n').filter((l) => l.includes(' via ')).length;
    if (via !== n - 1) throw new Error(`naive baseline: ${last} has ${via} peer routes, expected ${n - 1}`);
    log(`${n} nodes: naive baseline ${ms(cpu.wallMs)} (lab CPU ${ms(cpu.labCpuMs)})`);
    return { nodes: n, sshCalls: naiveSshCount(n), ...cpu };
  });
}

// ----------------------------------------------------------------------------------------- 5k routes

interface RoutesResult {
  count: number;
  samplesMs: number[];
  medianMs: number;
  scriptBytes: number;
}

function routeChanges(count: number, via: string): Change[] {
  const out: Change[] = [];
  for (let k = 0; k < count; k++) {
    // 10.100.0.0/24, 10.100.1.0/24, … 10.119.135.0/24 for 5,000: outside the lab's pod CIDR, never used for traffic.
    const podCIDR = `10.${100 + Math.floor(k / 256)}.${k % 256}.0/24`;
    out.push({ kind: 'route-set', route: { peer: `bench-${k}`, family: 'ipv4', podCIDR, kind: 'direct', via, dev: 'eth0', onlink: false } });
  }
  return out;
}

async function benchRoutes(count: number, samples: number): Promise<RoutesResult> {
  return withLab('broutes', 2, async (plan) => {
    const via = plan.nodes[1]!.ip;
    const script = renderNodeScript(routeChanges(count, via), { files: false });
    // Timed inside the node: ssh, nsenter and process start-up are not part of the number.
    const timed = `t0=$(date +%s%N)\n(\n${script})\nrc=$?\nt1=$(date +%s%N)\necho "@@bench-ns $((t1 - t0)) $rc $(ip -4 route show proto 157 | wc -l)"\nip route flush proto 157\n`;
    const out: number[] = [];
    for (let s = 0; s < samples; s++) {
      await waitQuiet(`${count} routes`);
      const r = await run(plan, { kind: 'node', node: plan.nodes[0]!.name }, ['sh', '-s'], timed);
      const m = /^@@bench-ns (\d+) (\d+) (\d+)$/m.exec(r.stdout);
      if (!m) throw new Error(`route script printed no timing (exit ${r.exitCode}): ${r.stderr.trim().slice(-2000)}`);
      if (m[2] !== '0') throw new Error(`route script failed (exit ${m[2]}): ${r.stderr.trim().slice(-2000)}`);
      if (Number(m[3]) !== count) throw new Error(`route script programmed ${m[3]} routes, expected ${count}`);
      out.push(Number(m[1]) / 1e6);
      log(`${count} routes: ${ms(out[s]!)}`);
    }
    const left = await run(plan, { kind: 'node', node: plan.nodes[0]!.name }, ['sh', '-c', 'ip -4 route show proto 157 | wc -l']);
    if (left.stdout.trim() !== '0') throw new Error(`${left.stdout.trim()} bench routes left after flush`);
    return { count, samplesMs: out, medianMs: median(out), scriptBytes: Buffer.byteLength(script) };
  });
}

// -------------------------------------------------------------------------------------------- report

function pass(ok: boolean | undefined): string {
  return ok === undefined ? 'n/a' : ok ? 'PASS' : 'MISS';
}

interface Target {
  name: string;
  measured: string;
  ok: boolean | undefined;
}

function report(sizeResults: SizeResult[], naive: NaiveResult[], routes: RoutesResult | undefined, at: BenchStart): { md: string; targets: Target[] } {
  const by = (n: number, f: LabIpFamily = 'ipv4') => sizeResults.find((r) => r.nodes === n && r.family === f && r.samples.length);
  const podnetWall = (n: number, f: LabIpFamily = 'ipv4') => {
    const r = by(n, f);
    return r ? med(r, (s) => s.converge.wallMs) : NaN;
  };
  const targets: Target[] = [];
  const small = by(4);
  const big = by(32);
  if (small && big) {
    const ratio = podnetWall(32) / podnetWall(4);
    targets.push({ name: `32 nodes within 1.5× the 4-node time (${showFamily ? 'IPv4-only, ' : ''}converging run, wall, median)`, measured: `${ms(podnetWall(32))} / ${ms(podnetWall(4))} = ${ratio.toFixed(2)}×`, ok: ratio <= 1.5 });
  }
  for (const f of families.filter((x) => x !== 'ipv4')) {
    if (by(4, f) && by(32, f)) {
      const ratio = podnetWall(32, f) / podnetWall(4, f);
      targets.push({ name: `${FAMILY_NAME[f]}: 32 nodes against the 4-node time (converging run, wall, median; report only)`, measured: `${ms(podnetWall(32, f))} / ${ms(podnetWall(4, f))} = ${ratio.toFixed(2)}×`, ok: undefined });
    }
  }
  // Each other family against IPv4-only at the largest size measured with both (report only: the issue sets no target for up).
  const bothSizes = (f: LabIpFamily) => [...new Set(sizeResults.map((r) => r.nodes))].filter((n) => by(n) && by(n, f)).sort((a, b) => a - b);
  for (const f of families.filter((x) => x !== 'ipv4')) {
    const top = bothSizes(f).pop();
    if (top === undefined) continue;
    const ratio = podnetWall(top, f) / podnetWall(top);
    targets.push({ name: `${FAMILY_NAME[f]} \`up\` at ${top} nodes vs IPv4-only (converging run, wall, median; report only)`, measured: `${ms(podnetWall(top, f))} / ${ms(podnetWall(top))} = ${ratio.toFixed(2)}×`, ok: undefined });
  }
  if (sizeResults.length) {
    const rt = Math.max(...sizeResults.flatMap((r) => r.samples.map((s) => s.converge.maxRoundTrips)));
    targets.push({ name: `≤ 2 SSH round trips per node (converging run, max over nodes, sizes${showFamily ? ', families' : ''} and runs)`, measured: String(rt), ok: rt <= 2 });
    const dirty = sizeResults.flatMap((r) => r.samples.filter((s) => s.converged.changes !== 0).map((s) => `${r.nodes} nodes${famTag(r.family)}: ${s.converged.changes}`));
    targets.push({ name: 'second run changes nothing', measured: dirty.length ? dirty.join(', ') : '0 changes in every run', ok: dirty.length === 0 });
  }
  const n16 = naive.find((r) => r.nodes === 16);
  if (n16) {
    const ratio = n16.wallMs / podnetWall(16);
    targets.push({ name: '≥ 5× faster than the naive script at 16 nodes', measured: `${ms(n16.wallMs)} / ${ms(podnetWall(16))} = ${ratio.toFixed(1)}×`, ok: Number.isFinite(ratio) ? ratio >= 5 : undefined });
  }
  if (routes) targets.push({ name: `${routes.count.toLocaleString('en-US')} routes on one node < 1 s`, measured: ms(routes.medianMs), ok: routes.medianMs < 1000 });

  const md: string[] = [];
  md.push('# podnet benchmarks', '');
  md.push(...headerLines(at));
  md.push(loadLine([...sizeResults.flatMap((r) => r.samples.flatMap((s) => [s.converge, s.converged])), ...naive]));
  md.push(
    `- reproduce (root, after \`scripts/setup.sh\`): \`node --import tsx scripts/bench-up.ts --sizes ${sizes.join(',')}${showFamily ? ` --families ${families.join(',')}` : ''} --repeat ${repeat} --naive-sizes ${naiveSizes.join(',') || "''"} --routes ${routeCount}${maxWait !== 90 ? ` --max-wait ${maxWait}` : ''}${values.out ? ` --out ${values.out}` : ''}\``,
  );
  md.push(
    `- labs: flat (one L2 segment); every node is a network namespace with its own sshd on this machine, so all nodes' sshd, shells and scripts share the same ${CORES} cores as the CLI. Lab CPU is the lab cgroup's CPU time (CLI, ssh clients and control masters, every node's sshd and scripts); "others" is CPU used outside the lab during the run (a shared machine).`,
  );
  md.push('');
  md.push('## Targets', '', '| target | measured | result |', '|---|---|---|');
  for (const t of targets) md.push(`| ${t.name} | ${t.measured} | ${pass(t.ok)} |`);
  md.push('');
  if (sizeResults.length) {
    md.push('## `podnet up` by cluster size', '');
    md.push(
      `Medians over ${repeat} fresh lab(s) per size${showFamily ? ' and family (`lab up --ip-family`; in each run the families\' labs are up together and their runs take turns, the converging runs one after the other, then the converged runs)' : ''}. Wall time is measured around the whole CLI process (node start-up included); \`elapsedMs\` is podnet's own figure from the JSON report. CLI CPU is node plus its ssh clients (user + sys). Saturation = lab CPU / (wall × ${CORES} cores).`,
      '',
    );
    md.push(
      `| nodes |${showFamily ? ' family |' : ''} converging run (wall) | elapsedMs | lab CPU | CLI CPU | saturation | others | converged run (wall) | changes on 2nd run | round trips/node (max, 1st / 2nd) | peak RSS |`,
      `|---:|${showFamily ? '---|' : ''}---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
    );
    for (const r of sizeResults) {
      const c = (f: (u: UpRun) => number) => med(r, (s) => f(s.converge));
      const rss = Math.max(...r.samples.flatMap((s) => [s.converge.rssMB, s.converged.rssMB]).filter(Number.isFinite));
      const sat = c((u) => u.labCpuMs / (u.wallMs * CORES));
      md.push(
        `| ${r.nodes} |${showFamily ? ` ${r.family} |` : ''} ${ms(c((u) => u.wallMs))} | ${Math.round(c((u) => u.elapsedMs))} | ${ms(c((u) => u.labCpuMs))} | ${ms(c((u) => u.cliCpuMs))} | ${Number.isFinite(sat) ? `${Math.round(sat * 100)}%` : 'n/a'} | ${ms(c((u) => u.otherCpuMs))} | ${ms(med(r, (s) => s.converged.wallMs))} | ${Math.max(...r.samples.map((s) => s.converged.changes))} | ${Math.max(...r.samples.map((s) => s.converge.maxRoundTrips))} / ${Math.max(...r.samples.map((s) => s.converged.maxRoundTrips))} | ${Number.isFinite(rss) ? `${rss.toFixed(0)} MB` : 'n/a'} |`,
      );
    }
    md.push('');
    for (const f of families.filter((x) => x !== 'ipv4')) {
      const ns = bothSizes(f);
      if (!ns.length) continue;
      md.push(
        `${FAMILY_NAME[f]} against IPv4-only, same sizes, same run (medians; a ratio is ${f} over IPv4-only):`,
        '',
        `| nodes | IPv4-only converging (wall) | ${f} converging (wall) | ratio | lab CPU ratio | CLI CPU ratio | IPv4-only converged (wall) | ${f} converged (wall) | ratio | changes on the converging run (IPv4 / ${f}) |`,
        '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      );
      for (const n of ns) {
        const b = by(n)!;
        const o = by(n, f)!;
        const m = (r: SizeResult, pick: (s: SizeSample) => number) => med(r, pick);
        const ratio = (pick: (s: SizeSample) => number) => `${(m(o, pick) / m(b, pick)).toFixed(2)}×`;
        md.push(
          `| ${n} | ${ms(m(b, (s) => s.converge.wallMs))} | ${ms(m(o, (s) => s.converge.wallMs))} | ${ratio((s) => s.converge.wallMs)} | ${ratio((s) => s.converge.labCpuMs)} | ${ratio((s) => s.converge.cliCpuMs)} | ${ms(m(b, (s) => s.converged.wallMs))} | ${ms(m(o, (s) => s.converged.wallMs))} | ${ratio((s) => s.converged.wallMs)} | ${Math.round(m(b, (s) => s.converge.changes))} / ${Math.round(m(o, (s) => s.converge.changes))} |`,
        );
      }
      md.push('');
    }
    md.push('<details><summary>every run (converging wall / lab CPU / CLI CPU / others; converged wall)</summary>', '');
    for (const r of sizeResults) {
      md.push(`- ${r.nodes} nodes${famTag(r.family)}: ${r.samples.map((s) => `${ms(s.converge.wallMs)} / ${ms(s.converge.labCpuMs)} / ${ms(s.converge.cliCpuMs)} / ${ms(s.converge.otherCpuMs)}; ${ms(s.converged.wallMs)}`).join(' — ')}`);
    }
    md.push('', '</details>', '');
  }
  if (naive.length) {
    md.push('## Naive baseline', '');
    md.push('One `ssh -F ssh_config node-i \'<command>\'` per command (sysctl, bridge, address, link up, conflist, one route per peer, three iptables rules), node after node, from the operator namespace. One run per size.', '');
    md.push('| nodes | ssh calls | naive (wall) | naive lab CPU | others | podnet converging run (wall, median) | podnet speed-up |', '|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of naive) md.push(`| ${r.nodes} | ${r.sshCalls} | ${ms(r.wallMs)} | ${ms(r.labCpuMs)} | ${ms(r.otherCpuMs)} | ${ms(podnetWall(r.nodes))} | ${(r.wallMs / podnetWall(r.nodes)).toFixed(1)}× |`);
    md.push('');
  }
  if (routes) {
    md.push('## Bulk routes', '');
    md.push(
      `${routes.count.toLocaleString('en-US')} \`route-set\` changes rendered by \`renderNodeScript\` (one \`ip -batch\`, ${Math.round(routes.scriptBytes / 1024)} KiB script), run on one lab node and timed inside the node with \`date +%s%N\` (ssh and process start-up excluded); routes flushed (\`ip route flush proto 157\`) after each sample.`,
      '',
    );
    md.push(`| routes | median | samples |`, '|---:|---:|---|', `| ${routes.count.toLocaleString('en-US')} | ${ms(routes.medianMs)} | ${routes.samplesMs.map(ms).join(', ')} |`, '');
  }
  return { md: `${md.join('\n')}\n`, targets };
}

// ---------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const at = await startBench();

  const sizeResults: SizeResult[] = [];
  for (const n of sizes) {
    if (interrupted) return;
    sizeResults.push(...(await benchSize(n, repeat)));
  }
  // A naive size not among --sizes still needs podnet's (IPv4) time at that size.
  for (const n of naiveSizes) if (!sizeResults.some((r) => r.nodes === n && r.family === 'ipv4') && !interrupted) sizeResults.push(...(await benchSize(n, repeat, ['ipv4'])));
  const famOrder = (f: LabIpFamily) => ['ipv4', 'ipv6', 'dual'].indexOf(f);
  sizeResults.sort((a, b) => a.nodes - b.nodes || famOrder(a.family) - famOrder(b.family));

  const naive: NaiveResult[] = [];
  for (const n of naiveSizes) {
    if (interrupted) return;
    naive.push(await benchNaive(n));
  }

  const routes = routeCount > 0 && !interrupted ? await benchRoutes(routeCount, 3) : undefined;
  if (interrupted) return;

  const { md, targets } = report(sizeResults, naive, routes, at);
  process.stdout.write(md);
  if (values.out) {
    writeSections(resolve(values.out), md);
    log(`wrote ${values.out}`);
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
}
