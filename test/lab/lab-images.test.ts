/**
 * `lab up --api`, what podnet's kube access needs from the stand-in, proven with the real kubectl: the
 * python image (podnet's default helper image, built from the machine's python3 with only what the helper
 * and the probe import) as a pod's own root filesystem; the scheduler placing a pod by required node
 * affinity, and saying why not as kube-scheduler does; a hostPID pod's exec sessions ending with its main
 * container although they entered the node's namespaces (the container's cgroup); and the Node's
 * NetworkUnavailable condition as podnet patches it, with the taint that follows it and doctor's findings
 * about the Nodes' conditions. One lab.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { execa } from 'execa';
import { podnet } from '../helpers/cli.js';
import { labKubectl, startLab, until, type TestLab } from '../helpers/lab.js';
import { labExecArgv, labExecEnv } from '../../src/lab/service.js';
import { cgroup2Root, nsInode, processAlive } from '../../src/lab/host.js';
import { nodeMountNsFile } from '../../src/lab/render.js';
import { DEFAULT_HELPER_IMAGE, SESSION_ARGV } from '../../src/kube/objects.js';
import { networkAvailablePatch } from '../../src/kube/node-status.js';

const NAME = 'timg';
const MODULES = 'json,selectors,socket,struct,errno,ctypes,os,sys,time';

/** Host PIDs whose command line is exactly argv. */
function pidsRunning(argv: string[]): number[] {
  const want = `${argv.join('\0')}\0`;
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return readFileSync(`/proc/${e}/cmdline`, 'utf8') === want;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('lab up --api: the python image, node affinity, exec sessions that end with their container, Node conditions', () => {
  let lab: TestLab;
  const kubectl = (args: string[], input?: string) => labKubectl(lab, args, input);
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(args, input);
    assert.equal(r.exitCode, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** A privileged hostNetwork, hostPID pod of the default helper image, pinned as podnet pins its helpers (no nodeName). */
  const helperLike = (name: string, node: string, command: string[]) =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: {
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }] } } },
        tolerations: [{ operator: 'Exists' }],
        hostNetwork: true,
        hostPID: true,
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'main', image: DEFAULT_HELPER_IMAGE, command, securityContext: { privileged: true } }],
      },
    });

  before(async () => {
    await podnet(['lab', 'down', '--name', NAME]);
    lab = await startLab(NAME, ['--nodes', '2', '--api']);
  });

  after(async () => {
    await lab?.down();
    const cg = cgroup2Root();
    if (cg) assert.ok(!existsSync(`${cg}/podnet-lab-${NAME}`), 'lab down removed the lab\'s cgroup with the kubelet\'s below it');
  });

  it('the python image: the helper\'s imports work from the image\'s own files, not the node\'s; the scheduler placed it by node affinity', async () => {
    await ok(['apply', '-f', '-'], helperLike('py', 'node-2', ['sleep', '3600']));
    await ok(['wait', '--for=condition=Ready', 'pod/py', '--timeout=30s']);
    assert.match(await ok(['get', 'pod', 'py', '-o', 'wide', '--no-headers']), /^py\s+1\/1\s+Running\s+0\s+\S+\s+192\.0\.2\.12\s+node-2\s/);
    assert.equal(await ok(['exec', 'py', '--', 'python3', '-I', '-S', '-c', `import ${MODULES}; print(1)`]), '1\n');
    // the image has only what the imports load: the node's full standard library is not there
    const mine = await ok(['exec', 'py', '--', 'sh', '-c', 'readlink /bin/ls; readlink /usr/bin/python3; test -e /usr/lib/python3.11/http && echo node-stdlib || echo image-stdlib; python3 -I -S -c "import http" 2>&1 | tail -n1']);
    assert.match(mine, /^busybox\npython3\.\d+\nimage-stdlib\nModuleNotFoundError: No module named 'http'\n$/);
    assert.equal((await lab.shOnNode('node-2', 'python3 -I -S -c "import http; print(2)"')).stdout, '2\n', 'while the node\'s python3 has it');
    // podnet's session: the helper from the image enters the node and runs the node's own shell
    const s = await kubectl(['exec', '-i', 'py', '--', ...SESSION_ARGV], 'hostname; echo "$PODNET_ACCESS"; test -e /usr/lib/python3.11/http && echo node-stdlib\n');
    assert.equal(s.exitCode, 0, s.stderr);
    assert.equal(s.stdout, 'node-2\nkube\nnode-stdlib\n');
  });

  it('a hostPID pod\'s exec session that entered the node ends when the pod\'s main container exits', async () => {
    await ok(['apply', '-f', '-'], helperLike('ends', 'node-1', ['sh', '-c', 'until [ -e /tmp/stop ]; do sleep 0.1; done']));
    await ok(['wait', '--for=condition=Ready', 'pod/ends', '--timeout=30s']);
    const marker = ['sleep', '7654321'];
    const [file, ...args] = labExecArgv(lab.plan, { kind: 'operator' }, ['kubectl', 'exec', '-i', 'ends', '--', ...SESSION_ARGV]);
    const session = execa(file!, args, { env: labExecEnv(), reject: false, input: `exec ${marker.join(' ')}\n`, timeout: 60_000 });
    try {
      await until(() => pidsRunning(marker).length === 1, 'the session\'s command runs', 20_000, 100);
      const [pid] = pidsRunning(marker);
      const node1 = lab.plan.nodes.find((n) => n.name === 'node-1')!;
      assert.equal(nsInode(`/proc/${pid}/ns/mnt`), nsInode(nodeMountNsFile(lab.plan, node1)), 'it left the container\'s mount namespace for the node\'s');
      await ok(['exec', 'ends', '--', 'touch', '/tmp/stop']);
      await until(async () => (await ok(['get', 'pod', 'ends', '-o', 'jsonpath={.status.phase}'])) === 'Succeeded', 'the main container exited', 20_000, 100);
      await until(() => !processAlive(pid!), 'the session was killed with the container (its cgroup)', 10_000, 100);
      const r = await session;
      assert.notEqual(r.exitCode, 0, 'kubectl exec saw its command killed');
    } finally {
      session.kill('SIGKILL');
      await session;
      for (const p of pidsRunning(marker)) process.kill(p, 'SIGKILL');
    }
  });

  it('a pod pinned to a node the cluster does not have stays Pending with kube-scheduler\'s words', async () => {
    await ok(['apply', '-f', '-'], helperLike('nowhere', 'node-9', ['sleep', '3600']));
    let msg = '';
    await until(async () => {
      msg = await ok(['get', 'pod', 'nowhere', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}']);
      return msg !== '';
    }, 'the scheduler said why', 20_000, 100);
    assert.equal(msg, "0/2 nodes are available: 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.");
    await ok(['delete', 'pod', 'nowhere', 'py', 'ends']);
  });

  it('NetworkUnavailable: True taints the Node and doctor says so; podnet\'s patch sets it False and the taint goes', async () => {
    const down = { status: { conditions: [{ type: 'NetworkUnavailable', status: 'True', reason: 'NoRouteCreated', message: 'Node created without a route' }] } };
    await ok(['patch', 'node', 'node-1', '--subresource=status', '--type=strategic', '-p', JSON.stringify(down)]);
    const taints = async () => (await ok(['get', 'node', 'node-1', '-o', 'jsonpath={range .spec.taints[*]}{.key}:{.effect} {end}'])).trim().split(' ').sort();
    assert.deepEqual(await taints(), ['node.kubernetes.io/network-unavailable:NoSchedule', 'node.kubernetes.io/not-ready:NoSchedule']);
    // doctor reads the Nodes' conditions: NetworkUnavailable on node-1, NotReady for want of a CNI config on both
    const d = await lab.podnet(['doctor', '-i', lab.inventory, '--json', '--kubeconfig', `${lab.plan.dir}/kubeconfig`]);
    const findings = (JSON.parse(d.stdout) as { findings: { id: string; node: string; evidence: string }[] }).findings.filter((f) => f.id.startsWith('kube-'));
    assert.deepEqual(findings.map((f) => `${f.node} ${f.id}`).sort(), ['node-1 kube-network-unavailable', 'node-1 kube-node-notready-cni', 'node-2 kube-node-notready-cni']);
    assert.match(findings.find((f) => f.id === 'kube-node-notready-cni')!.evidence, /cni plugin not initialized/);
    // what podnet up writes
    await ok(['patch', 'node', 'node-1', '--subresource=status', '--type=strategic', '-p', JSON.stringify(networkAvailablePatch(new Date()))]);
    const node = JSON.parse(await ok(['get', 'node', 'node-1', '-o', 'json'])) as { spec: { taints?: { key: string }[] }; status: { conditions: { type: string; status: string; reason: string }[] } };
    assert.deepEqual(node.status.conditions.filter((c) => c.type === 'NetworkUnavailable').map((c) => `${c.status}/${c.reason}`), ['False/PodnetIsUp']);
    assert.ok(node.status.conditions.some((c) => c.type === 'Ready'), 'the kubelet\'s conditions stay');
    assert.deepEqual((node.spec.taints ?? []).map((t) => t.key), ['node.kubernetes.io/not-ready']);
  });
});
