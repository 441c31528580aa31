/**
 * doctor and probe against real lab nodes: a clean network passes everything; each injected failure mode
 * fails exactly the cells it should (and none that do not involve it), doctor names the cause on the
 * right node, and `podnet up` heals what podnet owns. Also: hand-made networks, and cleanup after Ctrl-C.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { readFileSync, writeFileSync } from 'node:fs';
import { killSshd, startLab, startSshd, type TestLab } from '../helpers/lab.js';
import { FLAT_FAULTS, probeUntilProbing } from '../helpers/faults.js';
import { assertClean, assertNoProbeLeftovers, doctor, exercise, involves, key, probe, type Finding } from '../helpers/diagnose.js';
import { labExecArgv, labExecEnv } from '../../src/lab/service.js';

describe('diagnose: flat lab of 3 nodes', () => {
  let lab: TestLab;
  before(async () => {
    lab = await startLab('tdiag', ['--nodes', '3']);
    const up = await lab.podnet(['up', '-i', lab.inventory]);
    assert.equal(up.exitCode, 0, up.stderr);
  });
  after(async () => {
    await lab?.down();
  });

  it('a clean network: doctor finds no errors, probe passes every cell', async () => {
    await assertClean(lab, 84);
    await assertNoProbeLeftovers(lab);
  });

  it('--sample K probes K peers per node; every node is a source and a target', async () => {
    const p = await probe(lab, ['--sample', '1']);
    assert.equal(p.exitCode, 0);
    assert.equal(p.results.length, 3 * 2 * 9 + 3);
    const pairs = new Set(p.results.filter((r) => r.check === 'pod-tcp' && r.src !== r.dst).map((r) => `${r.src}→${r.dst}`));
    assert.deepEqual([...pairs].sort(), ['node-1→node-2', 'node-2→node-3', 'node-3→node-1']);
  });

  for (const fault of FLAT_FAULTS) {
    it(`fault: ${fault.name}`, async () => {
      await exercise(lab, fault, 84);
      await assertNoProbeLeftovers(lab);
    });
  }

  it('doctor sees NetworkManager holding the bridge (through the real facts script and a stand-in nmcli)', async () => {
    await lab.shOnNode('node-2', "cat > /usr/local/bin/nmcli <<'EOF'\n#!/bin/sh\necho eth0:connected\necho 'cni0:connected (externally)'\necho lo:unmanaged\nEOF\nchmod +x /usr/local/bin/nmcli");
    try {
      const d = await doctor(lab);
      const nm = d.findings.filter((f) => f.id === 'nm-managed');
      assert.deepEqual(nm.map((f) => `${f.node} ${f.severity}`), ['node-2 warning']);
      assert.equal(d.exitCode, 0, 'a warning does not fail doctor');
    } finally {
      await lab.shOnNode('node-2', 'rm -f /usr/local/bin/nmcli');
    }
    assert.deepEqual((await doctor(lab)).findings.filter((f) => f.id === 'nm-managed'), []);
  });

  it('an unreachable node: doctor reports it and still checks the others; probe fails only its cells', async () => {
    killSshd(lab, 'node-3');
    try {
      const d = await doctor(lab);
      assert.equal(d.exitCode, 1);
      assert.deepEqual(d.findings.filter((f) => f.severity === 'error').map((f) => `${f.node} ${f.id}`), ['node-3 unreachable']);
      const p = await probe(lab);
      assert.equal(p.exitCode, 1);
      const failing = p.results.filter((r) => r.status === 'fail');
      assert.ok(failing.length > 0 && failing.every((c) => involves('node-3')(c) && /node-3: facts could not be read/.test(c.reason ?? '')), JSON.stringify(failing.slice(0, 3)));
      assert.equal(p.results.filter((r) => r.status === 'pass').length + failing.length, 84);
      assert.ok(p.results.some((r) => key(r) === 'pod-tcp node-1→node-2' && r.status === 'pass'));
      assert.ok(p.failures.some((f) => f.explanations.some((e) => e.id === 'unreachable' && e.node === 'node-3')), 'failures joined with the unreachable finding');
    } finally {
      await startSshd(lab, 'node-3');
    }
    await assertNoProbeLeftovers(lab);
  });

  it('doctor --kubeconfig compares the Kubernetes API with the nodes (a stand-in API server in the operator namespace)', async () => {
    const nodes = {
      kind: 'NodeList',
      apiVersion: 'v1',
      items: [
        { metadata: { name: 'node-1' }, spec: { podCIDR: '10.244.0.0/24', podCIDRs: ['10.244.0.0/24'] }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.11' }] } },
        // allocated another range than the node's CNI config uses
        { metadata: { name: 'node-2' }, spec: { podCIDR: '10.244.7.0/24', podCIDRs: ['10.244.7.0/24'] }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.12' }] } },
        { metadata: { name: 'worker-9' }, spec: {}, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.99' }] } },
      ],
    };
    const server = `import http.server, json, sys
body = json.dumps(${JSON.stringify(nodes)}).encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.path.split('?')[0] == '/api/v1/nodes'
        self.send_response(200 if ok else 404); self.send_header('Content-Type', 'application/json'); self.end_headers()
        self.wfile.write(body if ok else b'{}')
    def log_message(self, *a): pass
http.server.HTTPServer(('127.0.0.1', 16443), H).serve_forever()`;
    const kubeconfig = `${lab.plan.dir}/kubeconfig`;
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: lab, cluster: {server: "http://127.0.0.1:16443", insecure-skip-tls-verify: true}}]\nusers: [{name: lab, user: {token: lab}}]\ncontexts: [{name: lab, context: {cluster: lab, user: lab}}]\ncurrent-context: lab\n');
    const [file, ...args] = labExecArgv(lab.plan, { kind: 'operator' }, ['python3', '-c', server]);
    const api = execa(file!, args, { env: labExecEnv(), reject: false });
    try {
      let d: { exitCode: number; findings: (Finding & { message: string })[] } = { exitCode: -1, findings: [] };
      for (let i = 0; i < 20; i++) {
        const r = await lab.podnet(['doctor', '-i', lab.inventory, '--json', '--kubeconfig', kubeconfig]);
        d = { exitCode: r.exitCode, findings: (JSON.parse(r.stdout) as { findings: (Finding & { message: string })[] }).findings };
        if (!d.findings.some((f) => f.id === 'kube-api')) break;
        await new Promise((res) => setTimeout(res, 250)); // the stand-in server is still starting
      }
      const kube = d.findings.filter((f) => f.id.startsWith('kube-')).map((f) => `${f.node} ${f.id} ${f.severity}`);
      assert.deepEqual(kube.sort(), ['node-2 kube-podcidr error', 'node-3 kube-node-missing warning', 'worker-9 kube-node-unknown warning']);
      assert.match(d.findings.find((f) => f.id === 'kube-podcidr')!.message, /10\.244\.7\.0\/24 .* hands out 10\.244\.1\.0\/24/);
      assert.equal(d.exitCode, 1);
    } finally {
      api.kill('SIGKILL');
      await api;
    }
    // the API gone: one warning, the nodes still checked, no error
    const down = await lab.podnet(['doctor', '-i', lab.inventory, '--json', '--kubeconfig', kubeconfig]);
    const fs = (JSON.parse(down.stdout) as { findings: Finding[] }).findings;
    // (earlier fault tests may leave warnings of their own on the nodes, such as an uplink MTU)
    assert.deepEqual(fs.filter((f) => f.id.startsWith('kube-')).map((f) => `${f.node} ${f.id} ${f.severity}`), ['kubernetes-api kube-api warning']);
    assert.deepEqual(fs.filter((f) => f.severity === 'error'), []);
    assert.equal(down.exitCode, 0);
    // a kubeconfig that is not there is bad input
    const bad = await lab.podnet(['doctor', '-i', lab.inventory, '--kubeconfig', `${lab.plan.dir}/nope`]);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr.trim(), /^error: --kubeconfig: cannot load .*nope/);
  });

  it('a node without python3: its cells are skipped with the reason, the others still pass, exit 1', async () => {
    await lab.shOnNode('node-2', 'mv /usr/bin/python3 /usr/bin/python3.hidden');
    try {
      const p = await probe(lab);
      assert.equal(p.exitCode, 1, 'unproven cells fail the run');
      const skipped = p.results.filter((r) => r.status === 'skip');
      assert.deepEqual(p.results.filter((r) => r.status === 'fail'), []);
      assert.ok(skipped.length > 0 && skipped.every((c) => involves('node-2')(c) && /node-2: python3 is missing/.test(c.reason ?? '')), JSON.stringify(skipped.slice(0, 3)));
      const passed = p.results.filter((r) => r.status === 'pass');
      assert.equal(passed.length + skipped.length, 84);
      assert.ok(passed.every((c) => !involves('node-2')(c)));
      assert.ok(passed.some((c) => key(c) === 'pod-tcp node-1→node-3'));
    } finally {
      await lab.shOnNode('node-2', 'mv /usr/bin/python3.hidden /usr/bin/python3');
    }
    await assertNoProbeLeftovers(lab);
  });

  it('cleans up everything after Ctrl-C in the middle of a probe', async () => {
    const { child, stderr, undo } = await probeUntilProbing(lab);
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    const r = await child;
    // execa reports a subprocess it signalled as killed by the signal, even when it exited 130 itself.
    assert.ok(r.exitCode === 130 || r.signal === 'SIGINT', `exit ${r.exitCode}: ${stderr()}`);
    assert.match(stderr(), /interrupted: cleaning up/);
    await undo();
    await lab.podnet(['up', '-i', lab.inventory]);
    await assertNoProbeLeftovers(lab);
  });

  it('podnet killed outright (SIGKILL) mid-probe: the nodes remove the probe pods by themselves', async () => {
    const { child, undo } = await probeUntilProbing(lab);
    try {
      // the pods exist now
      const before = await lab.shOnNode('node-1', 'grep -c " /run/podnet-probe-[^ ]*/netns " /proc/self/mountinfo');
      assert.equal(before.stdout.trim(), '1');
      child.kill('SIGKILL');
      await child;
      // no teardown from podnet: each node's switch fires once its SSH session has ended
      let left = '';
      for (let i = 0; i < 40; i++) {
        await new Promise((r) => setTimeout(r, 500));
        left = '';
        for (const n of lab.plan.nodes) left += (await lab.shOnNode(n.name, 'grep podnet-probe /proc/self/mountinfo; ls -d /run/podnet-probe-* 2>/dev/null')).stdout;
        if (left.trim() === '') break;
      }
      assert.equal(left.trim(), '', 'probe pods were left behind');
    } finally {
      await undo();
    }
    await assertNoProbeLeftovers(lab);
  });
});

