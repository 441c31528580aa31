/**
 * Unit tests for the services (doctor, plan/up/status/down, probe) on facts captured from real labs
 * (test/fixtures/facts/, see test/helpers/capture-facts.ts), through FakeTransport: what each service
 * reports per node, which scripts it sends to which node and how many round trips, and how it behaves
 * when a node is unreachable, times out, fails its script, or is locked by another run.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test, type TestContext } from 'node:test';
import { parseInventory } from '../../src/inventory/load.js';
import { runDoctor, type DoctorReport } from '../../src/services/doctor.js';
import { runDown, runStatus, runUp, type RunContext } from '../../src/services/bootstrap.js';
import { runProbe } from '../../src/services/probe.js';
import { silentProgress } from '../../src/services/progress.js';
import { RESULT_MARK } from '../../src/cni/runtime.js';
import { ExitCode, NodeBusy, UserError } from '../../src/util/errors.js';
import type { NodeTarget } from '../../src/transport/types.js';
import { fakeFromCapture, loadCapture, type FakeAnswer, type FakeTransport } from '../helpers/fake-transport.js';

// Services remember CNI plugin answers in the user's cache file: not from tests.
process.env.PODNET_NO_CACHE = '1';

const NODES = ['node-1', 'node-2', 'node-3'];
const HOLDER = 'podnet up by alice@ops-1 (pid 4242, run 0123456789ab, as node-2) since 2026-01-01T00:00:00.000Z';

function ctx(transport: FakeTransport, concurrency = 8): RunContext {
  return { transport, concurrency, progress: silentProgress };
}

/** Finding ids per node, in the report's order. */
function findingIds(r: DoctorReport): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of r.findings) (out[f.node] ??= []).push(f.id);
  return out;
}

function tripsOf(t: FakeTransport): Record<string, number> {
  return Object.fromEntries(NODES.map((n) => [n, t.roundTrips.get(n) ?? 0]));
}

/** The change scripts (everything but facts) each node ran. */
function scriptsPerNode(t: FakeTransport): Record<string, number> {
  return Object.fromEntries(NODES.map((n) => [n, t.scriptsRun(n).length]));
}

/** What the real `podnet up` reported on the lab the clean capture came from. */
function realUpReport(scenario: string): { mode: string; nodes: { node: string; podCIDR: string; result: string; changes: string[] }[] } {
  return JSON.parse(readFileSync(new URL(`../fixtures/facts/${scenario}/up-report.json`, import.meta.url), 'utf8'));
}

/**
 * Runs a service whose lock retries wait on setTimeout (up to ~7 s of random pauses) with mocked timers,
 * ticking them forward until it settles.
 */
async function withFastTimers<T>(t: TestContext, run: () => Promise<T>): Promise<T> {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const p = run();
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  while (!settled) {
    await new Promise((r) => setImmediate(r));
    t.mock.timers.tick(1000);
  }
  return p;
}

describe('FakeTransport on captured facts', () => {
  test('every capture parses into three reachable nodes with the IPs sshd was reached on', async () => {
    const want: Record<string, string[]> = { flat: ['192.0.2.11', '192.0.2.12', '192.0.2.13'], routed: ['192.0.2.11', '192.0.2.12', '198.51.100.11'] };
    for (const topo of ['flat', 'routed']) {
      for (const state of ['clean', 'up', 'drift']) {
        const c = loadCapture(`${topo}-${state}`);
        assert.deepEqual(Object.keys(c.facts).sort(), NODES);
        const r = await runDoctor(c.inventory, ctx(fakeFromCapture(c)));
        assert.deepEqual(
          r.nodes.map((n) => [n.node, n.reachable, n.nodeIP]),
          NODES.map((n, i) => [n, true, want[topo]![i]]),
          `${topo}-${state}`,
        );
      }
    }
  });
});

