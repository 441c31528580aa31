/** The lab as data: addresses, segments, routes, names; and the preflight that names missing packages. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planLab } from '../../src/lab/topology.js';
import { renderLabInventory, renderLabUpScript } from '../../src/lab/render.js';
import { checkTools } from '../../src/lab/service.js';
import { parseInventory } from '../../src/inventory/load.js';
import { UserError } from '../../src/util/errors.js';
import { spawnSync } from 'node:child_process';

describe('lab plan', () => {
  it('puts a flat lab on one documentation /24 with no routes', () => {
    const p = planLab({ name: 'x', nodes: 3, topology: 'flat', mtu: 1500 });
    assert.deepEqual(p.nodes.map((n) => n.ip), ['192.0.2.11', '192.0.2.12', '192.0.2.13']);
    assert.ok(p.nodes.every((n) => n.routes.length === 0 && n.segment === 'a'));
    assert.equal(p.segments.length, 1);
    assert.equal(p.operator.ip, '192.0.2.2');
  });

  it('splits a routed lab over two segments with a route (never a default route) via the router', () => {
    const p = planLab({ name: 'x', nodes: 5, topology: 'routed', mtu: 1500, nodeMtu: { 'node-5': 1400 } });
    assert.deepEqual(p.nodes.map((n) => `${n.name} ${n.ip} ${n.mtu}`), ['node-1 192.0.2.11 1500', 'node-2 192.0.2.12 1500', 'node-3 192.0.2.13 1500', 'node-4 198.51.100.11 1500', 'node-5 198.51.100.12 1400']);
    assert.deepEqual(p.nodes[3]!.routes, [{ to: '192.0.2.0/24', via: '198.51.100.1' }]);
    for (const n of [...p.nodes, p.operator]) for (const r of n.routes) assert.notEqual(r.to, '0.0.0.0/0');
  });

  it('rejects bad names, sizes and MTUs with a UserError naming the flag', () => {
    for (const [opts, re] of [
      [{ name: 'A', nodes: 1 }, /--name/],
      [{ name: 'x', nodes: 0 }, /--nodes/],
      [{ name: 'x', nodes: 401, topology: 'routed' }, /--nodes: expected a whole number from 1 to 400/],
      [{ name: 'x', nodes: 2, mtu: 100 }, /--mtu/],
    ] as const) {
      assert.throws(() => planLab({ topology: 'flat', mtu: 1500, ...opts } as Parameters<typeof planLab>[0]), (e: unknown) => e instanceof UserError && re.test(e.message));
    }
  });

  it('renders an up script that sh accepts and an inventory podnet accepts', () => {
    const p = planLab({ name: 'x', nodes: 4, topology: 'routed', mtu: 1500 });
    const check = spawnSync('bash', ['-n'], { input: renderLabUpScript(p, '/sys/fs/cgroup/podnet-lab-x') });
    assert.equal(check.status, 0, String(check.stderr));
    const inv = parseInventory(renderLabInventory(p), 'lab', { checkFiles: false });
    assert.deepEqual(inv.nodes.map((n) => n.address), p.nodes.map((n) => n.ip));
  });
});

describe('lab preflight', () => {
  it('names what is missing and the Debian packages that provide it', () => {
    const missing = new Set(['/usr/sbin/sshd', '/opt/cni/bin/portmap', '/usr/lib/cni/portmap']);
    assert.throws(
      () => checkTools((p) => !missing.has(p)),
      (e: unknown) => e instanceof UserError && e.message === 'missing sshd, CNI plugin portmap' && e.hint === 'install the Debian packages: apt-get install -y openssh-server containernetworking-plugins',
    );
    assert.doesNotThrow(() => checkTools(() => true));
  });
});
