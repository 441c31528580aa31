/**
 * Dual-stack and IPv6-only pod networks on real lab nodes: podnet up gives every pod one address per
 * family, routes each family directly or through the overlay, keeps the node's state converged (a second
 * run changes nothing), and down removes both families' state. Pods made by CNI ADD on two nodes see
 * each other's IPv6 address as the source (no NAT).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type TestLab } from '../helpers/lab.js';
import { connect, createPod, deletePod, startEcho, type TestPod } from '../helpers/pods.js';

interface UpNode {
  node: string;
  result: string;
  changes: string[];
}

async function up(lab: TestLab): Promise<UpNode[]> {
  const r = await lab.podnet(['up', '-i', lab.inventory, '--json']);
  assert.equal(r.exitCode, 0, r.stderr + r.stdout);
  return (JSON.parse(r.stdout) as { nodes: UpNode[] }).nodes;
}

/** After a second up and status: nothing to change anywhere. */
async function assertConverged(lab: TestLab): Promise<void> {
  const again = await up(lab);
  assert.ok(again.every((n) => n.result === 'unchanged' && n.changes.length === 0), JSON.stringify(again));
  const st = await lab.podnet(['status', '-i', lab.inventory, '--json']);
  assert.equal(st.exitCode, 0, st.stdout);
}

/** Every pod reaches every other pod over IPv6 (TCP and UDP), and the receiver sees the sender's IPv6 pod address. */
async function assertIpv6Mesh(lab: TestLab, pods: TestPod[]): Promise<void> {
  for (const p of pods) await startEcho(lab, p);
  for (const src of pods) {
    for (const dst of pods) {
      if (src === dst) continue;
      assert.equal(await connect(lab, { node: src.node, pod: src }, dst.ips.ipv6!, 8080), `ok ${src.ips.ipv6}`, `TCP ${src.node}→${dst.node} over IPv6`);
      assert.equal(await connect(lab, { node: src.node, pod: src }, dst.ips.ipv6!, 8080, 'udp'), `ok ${src.ips.ipv6}`, `UDP ${src.node}→${dst.node} over IPv6`);
    }
  }
}