describe('runDoctor', () => {
  test('clean nodes: forwarding off and no CNI config on each, nothing else', async () => {
    const c = loadCapture('flat-clean');
    const t = fakeFromCapture(c);
    const r = await runDoctor(c.inventory, ctx(t));
    assert.deepEqual(findingIds(r), {
      'node-1': ['ip-forward-off', 'no-cni-config'],
      'node-2': ['ip-forward-off', 'no-cni-config'],
      'node-3': ['ip-forward-off', 'no-cni-config'],
    });
    assert.deepEqual(r.summary, { errors: 6, warnings: 0, info: 0 });
    assert.deepEqual(
      r.nodes.map((n) => [n.node, n.podCIDR, n.liveConfig]),
      NODES.map((n) => [n, undefined, undefined]),
    );
  });

  test('read-only: one facts round trip per node, no lock, no other script', async () => {
    const c = loadCapture('flat-clean');
    const t = fakeFromCapture(c);
    await runDoctor(c.inventory, ctx(t));
    assert.deepEqual(tripsOf(t), { 'node-1': 1, 'node-2': 1, 'node-3': 1 });
    assert.deepEqual(
      t.calls.map((x) => [x.node, x.kind, x.lockAs]),
      NODES.map((n) => [n, 'facts', undefined]),
    );
  });

  for (const topo of ['flat', 'routed']) {
    test(`${topo}: bootstrapped nodes are healthy, each with its pod CIDR and podnet's conflist`, async () => {
      const c = loadCapture(`${topo}-up`);
      const r = await runDoctor(c.inventory, ctx(fakeFromCapture(c)));
      assert.deepEqual(r.findings, []);
      assert.deepEqual(
        r.nodes.map((n) => [n.node, n.podCIDR, n.liveConfig]),
        [
          ['node-1', '10.244.0.0/24', '10-podnet.conflist'],
          ['node-2', '10.244.1.0/24', '10-podnet.conflist'],
          ['node-3', '10.244.2.0/24', '10-podnet.conflist'],
        ],
      );
    });

    test(`${topo}: node-2 lost its routes and forwarding; the findings are on node-2 only`, async () => {
      const c = loadCapture(`${topo}-drift`);
      const r = await runDoctor(c.inventory, ctx(fakeFromCapture(c)));
      assert.deepEqual(findingIds(r), { 'node-2': ['ip-forward-off', 'missing-route', 'missing-route'] });
      assert.deepEqual(
        r.findings.filter((f) => f.id === 'missing-route').map((f) => f.message),
        ["no route to node-1's pod CIDR 10.244.0.0/24", "no route to node-3's pod CIDR 10.244.2.0/24"],
      );
    });
  }

  test('an unreachable node is one finding with the ssh cause and hint; the others are checked', async () => {
    const c = loadCapture('flat-up');
    const r = await runDoctor(c.inventory, ctx(fakeFromCapture(c, { 'node-2': { fail: 'unreachable' } })));
    assert.deepEqual(r.findings, [
      {
        id: 'unreachable',
        node: 'node-2',
        severity: 'error',
        message: 'node-2: cannot reach 192.0.2.12: ssh: connect to host 192.0.2.12 port 22: Connection refused',
        evidence: 'facts could not be read',
        fix: 'check the address, that sshd runs on the node and that the network lets you in',
      },
    ]);
    assert.deepEqual(
      r.nodes.map((n) => [n.node, n.reachable, n.podCIDR]),
      [
        ['node-1', true, '10.244.0.0/24'],
        ['node-2', false, undefined],
        ['node-3', true, '10.244.2.0/24'],
      ],
    );
  });

  test('a facts script that fails before its end is reported with its exit code and last stderr line', async () => {
    const c = loadCapture('flat-up');
    const r = await runDoctor(c.inventory, ctx(fakeFromCapture(c, { 'node-3': { facts: { exitCode: 127, stdout: '@@podnet:section meta\n', stderr: 'sh: 3: ip: not found\n' } } })));
    assert.deepEqual(
      r.findings.map((f) => [f.node, f.id, f.message]),
      [['node-3', 'facts-failed', 'facts script failed (exit 127): sh: 3: ip: not found']],
    );
  });

  test('one machine listed twice (same boot id and netns) is bad input: exit 2', async () => {
    const c = loadCapture('flat-up');
    const text = readFileSync(new URL('../fixtures/facts/flat-up/inventory.yaml', import.meta.url), 'utf8');
    const inv = parseInventory(`${text}  - name: node-2b\n    address: node-2.lab\n`, 'twins.yaml', { checkFiles: false });
    const t = fakeFromCapture(c, { 'node-2b': { facts: c.facts['node-2']!, sameMachineAs: 'node-2' } });
    await assert.rejects(runDoctor(inv, ctx(t)), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.equal(e.exitCode, ExitCode.USAGE);
      assert.match(e.message, /^nodes\[3\] \(node-2b, "node-2\.lab"\): the same machine as nodes\[1\] \(node-2, "192\.0\.2\.12"\)/);
      return true;
    });
  });
});

