/**
 * Every command through the Kubernetes API (`--access kube`, the nodes from the cluster's Node objects),
 * on a lab with the stand-in API: the same results as over SSH, the Node condition after up, the fault
 * injections of the SSH diagnose tests, a node without python3, and the failure paths — an image that
 * does not pull, PodSecurity admission, a 403, a helper pod deleted mid-run, Ctrl-C, SIGKILL and the API
 * going away — each reported per node with its cause and nothing left behind (namespace, pods, node-side
 * probe pods and processes).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { podnet, parseJsonDoc } from '../helpers/cli.js';
import { labKubectl, startLab, until, type TestLab } from '../helpers/lab.js';
import { assertClean, assertNoProbeLeftovers, exercise, key, probe } from '../helpers/diagnose.js';
import { FLAT_FAULTS, probeUntilProbing } from '../helpers/faults.js';
import { processAlive } from '../../src/lab/host.js';

const NAME = 'tkube';
const KUBE = ['--access', 'kube'];

describe('--access kube: every command through the Kubernetes API (flat lab, stand-in API)', () => {
  let lab: TestLab;
  const kubectl = (args: string[], input?: string) => labKubectl(lab, args, input);
  /** podnet's namespaces and helper pods still in the API */
  const leftovers = async () => {
    const ns = await kubectl(['get', 'ns', '-o', 'name']);
    const pods = await kubectl(['get', 'pods', '-A', '-l', 'app.kubernetes.io/managed-by=podnet', '-o', 'name']);
    return [...ns.stdout.split('\n').filter((l) => l.startsWith('namespace/podnet-')), ...pods.stdout.split('\n').filter(Boolean)];
  };
  const nothingLeft = async (why: string, ms = 30_000) => {
    await until(async () => (await leftovers()).length === 0, `${why}: left in the API: ${(await leftovers()).join(' ')}`, ms);
    // and no helper process on any node (the node's init, sshd and the API's anchors only)
    for (const n of lab.plan.nodes) {
      const r = await lab.shOnNode(n.name, 'grep -l "podnet-session[s]" /proc/[0-9]*/cmdline 2>/dev/null; true');
      assert.equal(r.stdout.trim(), '', `${n.name} still runs helper processes`);
    }
  };

  before(async () => {
    await podnet(['lab', 'down', '--name', NAME]);
    lab = await startLab(NAME, ['--nodes', '3', '--api']);
  });

  after(async () => {
    await lab?.down();
  });

  it('up, status, plan, doctor and probe through the API give what they give over SSH; up marks the Nodes', async () => {
    const up = await lab.podnet(['up', ...KUBE, '--json']);
    assert.equal(up.exitCode, 0, up.stderr);
    const report = parseJsonDoc(up.stdout) as unknown as { nodes: { node: string; result: string; podCIDR: string; nodeStatus?: string }[] };
    assert.deepEqual(report.nodes.map((n) => [n.node, n.result, n.nodeStatus]), lab.plan.nodes.map((n) => [n.name, 'changed', 'NetworkUnavailable=False (PodnetIsUp)']));
    // what SSH sees of the nodes the API brought up: converged, the same pod CIDRs
    const ssh = parseJsonDoc((await lab.podnet(['status', '-i', lab.inventory, '--json'])).stdout) as unknown as { nodes: { node: string; state: string; podCIDR: string }[] };
    const api = parseJsonDoc((await lab.podnet(['status', ...KUBE, '--json'])).stdout) as unknown as { nodes: { node: string; state: string; podCIDR: string }[] };
    assert.deepEqual(api.nodes.map((n) => [n.node, n.state, n.podCIDR]), ssh.nodes.map((n) => [n.node, n.state, n.podCIDR]));
    assert.ok(ssh.nodes.every((n) => n.state === 'converged'));
    // a second up through the API changes nothing
    const again = parseJsonDoc((await lab.podnet(['up', ...KUBE, '--json'])).stdout) as unknown as { nodes: { result: string }[] };
    assert.ok(again.nodes.every((n) => n.result === 'unchanged'));
    // the nodes from the cluster, reached over SSH at their InternalIPs (the lab's ssh_config has the key)
    const viaSsh = await lab.podnet(['status', '--access', 'ssh']);
    assert.equal(viaSsh.exitCode, 0, viaSsh.stdout + viaSsh.stderr);
    const plan = await lab.podnet(['plan', ...KUBE, '--json']);
    assert.equal(plan.exitCode, 0, plan.stderr);
    // the Node condition, as flannel and Calico set theirs
    const cond = await kubectl(['get', 'node', 'node-2', '-o', "jsonpath={.status.conditions[?(@.type=='NetworkUnavailable')].status}/{.status.conditions[?(@.type=='NetworkUnavailable')].reason}"]);
    assert.equal(cond.stdout, 'False/PodnetIsUp');
    lab.target = KUBE;
    try {
      await assertClean(lab, 84);
    } finally {
      lab.target = undefined;
    }
    await assertNoProbeLeftovers(lab);
    await nothingLeft('after the runs');
    // kubectl's plugin mechanism: the environment (KUBECONFIG) reaches podnet, the nodes come from the cluster
    const plugin = await lab.onOperator(['kubectl', 'podnet', 'status']);
    assert.equal(plugin.exitCode, 0, plugin.stderr);
    assert.match(plugin.stdout, /node-3 .*converged/);
  });

  it('with exactly what `podnet rbac` grants (the lab\'s -podnet context): up, status, doctor and probe work', async () => {
    const as = [...KUBE, '--context', `${NAME}-podnet`];
    for (const cmd of [['up', '--json'], ['status'], ['doctor'], ['probe', '-o', 'summary']]) {
      const r = await lab.podnet([...cmd, ...as]);
      assert.equal(r.exitCode, 0, `${cmd[0]}: ${r.stdout}${r.stderr}`);
      if (cmd[0] === 'up') assert.ok((JSON.parse(r.stdout) as { nodes: { nodeStatus?: string }[] }).nodes.every((n) => n.nodeStatus === 'NetworkUnavailable=False (PodnetIsUp)'));
    }
    await nothingLeft('after runs with podnet rbac\'s rights');
  });

  it('--node and -l pick nodes: up changes only those (routes to the others stay), status and doctor read only those', async () => {
    const one = await lab.podnet(['up', ...KUBE, '--node', 'node-1']);
    assert.equal(one.exitCode, 0, one.stdout + one.stderr);
    const all = await lab.podnet(['status', '-i', lab.inventory]);
    assert.equal(all.exitCode, 0, `every node still converged: ${all.stdout}`);
    const st = parseJsonDoc((await lab.podnet(['status', ...KUBE, '--node', 'node-2', '--json'])).stdout) as unknown as { nodes: { node: string; state: string }[] };
    assert.deepEqual(st.nodes.map((n) => [n.node, n.state]), [['node-2', 'converged']]);
    const doc = parseJsonDoc((await lab.podnet(['doctor', ...KUBE, '-l', 'kubernetes.io/hostname=node-3', '--json'])).stdout) as unknown as { nodes: { node: string }[]; findings: { id: string }[] };
    assert.deepEqual(doc.nodes.map((n) => n.node), ['node-3']);
    assert.deepEqual(doc.findings.map((f) => f.id), [], 'the Nodes not picked are not "unknown"');
    const bad = await lab.podnet(['plan', '-l', 'a b!!']);
    assert.equal(bad.exitCode, 2, bad.stderr);
    assert.match(bad.stderr, /^error: --selector: /);
    const none = await lab.podnet(['status', '--node', 'node-9']);
    assert.equal(none.exitCode, 2);
    assert.match(none.stderr, /^error: --node: no Node "node-9"/);
    const ns = await lab.podnet(['status', ...KUBE, '--namespace', 'nope']);
    assert.equal(ns.exitCode, 2);
    assert.match(ns.stderr, /^error: --namespace: no namespace "nope"/);
    await nothingLeft('after picking nodes');
  });

  for (const fault of [FLAT_FAULTS[0]!, FLAT_FAULTS[3]!]) {
    it(`through the API: ${fault.name}`, async () => {
      lab.target = KUBE;
      try {
        await exercise(lab, fault, 84);
      } finally {
        lab.target = undefined;
      }
    });
  }

  it('a node without python3, an image without a shell: through the API the probe runs from the image\'s python3, every cell passes', async () => {
    await lab.shOnNode('node-2', 'mount --bind /dev/null /usr/bin/python3');
    try {
      assert.notEqual((await lab.shOnNode('node-2', 'command -v python3')).exitCode, 0, 'python3 is hidden on node-2');
      // python3 and nothing else (the stand-in's distroless image has no /bin/sh)
      const p = await probe({ ...lab, target: [...KUBE, '--image', 'gcr.io/distroless/python3-debian12:latest'] });
      assert.deepEqual(p.results.filter((r) => r.status !== 'pass').map((r) => `${key(r)}: ${r.reason}`), []);
      assert.equal(p.exitCode, 0);
    } finally {
      await lab.shOnNode('node-2', 'umount /usr/bin/python3');
    }
    await assertNoProbeLeftovers(lab);
  });

  it('a namespace an earlier run left past its expiry (its machine died, reaper and all) is removed by the next run', async () => {
    const stale = JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'podnet-old01', labels: { 'app.kubernetes.io/managed-by': 'podnet', 'podnet.io/run': 'old01' }, annotations: { 'podnet.io/expires': '2020-01-01T00:00:00Z' } } });
    const fresh = JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'podnet-new01', labels: { 'app.kubernetes.io/managed-by': 'podnet', 'podnet.io/run': 'new01' }, annotations: { 'podnet.io/expires': '2999-01-01T00:00:00Z' } } });
    assert.equal((await kubectl(['create', '-f', '-'], stale)).exitCode, 0);
    assert.equal((await kubectl(['create', '-f', '-'], fresh)).exitCode, 0);
    try {
      const r = await lab.podnet(['status', ...KUBE]);
      assert.equal(r.exitCode, 0, r.stderr);
      await until(async () => (await kubectl(['get', 'ns', 'podnet-old01', '-o', 'name'])).exitCode !== 0, 'the expired namespace is still there');
      assert.equal((await kubectl(['get', 'ns', 'podnet-new01', '-o', 'name'])).stdout.trim(), 'namespace/podnet-new01', 'a run that may still be going is left alone');
    } finally {
      await kubectl(['delete', 'ns', 'podnet-new01', 'podnet-old01', '--ignore-not-found']);
    }
  });

  it('an image that does not pull: each node says so within seconds, naming the image and --image; nothing is left', async () => {
    const t0 = Date.now();
    const r = await lab.podnet(['status', ...KUBE, '--image', 'registry.example.invalid/podnet/nope:1']);
    assert.equal(r.exitCode, 3, r.stdout + r.stderr);
    assert.ok(Date.now() - t0 < 60_000, 'explained, not timed out');
    for (const n of lab.plan.nodes) assert.match(r.stdout, new RegExp(`${n.name} .*failed`));
    assert.match(r.stdout + r.stderr, /registry\.example\.invalid\/podnet\/nope:1/);
    assert.match(r.stdout + r.stderr, /--image/);
    await nothingLeft('after an image pull failure');
  });

  it('PodSecurity: a namespace the user names that admits only baseline pods is explained with its fix; its other pods stay', async () => {
    await kubectl(['create', 'namespace', 'netops']);
    await kubectl(['label', 'namespace', 'netops', 'pod-security.kubernetes.io/enforce=baseline']);
    try {
      const r = await lab.podnet(['status', ...KUBE, '--namespace', 'netops']);
      assert.equal(r.exitCode, 3, r.stdout + r.stderr);
      const out = r.stdout + r.stderr;
      assert.match(out, /PodSecurity/);
      assert.match(out, /pod-security\.kubernetes\.io\/enforce/);
      const ns = await kubectl(['get', 'ns', 'netops', '-o', 'name']);
      assert.equal(ns.stdout.trim(), 'namespace/netops', 'a namespace podnet did not create is not deleted');
    } finally {
      await kubectl(['delete', 'namespace', 'netops']);
    }
    await nothingLeft('after an admission rejection');
  });

  it('up over SSH with a cluster that may not patch Node status: each node fails at node-status with the fix; --no-node-status skips it', async () => {
    const viewer = ['-i', lab.inventory, '--kubeconfig', `${lab.plan.dir}/kubeconfig`, '--context', `${NAME}-viewer`];
    const r = await lab.podnet(['up', ...viewer]);
    assert.equal(r.exitCode, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /node-1 .*failed at node-status/);
    assert.match(r.stdout + r.stderr, /patch.*nodes\/status/);
    assert.match(r.stdout + r.stderr, /--no-node-status/);
    const skip = await lab.podnet(['up', ...viewer, '--no-node-status']);
    assert.equal(skip.exitCode, 0, skip.stdout + skip.stderr);
  });

  it('exec refused (a user without pods/exec): each node names the verb and resource, with podnet rbac; nothing is left', async () => {
    const file = `${lab.plan.dir}/api/users.json`;
    const saved = readFileSync(file, 'utf8');
    const users = JSON.parse(saved) as { users: { name: string; rules?: { resources: string[] }[] }[] };
    const pn = users.users.find((u) => u.name === `${NAME}-podnet`)!;
    pn.rules = pn.rules!.filter((r) => !r.resources.includes('pods/exec'));
    writeFileSync(file, JSON.stringify(users));
    try {
      await new Promise((r) => setTimeout(r, 1500)); // the server re-reads the file when it changes
      const r = await lab.podnet(['status', ...KUBE, '--context', `${NAME}-podnet`]);
      assert.equal(r.exitCode, 3, r.stdout + r.stderr);
      const out = r.stdout + r.stderr;
      assert.match(out, /pods\/exec/);
      assert.match(out, /podnet rbac/);
    } finally {
      writeFileSync(file, saved);
    }
    await nothingLeft('after exec was refused');
  });

  it('a 403: the missing verb and resource are named, with podnet rbac', async () => {
    const r = await lab.podnet(['status', ...KUBE, '--context', `${NAME}-viewer`]);
    assert.notEqual(r.exitCode, 0);
    const out = r.stdout + r.stderr;
    assert.match(out, /create/);
    assert.match(out, /namespaces/);
    assert.match(out, /podnet rbac/);
    await nothingLeft('after a 403');
  });

  it('a helper pod deleted mid-run: that node reports it, the others finish, nothing is left', async () => {
    const { child, undo } = await probeUntilProbing({ ...lab, target: KUBE });
    try {
      const pods = await kubectl(['get', 'pods', '-A', '-l', 'app.kubernetes.io/managed-by=podnet', '-o', "jsonpath={range .items[*]}{.metadata.namespace} {.metadata.name} {.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values[0]}{'\\n'}{end}"]);
      const node3 = pods.stdout.split('\n').find((l) => l.endsWith(' node-3'));
      assert.ok(node3, `the helper pod of node-3: ${pods.stdout}`);
      const [ns, pod] = node3.split(' ');
      await kubectl(['delete', 'pod', '-n', ns!, pod!, '--wait=false']);
      const r = await child;
      assert.notEqual(r.exitCode, 0);
      assert.match(String(r.stdout) + String(r.stderr), /node-3.*(deleted|ended)/);
    } finally {
      await undo();
    }
    await nothingLeft('after a helper pod was deleted');
    await assertNoProbeLeftovers(lab);
  });

  it('Ctrl-C mid-probe through the API: exit 130, probe pods, helper pods and the namespace are gone', async () => {
    const { child, stderr, undo } = await probeUntilProbing({ ...lab, target: KUBE });
    try {
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGINT');
      const r = await child;
      assert.ok(r.exitCode === 130 || r.signal === 'SIGINT', `exit ${r.exitCode}: ${stderr()}`);
    } finally {
      await undo();
    }
    await nothingLeft('after Ctrl-C');
    await assertNoProbeLeftovers(lab);
  });

  it('SIGKILL mid-probe through the API: the nodes drop the probe pods, the helper pods end, the reaper deletes the namespace', async () => {
    const { child, undo } = await probeUntilProbing({ ...lab, target: KUBE });
    try {
      child.kill('SIGKILL');
      await child;
      // the reaper waits (up to 30 s) for the helper pods to end by themselves once the node scripts in flight are done
      await nothingLeft('after SIGKILL', 90_000);
      await until(async () => (await lab.shOnNode('node-1', 'grep podnet-probe /proc/self/mountinfo; ls -d /run/podnet-probe-* 2>/dev/null')).stdout.trim() === '', 'probe pods left on node-1');
    } finally {
      await undo();
    }
    await assertNoProbeLeftovers(lab);
  });

  it('down through the API takes the pod network off every node; up brings it back', async () => {
    const down = await lab.podnet(['down', ...KUBE]);
    assert.equal(down.exitCode, 0, down.stdout + down.stderr);
    const st = parseJsonDoc((await lab.podnet(['status', '-i', lab.inventory, '--json'])).stdout) as unknown as { nodes: { state: string }[] };
    assert.ok(st.nodes.every((n) => n.state !== 'converged'), 'over SSH: nothing of podnet is left on the nodes');
    assert.equal((await lab.shOnNode('node-1', 'ls /etc/cni/net.d; ip -br link show cni0 2>/dev/null')).stdout.trim(), '');
    const up = await lab.podnet(['up', ...KUBE]);
    assert.equal(up.exitCode, 0, up.stderr);
    await nothingLeft('after down and up');
  });

  it('the API going away mid-run: every node reports it, per node, and the nodes clean up by themselves', async () => {
    const { child, undo } = await probeUntilProbing({ ...lab, target: KUBE });
    const apiPid = Number(readFileSync(`${lab.plan.dir}/api/pid`, 'utf8'));
    try {
      process.kill(apiPid, 'SIGKILL');
      const r = await child;
      assert.notEqual(r.exitCode, 0);
      const out = String(r.stdout) + String(r.stderr);
      for (const n of ['node-1', 'node-2']) assert.match(out, new RegExp(`${n}`));
      assert.match(out, /Kubernetes API|exec session|API server/);
      assert.ok(!processAlive(apiPid));
    } finally {
      await undo();
    }
    // the sessions' shells saw their input end: each node's dead man's switch removes its probe pod
    await until(async () => {
      let left = '';
      for (const n of lab.plan.nodes) left += (await lab.shOnNode(n.name, 'grep podnet-probe /proc/self/mountinfo; ls -d /run/podnet-probe-* 2>/dev/null')).stdout;
      return left.trim() === '';
    }, 'probe pods left after the API went away');
  });
});

describe('--access kube on a routed lab (VXLAN across the router)', () => {
  let lab: TestLab;
  before(async () => {
    await podnet(['lab', 'down', '--name', 'tkuber']);
    lab = await startLab('tkuber', ['--nodes', '4', '--topology', 'routed', '--api']);
  });
  after(async () => {
    await lab?.down();
  });

  it('up through the API converges (as SSH sees it), and the full mesh through the API passes', async () => {
    const up = await lab.podnet(['up', ...KUBE]);
    assert.equal(up.exitCode, 0, up.stdout + up.stderr);
    const st = await lab.podnet(['status', '-i', lab.inventory]);
    assert.equal(st.exitCode, 0, st.stdout);
    const p = await probe({ ...lab, target: KUBE });
    assert.deepEqual(p.results.filter((r) => r.status !== 'pass').map((r) => `${key(r)}: ${r.reason}`), []);
    assert.equal(p.exitCode, 0);
    await assertNoProbeLeftovers(lab);
  });
});
