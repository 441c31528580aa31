/**
 * What podnet must never do to a node, on a real lab: change it while another run does (a lock per
 * node), touch a bridge it did not create, or lose a node's state to a half-written shared file.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startLab, type TestLab } from '../helpers/lab.js';

const STATE = `ip -br link | sort; ip -br addr | sed 's/ fe80::[^ ]*//' | sort; ip -4 route; iptables -S; iptables -t nat -S; find /etc/cni/net.d /etc/podnet -type f 2>/dev/null | sort | xargs -r sha256sum`;

async function states(lab: TestLab): Promise<string[]> {
  return Promise.all(lab.plan.nodes.map(async (n) => (await lab.shOnNode(n.name, STATE)).stdout));
}

describe('trust: locks, foreign bridges', () => {
  let lab: TestLab;
  before(async () => {
    lab = await startLab('ttrust', ['--nodes', '3']);
  });
  after(() => lab?.down());

  it('a node locked by another run: up stops before changing any node, names the node and the holder (exit 3)', async () => {
    // Another "run" holds node-2's lock, as a podnet up from elsewhere would — longer than up waits for it.
    const holder = lab.shOnNode('node-2', `exec 9>>/run/podnet.lock; flock -n 9 || exit 1; echo 'podnet up by ops@elsewhere (pid 4242) since 2026-12-02T04:00:00Z' > /run/podnet.lock.owner; echo held; sleep 20`);
    await new Promise((r) => setTimeout(r, 1000));
    const before = await states(lab);
    const r = await lab.podnet(['up', '-i', lab.inventory]);
    assert.equal(r.exitCode, 3, r.stderr);
    assert.match(r.stderr, /^error: another podnet run is changing a node; nothing was changed: node-2: podnet up by ops@elsewhere \(pid 4242\)/m);
    assert.deepEqual(await states(lab), before, 'a node changed although the run stopped');
    assert.equal((await holder).stdout.trim(), 'held');
    // The lock went with its holder: now up runs.
    const again = await lab.podnet(['up', '-i', lab.inventory]);
    assert.equal(again.exitCode, 0, again.stderr);
  });

  it('two up runs at the same time: never interleaved on a node; the cluster ends converged with every jump rule', async () => {
    await lab.podnet(['down', '-i', lab.inventory]);
    // Both started together through the lab's operator namespace, as two operators would.
    const [a, b] = await Promise.all([lab.podnet(['up', '-i', lab.inventory]), lab.podnet(['up', '-i', lab.inventory])]);
    // The one that finds nodes taken gives its locks back and waits: both succeed, one after the other.
    for (const r of [a, b]) assert.equal(r.exitCode, 0, r.stderr);
    const status = await lab.podnet(['status', '-i', lab.inventory]);
    assert.equal(status.exitCode, 0, `not converged after two concurrent runs:\n${status.stdout}${status.stderr}`);
    for (const n of lab.plan.nodes) {
      const j = await lab.shOnNode(n.name, 'iptables -S FORWARD | grep -c PODNET-FORWARD; iptables -t nat -S POSTROUTING | grep -c PODNET-POSTROUTING; ls -A /etc/cni/net.d');
      assert.equal(j.stdout, '1\n1\n10-podnet.conflist\n', `${n.name}: jump rules or conflist wrong (or a temporary file left):\n${j.stdout}`);
    }
  });

  it('a bridge named like podnet\'s that podnet did not create: up refuses (exit 2, nothing changed), down leaves it', async () => {
    await lab.podnet(['down', '-i', lab.inventory]);
    const mk = await lab.shOnNode('node-1', 'ip link add cni0 type bridge && ip addr add 172.31.9.1/24 dev cni0 && ip link set cni0 up');
    assert.equal(mk.exitCode, 0, mk.stderr);
    try {
      const before = await states(lab);
      const up = await lab.podnet(['up', '-i', lab.inventory]);
      assert.equal(up.exitCode, 2, up.stderr);
      assert.match(up.stderr, /^error: cluster\.bridge: bridge cni0 on node node-1 \(nodes\[0\]\) was not created by podnet \(it is a bridge holding 172\.31\.9\.1\/24\); podnet never changes or deletes a bridge that is not its own$/m);
      assert.match(up.stderr, /^hint: .*ip link del cni0/m);
      assert.deepEqual(await states(lab), before);
      const down = await lab.podnet(['down', '-i', lab.inventory, '--force']);
      assert.equal(down.exitCode, 0, down.stderr);
      const still = await lab.shOnNode('node-1', 'ip -br addr show dev cni0');
      assert.match(still.stdout, /172\.31\.9\.1\/24/, 'down deleted a bridge that is not podnet\'s');
    } finally {
      await lab.shOnNode('node-1', 'ip link del cni0 2>/dev/null');
    }
  });

  it('podnet marks its own bridge; an unmarked pod bridge of this cluster is adopted and said so', async () => {
    const up = await lab.podnet(['up', '-i', lab.inventory]);
    assert.equal(up.exitCode, 0, up.stderr);
    assert.equal((await lab.shOnNode('node-2', 'cat /sys/class/net/cni0/ifalias')).stdout.trim(), 'podnet');
    // What an earlier podnet (or the bridge plugin from podnet's conflist) leaves: a bridge without the mark.
    await lab.shOnNode('node-2', 'ip link set dev cni0 alias ""');
    const dry = await lab.podnet(['up', '-i', lab.inventory, '--dry-run', '--json']);
    const changes = (JSON.parse(dry.stdout) as { nodes: { node: string; changes: string[] }[] }).nodes.map((n) => `${n.node}: ${n.changes.join(', ')}`);
    assert.deepEqual(changes, ['node-1: ', 'node-2: adopt bridge cni0 (it holds only pod addresses of the cluster CIDR): mark it as podnet\'s', 'node-3: ']);
    assert.equal((await lab.podnet(['up', '-i', lab.inventory])).exitCode, 0);
    assert.equal((await lab.podnet(['status', '-i', lab.inventory])).exitCode, 0);
    const kh = readFileSync(`${lab.plan.dir}/known_hosts`, 'utf8');
    assert.ok(kh.length > 0);
  });

  it('doctor and probe write JUnit XML for CI (--junit) and summarise large matrices (--output summary)', async () => {
    assert.equal((await lab.podnet(['up', '-i', lab.inventory])).exitCode, 0);
    const dx = `${lab.plan.dir}/doctor.xml`;
    const px = `${lab.plan.dir}/probe.xml`;
    const d = await lab.podnet(['doctor', '-i', lab.inventory, '--junit', dx, '-o', 'summary']);
    assert.equal(d.exitCode, 0, d.stderr);
    assert.match(d.stdout, /│ node\s+│ errors │ warnings │ error checks │ warning checks │/);
    const p = await lab.podnet(['probe', '-i', lab.inventory, '--junit', px, '-o', 'summary', '--json']);
    assert.equal(p.exitCode, 0, p.stderr);
    const cells = (JSON.parse(p.stdout) as { results: unknown[] }).results.length;
    const count = (file: string) => lab.onOperator(['python3', '-c', 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); print(r.get("tests"), r.get("failures"), len(r.findall("testsuite/testcase")))', file]);
    assert.equal((await count(px)).stdout.trim(), `${cells} 0 ${cells}`);
    const findings = (JSON.parse((await lab.podnet(['doctor', '-i', lab.inventory, '--json'])).stdout) as { findings: unknown[] }).findings.length;
    // a passing "no errors" case per node, plus one per (warning) finding
    assert.equal((await count(dx)).stdout.trim(), `${3 + findings} 0 ${3 + findings}`);
    const bad = await lab.podnet(['probe', '-i', lab.inventory, '--junit', '/nonexistent/dir/x.xml']);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /^error: --junit: cannot write "\/nonexistent\/dir\/x\.xml" \(ENOENT\); expected a writable file path/m);
  });
});