describe('runUp', () => {
  for (const topo of ['flat', 'routed']) {
    test(`${topo}, clean nodes: plans what the real podnet up did on that lab, and sends one change script per node`, async () => {
      const c = loadCapture(`${topo}-clean`);
      const t = fakeFromCapture(c);
      const r = await runUp(c.inventory, ctx(t), { dryRun: false });
      const real = realUpReport(`${topo}-clean`);
      assert.deepEqual(
        r.nodes.map(({ node, podCIDR, result, changes }) => ({ node, podCIDR, result, changes })),
        real.nodes,
      );
      assert.deepEqual(scriptsPerNode(t), { 'node-1': 1, 'node-2': 1, 'node-3': 1 });
      assert.deepEqual(tripsOf(t), { 'node-1': 2, 'node-2': 2, 'node-3': 2 });
      assert.deepEqual(
        r.nodes.map((n) => n.roundTrips),
        [2, 2, 2],
      );
      // Facts first (each with the node's lock, in the same round trip), then the change scripts.
      assert.deepEqual(
        t.calls.map((x) => [x.kind, x.lockAs?.startsWith('podnet up by ') ?? false]),
        [...NODES.map(() => ['facts', true]), ...NODES.map(() => ['script', false])],
      );
    });
  }

  test('flat, clean: the expected changes per node (counts, and the routes to each peer)', async () => {
    const c = loadCapture('flat-clean');
    const r = await runUp(c.inventory, ctx(fakeFromCapture(c)), { dryRun: false });
    assert.equal(r.mtu, 1500);
    assert.deepEqual(
      r.nodes.map((n) => [n.node, n.podCIDR, n.changes.length, n.changes.filter((x) => x.startsWith('route '))]),
      [
        ['node-1', '10.244.0.0/24', 11, ['route 10.244.1.0/24 via 192.0.2.12 dev eth0 (direct, node-2)', 'route 10.244.2.0/24 via 192.0.2.13 dev eth0 (direct, node-3)']],
        ['node-2', '10.244.1.0/24', 11, ['route 10.244.0.0/24 via 192.0.2.11 dev eth0 (direct, node-1)', 'route 10.244.2.0/24 via 192.0.2.13 dev eth0 (direct, node-3)']],
        ['node-3', '10.244.2.0/24', 11, ['route 10.244.0.0/24 via 192.0.2.11 dev eth0 (direct, node-1)', 'route 10.244.1.0/24 via 192.0.2.12 dev eth0 (direct, node-2)']],
      ],
    );
  });

  test('routed, clean: peers across the router go over VXLAN, and the pod MTU leaves room for it', async () => {
    const c = loadCapture('routed-clean');
    const r = await runUp(c.inventory, ctx(fakeFromCapture(c)), { dryRun: false });
    assert.equal(r.mtu, 1450);
    assert.deepEqual(
      r.nodes.map((n) => [n.node, n.changes.length, n.changes.filter((x) => x.startsWith('route '))]),
      [
        ['node-1', 14, ['route 10.244.1.0/24 via 192.0.2.12 dev eth0 (direct, node-2)', 'route 10.244.2.0/24 via 10.244.2.0 dev podnet.1 (overlay, node-3)']],
        ['node-2', 14, ['route 10.244.0.0/24 via 192.0.2.11 dev eth0 (direct, node-1)', 'route 10.244.2.0/24 via 10.244.2.0 dev podnet.1 (overlay, node-3)']],
        ['node-3', 16, ['route 10.244.0.0/24 via 10.244.0.0 dev podnet.1 (overlay, node-1)', 'route 10.244.1.0/24 via 10.244.1.0 dev podnet.1 (overlay, node-2)']],
      ],
    );
  });

  test('the script a node is sent is the one --dry-run --show-scripts prints for it', async () => {
    const c = loadCapture('routed-clean');
    const dry = await runUp(c.inventory, ctx(fakeFromCapture(c)), { dryRun: true, showScripts: true });
    const t = fakeFromCapture(c);
    await runUp(c.inventory, ctx(t), { dryRun: false });
    for (const n of NODES) assert.deepEqual(t.scriptsRun(n), [dry.scripts![n]], n);
  });

  test('a dry run changes nothing and takes no lock, even where another run holds one', async () => {
    const c = loadCapture('flat-clean');
    const t = fakeFromCapture(c, { 'node-2': { lockedBy: HOLDER } });
    const r = await runUp(c.inventory, ctx(t), { dryRun: true });
    assert.deepEqual(
      r.nodes.map((n) => [n.node, n.result, n.changes.length]),
      NODES.map((n) => [n, 'would-change', 11]),
    );
    assert.deepEqual(scriptsPerNode(t), { 'node-1': 0, 'node-2': 0, 'node-3': 0 });
    assert.ok(t.calls.every((x) => x.kind === 'facts' && x.lockAs === undefined));
    assert.equal(r.scripts, undefined);
  });

  for (const topo of ['flat', 'routed']) {
    test(`${topo}, bootstrapped: 0 changes and no change script`, async () => {
      const c = loadCapture(`${topo}-up`);
      const t = fakeFromCapture(c);
      const r = await runUp(c.inventory, ctx(t), { dryRun: false });
      assert.deepEqual(
        r.nodes.map((n) => [n.node, n.result, n.changes, n.roundTrips]),
        NODES.map((n) => [n, 'unchanged', [], 1]),
      );
      assert.deepEqual(scriptsPerNode(t), { 'node-1': 0, 'node-2': 0, 'node-3': 0 });
    });
  }

  test('drift on one node: only that node is sent a script, with just the missing pieces', async () => {
    const c = loadCapture('routed-drift');
    const t = fakeFromCapture(c);
    const r = await runUp(c.inventory, ctx(t), { dryRun: false });
    assert.deepEqual(
      r.nodes.map((n) => [n.node, n.result, n.changes]),
      [
        ['node-1', 'unchanged', []],
        ['node-2', 'changed', ['sysctl net.ipv4.ip_forward: 0 → 1', 'route 10.244.0.0/24 via 192.0.2.11 dev eth0 (direct, node-1)', 'route 10.244.2.0/24 via 10.244.2.0 dev podnet.1 (overlay, node-3)']],
        ['node-3', 'unchanged', []],
      ],
    );
    assert.deepEqual(scriptsPerNode(t), { 'node-1': 0, 'node-2': 1, 'node-3': 0 });
  });

  for (const fail of ['unreachable', 'timeout'] as const) {
    test(`one node ${fail}: reported as failed at facts with the ssh cause; the others are changed`, async () => {
      const c = loadCapture('flat-clean');
      const t = fakeFromCapture(c, { 'node-2': { fail } });
      const r = await runUp(c.inventory, ctx(t), { dryRun: false });
      const n2 = r.nodes[1]!;
      assert.deepEqual(
        { node: n2.node, result: n2.result, step: n2.step, error: n2.error, hint: n2.hint, roundTrips: n2.roundTrips },
        fail === 'unreachable'
          ? {
              node: 'node-2',
              result: 'failed',
              step: 'facts',
              error: 'node-2: cannot reach 192.0.2.12: ssh: connect to host 192.0.2.12 port 22: Connection refused',
              hint: 'check the address, that sshd runs on the node and that the network lets you in',
              roundTrips: 1,
            }
          : { node: 'node-2', result: 'failed', step: 'facts', error: 'node-2: no answer within 120s', hint: 'raise ssh.commandTimeout in the inventory, or check the node', roundTrips: 1 },
      );
      assert.deepEqual(
        r.nodes.map((n) => [n.node, n.result, n.podCIDR]),
        [
          ['node-1', 'changed', '10.244.0.0/24'],
          ['node-2', 'failed', undefined],
          // the pod CIDRs do not move when a node is missing
          ['node-3', 'changed', '10.244.2.0/24'],
        ],
      );
      assert.deepEqual(scriptsPerNode(t), { 'node-1': 1, 'node-2': 0, 'node-3': 1 });
    });
  }

  test('a change script that fails names its step and error; the other nodes are changed', async () => {
    const c = loadCapture('flat-clean');
    const stderr = '@@podnet:step kernel\n@@podnet:step files\n@@podnet:step routes\nRTNETLINK answers: Network is unreachable\n@@podnet:failed routes\n';
    const t = fakeFromCapture(c, { 'node-3': { answer: { exitCode: 1, stderr } } });
    const r = await runUp(c.inventory, ctx(t), { dryRun: false });
    assert.deepEqual(
      r.nodes.map((n) => [n.node, n.result, n.step, n.error, n.changes.length, n.roundTrips]),
      [
        ['node-1', 'changed', undefined, undefined, 11, 2],
        ['node-2', 'changed', undefined, undefined, 11, 2],
        ['node-3', 'failed', 'routes', 'RTNETLINK answers: Network is unreachable', 11, 2],
      ],
    );
  });

  test('the connection drops while a change script runs: failed at apply, the others carry on', async () => {
    const c = loadCapture('flat-clean');
    const t = fakeFromCapture(c, { 'node-1': { answer: { fail: 'disconnected' } } });
    const r = await runUp(c.inventory, ctx(t), { dryRun: false });
    assert.deepEqual(
      r.nodes.map((n) => [n.node, n.result, n.step, n.error]),
      [
        ['node-1', 'failed', 'apply', 'node-1: ssh failed: Connection to 192.0.2.11 closed by remote host.'],
        ['node-2', 'changed', undefined, undefined],
        ['node-3', 'changed', undefined, undefined],
      ],
    );
  });

  test('a node locked by another run stops the run before any change script: NodeBusy, exit 3, naming node and holder', async (t) => {
    const c = loadCapture('flat-clean');
    const fake = fakeFromCapture(c, { 'node-2': { lockedBy: HOLDER } });
    await assert.rejects(
      withFastTimers(t, () => runUp(c.inventory, ctx(fake), { dryRun: false })),
      (e: unknown) => {
        assert.ok(e instanceof NodeBusy);
        assert.equal(e.exitCode, ExitCode.NODE);
        assert.equal(e.message, `another podnet run is changing a node; nothing was changed: node-2: ${HOLDER}`);
        assert.equal(e.hint, 'wait for that run to finish, then run again');
        return true;
      },
    );
    assert.deepEqual(scriptsPerNode(fake), { 'node-1': 0, 'node-2': 0, 'node-3': 0 });
    assert.ok(fake.calls.every((x) => x.kind !== 'script'));
    // Six rounds: each takes the locks with the facts, and gives back the ones it got before the next.
    assert.deepEqual(tripsOf(fake), { 'node-1': 6, 'node-2': 6, 'node-3': 6 });
    assert.deepEqual(
      NODES.map((n) => fake.calls.filter((x) => x.node === n && x.kind === 'unlock').length),
      [5, 5, 5],
    );
    assert.equal(fake.lockHolder('node-2'), HOLDER);
  });

  test('a run that finds a node locked waits for the other run to finish, then goes ahead', async (t) => {
    const c = loadCapture('flat-clean');
    const fake = fakeFromCapture(c, { 'node-2': { lockedBy: { holder: HOLDER, attempts: 2 } } });
    const r = await withFastTimers(t, () => runUp(c.inventory, ctx(fake), { dryRun: false }));
    assert.deepEqual(
      r.nodes.map((n) => [n.node, n.result]),
      NODES.map((n) => [n, 'changed']),
    );
    assert.deepEqual(tripsOf(fake), { 'node-1': 4, 'node-2': 4, 'node-3': 4 });
    assert.deepEqual(scriptsPerNode(fake), { 'node-1': 1, 'node-2': 1, 'node-3': 1 });
    assert.match(fake.lockHolder('node-2') ?? '', /^podnet up by .* \(pid \d+, run [0-9a-f]{12}, as node-2\) since /);
  });

  test('a node without flock is a per-node lock failure with a hint; the others are changed', async () => {
    const c = loadCapture('flat-clean');
    const t = fakeFromCapture(c, { 'node-3': { noFlock: true } });
    const r = await runUp(c.inventory, ctx(t), { dryRun: false });
    assert.deepEqual(
      r.nodes.map((n) => [n.node, n.result, n.step, n.hint]),
      [
        ['node-1', 'changed', undefined, undefined],
        ['node-2', 'changed', undefined, undefined],
        ['node-3', 'failed', 'lock', 'install util-linux on the node'],
      ],
    );
    assert.deepEqual(scriptsPerNode(t), { 'node-1': 1, 'node-2': 1, 'node-3': 0 });
  });

  test('one machine listed twice is found by its lock: bad input (exit 2), nothing changed', async () => {
    const c = loadCapture('flat-clean');
    const text = readFileSync(new URL('../fixtures/facts/flat-clean/inventory.yaml', import.meta.url), 'utf8');
    const inv = parseInventory(`${text}  - name: node-2b\n    address: node-2.lab\n`, 'twins.yaml', { checkFiles: false });
    const t = fakeFromCapture(c, { 'node-2b': { facts: c.facts['node-2']!, sameMachineAs: 'node-2' } });
    await assert.rejects(runUp(inv, ctx(t), { dryRun: false }), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /^nodes\[3\] \(node-2b, "node-2\.lab"\): the same machine as nodes\[1\] \(node-2, "192\.0\.2\.12"\) \(took its lock already\)/);
      return true;
    });
    assert.ok(t.calls.every((x) => x.kind === 'facts'));
  });
});

