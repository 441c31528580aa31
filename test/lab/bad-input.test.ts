/**
 * The bad-input corpus (test/corpus/bad-input/*.yaml, one case per file) against a real lab: every case
 * on clean nodes and again on nodes podnet has bootstrapped. Each run must exit with the case's code,
 * say in one line which field or flag is at fault, and leave every node exactly as it was (a snapshot
 * of links, addresses, routes, iptables rules, podnet's files and the CNI config before and after).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { startLab, type TestLab } from '../helpers/lab.js';

const CORPUS = join(import.meta.dirname, '..', 'corpus', 'bad-input');

interface Case {
  file: string;
  description: string;
  args?: string[];
  patch?: Record<string, unknown>;
  appendNodes?: Record<string, unknown>[];
  setup?: { node: string; script: string };
  teardown?: { node: string; script: string };
  states?: ('clean' | 'bootstrapped')[];
  exit: number;
  field: string;
}

function loadCorpus(): Case[] {
  return readdirSync(CORPUS)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => ({ file, ...(parse(readFileSync(join(CORPUS, file), 'utf8')) as Omit<Case, 'file'>) }));
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Mappings merge; lists and values replace. */
function merge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = isMapping(v) && isMapping(out[k]) ? merge(out[k], v) : v;
  return out;
}

/** Replace "@node-1.ip" placeholders (in any string of a value) by the lab's values. */
function substitute<T>(value: T, lab: TestLab): T {
  const text = JSON.stringify(value).replace(/@(node-\d+)\.ip/g, (_m, name: string) => {
    const n = lab.plan.nodes.find((x) => x.name === name);
    assert.ok(n, `no ${name} in the lab`);
    return n.ip;
  });
  return JSON.parse(text) as T;
}

// Everything podnet could change on a node; the lock file in /run is the only trace a refused run may leave.
// IPv6 link-local addresses and routes come and go on their own (DAD after a link comes up): left out.
const SNAPSHOT = `ip -br link | sort; echo ==; ip -br addr | sed 's/ fe80::[^ ]*//' | sort; echo ==
ip -4 route show table all; ip -6 route show table main | grep -v '^fe80::'; echo ==
ip neigh show nud permanent; echo ==; bridge fdb show | grep -v -e ' permanent$' -e '^33:33' -e '^01:00' || true; echo ==
iptables -S; iptables -t nat -S; echo ==; sysctl -n net.ipv4.ip_forward
find /etc/cni/net.d /etc/podnet /etc/sysctl.d /etc/modules-load.d /etc/systemd/system/podnet.service -type f 2>/dev/null | sort | xargs -r sha256sum
ls -A /run | grep -v '^podnet.lock' | sort; ls -A /var/lib/cni 2>/dev/null`;

async function snapshot(lab: TestLab): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  await Promise.all(
    lab.plan.nodes.map(async (n) => {
      const r = await lab.shOnNode(n.name, SNAPSHOT);
      assert.equal(r.stderr, '', `snapshot of ${n.name}: ${r.stderr}`);
      out[n.name] = r.stdout;
    }),
  );
  return out;
}

async function runCase(lab: TestLab, c: Case, state: string): Promise<void> {
  const base = parse(readFileSync(lab.inventory, 'utf8')) as Record<string, unknown>;
  let doc = c.patch ? merge(base, substitute(c.patch, lab)) : base;
  if (c.appendNodes) doc = { ...doc, nodes: [...(doc.nodes as unknown[]), ...substitute(c.appendNodes, lab)] };
  const path = `${lab.plan.dir}/corpus-${c.file}`;
  const w = await lab.onOperator(['sh', '-c', `cat > '${path}'`], stringify(doc));
  assert.equal(w.exitCode, 0);
  if (c.setup) {
    const s = await lab.shOnNode(c.setup.node, c.setup.script);
    assert.equal(s.exitCode, 0, `setup of ${c.file}: ${s.stderr}`);
  }
  try {
    const before = await snapshot(lab);
    const args = (c.args ?? ['up', '-i', '@inventory']).map((a) => (a === '@inventory' ? path : a));
    const r = await lab.podnet(args);
    const lines = r.stderr.split('\n').filter(Boolean);
    const error = lines.find((l) => l.startsWith('error: '));
    const where = `${c.file} (${state}): podnet ${args.join(' ')} → exit ${r.exitCode}\n${r.stderr}`;
    assert.equal(r.exitCode, c.exit, where);
    assert.ok(error, `no error line: ${where}`);
    assert.ok(error.slice('error: '.length).startsWith(substitute(c.field, lab)), `the error does not start with ${JSON.stringify(c.field)}: ${where}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `a stack trace: ${where}`);
    assert.ok(![...r.stderr].some((ch) => (ch < ' ' && ch !== '\n') || ch === '\x7f'), `raw control characters: ${where}`);
    assert.equal(r.stdout, '', `data on stdout for a refused run: ${where}`);
    assert.deepEqual(await snapshot(lab), before, `a node changed: ${where}`);
  } finally {
    if (c.teardown) await lab.shOnNode(c.teardown.node, c.teardown.script);
  }
}

const corpus = loadCorpus();

describe('bad-input corpus: refused with exit 2 naming the field, on clean and bootstrapped nodes, nothing changed', () => {
  let lab: TestLab;
  before(async () => {
    lab = await startLab('tcorpus', ['--nodes', '3']);
  });
  after(() => lab?.down());

  it('the corpus has cases and each names what it expects', () => {
    assert.ok(corpus.length >= 20, `only ${corpus.length} cases`);
    for (const c of corpus) assert.ok(c.description && typeof c.exit === 'number' && c.field, `${c.file} lacks description, exit or field`);
  });

  it('on clean nodes', async () => {
    for (const c of corpus.filter((x) => !x.states || x.states.includes('clean'))) await runCase(lab, c, 'clean');
  });

  it('on bootstrapped nodes', async () => {
    const up = await lab.podnet(['up', '-i', lab.inventory]);
    assert.equal(up.exitCode, 0, up.stderr);
    for (const c of corpus.filter((x) => !x.states || x.states.includes('bootstrapped'))) await runCase(lab, c, 'bootstrapped');
  });
});