describe('diagnose: routed lab', () => {
  let lab: TestLab;
  before(async () => {
    lab = await startLab('tdiagr', ['--nodes', '4', '--topology', 'routed']);
    const up = await lab.podnet(['up', '-i', lab.inventory]);
    assert.equal(up.exitCode, 0, up.stderr);
  });
  after(async () => {
    await lab?.down();
  });

  it('is clean after up, and a blocked VXLAN port fails exactly the overlay pairs of that node', async () => {
    await assertClean(lab, 4 * 4 * 9 + 4);
    await exercise(
      lab,
      {
        name: 'VXLAN port blocked',
        node: 'node-3',
        inject: 'iptables -I INPUT -p udp --dport 8472 -j DROP',
        finding: 'vxlan-blocked',
        mustFail: ['pod-tcp node-1→node-3', 'pod-tcp node-3→node-2'],
        // node-3 and node-4 share a segment: their traffic is direct and must keep working
        scope: (c) => c.src !== c.dst && involves('node-3')(c) && !involves('node-4')(c),
        heals: false,
        undo: 'iptables -D INPUT -p udp --dport 8472 -j DROP',
      },
      4 * 4 * 9 + 4,
    );
  });
});

describe('diagnose: nodes set up by hand', () => {
  let lab: TestLab;
  before(async () => {
    lab = await startLab('thand', ['--nodes', '2']);
    // The Kubernetes-the-hard-way recipe: a conflist and routes written directly, ipMasq on.
    for (const [i, n] of lab.plan.nodes.entries()) {
      const peer = lab.plan.nodes[1 - i]!;
      const r = await lab.shOnNode(
        n.name,
        `sysctl -qw net.ipv4.ip_forward=1
cat > /etc/cni/net.d/10-bridge.conflist <<'EOF'
{"cniVersion":"1.0.0","name":"bridge","plugins":[{"type":"bridge","bridge":"cnio0","isGateway":true,"ipMasq":true,"hairpinMode":true,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.244.${i}.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}]}},{"type":"portmap","capabilities":{"portMappings":true},"snat":true}]}
EOF
ip route add 10.244.${1 - i}.0/24 via ${peer.ip}`,
      );
      assert.equal(r.exitCode, 0, r.stderr);
    }
  });
  after(async () => {
    await lab?.down();
  });

  it('reads the live config of another CNI setup and finds its pod→pod NAT', async () => {
    const d = await doctor(lab);
    assert.deepEqual(d.findings.filter((f) => f.severity === 'error').map((f) => `${f.node} ${f.id}`), ['node-1 pod-nat', 'node-2 pod-nat']);
    const p = await probe(lab);
    assert.equal(p.exitCode, 1);
    const failing = p.results.filter((r) => r.status === 'fail');
    assert.ok(failing.length > 0 && failing.every((c) => c.src !== c.dst && /NAT/.test(c.reason ?? '')), JSON.stringify(failing));
    assert.ok(failing.some((c) => key(c) === 'pod-tcp node-1→node-2'));
    await assertNoProbeLeftovers(lab);
  });

  it('passes once the NAT is gone', async () => {
    for (const n of lab.plan.nodes) await lab.shOnNode(n.name, `sed -i 's/"ipMasq":true/"ipMasq":false/' /etc/cni/net.d/10-bridge.conflist; iptables -t nat -F POSTROUTING; for c in $(iptables -t nat -S | sed -n 's/^-N \\(CNI-[0-9a-f]*\\)$/\\1/p'); do iptables -t nat -F $c; iptables -t nat -X $c; done`);
    const d = await doctor(lab);
    assert.deepEqual(d.findings.filter((f) => f.severity === 'error'), []);
    const p = await probe(lab);
    assert.deepEqual(p.results.filter((r) => r.status === 'fail').map((r) => `${key(r)} ${r.reason}`), []);
  });
});