describe('runStatus', () => {
  test('bootstrapped nodes are converged; no lock, no script', async () => {
    const c = loadCapture('flat-up');
    const t = fakeFromCapture(c);
    const r = await runStatus(c.inventory, ctx(t));
    assert.deepEqual(
      r.nodes.map((n) => [n.node, n.state, n.podCIDR, n.drift]),
      [
        ['node-1', 'converged', '10.244.0.0/24', []],
        ['node-2', 'converged', '10.244.1.0/24', []],
        ['node-3', 'converged', '10.244.2.0/24', []],
      ],
    );
    assert.ok(t.calls.every((x) => x.kind === 'facts' && x.lockAs === undefined));
  });

  test('drift on node-2 is listed change by change', async () => {
    const c = loadCapture('flat-drift');
    const r = await runStatus(c.inventory, ctx(fakeFromCapture(c)));
    assert.deepEqual(
      r.nodes.map((n) => [n.node, n.state, n.drift]),
      [
        ['node-1', 'converged', []],
        ['node-2', 'drift', ['sysctl net.ipv4.ip_forward: 0 → 1', 'route 10.244.0.0/24 via 192.0.2.11 dev eth0 (direct, node-1)', 'route 10.244.2.0/24 via 192.0.2.13 dev eth0 (direct, node-3)']],
        ['node-3', 'converged', []],
      ],
    );
  });

  test('a node that refuses the login is failed at facts, with the ssh cause and hint', async () => {
    const c = loadCapture('flat-drift');
    const r = await runStatus(c.inventory, ctx(fakeFromCapture(c, { 'node-1': { fail: 'auth' } })));
    assert.deepEqual(r.nodes[0], {
      node: 'node-1',
      state: 'failed',
      drift: [],
      step: 'facts',
      error: 'node-1: ssh login as root@192.0.2.11 was refused',
      hint: 'check ssh.user and ssh.identityFile, and that the key is in authorized_keys',
    });
    assert.equal(r.nodes.length, 3);
  });
});

