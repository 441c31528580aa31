/**
 * doctor and probe on a dual-stack network podnet built (a routed lab: direct routes within a segment,
 * VXLAN across the router): a clean run proves every cell in both families; IPv6 failure modes injected
 * one at a time are named by doctor on the node (with the family) and fail exactly the affected IPv6
 * cells; up heals what podnet owns.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type TestLab } from '../helpers/lab.js';
import { assertClean, assertNoProbeLeftovers, doctor, exercise, involves, key, probe, type Cell, type Fault } from '../helpers/diagnose.js';

// 3 nodes, full mesh: 9 ordered pairs × 9 checks + 3 localhost cells, per family.
const PER_FAMILY = 84;
const CELLS = 2 * PER_FAMILY;

const v6 = (pred: (c: Cell) => boolean) => (c: Cell) => c.family === 'ipv6' && pred(c);
const between = (a: string, b: string) => (c: Cell) => (c.src === a && c.dst === b) || (c.src === b && c.dst === a);

/** Per-family versions of the IPv4 fault injections that cost the CI suite more than they tell (opt-in: PODNET_LONG_TESTS=1). */
const LONG_FAULTS: Fault[] = [
  {
    name: 'a missing IPv6 route to a peer on-link',
    node: 'node-1',
    inject: 'ip -6 route del fd00:10:244:1::/64 proto 157',
    finding: 'missing-route',
    family: 'ipv6',
    mustFail: ['pod-tcp/ipv6 node-1→node-2', 'pod-icmp/ipv6 node-2→node-1'],
    scope: v6(between('node-1', 'node-2')),
    explainsAll: true,
    heals: true,
  },
];

const FAULTS: Fault[] = [
  {
    name: 'ip6tables FORWARD DROP without podnet\'s jump (IPv4 untouched)',
    node: 'node-3',
    inject: 'ip6tables -P FORWARD DROP && ip6tables -D FORWARD -m comment --comment podnet -j PODNET-FORWARD',
    finding: 'forward-drop',
    family: 'ipv6',
    mustFail: ['pod-tcp/ipv6 node-1→node-3', 'pod-udp/ipv6 node-3→node-2', 'host-pod-tcp/ipv6 node-1→node-3'],
    scope: v6(involves('node-3')),
    explainsAll: true,
    heals: true,
    after: 'ip6tables -P FORWARD ACCEPT',
  },
  {
    name: 'IPv6 pod traffic masqueraded',
    node: 'node-1',
    inject: 'ip6tables -t nat -I POSTROUTING -s fd00:10:244::/56 -j MASQUERADE',
    finding: 'pod-nat',
    family: 'ipv6',
    // Its POSTROUTING rewrites node-1's pods' traffic out, and peers' pod traffic into node-1's bridge.
    mustFail: ['pod-tcp/ipv6 node-1→node-2', 'pod-udp/ipv6 node-1→node-3', 'pod-tcp/ipv6 node-3→node-1'],
    scope: v6(involves('node-1')),
    explainsAll: true,
    heals: false,
    undo: 'ip6tables -t nat -D POSTROUTING -s fd00:10:244::/56 -j MASQUERADE',
  },
];

/** IPv6 failure modes no probe cell feels here: injected together, one doctor, one probe, one up. */
const QUIET: Fault[] = [
  {
    name: 'ip6tables FORWARD DROP that eats neighbour discovery on the bridge',
    node: 'node-2',
    inject: 'ip6tables -P FORWARD DROP && for t in 135 136; do ip6tables -D PODNET-FORWARD -p ipv6-icmp -m icmp6 --icmpv6-type $t -m comment --comment podnet -j ACCEPT; done',
    finding: 'nd-dropped',
    // one probe pod per node: no two pods share a bridge, so no cell feels it
    mustFail: [],
    scope: () => false,
    probeFails: false,
    heals: true,
    after: 'ip6tables -P FORWARD ACCEPT',
  },
  {
    name: 'ICMPv6 packet-too-big dropped on the node',
    node: 'node-1',
    inject: 'ip6tables -I INPUT -p ipv6-icmp --icmpv6-type packet-too-big -j DROP',
    finding: 'icmp6-ptb-dropped',
    // every path here has one MTU: nothing needs a packet-too-big
    mustFail: [],
    scope: () => false,
    probeFails: false,
    heals: false,
    undo: 'ip6tables -D INPUT -p ipv6-icmp --icmpv6-type packet-too-big -j DROP',
  },
  {
    name: 'a router-advertised default route the kernel stops renewing under forwarding',
    node: 'node-1',
    inject: 'sysctl -qw net.ipv6.conf.eth0.accept_ra=1 && ip -6 route add default via fe80::1 dev eth0 proto ra',
    finding: 'ra-default-route',
    severity: 'error',
    mustFail: [],
    scope: () => false,
    probeFails: false,
    // up keeps it: accept_ra 2 on eth0 (in its sysctl file too)
    heals: true,
  },
  {
    name: 'IPv6 forwarding off (the bridge plugin turns it back on at CNI ADD)',
    node: 'node-3',
    inject: 'sysctl -qw net.ipv6.conf.all.forwarding=0',
    finding: 'ip6-forward-off',
    mustFail: [],
    scope: () => false,
    probeFails: false,
    heals: true,
  },
];

