/**
 * podnet probe per IP family on real lab nodes: a 2-node IPv4 lab whose nodes are made dual-stack by
 * hand (the way a cluster set up without podnet would be): an IPv6 address beside the node IP on the
 * underlay, a conflist whose host-local IPAM has one range set per family, and the routes to the peer's
 * pod /64 written by hand. The probe then runs the whole matrix once per family, and the IPv6 receivers
 * see the sending pod's own IPv6 address (no NAT). Every address lives inside the lab's namespaces.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startLab, type TestLab } from '../helpers/lab.js';
import { assertNoProbeLeftovers, key, type Cell } from '../helpers/diagnose.js';
import { cidrContainsIp } from '../../src/net/cidr.js';

interface FamilyCell extends Cell {
  family: string;
  target?: string;
  observed?: string;
}

interface Report {
  families: string[];
  nodes: { node: string; podIP?: string; podIPs?: { ipv4?: string; ipv6?: string }; error?: string }[];
  results: FamilyCell[];
}

/** the underlay's IPv6 address of node i (documentation prefix, beside the lab's 192.0.2.x) */
const nodeV6 = (i: number) => `2001:db8:2::${11 + i}`;
const podV6 = (i: number) => `fd00:10:244:${i}::/64`;

async function probeJson(lab: TestLab, extra: string[] = []): Promise<{ exitCode: number; stderr: string; doc: Report }> {
  const r = await lab.podnet(['probe', '-i', lab.inventory, '--json', ...extra]);
  return { exitCode: r.exitCode, stderr: r.stderr, doc: JSON.parse(r.stdout) as Report };
}

describe('probe per IP family: dual-stack pods on a 2-node lab, set up by hand', () => {
  let lab: TestLab;
  before(async () => {
    lab = await startLab('tpfam', ['--nodes', '2']);
    for (const [i, n] of lab.plan.nodes.entries()) {
      const j = 1 - i;
      const peer = lab.plan.nodes[j]!;
      const r = await lab.shOnNode(
        n.name,
        `set -e
sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip -6 addr add ${nodeV6(i)}/64 dev eth0 nodad
cat > /etc/cni/net.d/10-dual.conflist <<'EOF'
{"cniVersion":"1.0.0","name":"dual","plugins":[{"type":"bridge","bridge":"cnio0","isGateway":true,"ipMasq":false,"hairpinMode":true,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.244.${i}.0/24"}],[{"subnet":"${podV6(i)}"}]],"routes":[{"dst":"0.0.0.0/0"},{"dst":"::/0"}]}},{"type":"portmap","capabilities":{"portMappings":true},"snat":true}]}
EOF
ip route add 10.244.${j}.0/24 via ${peer.ip}
ip -6 route add ${podV6(j)} via ${nodeV6(j)} dev eth0`,
      );
      assert.equal(r.exitCode, 0, r.stderr);
    }
    // The bridge (and its gateway addresses) appears with the first pod: a node's facts, read before its
    // first probe pod, do not list them yet, and a node→own-pod probe sent from the gateway address
    // would be a NAT warning. One probe run first, as after any first pod on a node set up by hand.
    await lab.podnet(['probe', '-i', lab.inventory, '--json']);
  });
  after(async () => {
    await lab?.down();
  });

  it('runs every cell once per family; the IPv6 cells pass and pods see the peer pod IPv6 address as the source', async () => {
    const { exitCode, stderr, doc } = await probeJson(lab);
    assert.deepEqual(doc.families, ['ipv4', 'ipv6']);
    // 2 self pairs × 10 checks + 2 peer pairs × 9, per family
    assert.equal(doc.results.length, 2 * 38);
    const bad = doc.results.filter((r) => r.status !== 'pass').map((r) => `${r.family} ${key(r)}: ${r.reason}`);
    assert.deepEqual(bad, []);
    assert.equal(exitCode, 0, stderr);
    const podV6Of = (node: string) => doc.nodes.find((n) => n.node === node)!.podIPs!.ipv6!;
    for (const [i, n] of doc.nodes.entries()) {
      assert.ok(n.podIPs?.ipv4?.startsWith(`10.244.${i}.`), JSON.stringify(n));
      assert.ok(n.podIPs?.ipv6 && cidrContainsIp(podV6(i), n.podIPs.ipv6), JSON.stringify(n));
      assert.equal(n.podIP, n.podIPs?.ipv4);
    }
    // pod→pod across the nodes over IPv6: the receiver saw the sending pod's IPv6 address
    const cross = doc.results.filter((r) => r.family === 'ipv6' && ['pod-tcp', 'pod-udp'].includes(r.check) && r.src !== r.dst);
    assert.equal(cross.length, 4);
    for (const c of cross) {
      assert.equal(c.observed, podV6Of(c.src), key(c));
      assert.ok(c.target?.startsWith(`[${podV6Of(c.dst)}]:`), `${key(c)}: ${c.target}`);
    }
    // the IPv6 hostPort cells went to the node's IPv6 address beside its node IP
    const hp = doc.results.filter((r) => r.family === 'ipv6' && r.check === 'hostport-tcp-pod');
    assert.equal(hp.length, 4);
    for (const r of hp) assert.ok(r.target?.startsWith(`[${nodeV6(r.dst === 'node-1' ? 0 : 1)}]:`), `${key(r)}: ${r.target}`);
    await assertNoProbeLeftovers(lab);
    for (const n of lab.plan.nodes) {
      const r = await lab.shOnNode(n.name, 'ip6tables -t nat -S | grep -- "-A CNI-DN-"; ls /var/lib/cni/networks/dual 2>/dev/null | grep -v -e lock -e last_reserved');
      assert.equal(r.stdout.trim(), '', `${n.name} has IPv6 probe leftovers:\n${r.stdout}`);
    }
  });

  it('shows each family in the human matrices; --family ipv6 runs the IPv6 cells alone', async () => {
    const junitFile = `${lab.plan.dir}/probe-family.xml`;
    const human = await lab.podnet(['probe', '-i', lab.inventory, '--junit', junitFile]);
    assert.equal(human.exitCode, 0, human.stderr);
    // JUnit: a suite per check and family
    const xml = readFileSync(junitFile, 'utf8');
    assert.match(xml, /<testsuite name="pod→pod TCP \[IPv6\]" tests="4" failures="0"/);
    assert.match(xml, /<testsuite name="pod→pod TCP \[IPv4\]" tests="4" failures="0"/);
    assert.match(xml, /classname="probe\.pod-tcp\.ipv6"/);
    assert.match(human.stdout, /^pod→pod TCP \[IPv4\] \(rows: from, columns: to\)$/m);
    assert.match(human.stdout, /^pod→pod TCP \[IPv6\] \(rows: from, columns: to\)$/m);
    assert.match(human.stdout, /^pod localhost \(two processes\) \[IPv6\]: node-1 ✔ {2}node-2 ✔$/m);
    assert.match(human.stdout, /^76 passed, 0 failed \(0 unexplained\), 0 warnings, 0 skipped$/m);

    const only = await probeJson(lab, ['--family', 'ipv6']);
    assert.equal(only.exitCode, 0, only.stderr);
    assert.deepEqual(only.doc.families, ['ipv6']);
    assert.ok(only.doc.results.length === 38 && only.doc.results.every((r) => r.family === 'ipv6' && r.status === 'pass'));
  });
});
