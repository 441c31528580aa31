/**
 * podnet plan / up / status / down against real lab nodes: real kernel, sshd and CNI plugins. Pods are
 * created the way a container runtime does it, and connectivity is checked with the source address the
 * receiver saw (no NAT).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type TestLab } from '../helpers/lab.js';
import { connect, createPod, deletePod, startEcho, type TestPod } from '../helpers/pods.js';

interface UpNode {
  node: string;
  podCIDR?: string;
  result: string;
  changes: string[];
  step?: string;
  error?: string;
  hint?: string;
  roundTrips: number;
}

async function upJson(lab: TestLab, extra: string[] = [], inventory = lab.inventory): Promise<{ exitCode: number; nodes: UpNode[]; doc: Record<string, unknown>; stderr: string }> {
  const r = await lab.podnet(['up', '-i', inventory, '--json', ...extra]);
  const doc = JSON.parse(r.stdout) as Record<string, unknown>;
  return { exitCode: r.exitCode, nodes: (doc.nodes ?? []) as UpNode[], doc, stderr: r.stderr };
}

describe('bootstrap: flat lab of 4 nodes', () => {
  let lab: TestLab;
  let plan: { nodes: { name: string; podCIDR: string; gateway: string; conflist: unknown; nodeIP: string; routes: { peer: string; kind: string; via: string }[] }[] };
  const pods: TestPod[] = [];
  before(async () => {
    lab = await startLab('tboot', ['--nodes', '4']);
  });
  after(async () => {
    await lab?.down();
  });

  it('plans deterministically: one /24 per node, direct routes on one segment', async () => {
    const r = await lab.podnet(['plan', '-i', lab.inventory, '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    plan = JSON.parse(r.stdout);
    assert.deepEqual(plan.nodes.map((n) => n.podCIDR), ['10.244.0.0/24', '10.244.1.0/24', '10.244.2.0/24', '10.244.3.0/24']);
    for (const n of plan.nodes) {
      assert.equal(n.routes.length, 3);
      assert.ok(n.routes.every((x) => x.kind === 'direct'));
    }
  });

  it('--dry-run lists the changes and changes nothing', async () => {
    const r = await upJson(lab, ['--dry-run']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.ok(r.nodes.every((n) => n.result === 'would-change' && n.changes.length > 5));
    const br = await lab.onNode('node-1', ['ip', 'link', 'show', 'cni0']);
    assert.notEqual(br.exitCode, 0, 'dry-run created the bridge');
    const conf = await lab.onNode('node-1', ['ls', '/etc/cni/net.d']);
    assert.equal(conf.stdout.trim(), '');
  });

  it('converges every node in two round trips', async () => {
    const r = await upJson(lab);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(r.nodes.map((n) => n.result), ['changed', 'changed', 'changed', 'changed']);
    for (const n of r.nodes) assert.ok(n.roundTrips <= 2, `${n.node}: ${n.roundTrips} round trips`);
  });

  it('leaves conflist, bridge, routes and sysctls on every node as planned', async () => {
    for (const n of plan.nodes) {
      const conf = await lab.onNode(n.name, ['cat', '/etc/cni/net.d/10-podnet.conflist']);
      assert.deepEqual(JSON.parse(conf.stdout), n.conflist);
      const addr = await lab.onNode(n.name, ['ip', '-j', '-4', 'addr', 'show', 'dev', 'cni0']);
      const info = (JSON.parse(addr.stdout) as { addr_info: { local: string; prefixlen: number }[] }[])[0]!.addr_info;
      assert.deepEqual(info.map((a) => `${a.local}/${a.prefixlen}`), [`${n.gateway}/24`]);
      const routes = JSON.parse((await lab.onNode(n.name, ['ip', '-j', 'route', 'show', 'proto', '157'])).stdout) as { dst: string; gateway: string }[];
      const want = n.routes.map((x) => `${plan.nodes.find((p) => p.name === x.peer)!.podCIDR} via ${x.via}`).sort();
      assert.deepEqual(routes.map((x) => `${x.dst} via ${x.gateway}`).sort(), want);
      const fwd = await lab.onNode(n.name, ['cat', '/proc/sys/net/ipv4/ip_forward']);
      assert.equal(fwd.stdout.trim(), '1');
      const rules = await lab.onNode(n.name, ['iptables', '-S', 'PODNET-FORWARD']);
      assert.match(rules.stdout, /-A PODNET-FORWARD -s 10\.244\.0\.0\/16 -m comment --comment podnet -j ACCEPT/);
    }
  });

  it('pods on two nodes reach each other both ways, and each receiver sees the sender pod IP', async () => {
    pods.push(await createPod(lab, 'node-1', 'pa'));
    pods.push(await createPod(lab, 'node-2', 'pb', [{ hostPort: 30080, containerPort: 8080, protocol: 'tcp' }]));
    const [a, b] = pods as [TestPod, TestPod];
    assert.match(a.ip, /^10\.244\.0\./);
    assert.match(b.ip, /^10\.244\.1\./);
    await startEcho(lab, a);
    await startEcho(lab, b);
    assert.equal(await connect(lab, { node: 'node-1', pod: a }, b.ip, 8080), `ok ${a.ip}`);
    assert.equal(await connect(lab, { node: 'node-2', pod: b }, a.ip, 8080), `ok ${b.ip}`);
    assert.equal(await connect(lab, { node: 'node-1', pod: a }, b.ip, 8080, 'udp'), `ok ${a.ip}`);
  });

  it('a node reaches its own pods and pods on other nodes', async () => {
    const [a, b] = pods as [TestPod, TestPod];
    assert.match(await connect(lab, { node: 'node-1' }, a.ip, 8080), /^ok 10\.244\.0\.1$/);
    assert.match(await connect(lab, { node: 'node-1' }, b.ip, 8080), /^ok /);
    assert.match(await connect(lab, { node: 'node-3' }, b.ip, 8080), /^ok /);
  });

  it('nodeIP:hostPort reaches the pod, from another node and from a pod', async () => {
    const [a, b] = pods as [TestPod, TestPod];
    const node2 = plan.nodes[1]!.nodeIP;
    assert.match(await connect(lab, { node: 'node-3' }, node2, 30080), /^ok /);
    assert.match(await connect(lab, { node: 'node-1', pod: a }, node2, 30080), /^ok /);
    void b;
  });

  it('a second run reports 0 changes and touches nothing; status is clean', async () => {
    const before = (await lab.onNode('node-1', ['stat', '-c', '%Y %i', '/etc/cni/net.d/10-podnet.conflist'])).stdout;
    const r = await upJson(lab);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.ok(r.nodes.every((n) => n.result === 'unchanged' && n.changes.length === 0 && n.roundTrips === 1), JSON.stringify(r.nodes));
    assert.equal((await lab.onNode('node-1', ['stat', '-c', '%Y %i', '/etc/cni/net.d/10-podnet.conflist'])).stdout, before);
    const st = await lab.podnet(['status', '-i', lab.inventory]);
    assert.equal(st.exitCode, 0, st.stdout + st.stderr);
  });

  it('status reports drift with exit 1; up heals it', async () => {
    await lab.onNode('node-3', ['ip', 'route', 'del', '10.244.0.0/24']);
    await lab.onNode('node-3', ['sysctl', '-qw', 'net.ipv4.ip_forward=0']);
    await lab.onNode('node-2', ['ip', 'addr', 'add', '10.244.9.1/24', 'dev', 'cni0']);
    const st = await lab.podnet(['status', '-i', lab.inventory, '--json']);
    assert.equal(st.exitCode, 1);
    const nodes = (JSON.parse(st.stdout) as { nodes: { node: string; state: string; drift: string[] }[] }).nodes;
    const n3 = nodes.find((n) => n.node === 'node-3')!;
    assert.equal(n3.state, 'drift');
    assert.ok(n3.drift.some((d) => d.startsWith('route 10.244.0.0/24 via 192.0.2.11')), n3.drift.join('; '));
    assert.ok(n3.drift.some((d) => d.startsWith('sysctl net.ipv4.ip_forward: 0 → 1')));
    assert.ok(nodes.find((n) => n.node === 'node-2')!.drift.some((d) => d.includes('remove stale address 10.244.9.1/24')));
    assert.equal(nodes.find((n) => n.node === 'node-1')!.state, 'converged');
    const dry = await upJson(lab, ['--dry-run']);
    assert.equal(dry.nodes.find((n) => n.node === 'node-3')!.result, 'would-change');
    assert.notEqual((await lab.onNode('node-3', ['ip', 'route', 'show', '10.244.0.0/24'])).stdout.trim() !== '', true);
    const up = await upJson(lab);
    assert.equal(up.exitCode, 0);
    assert.deepEqual(up.nodes.map((n) => n.result), ['unchanged', 'changed', 'changed', 'unchanged']);
    assert.equal((await lab.podnet(['status', '-i', lab.inventory])).exitCode, 0);
  });

  it('the restore script rebuilds the network after a simulated reboot', async () => {
    await lab.shOnNode('node-4', 'ip link del cni0; ip route flush proto 157; iptables -D FORWARD -m comment --comment podnet -j PODNET-FORWARD; iptables -F PODNET-FORWARD; iptables -X PODNET-FORWARD');
    assert.equal((await lab.podnet(['status', '-i', lab.inventory])).exitCode, 1);
    const r = await lab.onNode('node-4', ['sh', '/etc/podnet/restore.sh']);
    assert.equal(r.exitCode, 0, r.stderr);
    const st = await lab.podnet(['status', '-i', lab.inventory]);
    assert.equal(st.exitCode, 0, st.stdout);
  });

  it('down removes exactly what podnet installed and keeps foreign state', async () => {
    for (const p of pods) await deletePod(lab, p);
    await lab.shOnNode(
      'node-1',
      `ip route add 10.99.0.0/24 via 192.0.2.12 proto static
echo '{"cniVersion":"0.4.0","name":"other","plugins":[{"type":"loopback"}]}' > /etc/cni/net.d/20-other.conflist
iptables -A FORWARD -s 10.98.0.0/16 -m comment --comment other -j ACCEPT
iptables -t nat -A POSTROUTING -s 10.97.0.0/16 -j MASQUERADE
ip link add br-foreign type bridge`,
    );
    const r = await lab.podnet(['down', '-i', lab.inventory, '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    for (const n of ['node-1', 'node-2', 'node-3', 'node-4']) {
      const s = await lab.shOnNode(n, 'ip route show proto 157; ip link show cni0 2>/dev/null; iptables -S | grep -i podnet; iptables -t nat -S | grep -i podnet; ls /etc/cni/net.d /etc/podnet /etc/sysctl.d/90-podnet.conf /etc/modules-load.d/podnet.conf 2>/dev/null');
      assert.equal(s.stdout.replace(/\/etc\/cni\/net\.d:\n?/, '').replace('20-other.conflist', '').trim(), '', `${n} still has podnet state:\n${s.stdout}`);
    }
    const kept = await lab.shOnNode('node-1', 'ip route show 10.99.0.0/24; ls /etc/cni/net.d; iptables -S FORWARD; iptables -t nat -S POSTROUTING; ip -br link show br-foreign');
    assert.match(kept.stdout, /10\.99\.0\.0\/24 via 192\.0\.2\.12/);
    assert.match(kept.stdout, /20-other\.conflist/);
    assert.match(kept.stdout, /-A FORWARD -s 10\.98\.0\.0\/16 -m comment --comment other -j ACCEPT/);
    assert.match(kept.stdout, /-A POSTROUTING -s 10\.97\.0\.0\/16 -j MASQUERADE/);
    assert.match(kept.stdout, /br-foreign/);
    const again = await lab.podnet(['down', '-i', lab.inventory, '--json']);
    assert.equal(again.exitCode, 0);
    assert.ok((JSON.parse(again.stdout) as { nodes: { result: string }[] }).nodes.every((n) => n.result === 'nothing'));
  });
});

describe('bootstrap: routed lab (two segments joined by a router)', () => {
  let lab: TestLab;
  before(async () => {
    lab = await startLab('trouteb', ['--nodes', '4', '--topology', 'routed']);
  });
  after(async () => {
    await lab?.down();
  });

  it('auto mode routes directly within a segment and through VXLAN across the router', async () => {
    const r = await upJson(lab);
    assert.equal(r.exitCode, 0, r.stderr + JSON.stringify(r.nodes));
    const p = JSON.parse((await lab.podnet(['plan', '-i', lab.inventory, '--json'])).stdout) as { mtu: number; nodes: { name: string; routes: { peer: string; kind: string }[] }[] };
    const n1 = p.nodes[0]!.routes;
    assert.equal(n1.find((x) => x.peer === 'node-2')?.kind, 'direct');
    assert.equal(n1.find((x) => x.peer === 'node-3')?.kind, 'overlay');
    assert.equal(n1.find((x) => x.peer === 'node-4')?.kind, 'overlay');
    assert.equal(p.mtu, 1450);
    const link = JSON.parse((await lab.onNode('node-1', ['ip', '-j', '-d', 'link', 'show', 'podnet.1'])).stdout) as { linkinfo: { info_data: { id: number; learning: boolean } } }[];
    assert.equal(link[0]!.linkinfo.info_data.id, 1);
    assert.equal(link[0]!.linkinfo.info_data.learning, false);
  });

  it('pods reach each other across the router with their own source address', async () => {
    const a = await createPod(lab, 'node-1', 'ra');
    const c = await createPod(lab, 'node-3', 'rc');
    const b = await createPod(lab, 'node-2', 'rb');
    for (const p of [a, b, c]) await startEcho(lab, p);
    assert.equal(await connect(lab, { node: 'node-1', pod: a }, c.ip, 8080), `ok ${a.ip}`);
    assert.equal(await connect(lab, { node: 'node-3', pod: c }, a.ip, 8080), `ok ${c.ip}`);
    assert.equal(await connect(lab, { node: 'node-3', pod: c }, b.ip, 8080, 'udp'), `ok ${c.ip}`);
    assert.equal(await connect(lab, { node: 'node-2', pod: b }, a.ip, 8080), `ok ${b.ip}`);
    assert.equal((await upJson(lab)).nodes.every((n) => n.result === 'unchanged'), true);
    for (const p of [a, b, c]) await deletePod(lab, p);
  });

  it('host-gw mode is refused with exit 2 when a peer is behind the router', async () => {
    const inv = `${lab.plan.dir}/inventory-hostgw.yaml`;
    await lab.onOperator(['sh', '-c', `sed 's/^cluster:/cluster:\\n  mode: host-gw/' ${lab.inventory} > ${inv}`]);
    const r = await lab.podnet(['up', '-i', inv]);
    assert.equal(r.exitCode, 2, r.stderr);
    assert.match(r.stderr, /cluster\.mode: host-gw needs every peer on-link/);
  });
});
