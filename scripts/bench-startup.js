#!/usr/bin/env node
// Start-up benchmark (not a test): how much slower than a bare `node -e 0` is it to start podnet?
//
// Usage: node scripts/bench-startup.js [--runs N] [--check] [--max-ratio R]
//   --runs N        runs per case (default 20), after 2 warm-up runs each; cases are interleaved run by run
//   --check         exit 1 if `podnet --version` or `kubectl podnet --version` is more than R × bare node (median)
//   --max-ratio R   the limit for --check (default 2.5)
// Needs a build (npm run build): it runs bin/*.js, which read dist/ and oclif.manifest.json.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    check: { type: 'boolean', default: false },
    'max-ratio': { type: 'string', default: '2.5' },
  },
});
const runs = Number(values.runs);
const maxRatio = Number(values['max-ratio']);
if (!Number.isInteger(runs) || runs < 1) fail(`--runs: expected a positive integer, got "${values.runs}"`);
if (!(maxRatio > 0)) fail(`--max-ratio: expected a positive number, got "${values['max-ratio']}"`);

const run = join(root, 'bin', 'run.js');
const kubectl = join(root, 'bin', 'kubectl-podnet.js');
/** label, argv after node, checked against the ratio limit */
const cases = [
  { label: 'node -e 0', args: ['-e', '0'], base: true },
  { label: 'podnet --version', args: [run, '--version'], checked: true },
  { label: 'podnet --help', args: [run, '--help'] },
  { label: 'kubectl podnet --version', args: [kubectl, '--version'], checked: true },
  { label: 'podnet __complete -- lab u', args: [run, '__complete', '--', 'lab', 'u'] },
];

// NODE_OPTIONS from the caller (a debugger, a loader) would distort the numbers.
const env = { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1' };
function once(c) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, c.args, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) fail(`${c.label} failed (exit ${r.status ?? r.signal}): ${r.stderr}`);
  return ms;
}

for (const c of cases) for (let i = 0; i < 2; i++) once(c);
const samples = cases.map(() => []);
for (let i = 0; i < runs; i++) cases.forEach((c, k) => samples[k].push(once(c)));

const stats = samples.map((s) => {
  const sorted = [...s].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], p90: at(0.9) };
});
const base = stats[cases.findIndex((c) => c.base)].median;

const rows = cases.map((c, k) => [c.label, fmt(stats[k].median), fmt(stats[k].min), fmt(stats[k].p90), `${(stats[k].median / base).toFixed(2)}x`]);
const head = ['case', 'median', 'min', 'p90', 'vs node'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => cells.map((s, i) => (i === 0 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join('  ');
console.log(`start-up time, ${runs} runs each (node ${process.version}, ${process.platform}-${process.arch})\n`);
console.log(line(head));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(r));

if (values.check) {
  const slow = cases.map((c, k) => ({ c, ratio: stats[k].median / base })).filter((x) => x.c.checked && x.ratio > maxRatio);
  if (slow.length > 0) {
    for (const { c, ratio } of slow) console.error(`start-up check failed: "${c.label}" takes ${ratio.toFixed(2)}x bare node (limit ${maxRatio}x)`);
    console.error('look for modules imported at start-up: node --cpu-prof bin/run.js --version');
    process.exit(1);
  }
  console.log(`\nstart-up check passed (limit ${maxRatio}x bare node)`);
}

function fmt(ms) {
  return `${ms.toFixed(1)}ms`;
}

function fail(message) {
  console.error(`bench-startup: ${message}`);
  process.exit(2);
}