/**
 * A node whose facts cannot be read keeps its place in its peers' plans: `up` must not remove their routes
 * (and VXLAN entries) to its pods, delete the overlay or raise the pod MTU (it once did all three).
 */
describe('a node that cannot be reached keeps its place in its peers\' plans', () => {


  test('flat: its peers stay converged', async () => {
    const c = loadCapture('flat-up');
    const r = await runStatus(c.inventory, ctx(fakeFromCapture(c, { 'node-2': { fail: 'unreachable' } })));
    assert.deepEqual(
      r.nodes.map((n) => [n.node, n.state, n.drift]),
      [
        ['node-1', 'converged', []],
        ['node-2', 'failed', []],
        ['node-3', 'converged', []],
      ],
    );
  });

  test('flat, nodes named by DNS names (no IP in the inventory): the peers still keep their routes to it', async () => {
    const c = loadCapture('flat-up');
    const text = readFileSync(new URL('../fixtures/facts/flat-up/inventory.yaml', import.meta.url), 'utf8').replace(/address: 192\.0\.2\.(\d+)/g, 'address: node-$1.lab.example');
    const inv = parseInventory(text, 'names.yaml', { checkFiles: false });
    const t = fakeFromCapture(c, { 'node-2': { fail: 'unreachable' } });
    const r = await runUp(inv, ctx(t), { dryRun: false });
    assert.deepEqual(
      r.nodes.map((n) => [n.node, n.result, n.changes]),
      [
        ['node-1', 'unchanged', []],
        ['node-2', 'failed', []],
        ['node-3', 'unchanged', []],
      ],
    );
  });

  test('routed: the overlay, its routes and the pod MTU stay', async () => {
    const c = loadCapture('routed-up');
    const t = fakeFromCapture(c, { 'node-3': { fail: 'unreachable' } });
    const r = await runUp(c.inventory, ctx(t), { dryRun: false });
    assert.equal(r.mtu, 1450);
    assert.deepEqual(
      r.nodes.map((n) => [n.node, n.result, n.changes]),
      [
        ['node-1', 'unchanged', []],
        ['node-2', 'unchanged', []],
        ['node-3', 'failed', []],
      ],
    );
    assert.deepEqual(scriptsPerNode(t), { 'node-1': 0, 'node-2': 0, 'node-3': 0 });
  });
});

describe('runDown', () => {
  const removed: FakeAnswer = { stdout: '@@podnet:removed 2 route(s) with protocol 157\n@@podnet:removed bridge cni0\n' };

  test('locks every node, then sends each the down script and reports what it removed', async () => {
    const c = loadCapture('flat-up');
    const t = fakeFromCapture(c, { 'node-1': { answer: removed }, 'node-2': { answer: removed }, 'node-3': { answer: { stdout: '@@podnet:kept bridge cni0 has 1 pod interface(s) attached; remove the pods or pass --force\n' } } });
    const r = await runDown(c.inventory, ctx(t), { force: false });
    assert.deepEqual(r, [
      { node: 'node-1', result: 'removed', removed: ['2 route(s) with protocol 157', 'bridge cni0'], kept: [] },
      { node: 'node-2', result: 'removed', removed: ['2 route(s) with protocol 157', 'bridge cni0'], kept: [] },
      { node: 'node-3', result: 'nothing', removed: [], kept: ['bridge cni0 has 1 pod interface(s) attached; remove the pods or pass --force'] },
    ]);
    assert.deepEqual(
      t.calls.map((x) => [x.node, x.kind]),
      [...NODES.map((n) => [n, 'lock']), ...NODES.map((n) => [n, 'script'])],
    );
    assert.deepEqual(tripsOf(t), { 'node-1': 2, 'node-2': 2, 'node-3': 2 });
  });

  test('an unreachable node is failed at lock; the others are cleaned', async () => {
    const c = loadCapture('flat-up');
    const t = fakeFromCapture(c, { 'node-1': { answer: removed }, 'node-2': { fail: 'unreachable' }, 'node-3': { answer: removed } });
    const r = await runDown(c.inventory, ctx(t), { force: false });
    assert.deepEqual(
      r.map((n) => [n.node, n.result, n.step]),
      [
        ['node-1', 'removed', undefined],
        ['node-2', 'failed', 'lock'],
        ['node-3', 'removed', undefined],
      ],
    );
    assert.deepEqual(scriptsPerNode(t), { 'node-1': 1, 'node-2': 0, 'node-3': 1 });
  });

  test('a node locked by another run stops down before any node is touched', async () => {
    const c = loadCapture('flat-up');
    const t = fakeFromCapture(c, { 'node-3': { lockedBy: HOLDER } });
    await assert.rejects(runDown(c.inventory, ctx(t), { force: false }), (e: unknown) => e instanceof NodeBusy && e.exitCode === ExitCode.NODE && e.message.endsWith(`nothing was changed: node-3: ${HOLDER}`));
    assert.deepEqual(scriptsPerNode(t), { 'node-1': 0, 'node-2': 0, 'node-3': 0 });
  });
});

/**
 * A network where every probe gets through: the probe pod's CNI ADD answers with a pod IP, and every
 * probe of the batch reports the sender's own address (its pod IP from a pod, its node IP from the node).
 */
function healthyNetwork(podIPs: Record<string, string>, nodeIPs: Record<string, string>): (script: string, node: NodeTarget) => FakeAnswer {
  return (script, node) => {
    if (script.includes('echo.py serve')) return { stdout: `${RESULT_MARK}\n${JSON.stringify({ cniVersion: '1.0.0', ips: [{ address: `${podIPs[node.name]}/24` }] })}\n` };
    const batch = /<<'PODNET_J'\n(.*)\nPODNET_J/.exec(script);
    if (batch) {
      const wires = JSON.parse(batch[1]!) as { id: number; ns: 'pod' | 'host' }[];
      return { stdout: wires.map((w) => `${JSON.stringify({ id: w.id, ok: true, observed: w.ns === 'pod' ? podIPs[node.name] : nodeIPs[node.name] })}\n`).join('') };
    }
    return {}; // teardown
  };
}

