/**
 * The facts round trip's cost on a node: the node CPU (user + system, the script and every process it
 * starts) of the facts script podnet sends, on a bootstrapped lab node, without remembered plugin answers
 * (every CNI plugin asked for VERSION, as before podnet cached them) and with them (what every later
 * command pays). Medians of N runs each.
 *
 *   node --import tsx scripts/bench-facts.ts [--runs N] [--out docs/benchmarks.md]
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { renderFactsScript } from '../src/facts/gather.js';
import { parseFacts } from '../src/facts/parse.js';
import { PluginVersionCache } from '../src/facts/plugin-cache.js';
import { fail, headerLines, log, median, ms, podnetLocal, run, setBenchName, startBench, withLab, writeSections } from './bench-lib.js';

setBenchName('bench-facts');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' }, out: { type: 'string' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 3) fail('--runs: expected an integer of at least 3');

/** CPU of one facts run on the node: GNU time's user + system of `sh -s`, which includes its reaped children. */
async function cpuOf(plan: Parameters<typeof run>[0], script: string): Promise<{ cpuMs: number; stdout: string }> {
  const r = await run(plan, { kind: 'node', node: 'node-1' }, ['/usr/bin/time', '-f', '@@cpu %U %S', 'sh', '-s'], script);
  const m = /@@cpu ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (!m) fail(`no CPU figure from /usr/bin/time: ${r.stderr.trim()}`);
  return { cpuMs: (Number(m[1]) + Number(m[2])) * 1000, stdout: r.stdout };
}

const at = await startBench();
const result = await withLab('bfacts', 2, async (plan) => {
  const up = await podnetLocal(['lab', 'exec', '--name', 'bfacts', '--', 'podnet', 'up', '-i', `${plan.dir}/inventory.yaml`]);
  if (up.exitCode !== 0) fail(`podnet up failed: ${up.stderr.trim()}`);
  const cold = renderFactsScript();
  const first = await cpuOf(plan, cold);
  const cache = new PluginVersionCache(undefined);
  cache.remember('node-1', parseFacts(first.stdout));
  const warm = renderFactsScript({ known: cache.known('node-1') });
  if (cache.known('node-1').size === 0) fail('no plugin answers to remember: is the lab bootstrapped?');
  const coldMs: number[] = [];
  const warmMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    coldMs.push((await cpuOf(plan, cold)).cpuMs);
    warmMs.push((await cpuOf(plan, warm)).cpuMs);
  }
  return { cold: median(coldMs), warm: median(warmMs), coldAll: coldMs, warmAll: warmMs, plugins: cache.known('node-1').size };
});
log(`facts script node CPU: ${ms(result.cold)} asking every plugin, ${ms(result.warm)} with remembered answers (${result.plugins} plugins)`);

const md = [
  '## Facts round trip: node CPU',
  '',
  ...headerLines(at),
  `- a bootstrapped lab node; the facts script run ${runs} times each way through \`sh -s\` under GNU time (user + system, children included); medians`,
  '',
  '| facts script | node CPU (median) | all runs |',
  '|---|---:|---|',
  `| asking every CNI plugin for VERSION (before) | ${ms(result.cold)} | ${result.coldAll.map((x) => x.toFixed(0)).join(' ')} |`,
  `| remembered answers for ${result.plugins} plugins (every later command) | ${ms(result.warm)} | ${result.warmAll.map((x) => x.toFixed(0)).join(' ')} |`,
  '',
  'History (same machine, same method): the facts script as it was before the plugin answers were remembered and the shell read /proc itself (uid, legacy iptables tables) and stopped starting a process per absent tool (nmcli) or backend save: 270 ms asking every plugin; with remembered answers only, 150 ms. The facts of the 17 failure modes added since (policy rules and their tables, IPAM state, the libcni cache, the runtime CNI settings, sysctl files, native nftables where firewalld or the nftables service manage it) cost no more: links, addresses, routes, neighbours and rules come from one `ip -batch`, and one grep reads /proc/stat, the runtime configuration and the sysctl files.',
].join('\n');
if (values.out) writeSections(resolve(values.out), md);
else process.stdout.write(`${md}\n`);
