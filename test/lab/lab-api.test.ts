/**
 * `lab up --api`: the lab's stand-in Kubernetes API server, proven with the real kubectl from the lab's
 * operator namespace — nodes, pods pinned to a node running in that node's namespaces with a root
 * filesystem of their own, exec with stdin and exit codes (v5, and v4 from a raw WebSocket client),
 * watches, deletes, namespaces, a 403 from the read-only context, image pull failures, PodSecurity,
 * node status patches, kubeadm-config, and kubectl's plugin mechanism. The server lives inside the lab
 * and goes with `lab down`.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { execa } from 'execa';
import { parse as parseYaml } from 'yaml';
import { podnet, parseJsonDoc, REPO } from '../helpers/cli.js';
import { labKubectl, startLab, type TestLab } from '../helpers/lab.js';
import { labExecArgv, labExecEnv } from '../../src/lab/service.js';
import { listNetns, mountsUnder, netnsInodeOf, nsInode, processAlive } from '../../src/lab/host.js';

const NAME = 'tapi';

describe('lab up --api: a stand-in Kubernetes API for the lab, as kubectl sees it', () => {
  let lab: TestLab;
  let serverPid = 0;
  const kubectl = (args: string[], input?: string) => labKubectl(lab, args, input);
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(args, input);
    assert.equal(r.exitCode, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const hostPod = (name: string, extra: Record<string, unknown> = {}, image = 'busybox:1.36') =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { test: name } },
      spec: { nodeName: 'node-1', hostNetwork: true, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image, command: ['sleep', '3600'] }], ...extra },
    });

  before(async () => {
    const which = await execa('sh', ['-c', 'command -v kubectl'], { reject: false });
    assert.equal(which.exitCode, 0, 'these tests drive the real kubectl: install it (scripts/setup.sh does)');
    await podnet(['lab', 'down', '--name', NAME]);
    lab = await startLab(NAME, ['--nodes', '2', '--api']);
    serverPid = Number(readFileSync(`${lab.plan.dir}/api/pid`, 'utf8'));
    await ok(['apply', '-f', '-'], hostPod('hn'));
  });

  after(async () => {
    await lab?.down();
    assert.deepEqual(listNetns().filter((n) => n.startsWith(`podnet-${NAME}-`)), []);
    assert.deepEqual(mountsUnder(`/run/podnet/labs/${NAME}`), []);
    assert.ok(!serverPid || !processAlive(serverPid), 'lab down killed the API server');
  });

  it('lab status shows the API; it listens only inside the operator namespace', async () => {
    const st = parseJsonDoc((await podnet(['lab', 'status', '--name', NAME, '--json'])).stdout) as unknown as { lab: { api: { state: string; server: string; kubeconfig: string } } };
    assert.deepEqual(st.lab.api, { server: 'https://192.0.2.2:6443', kubeconfig: `${lab.plan.dir}/kubeconfig`, state: 'running', contexts: { admin: NAME, viewer: `${NAME}-viewer`, podnet: `${NAME}-podnet` } });
    assert.equal(netnsInodeOf(serverPid), nsInode(`/run/netns/${lab.plan.operator.netns}`));
    assert.notEqual(netnsInodeOf(serverPid), netnsInodeOf(1));
    const host = await execa('ss', ['-Htln', 'sport = :6443']);
    assert.equal(host.stdout.trim(), '', 'nothing listens on 6443 in the host namespace');
    const inLab = await lab.onOperator(['ss', '-Htln', 'sport = :6443']);
    assert.match(inLab.stdout, /192\.0\.2\.2:6443/);
    const kc = parseYaml(readFileSync(`${lab.plan.dir}/kubeconfig`, 'utf8')) as { clusters: { cluster: { 'certificate-authority-data': string } }[]; users: { user: { token: string } }[] };
    assert.match(Buffer.from(kc.clusters[0]!.cluster['certificate-authority-data'], 'base64').toString(), /BEGIN CERTIFICATE/);
    assert.equal(kc.users.length, 3);
  });

  it('kubectl get nodes -o wide: the lab\'s nodes, their InternalIPs, NotReady until the node has a CNI config', async () => {
    const rows = (await ok(['get', 'nodes', '-o', 'wide', '--no-headers'])).trim().split('\n').map((l) => l.split(/\s+/));
    assert.deepEqual(rows.map((r) => [r[0], r[1], r[5]]), [['node-1', 'NotReady', '192.0.2.11'], ['node-2', 'NotReady', '192.0.2.12']]);
    assert.match(rows[0]!.join(' '), /v1\.32\.0 192\.0\.2\.11 <none> .* podnet-lab:\/\/0\.1\.0$/);
    await lab.shOnNode('node-2', 'echo "{}" > /etc/cni/net.d/10-test.conflist');
    try {
      await ok(['wait', '--for=condition=Ready', 'node/node-2', '--timeout=20s']);
    } finally {
      await lab.shOnNode('node-2', 'rm -f /etc/cni/net.d/10-test.conflist');
    }
  });

  it('a hostNetwork pod pinned to node-1 runs in node-1\'s network, with its image as its root filesystem', async () => {
    await ok(['wait', '--for=condition=Ready', 'pod/hn', '--timeout=30s']);
    assert.match(await ok(['get', 'pod', 'hn', '-o', 'wide', '--no-headers']), /^hn\s+1\/1\s+Running\s+0\s+\S+\s+192\.0\.2\.11\s+node-1\s/);
    const out = await ok(['exec', 'hn', '--', 'sh', '-c', 'hostname; ip -o addr show dev eth0; readlink /bin/ls; test -e /usr/bin/python3 && echo has-python || echo no-python']);
    assert.match(out, /^node-1\n/);
    assert.match(out, /inet 192\.0\.2\.11\/24/);
    assert.match(out, /^busybox\nno-python$/m, 'the busybox image, not the node\'s /usr');
    assert.equal((await lab.shOnNode('node-1', 'test -x /usr/bin/python3 && hostname')).stdout.trim(), 'node-1', 'while the node has python3');
  });

  it('a privileged hostPID pod that enters PID 1\'s namespaces is on its node, never on the host', async () => {
    const spec = { hostPID: true, nodeName: 'node-2', containers: [{ name: 'main', image: 'busybox:1.36', command: ['sleep', '3600'], securityContext: { privileged: true } }] };
    await ok(['apply', '-f', '-'], hostPod('helper', spec));
    await ok(['wait', '--for=condition=Ready', 'pod/helper', '--timeout=30s']);
    const out = await ok(['exec', 'helper', '--', 'nsenter', '-t', '1', '-n', '-m', '-u', '--', 'sh', '-c', 'hostname; ip -o -4 addr show dev eth0; test -x /usr/bin/python3 && echo node-usr']);
    assert.match(out, /^node-2\n.*inet 192\.0\.2\.12\/24.*\nnode-usr\n$/s);
    await ok(['delete', 'pod', 'helper']);
  });

  it('kubectl exec -i: stdin reaches the command, stderr stays apart, the exit code comes back', async () => {
    const r = await kubectl(['exec', '-i', 'hn', '--', 'sh', '-c', 'read -r line; echo "got:$line"; echo oops >&2; exit 7'], 'hello\n');
    assert.equal(r.exitCode, 7);
    assert.equal(r.stdout, 'got:hello\n');
    assert.match(r.stderr, /^oops\ncommand terminated with exit code 7/);
    assert.equal((await kubectl(['exec', '-i', 'hn', '--', 'sh'], 'cat > /tmp/f; wc -c < /tmp/f\n')).exitCode, 0, 'stdin ends: the shell finishes');
  });

  it('pods/exec over v4.channel.k8s.io from a raw WebSocket client: stdout on channel 1, the exit status on channel 3', async () => {
    const kc = parseYaml(readFileSync(`${lab.plan.dir}/kubeconfig`, 'utf8')) as { clusters: { cluster: { 'certificate-authority-data': string } }[]; users: { user: { token: string } }[] };
    const script = `
      import WebSocket from ${JSON.stringify(`${REPO}node_modules/ws/wrapper.mjs`)};
      const ws = new WebSocket('wss://192.0.2.2:6443/api/v1/namespaces/default/pods/hn/exec?command=sh&command=-c&command=echo%20hi%3B%20exit%205&stdout=true&stderr=true',
        ['v4.channel.k8s.io'], { ca: Buffer.from(process.env.CA, 'base64'), headers: { Authorization: 'Bearer ' + process.env.TOKEN } });
      const got = { out: '', status: '' };
      ws.on('message', (m) => { if (m[0] === 1) got.out += m.subarray(1); if (m[0] === 3) got.status += m.subarray(1); });
      ws.on('close', (code) => { console.log(JSON.stringify({ ...got, protocol: ws.protocol, code })); });
      ws.on('error', (e) => { console.log(JSON.stringify({ error: String(e) })); });`;
    const r = await lab.onOperator(['env', `CA=${kc.clusters[0]!.cluster['certificate-authority-data']}`, `TOKEN=${kc.users[0]!.user.token}`, 'node', '--input-type=module', '-e', script]);
    const got = JSON.parse(r.stdout) as { out: string; status: string; protocol: string; code: number };
    assert.equal(got.protocol, 'v4.channel.k8s.io');
    assert.equal(got.out, 'hi\n');
    assert.equal(got.code, 1000);
    assert.deepEqual(JSON.parse(got.status), { metadata: {}, status: 'Failure', message: 'command terminated with non-zero exit code: error executing command, exit code 5', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '5' }] } });
  });

  it('kubectl get pods -w sees the pod ADDED, MODIFIED and DELETED; kubectl delete pod waits for it to go', async () => {
    const [file, ...args] = labExecArgv(lab.plan, { kind: 'operator' }, ['kubectl', 'get', 'pods', '-w', '--output-watch-events', '-l', 'test=watched']);
    const watcher = execa(file!, args, { env: labExecEnv(), reject: false, timeout: 60_000 });
    let out = '';
    watcher.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const until = async (what: () => boolean, why: string) => {
      for (let i = 0; i < 300 && !what(); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(what(), `${why}; the watch printed:\n${out}`);
    };
    try {
      // the watch is open once the server has seen it
      await until(() => /labelSelector=test%3Dwatched.*watch=true/.test(readFileSync(`${lab.plan.dir}/api/access.log`, 'utf8')), 'kubectl started watching');
      await ok(['apply', '-f', '-'], hostPod('watched'));
      await until(() => /MODIFIED\s+watched\s+1\/1\s+Running/.test(out), 'the pod ran');
      assert.match(await ok(['delete', 'pod', 'watched']), /pod "watched" deleted/);
      await until(() => /DELETED\s+watched/.test(out), 'the pod was deleted');
    } finally {
      watcher.kill('SIGKILL');
      await watcher;
    }
    const events = out.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]);
    assert.equal(events[0], 'ADDED');
    assert.ok(events.includes('MODIFIED'));
    assert.equal(events[events.length - 1], 'DELETED');
    assert.match(out, /MODIFIED\s+watched\s+\S+\s+Terminating/);
  });

  it('kubectl run pins a pod with --overrides; kubectl delete namespace deletes its pods', async () => {
    await ok(['create', 'namespace', 'scratch']);
    await ok(['run', 'r1', '-n', 'scratch', '--image=busybox:1.36', '--overrides', JSON.stringify({ spec: { hostNetwork: true, nodeName: 'node-2', terminationGracePeriodSeconds: 1 } }), '--', 'sleep', '3600']);
    await ok(['wait', '-n', 'scratch', '--for=condition=Ready', 'pod/r1', '--timeout=30s']);
    assert.match(await ok(['get', 'pods', '-n', 'scratch', '--field-selector', 'spec.nodeName=node-2', '-o', 'name']), /^pod\/r1$/m);
    assert.match(await ok(['delete', 'namespace', 'scratch', '--timeout=30s']), /namespace "scratch" deleted/);
    // (kubectl asks for the namespace after a 404 and names what is missing)
    const gone = await kubectl(['get', 'pod', 'r1', '-n', 'scratch']);
    assert.match(gone.stderr, /namespaces "scratch" not found/);
    // its container stopped and its files went (the kubelet removes a pod's directory after killing what ran in it)
    const podsDir = `${lab.plan.dir}/api/nodes/node-2`;
    for (let i = 0; i < 50 && readdirSync(podsDir).length; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(readdirSync(podsDir), []);
  });

  it('the read-only context gets 403s that name the verb, resource and namespace', async () => {
    const run = await kubectl(['--context', `${NAME}-viewer`, 'run', 'x', '--image=busybox']);
    assert.equal(run.exitCode, 1);
    assert.equal(run.stderr.trim(), `Error from server (Forbidden): pods is forbidden: User "${NAME}-viewer" cannot create resource "pods" in API group "" in the namespace "default"`);
    const exec = await kubectl(['--context', `${NAME}-viewer`, 'exec', 'hn', '--', 'true']);
    assert.match(exec.stderr, new RegExp(`pods "hn" is forbidden: User "${NAME}-viewer" cannot create resource "pods/exec" in API group "" in the namespace "default"`));
    assert.match(await ok(['--context', `${NAME}-viewer`, 'get', 'pods', 'hn', '-o', 'name']), /^pod\/hn$/m);
  });

  it('an image the stand-in does not have: ErrImagePull, then ImagePullBackOff, with events naming the image', async () => {
    await ok(['apply', '-f', '-'], hostPod('badimage', {}, 'registry.example/nope:1.0'));
    let describe = '';
    for (let i = 0; i < 50 && !/Back-off pulling image/.test(describe); i++) {
      await new Promise((r) => setTimeout(r, 200));
      describe = await ok(['describe', 'pod', 'badimage']);
    }
    assert.match(describe, /Failed to pull image "registry\.example\/nope:1\.0": rpc error: code = NotFound/);
    assert.match(describe, /Error: ErrImagePull/);
    assert.match(describe, /Back-off pulling image "registry\.example\/nope:1\.0"/);
    assert.match(await ok(['get', 'pod', 'badimage', '--no-headers']), /ImagePullBackOff|ErrImagePull/);
    await ok(['delete', 'pod', 'badimage', '--grace-period=0', '--force']);
  });

  it('PodSecurity: a namespace enforcing baseline rejects a hostNetwork pod with the admission plugin\'s message', async () => {
    await ok(['create', 'namespace', 'baseline']);
    await ok(['label', 'namespace', 'baseline', 'pod-security.kubernetes.io/enforce=baseline']);
    const r = await kubectl(['apply', '-n', 'baseline', '-f', '-'], hostPod('psa', { hostPID: true }));
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /pods "psa" is forbidden: violates PodSecurity "baseline:latest": host namespaces \(hostNetwork=true, hostPID=true\)/);
    await ok(['delete', 'namespace', 'baseline']);
  });

  it('what the stand-in kubelet cannot run fails clearly: no such node, no hostNetwork, a deadline', async () => {
    await ok(['apply', '-f', '-'], hostPod('elsewhere', { nodeName: 'node-9' }));
    await ok(['apply', '-f', '-'], hostPod('podnet', { hostNetwork: false }));
    await ok(['apply', '-f', '-'], hostPod('deadline', { activeDeadlineSeconds: 1 }));
    const want = ['elsewhere Pending ', 'podnet Failed PodNetworkUnsupported', 'deadline Failed DeadlineExceeded'];
    let pods: string[] = [];
    for (let i = 0; i < 40 && JSON.stringify(pods) !== JSON.stringify(want); i++) {
      if (i) await new Promise((r) => setTimeout(r, 250));
      pods = (await ok(['get', 'pods', 'elsewhere', 'podnet', 'deadline', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.status.reason}{"\\n"}{end}'])).trim().split('\n');
    }
    assert.deepEqual(pods, want);
    const ev = await ok(['get', 'events', '--field-selector', 'involvedObject.name=elsewhere', '-o', 'jsonpath={.items[*].reason}: {.items[*].message}']);
    assert.match(ev, /^FailedScheduling: pod is bound to node "node-9", which is not a node of this lab/);
    await ok(['delete', 'pod', 'elsewhere', 'podnet', 'deadline']);
  });

  it('kubectl patch of a Node\'s status sets NetworkUnavailable and keeps the kubelet\'s conditions', async () => {
    const patch = { status: { conditions: [{ type: 'NetworkUnavailable', status: 'False', reason: 'PodnetIsUp', message: 'podnet up configured the pod network' }] } };
    await ok(['patch', 'node', 'node-1', '--subresource=status', '--type=strategic', '-p', JSON.stringify(patch)]);
    const conds = await ok(['get', 'node', 'node-1', '-o', 'jsonpath={range .status.conditions[*]}{.type}={.status}/{.reason} {end}']);
    assert.match(conds, /NetworkUnavailable=False\/PodnetIsUp/);
    assert.match(conds, /Ready=False\/KubeletNotReady/);
  });

  it('kube-system/kubeadm-config holds a ClusterConfiguration with the inventory\'s pod subnet', async () => {
    const cc = parseYaml(await ok(['get', 'configmap', '-n', 'kube-system', 'kubeadm-config', '-o', 'jsonpath={.data.ClusterConfiguration}'])) as { networking: { podSubnet: string } };
    const inv = parseYaml(readFileSync(lab.inventory, 'utf8')) as { cluster: { podCIDR: string } };
    assert.equal(cc.networking.podSubnet, inv.cluster.podCIDR);
  });

  it('kubectl podnet runs podnet through kubectl\'s plugin mechanism', async () => {
    const help = await ok(['podnet', '--help']);
    assert.match(help, /\$ kubectl podnet \[COMMAND\]/);
    assert.ok(existsSync(`${REPO}bin/kubectl-podnet`));
  });
});