describe('runProbe', () => {
  const podIPs = { 'node-1': '10.244.0.2', 'node-2': '10.244.1.2', 'node-3': '10.244.2.2' };
  const nodeIPs = { 'node-1': '192.0.2.11', 'node-2': '192.0.2.12', 'node-3': '192.0.2.13' };
  const healthy = healthyNetwork(podIPs, nodeIPs);
  const all = (extra: Record<string, object> = {}) => Object.fromEntries(NODES.map((n) => [n, { answer: healthy, ...extra[n] }]));

  test('bootstrapped nodes: every cell passes; per node: facts, pod set-up, one probe batch, teardown', async () => {
    const c = loadCapture('flat-up');
    const t = fakeFromCapture(c, all());
    const r = await runProbe(c.inventory, ctx(t), { strict: false });
    // 3 self pairs × 10 checks (localhost included) + 6 peer pairs × 9
    assert.deepEqual(r.summary, { pass: 84, fail: 0, warn: 0, skip: 0, unexplained: 0 });
    assert.deepEqual(
      r.nodes.map((n) => [n.node, n.podIP, n.podMtu, n.error]),
      NODES.map((n) => [n, podIPs[n as keyof typeof podIPs], 1500, undefined]),
    );
    assert.deepEqual(tripsOf(t), { 'node-1': 4, 'node-2': 4, 'node-3': 4 });
    for (const n of NODES) {
      const [setup, probe, teardown, ...rest] = t.scriptsRun(n);
      assert.match(setup!, /echo\.py serve 8080 /);
      assert.match(probe!, /echo\.py batch /);
      assert.match(teardown!, new RegExp(`rm -rf /run/podnet-probe-${r.runId}\\b`));
      assert.deepEqual(rest, []);
    }
    assert.deepEqual(r.cleanupErrors, []);
  });

  test('an unreachable node: its cells fail, blocked by it and explained by the doctor; the others pass and are cleaned up', async () => {
    const c = loadCapture('flat-up');
    const t = fakeFromCapture(c, all({ 'node-2': { fail: 'unreachable' } }));
    const r = await runProbe(c.inventory, ctx(t), { strict: false });
    // node-2's cells: its self pair (10) and the 4 pairs with a peer (9 each)
    assert.deepEqual(r.summary, { pass: 84 - 46, fail: 46, warn: 0, skip: 0, unexplained: 0 });
    assert.ok(r.failures.every((f) => f.blockedBy === 'node-2' && f.explanations.map((x) => x.id).join() === 'unreachable'));
    assert.deepEqual(
      r.nodes.map((n) => [n.node, n.error]),
      [
        ['node-1', undefined],
        ['node-2', 'facts could not be read'],
        ['node-3', undefined],
      ],
    );
    assert.deepEqual(scriptsPerNode(t), { 'node-1': 3, 'node-2': 0, 'node-3': 3 });
  });

  test('a probe batch that times out fails that node\'s cells, and every probe pod is still removed', async () => {
    const c = loadCapture('flat-up');
    const t = fakeFromCapture(c, all({ 'node-3': { answer: (s: string, n: NodeTarget) => (s.includes('echo.py batch') ? { fail: 'timeout' } : healthy(s, n)) } }));
    const r = await runProbe(c.inventory, ctx(t), { strict: false });
    // node-3 is the source of 10 + 2 × 9 cells
    assert.deepEqual([r.summary.pass, r.summary.fail], [84 - 28, 28]);
    assert.deepEqual(
      [...new Set(r.results.filter((x) => x.status === 'fail').map((x) => `${x.src}: ${x.reason}`))],
      ['node-3: probe run failed: node-3: no answer within 120s', 'node-3: DF packet of 1500 bytes: probe run failed: node-3: no answer within 120s'],
    );
    // nothing on the nodes explains it: unexplained, as a real network fault would be
    assert.equal(r.summary.unexplained, 28);
    for (const n of NODES) assert.match(t.scriptsRun(n).at(-1)!, /rm -rf \/run\/podnet-probe-/, n);
  });

  test('clean nodes have no CNI config: no probe pod is made, every cell fails with the reason', async () => {
    const c = loadCapture('flat-clean');
    const t = fakeFromCapture(c, all());
    const r = await runProbe(c.inventory, ctx(t), { strict: false });
    assert.deepEqual(r.summary, { pass: 0, fail: 84, warn: 0, skip: 0, unexplained: 0 });
    assert.deepEqual(
      r.nodes.map((n) => n.error),
      NODES.map(() => 'no usable CNI config in /etc/cni/net.d'),
    );
    assert.deepEqual(scriptsPerNode(t), { 'node-1': 0, 'node-2': 0, 'node-3': 0 });
  });

  test('a teardown that fails is reported, not hidden', async () => {
    const c = loadCapture('flat-up');
    const t = fakeFromCapture(c, all({ 'node-1': { answer: (s: string, n: NodeTarget) => (s.startsWith('[ -f /run/podnet-probe-') ? { exitCode: 1, stderr: 'umount: busy\n' } : healthy(s, n)) } }));
    const r = await runProbe(c.inventory, ctx(t), { strict: false });
    assert.deepEqual(r.cleanupErrors, [{ node: 'node-1', error: 'cleanup exited 1: umount: busy' }]);
    assert.equal(r.summary.fail, 0);
  });
});

/**
 * A dual-stack network where every probe gets through: the CNI ADD result lists an address of each
 * family the node's pods get, and every probe reports the sender's own address of the target's family
 * (its pod IP from a pod, its node address from the node).
 */