// 32 nodes is a long matrix: it runs with PODNET_LONG_TESTS=1 (npm run test:long), not in every CI run.
describe('diagnose: 32 nodes', { skip: process.env.PODNET_LONG_TESTS === '1' ? false : 'long suite: PODNET_LONG_TESTS=1 (npm run test:long)' }, () => {
  let lab: TestLab;
  const thresh3 = () => readFileSync('/proc/sys/net/ipv4/neigh/default/gc_thresh3', 'utf8').trim();
  let before3: string;
  before(async () => {
    before3 = thresh3();
    lab = await startLab('tbig', ['--nodes', '32']);
    const up = await lab.podnet(['up', '-i', lab.inventory]);
    assert.equal(up.exitCode, 0, up.stderr);
  });
  after(async () => {
    await lab?.down();
    // the shared neighbour table's limit goes back to what the host had
    assert.equal(thresh3(), before3);
  });

  it('the full mesh passes every one of its 9,248 cells (the lab raised the shared neighbour table)', async () => {
    assert.ok(Number(thresh3()) >= Number(before3) + 32 * 32, `gc_thresh3 is ${thresh3()}`);
    const p = await probe(lab);
    assert.equal(p.results.length, 32 * 32 * 9 + 32);
    assert.deepEqual(p.results.filter((r) => r.status !== 'pass').slice(0, 10).map((r) => `${key(r)}: ${r.reason}`), []);
    assert.equal(p.exitCode, 0);
    await assertNoProbeLeftovers(lab);
  });
});