describe('dual-stack: routed lab (direct within a segment, VXLAN across the router)', () => {
  let lab: TestLab;
  const pods: TestPod[] = [];
  before(async () => {
    lab = await startLab('tdual', ['--nodes', '3', '--topology', 'routed', '--ip-family', 'dual']);
  });
  after(async () => {
    for (const p of pods) await deletePod(lab, p).catch(() => undefined);
    await lab?.down();
  });

  it('plans one pod CIDR per family per node and routes each family', async () => {
    const r = await lab.podnet(['plan', '-i', lab.inventory, '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as { clusterCIDRs: string[]; mtu: number; nodes: { name: string; families: { family: string; podCIDR: string; gateway: string; nodeIP?: string }[]; routes: { peer: string; family: string; kind: string; via: string; podCIDR: string }[] }[] };
    assert.deepEqual(plan.clusterCIDRs, ['10.244.0.0/16', 'fd00:10:244::/56']);
    assert.deepEqual(plan.nodes.map((n) => n.families.map((f) => f.podCIDR)), [
      ['10.244.0.0/24', 'fd00:10:244::/64'],
      ['10.244.1.0/24', 'fd00:10:244:1::/64'],
      ['10.244.2.0/24', 'fd00:10:244:2::/64'],
    ]);
    const n1 = plan.nodes[0]!;
    assert.deepEqual(n1.families.map((f) => f.nodeIP), ['192.0.2.11', '2001:db8:0:a::11']);
    const route = (peer: string, family: string) => n1.routes.find((x) => x.peer === peer && x.family === family);
    assert.deepEqual(route('node-2', 'ipv6'), { peer: 'node-2', family: 'ipv6', podCIDR: 'fd00:10:244:1::/64', kind: 'direct', via: '2001:db8:0:a::12', dev: 'eth0', onlink: false });
    assert.equal(route('node-3', 'ipv6')?.kind, 'overlay');
    assert.equal(route('node-3', 'ipv6')?.via, 'fd00:10:244:2::');
    assert.equal(route('node-3', 'ipv4')?.kind, 'overlay');
    // The overlay runs over the IPv4 underlay (the node IPs listed first): 50 bytes.
    assert.equal(plan.mtu, 1450);
  });

  it('up converges every node; a second run changes nothing', async () => {
    await up(lab);
    await assertConverged(lab);
    const s = await lab.shOnNode('node-1', 'ip -6 addr show dev cni0 scope global; ip -6 route show proto 157; ip6tables -S PODNET-FORWARD; sysctl -n net.ipv6.conf.all.forwarding');
    assert.match(s.stdout, /inet6 fd00:10:244::1\/64 scope global/);
    assert.match(s.stdout, /^fd00:10:244:1::\/64 via 2001:db8:0:a::12 dev eth0/m);
    assert.match(s.stdout, /^fd00:10:244:2::\/64 via fd00:10:244:2:: dev podnet\.1 .*onlink/m);
    assert.match(s.stdout, /-A PODNET-FORWARD -p ipv6-icmp -m icmp6 --icmpv6-type 135 -m comment --comment podnet -j ACCEPT/);
    assert.match(s.stdout, /^1$/m);
  });

  it('pods made by CNI ADD get one address per family and reach each other over IPv6 without NAT', async () => {
    for (const node of ['node-1', 'node-2', 'node-3']) pods.push(await createPod(lab, node, `ds-${node}`));
    for (const p of pods) {
      assert.ok(p.ips.ipv4 && p.ips.ipv6, `${p.node}: ${JSON.stringify(p.ips)}`);
    }
    await assertIpv6Mesh(lab, pods);
    // IPv4 still works alongside.
    assert.equal(await connect(lab, { node: 'node-1', pod: pods[0] }, pods[2]!.ips.ipv4!, 8080), `ok ${pods[0]!.ips.ipv4}`);
  });

  it('a drifted IPv6 route is reported by status and healed by up', async () => {
    await lab.shOnNode('node-1', 'ip -6 route del fd00:10:244:1::/64 proto 157');
    const st = await lab.podnet(['status', '-i', lab.inventory, '--json']);
    assert.equal(st.exitCode, 1, st.stdout);
    assert.match(st.stdout, /fd00:10:244:1::\/64 via 2001:db8:0:a::12/);
    await up(lab);
    await assertConverged(lab);
  });

  it('the restore script rebuilds both families after a simulated reboot', async () => {
    await lab.shOnNode('node-3', 'ip link del cni0; ip link del podnet.1; ip -4 route flush proto 157; ip -6 route flush proto 157; for t in iptables ip6tables; do $t -D FORWARD -m comment --comment podnet -j PODNET-FORWARD; $t -F PODNET-FORWARD; $t -X PODNET-FORWARD; done; sysctl -qw net.ipv6.conf.all.forwarding=0');
    assert.equal((await lab.podnet(['status', '-i', lab.inventory])).exitCode, 1);
    const r = await lab.onNode('node-3', ['sh', '/etc/podnet/restore.sh']);
    assert.equal(r.exitCode, 0, r.stderr);
    const st = await lab.podnet(['status', '-i', lab.inventory]);
    assert.equal(st.exitCode, 0, st.stdout);
  });

  it('down removes both families\' state', async () => {
    for (const p of pods.splice(0)) await deletePod(lab, p);
    const r = await lab.podnet(['down', '-i', lab.inventory, '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    for (const n of ['node-1', 'node-2', 'node-3']) {
      const s = await lab.shOnNode(n, 'ip -6 route show proto 157; ip route show proto 157; ip link show cni0 2>/dev/null; ip6tables -S | grep -i podnet; ip6tables -t nat -S | grep -i podnet; iptables -S | grep -i podnet');
      assert.equal(s.stdout.trim(), '', `${n} still has podnet state:\n${s.stdout}`);
    }
  });
});

describe('IPv6-only: flat lab', () => {
  let lab: TestLab;
  const pods: TestPod[] = [];
  before(async () => {
    lab = await startLab('tip6', ['--nodes', '2', '--ip-family', 'ipv6']);
  });
  after(async () => {
    for (const p of pods) await deletePod(lab, p).catch(() => undefined);
    await lab?.down();
  });

  it('up converges; pods get IPv6 addresses only and reach each other directly without NAT', async () => {
    await up(lab);
    await assertConverged(lab);
    const s = await lab.shOnNode('node-1', 'ip -6 route show proto 157; ip route show proto 157; iptables -S | grep -c podnet; ip6tables -t nat -S PODNET-POSTROUTING');
    assert.match(s.stdout, /^fd00:10:244:1::\/64 via 2001:db8:0:a::12 dev eth0/m);
    assert.doesNotMatch(s.stdout, /^10\.244/m, 'an IPv4 route on an IPv6-only network');
    assert.doesNotMatch(s.stdout, /MASQUERADE/, 'IPv6 is masqueraded only when asked');
    for (const node of ['node-1', 'node-2']) pods.push(await createPod(lab, node, `v6-${node}`));
    for (const p of pods) assert.deepEqual(Object.keys(p.ips), ['ipv6']);
    await assertIpv6Mesh(lab, pods);
  });
});