function dualStackNetwork(pods: Record<string, { ipv4?: string; ipv6?: string }>, nodeAddrs: Record<string, { ipv4: string; ipv6?: string }>, seen?: (w: { ns: 'pod' | 'host'; host: string }, node: string) => string | undefined): (script: string, node: NodeTarget) => FakeAnswer {
  return (script, node) => {
    const p = pods[node.name]!;
    if (script.includes('echo.py serve')) {
      const ips = [...(p.ipv4 ? [{ address: `${p.ipv4}/24` }] : []), ...(p.ipv6 ? [{ address: `${p.ipv6}/64` }] : [])];
      return { stdout: `${RESULT_MARK}\n${JSON.stringify({ cniVersion: '1.0.0', ips })}\n` };
    }
    const batch = /<<'PODNET_J'\n(.*)\nPODNET_J/.exec(script);
    if (batch) {
      const wires = JSON.parse(batch[1]!) as { id: number; ns: 'pod' | 'host'; host: string }[];
      return {
        stdout: wires
          .map((w) => {
            const f = w.host.includes(':') ? 'ipv6' : 'ipv4';
            const observed = seen?.(w, node.name) ?? (w.ns === 'pod' ? p[f] : nodeAddrs[node.name]![f]);
            return `${JSON.stringify({ id: w.id, ok: true, observed })}\n`;
          })
          .join(''),
      };
    }
    return {}; // teardown
  };
}

/** A capture's facts with a global IPv6 address added on the interface of the node IP (a dual-stack node). */
function withUplinkV6(facts: string, nodeIP: string, v6: string): string {
  const at = `"addr_info":[{"family":"inet","local":"${nodeIP}"`;
  assert.ok(facts.includes(at), `no ${nodeIP} in the facts`);
  return facts.replace(at, `"addr_info":[{"family":"inet6","local":"${v6}","prefixlen":64,"scope":"global","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet","local":"${nodeIP}"`);
}

