/**
 * Re-captures the facts fixtures under test/fixtures/facts/ from real labs (needs root and a built CLI):
 *
 *   npm run build && node --import tsx test/helpers/capture-facts.ts [--name fk1]
 *
 * For each topology (flat, routed) it starts a 3-node lab, runs the facts script over SSH from the
 * operator namespace (as podnet does, so ssh_connection and the node IP are real), then `podnet up`,
 * then again, then breaks node-2 a little (its routes to peers flushed, IPv4 forwarding off) and
 * captures a third time. Scenarios: <topology>-clean, <topology>-up, <topology>-drift; each holds one
 * <node>.txt per node, the inventory used, and (clean only) what the real `podnet up` reported.
 * The lab is always torn down. Values that change from run to run without meaning anything are made
 * stable (see normalise), so a re-capture shows only real differences.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { podnet, REPO } from './cli.js';
import { labRun, readLabPlan } from '../../src/lab/service.js';
import { labNetnsPrefix, type LabPlan, type Topology } from '../../src/lab/topology.js';
import { renderFactsScript } from '../../src/facts/gather.js';
import { vtepMac } from '../../src/plan/desired.js';

const OUT = join(REPO, 'test/fixtures/facts');
const name = process.argv.includes('--name') ? process.argv[process.argv.indexOf('--name') + 1]! : 'fk1';

type Capture = Map<string, string>;

async function factsOfNodes(plan: LabPlan): Promise<Capture> {
  const script = renderFactsScript({});
  const out: Capture = new Map();
  for (const n of plan.nodes) {
    const r = await labRun(plan, { kind: 'operator' }, ['ssh', '-F', `${plan.dir}/ssh_config`, n.name, 'sh -s'], { input: script, timeoutMs: 60_000 });
    if (r.exitCode !== 0 || !r.stdout.includes('@@podnet:section end')) throw new Error(`facts of ${n.name} (exit ${r.exitCode}): ${r.stderr}`);
    out.set(n.name, r.stdout);
  }
  return out;
}

async function inLab(plan: LabPlan, target: { kind: 'operator' } | { kind: 'node'; node: string }, argv: string[]): Promise<string> {
  const r = await labRun(plan, target, argv, { timeoutMs: 180_000 });
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} (exit ${r.exitCode}): ${r.stderr}`);
  return r.stdout;
}

/** The modified EUI-64 link-local address the kernel derives from a MAC, as `ip` prints it. */
function linkLocalOf(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  const groups = [((b[0]! ^ 2) << 8) | b[1]!, (b[2]! << 8) | 0xff, (0xfe << 8) | b[3]!, (b[4]! << 8) | b[5]!];
  return `fe80::${groups.map((g) => g.toString(16)).join(':')}`;
}

/**
 * Stable values for what differs between two captures of the same lab: MACs the kernel picks at random
 * (veths, bridges; VTEP MACs are derived from node IPs and stay) and the link-local addresses made from
 * them, and the client port of the SSH connection. One map per lab run, so a MAC is the same in every
 * scenario and every node file that mentions it.
 */
function normaliser(plan: LabPlan): (text: string) => string {
  const keep = new Set(['00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', ...plan.nodes.map((n) => vtepMac(n.ip))]);
  const macs = new Map<string, string>();
  return (text) => {
    let t = text.replace(/^ssh_connection=(\S+) \d+ /m, 'ssh_connection=$1 50000 ');
    for (const m of t.match(/\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b/g) ?? []) {
      // multicast (odd first octet) addresses are fixed by the protocol
      if (keep.has(m) || parseInt(m.slice(0, 2), 16) & 1 || macs.has(m)) continue;
      macs.set(m, `02:fa:ce:00:00:${(macs.size + 1).toString(16).padStart(2, '0')}`);
    }
    for (const [from, to] of macs) t = t.split(from).join(to).split(`"${linkLocalOf(from)}"`).join(`"${linkLocalOf(to)}"`);
    return t;
  };
}

function save(scenario: string, plan: LabPlan, capture: Capture, normalise: (t: string) => string, extra: Record<string, string> = {}): void {
  const dir = join(OUT, scenario);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [node, text] of capture) writeFileSync(join(dir, `${node}.txt`), normalise(text));
  const inv = readFileSync(`${plan.dir}/inventory.yaml`, 'utf8').replace(/^#.*\n/gm, '');
  writeFileSync(join(dir, 'inventory.yaml'), `# The inventory of the ${plan.topology} lab these facts were captured from (test/helpers/capture-facts.ts).\n${inv}`);
  for (const [file, text] of Object.entries(extra)) writeFileSync(join(dir, file), text);
  console.error(`captured ${scenario}: ${[...capture.keys()].join(', ')}`);
}

async function captureTopology(topology: Topology): Promise<void> {
  const up = await podnet(['lab', 'up', '--name', name, '--nodes', '3', '--topology', topology]);
  if (up.exitCode !== 0) throw new Error(`lab up: ${up.stderr}`);
  try {
    const plan = readLabPlan(name);
    const normalise = normaliser(plan);
    const clean = await factsOfNodes(plan);
    const report = JSON.parse(await inLab(plan, { kind: 'operator' }, ['podnet', 'up', '-i', `${plan.dir}/inventory.yaml`, '--json'])) as {
      mode: string;
      nodes: { node: string; podCIDR?: string; result: string; changes: string[] }[];
    };
    // What the real run did, without its timings: what the unit tests' plan must agree with.
    const real = { mode: report.mode, nodes: report.nodes.map(({ node, podCIDR, result, changes }) => ({ node, podCIDR, result, changes })) };
    save(`${topology}-clean`, plan, clean, normalise, { 'up-report.json': normalise(`${JSON.stringify(real, null, 2)}\n`) });
    save(`${topology}-up`, plan, await factsOfNodes(plan), normalise);
    await inLab(plan, { kind: 'node', node: 'node-2' }, ['sh', '-c', 'ip route flush proto 157 && sysctl -qw net.ipv4.ip_forward=0']);
    save(`${topology}-drift`, plan, await factsOfNodes(plan), normalise);
  } finally {
    const down = await podnet(['lab', 'down', '--name', name]);
    if (down.exitCode !== 0) console.error(`lab down failed: ${down.stderr}`);
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(labNetnsPrefix(name)));
    if (left.length) console.error(`namespaces left behind: ${left.join(', ')}`);
  }
}

for (const t of ['flat', 'routed'] as const) await captureTopology(t);