describe('dual-stack diagnosis: routed lab of 3 nodes', () => {
  let lab: TestLab;
  before(async () => {
    lab = await startLab('tdsdiag', ['--nodes', '3', '--topology', 'routed', '--ip-family', 'dual']);
    const up = await lab.podnet(['up', '-i', lab.inventory]);
    assert.equal(up.exitCode, 0, up.stderr);
    // The first probe run creates the bridges' first pods; warm up so the facts see the gateways.
    await probe(lab);
  });
  after(async () => {
    await lab?.down();
  });

  it('clean: doctor finds no error, every cell passes in both families', async () => {
    await assertClean(lab, CELLS);
    const p = await probe(lab);
    assert.equal(p.results.filter((r) => r.family === 'ipv6').length, PER_FAMILY);
    assert.equal(p.results.filter((r) => r.family === 'ipv4').length, PER_FAMILY);
    const only6 = await probe(lab, ['--family', 'ipv6']);
    assert.equal(only6.exitCode, 0);
    assert.ok(only6.results.length === PER_FAMILY && only6.results.every((r) => r.family === 'ipv6'));
  });

  for (const f of [...FAULTS, ...(process.env.PODNET_LONG_TESTS === '1' ? LONG_FAULTS : [])]) {
    it(`${f.finding} (${f.node}): ${f.name}`, async () => {
      await exercise(lab, f, CELLS);
    });
  }

  it(`all at once, none failing a probe cell: ${QUIET.map((f) => f.finding).join(', ')}`, async () => {
    for (const f of QUIET) {
      const inj = await lab.shOnNode(f.node, f.inject);
      assert.equal(inj.exitCode, 0, `${f.finding} inject: ${inj.stderr}`);
    }
    const d = await doctor(lab);
    for (const f of QUIET) {
      const found = d.findings.filter((x) => x.id === f.finding && x.node === f.node);
      assert.ok(found.length, `doctor: no ${f.finding} on ${f.node}: ${JSON.stringify(d.findings.map((x) => `${x.node}:${x.id}`))}`);
      if (f.severity) assert.ok(found.every((x) => x.severity === f.severity), `${f.finding} severity: ${JSON.stringify(found)}`);
    }
    const p = await probe(lab);
    assert.deepEqual(p.results.filter((r) => r.status !== 'pass').map((r) => `${key(r)}: ${r.reason}`), []);
    assert.equal(p.results.length, CELLS);
    for (const f of QUIET) if (f.undo) await lab.shOnNode(f.node, f.undo);
    const up = await lab.podnet(['up', '-i', lab.inventory]);
    assert.equal(up.exitCode, 0, up.stderr);
    for (const f of QUIET) if (f.after) await lab.shOnNode(f.node, f.after);
    const again = await doctor(lab);
    assert.deepEqual(again.findings.filter((x) => QUIET.some((f) => f.finding === x.id)).map((x) => `${x.node}: ${x.id}: ${x.message}`), [], 'healed or undone');
    const st = await lab.podnet(['status', '-i', lab.inventory]);
    assert.equal(st.exitCode, 0, st.stdout);
  });

  it('leaves no probe pods behind', async () => {
    await assertNoProbeLeftovers(lab);
  });
});

describe('IPv6-only diagnosis: routed lab of 3 nodes (VXLAN over an IPv6 underlay)', () => {
  let lab: TestLab;
  before(async () => {
    lab = await startLab('tip6diag', ['--nodes', '3', '--topology', 'routed', '--ip-family', 'ipv6']);
    const up = await lab.podnet(['up', '-i', lab.inventory]);
    assert.equal(up.exitCode, 0, up.stderr);
    await probe(lab);
  });
  after(async () => {
    await lab?.down();
  });

  it('clean: doctor finds no error, every IPv6 cell passes (the overlay costs 70 bytes of MTU)', async () => {
    const plan = JSON.parse((await lab.podnet(['plan', '-i', lab.inventory, '--json'])).stdout) as { mtu: number; nodes: { routes: { peer: string; kind: string; family: string }[] }[] };
    assert.equal(plan.mtu, 1430);
    assert.deepEqual(plan.nodes[0]!.routes.map((r) => `${r.peer} ${r.family} ${r.kind}`), ['node-2 ipv6 direct', 'node-3 ipv6 overlay']);
    // Converged: the overlay over IPv6 is read back as it was made (iproute2 names its end "local6").
    const again = JSON.parse((await lab.podnet(['up', '-i', lab.inventory, '--json'])).stdout) as { nodes: { node: string; result: string; changes: string[] }[] };
    assert.deepEqual(again.nodes.filter((n) => n.result !== 'unchanged').map((n) => `${n.node}: ${n.changes.join('; ')}`), []);
    await assertClean(lab, PER_FAMILY);
    const p = await probe(lab);
    assert.ok(p.results.every((r) => r.family === 'ipv6'));
    await assertNoProbeLeftovers(lab);
  });
});