describe('runProbe per IP family', () => {
  const v4 = { 'node-1': '10.244.0.2', 'node-2': '10.244.1.2', 'node-3': '10.244.2.2' } as Record<string, string>;
  const v6 = { 'node-1': 'fd00:10:244::2', 'node-2': 'fd00:10:244:1::2', 'node-3': 'fd00:10:244:2::2' } as Record<string, string>;
  const nodeV4 = { 'node-1': '192.0.2.11', 'node-2': '192.0.2.12', 'node-3': '192.0.2.13' } as Record<string, string>;
  const nodeV6 = { 'node-1': '2001:db8:2::11', 'node-2': '2001:db8:2::12', 'node-3': '2001:db8:2::13' } as Record<string, string>;
  const dual = Object.fromEntries(NODES.map((n) => [n, { ipv4: v4[n], ipv6: v6[n] }]));
  const addrs = Object.fromEntries(NODES.map((n) => [n, { ipv4: nodeV4[n]!, ipv6: nodeV6[n] }]));
  /** flat-up with every node's IPv6 address on eth0, except the nodes listed */
  const capture = (without: string[] = []) => {
    const c = loadCapture('flat-up');
    for (const n of NODES) if (!without.includes(n)) c.facts[n] = withUplinkV6(c.facts[n]!, nodeV4[n]!, nodeV6[n]!);
    return c;
  };
  const on = (answer: (s: string, n: NodeTarget) => FakeAnswer) => Object.fromEntries(NODES.map((n) => [n, { answer }]));
  const wiresOf = (t: FakeTransport, node: string) => JSON.parse(/<<'PODNET_J'\n(.*)\nPODNET_J/.exec(t.scriptsRun(node)[1]!)![1]!) as { ns: string; proto: string; host: string; port?: number; size?: number }[];

  test('dual-stack pods: the whole matrix once per family, each over its own addresses; everything passes', async () => {
    const c = capture();
    const t = fakeFromCapture(c, on(dualStackNetwork(dual, addrs)));
    const r = await runProbe(c.inventory, ctx(t), { strict: false });
    assert.deepEqual(r.families, ['ipv4', 'ipv6']);
    assert.deepEqual(r.summary, { pass: 168, fail: 0, warn: 0, skip: 0, unexplained: 0 });
    for (const f of ['ipv4', 'ipv6'] as const) assert.equal(r.results.filter((x) => x.family === f).length, 84, f);
    // IPv4 first, each family in the order of the checks (the report of an IPv4 network is unchanged)
    assert.deepEqual([...new Set(r.results.map((x) => x.family))], ['ipv4', 'ipv6']);
    assert.deepEqual(
      r.nodes.map((n) => [n.node, n.podIP, n.podIPs]),
      NODES.map((n) => [n, v4[n], { ipv4: v4[n], ipv6: v6[n] }]),
    );
    const cell = (check: string, family: string, src = 'node-1', dst = 'node-2') => r.results.find((x) => x.check === check && x.family === family && x.src === src && x.dst === dst)!;
    assert.equal(cell('pod-tcp', 'ipv4').target, '10.244.1.2:8080');
    assert.equal(cell('pod-tcp', 'ipv6').target, '[fd00:10:244:1::2]:8080');
    assert.equal(cell('pod-tcp', 'ipv6').observed, 'fd00:10:244::2');
    assert.equal(cell('pod-icmp', 'ipv6').target, 'fd00:10:244:1::2');
    assert.match(cell('hostport-udp-host', 'ipv6').target!, /^\[2001:db8:2::12\]:31\d{3}$/);
    assert.equal(cell('localhost', 'ipv6', 'node-1', 'node-1').target, '[::1]:8080');
    // one batch per node carries both families; the path-MTU payloads leave room for each family's header
    const wires = wiresOf(t, 'node-1');
    assert.deepEqual([...new Set(wires.filter((w) => w.proto === 'mtu').map((w) => `${w.host.includes(':') ? 6 : 4}:${w.size}`))], ['4:1472', '6:1452']);
    assert.ok(wires.some((w) => w.proto === 'icmp' && w.host === 'fd00:10:244:2::2' && w.ns === 'pod'));
    assert.deepEqual(tripsOf(t), { 'node-1': 4, 'node-2': 4, 'node-3': 4 });
  });

  test('NAT is judged per family: an IPv6 receiver that sees another address fails pod→pod (warns host→pod); the IPv4 cells pass', async () => {
    const c = capture();
    // node-1's IPv6 pod traffic leaves masqueraded behind its node address; spelled differently is no NAT
    const seen = (w: { ns: string; host: string }, node: string) => (node === 'node-1' && w.host.includes(':') && !w.host.startsWith('2001:db8:2::') && w.host !== '::1' ? nodeV6['node-3'] : node === 'node-2' && w.ns === 'pod' && w.host.includes(':') ? 'fd00:10:244:1:0:0:0:2' : undefined);
    const t = fakeFromCapture(c, on(dualStackNetwork(dual, addrs, seen)));
    const r = await runProbe(c.inventory, ctx(t), { strict: false });
    const bad = r.results.filter((x) => x.status !== 'pass');
    assert.ok(bad.every((x) => x.family === 'ipv6' && x.src === 'node-1'), JSON.stringify(bad));
    const podTcp = bad.find((x) => x.check === 'pod-tcp' && x.dst === 'node-2')!;
    assert.equal(podTcp.status, 'fail');
    assert.equal(podTcp.reason, 'NAT: the receiver saw 2001:db8:2::13, not the sender pod IP fd00:10:244::2');
    const hostPod = bad.find((x) => x.check === 'host-pod-tcp' && x.dst === 'node-2')!;
    assert.equal(hostPod.status, 'warn');
    assert.equal(hostPod.reason, 'NAT: the receiver saw 2001:db8:2::13, not an address of node-1');
    // node-1: pod-tcp and pod-udp to 3 targets fail; host-pod-tcp to 3 targets warns
    assert.deepEqual([r.summary.fail, r.summary.warn], [6, 3]);
    const strict = await runProbe(c.inventory, ctx(fakeFromCapture(c, on(dualStackNetwork(dual, addrs, seen)))), { strict: true });
    assert.deepEqual([strict.summary.fail, strict.summary.warn], [9, 0]);
  });

  test("a node whose pod gets no IPv6 address: that node's IPv6 cells fail, blocked by it and named; its IPv4 cells and the others' run", async () => {
    const c = capture();
    const pods = { ...dual, 'node-3': { ipv4: v4['node-3'] } };
    const t = fakeFromCapture(c, on(dualStackNetwork(pods, addrs)));
    const r = await runProbe(c.inventory, ctx(t), { strict: false });
    assert.deepEqual(r.families, ['ipv4', 'ipv6'], 'the families of any pod: a node short of one fails, it does not shrink the probe');
    // node-3's IPv6 cells: its self pair (10) and 4 pairs with a peer (9 each)
    assert.deepEqual(r.summary, { pass: 168 - 46, fail: 46, warn: 0, skip: 0, unexplained: 0 });
    assert.ok(r.failures.every((f) => f.cell.family === 'ipv6' && f.blockedBy === 'node-3' && !f.unexplained));
    assert.deepEqual([...new Set(r.failures.map((f) => f.cell.reason))], ['node-3: the probe pod got no IPv6 address from 10-podnet.conflist (other probe pods did): no IPv6 cells to or from this node']);
    assert.deepEqual(r.nodes.map((n) => [n.node, n.error, n.familyErrors === undefined]), NODES.map((n) => [n, undefined, n !== 'node-3']));
    assert.ok(wiresOf(t, 'node-1').every((w) => w.host !== v6['node-3']));
  });

  test('a node without a global IPv6 address beside its node IP: only the IPv6 hostPort cells to it fail, naming why', async () => {
    const c = capture(['node-2']);
    const t = fakeFromCapture(c, on(dualStackNetwork(dual, { ...addrs, 'node-2': { ipv4: nodeV4['node-2']! } })));
    const r = await runProbe(c.inventory, ctx(t), { strict: false });
    // 4 hostPort checks from each of the 3 nodes
    assert.deepEqual(r.summary, { pass: 168 - 12, fail: 12, warn: 0, skip: 0, unexplained: 0 });
    assert.ok(r.failures.every((f) => f.cell.family === 'ipv6' && f.cell.dst === 'node-2' && f.cell.check.startsWith('hostport-') && f.blockedBy === 'node-2'));
    assert.equal(r.failures[0]!.cell.reason, 'node-2: no global IPv6 address on eth0 of the node IP 192.0.2.12: nothing to send IPv6 hostPort probes to');
  });

  test('IPv6-only pods: the IPv6 matrix alone, podIP is the IPv6 address', async () => {
    const c = capture();
    const pods = Object.fromEntries(NODES.map((n) => [n, { ipv6: v6[n] }]));
    const r = await runProbe(c.inventory, ctx(fakeFromCapture(c, on(dualStackNetwork(pods, addrs)))), { strict: false });
    assert.deepEqual(r.families, ['ipv6']);
    assert.deepEqual(r.summary, { pass: 84, fail: 0, warn: 0, skip: 0, unexplained: 0 });
    assert.deepEqual(r.nodes.map((n) => n.podIP), NODES.map((n) => v6[n]));
  });

  test('--family picks one family; a family no pod has is a usage error, after every probe pod is removed', async () => {
    const c = capture();
    const t = fakeFromCapture(c, on(dualStackNetwork(dual, addrs)));
    const only6 = await runProbe(c.inventory, ctx(t), { strict: false, family: 'ipv6' });
    assert.deepEqual(only6.families, ['ipv6']);
    assert.ok(only6.results.length === 84 && only6.results.every((x) => x.family === 'ipv6' && x.status === 'pass'));
    const plain = loadCapture('flat-up');
    const t4 = fakeFromCapture(plain, on(dualStackNetwork(Object.fromEntries(NODES.map((n) => [n, { ipv4: v4[n] }])), addrs)));
    await assert.rejects(
      runProbe(plain.inventory, ctx(t4), { strict: false, family: 'ipv6' }),
      (e: unknown) => e instanceof UserError && e.exitCode === ExitCode.USAGE && e.message === '--family: the pod network has no IPv6 pods (the probe pods got IPv4 addresses only); expected ipv4, or leave out --family',
    );
    // set-up then teardown on every node, no probe batch
    for (const n of NODES) {
      assert.equal(t4.scriptsRun(n).length, 2, n);
      assert.match(t4.scriptsRun(n)[1]!, /rm -rf \/run\/podnet-probe-/);
    }
  });
});
