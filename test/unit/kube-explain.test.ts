/**
 * src/kube/explain.ts: a helper pod that does not start, and an API error, each explained in one line with a
 * hint. The inputs are what the real components write (kube-scheduler, the kubelet, containerd, PodSecurity
 * admission, Gatekeeper, Kyverno, ValidatingAdmissionPolicy, client-node's ApiException) and, where the lab
 * stand-in produces them, its own objects (src/lab/api), so the explanations hold for both.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { describeWaiting, explainApiError, explainPodStart, imageRegistry, parseSchedulerMessage, type ApiErrorContext, type ApiProblem, type EventLike, type PodLike, type PodStartContext, type PodStartProblem } from '../../src/kube/explain.js';
import { helperNamespace, helperPod, DEFAULT_HELPER_IMAGE, type HelperSettings } from '../../src/kube/objects.js';
import { admitPod } from '../../src/lab/api/admission.js';
import { IMAGES, normalizeImageRef, shortRefs } from '../../src/lab/api/images.js';
import { unsupported } from '../../src/lab/api/podspec.js';
import { forbiddenFor } from '../../src/lab/api/rbac.js';
import { schedulePod } from '../../src/lab/api/scheduler.js';
import { alreadyExists, invalid, notFound } from '../../src/lab/api/status.js';
import type { KObject, NodeObject, Pod } from '../../src/lab/api/types.js';

// The client's typed objects (Date timestamps and all) are accepted as they come: compile-time checks.
const _pod: PodLike = {} as V1Pod;
const _event: EventLike = {} as CoreV1Event;

const SETTINGS: HelperSettings = {
  runId: 'a1b2c3',
  namespace: 'podnet-a1b2c3',
  image: DEFAULT_HELPER_IMAGE,
  owner: 'alice@ops-1 pid 4242',
  deadlineSeconds: 3600,
  node: 'node-2',
  name: 'podnet-a1b2c3-1',
};
const CTX: PodStartContext = { node: 'node-2', image: DEFAULT_HELPER_IMAGE, namespace: 'podnet-a1b2c3', namespaceOwned: true };
const UID = '6f1c2d3e-0000-4000-8000-00000000c0de';

/** The helper pod as the API returns it: podnet's object plus uid, maybe a node, and a status. */
function apiPod(status: Record<string, unknown>, extra: { nodeName?: string; deletionTimestamp?: string } = {}): PodLike {
  const p = structuredClone(helperPod(SETTINGS)) as unknown as PodLike & { spec: Record<string, unknown>; metadata: Record<string, unknown> };
  p.metadata.uid = UID;
  p.metadata.creationTimestamp = '2025-06-01T10:00:00Z';
  if (extra.deletionTimestamp) p.metadata.deletionTimestamp = extra.deletionTimestamp;
  if (extra.nodeName) p.spec.nodeName = extra.nodeName;
  return { ...p, status: { qosClass: 'Burstable', ...status } } as PodLike;
}

const scheduledCond = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2025-06-01T10:00:00Z' };

function waiting(reason: string, message?: string, image = DEFAULT_HELPER_IMAGE): Record<string, unknown> {
  return {
    phase: 'Pending',
    conditions: [scheduledCond],
    hostIP: '192.0.2.12',
    startTime: '2025-06-01T10:00:01Z',
    containerStatuses: [{ name: 'node-access', image, imageID: '', ready: false, restartCount: 0, started: false, state: { waiting: { reason, ...(message ? { message } : {}) } }, lastState: {} }],
  };
}

let seq = 0;
/** An Event as the kubelet or the scheduler records it (core/v1). */
function event(reason: string, message: string, o: { type?: string; component?: string; uid?: string; at?: string } = {}): EventLike {
  seq++;
  const at = o.at ?? `2025-06-01T10:00:${String(10 + seq).padStart(2, '0')}Z`;
  return {
    metadata: { creationTimestamp: at },
    involvedObject: { kind: 'Pod', namespace: SETTINGS.namespace, name: SETTINGS.name, uid: o.uid ?? UID, apiVersion: 'v1' },
    reason,
    message,
    type: o.type ?? 'Warning',
    count: 1,
    firstTimestamp: at,
    lastTimestamp: at,
    source: { component: o.component ?? 'kubelet', host: 'node-2' },
  } as EventLike;
}

function oneLine(p: { message: string; hint: string }): void {
  for (const s of [p.message, p.hint]) {
    assert.ok(s.length > 0);
    assert.doesNotMatch(s, /\n/, `not one line: ${s}`);
  }
}

function expectKind(p: PodStartProblem | undefined, kind: PodStartProblem['kind']): PodStartProblem {
  assert.ok(p, `expected ${kind}, got undefined`);
  assert.equal(p.kind, kind, `${p.kind}: ${p.message}`);
  oneLine(p);
  assert.match(p.message, /node-2/, 'the message names the node');
  return p;
}

describe('explainPodStart: still starting', () => {
  test('a new pod, a pod being created, a running pod: undefined', () => {
    assert.equal(explainPodStart(apiPod({ phase: 'Pending' }), [], CTX), undefined);
    assert.equal(explainPodStart(apiPod({ phase: 'Pending', conditions: [scheduledCond] }, { nodeName: 'node-2' }), [event('Scheduled', 'Successfully assigned podnet-a1b2c3/podnet-a1b2c3-1 to node-2', { type: 'Normal', component: 'default-scheduler' })], CTX), undefined);
    assert.equal(explainPodStart(apiPod(waiting('ContainerCreating'), { nodeName: 'node-2' }), [event('Pulling', `Pulling image "${DEFAULT_HELPER_IMAGE}"`, { type: 'Normal' })], CTX), undefined);
    const running = apiPod({ phase: 'Running', conditions: [scheduledCond], containerStatuses: [{ name: 'node-access', ready: true, restartCount: 0, state: { running: { startedAt: '2025-06-01T10:00:05Z' } } }] }, { nodeName: 'node-2' });
    assert.equal(explainPodStart(running, [event('Started', 'Started container node-access', { type: 'Normal' })], CTX), undefined);
  });

  test('a pull that failed once and then succeeded is no failure', () => {
    const events = [
      event('Failed', `Failed to pull image "${DEFAULT_HELPER_IMAGE}": rpc error: code = Unknown desc = failed to pull and unpack image: read: connection reset by peer`),
      event('Failed', 'Error: ErrImagePull'),
      event('Pulled', `Successfully pulled image "${DEFAULT_HELPER_IMAGE}" in 2.1s (2.1s including waiting). Image size: 17893216 bytes.`, { type: 'Normal' }),
    ];
    assert.equal(explainPodStart(apiPod(waiting('ContainerCreating'), { nodeName: 'node-2' }), events, CTX), undefined);
    const running = apiPod({ phase: 'Running', containerStatuses: [{ name: 'node-access', state: { running: { startedAt: '2025-06-01T10:00:30Z' } } }] }, { nodeName: 'node-2' });
    assert.equal(explainPodStart(running, events.slice(0, 2), CTX), undefined);
  });

  test('warnings about an earlier pod of the same name (another uid) do not count', () => {
    const old = event('FailedScheduling', '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn\'t satisfy plugin(s) [NodeAffinity].', { component: 'default-scheduler', uid: 'an-older-pod' });
    assert.equal(explainPodStart(apiPod({ phase: 'Pending' }), [old], CTX), undefined);
  });
});

describe('explainPodStart: unschedulable', () => {
  test('kube-scheduler 1.32: the pinned node lacks cpu; the other nodes failing NodeAffinity are left out', () => {
    const message = "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.";
    const pod = apiPod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: '2025-06-01T10:00:01Z' }] });
    const p = expectKind(explainPodStart(pod, [event('FailedScheduling', message, { component: 'default-scheduler' })], CTX), 'unschedulable');
    assert.match(p.message, /too little allocatable cpu/);
    assert.doesNotMatch(p.message, /preemption/);
    assert.doesNotMatch(p.message.split('(kube-scheduler')[0]!, /NodeAffinity/);
    assert.match(p.hint, /kubectl describe node node-2/);
  });

  test('an older scheduler (prefilter wording), from the FailedScheduling event alone: the node is full of pods', () => {
    const message = '0/3 nodes are available: 1 Too many pods, 2 node is filtered out by the prefilter result. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.';
    const p = expectKind(explainPodStart(apiPod({ phase: 'Pending' }), [event('FailedScheduling', message, { component: 'default-scheduler' })], CTX), 'unschedulable');
    assert.match(p.message, /maxPods/);
  });

  test('the pinned node does not exist: every node fails NodeAffinity', () => {
    const message = "0/3 nodes are available: 3 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.";
    const p = expectKind(explainPodStart(apiPod({ phase: 'Pending' }), [event('FailedScheduling', message, { component: 'default-scheduler' })], CTX), 'unschedulable');
    assert.match(p.message, /no Node named node-2/);
    assert.match(p.hint, /kubectl get node node-2/);
  });

  test('the lab stand-in\'s scheduler: a pod pinned to a node the cluster lacks', () => {
    const nodes = ['node-1', 'node-3'].map((name) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: {} }) as unknown as NodeObject);
    const r = schedulePod(helperPod(SETTINGS) as unknown as Pod, nodes, () => 0);
    assert.ok('message' in r, `the stand-in scheduled it: ${JSON.stringify(r)}`);
    const p = expectKind(explainPodStart(apiPod({ phase: 'Pending' }), [event('FailedScheduling', r.message, { component: 'default-scheduler' })], CTX), 'unschedulable');
    assert.match(p.message, /no Node named node-2/);
  });

  test('a cordoned node and an untolerated taint (a webhook stripped the tolerations): say which and why it is odd', () => {
    const cordoned = expectKind(explainPodStart(apiPod({ phase: 'Pending' }), [event('FailedScheduling', "0/2 nodes are available: 1 node(s) didn't satisfy plugin(s) [NodeAffinity], 1 node(s) were unschedulable. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.", { component: 'default-scheduler' })], CTX), 'unschedulable');
    assert.match(cordoned.message, /cordoned/);
    assert.match(cordoned.hint, /kubectl uncordon node-2/);
    const tainted = expectKind(explainPodStart(apiPod({ phase: 'Pending' }), [event('FailedScheduling', '0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.', { component: 'default-scheduler' })], CTX), 'unschedulable');
    assert.match(tainted.message, /node\.kubernetes\.io\/not-ready/);
    assert.match(tainted.hint, /tolerate every taint/);
  });

  test('a scheduler error for a node missing from its cache', () => {
    const pod = apiPod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulerError', message: 'nodeinfo not found for node name "node-2"' }] });
    const p = expectKind(explainPodStart(pod, [], CTX), 'unschedulable');
    assert.match(p.hint, /kubectl get node node-2/);
  });

  test('parseSchedulerMessage splits the counted reasons (commas inside a reason survive)', () => {
    const r = parseSchedulerMessage("0/4 nodes are available: 1 Insufficient cpu, 1 node(s) had taint {virtual-kubelet.io/provider: x}, that the pod didn't tolerate, 2 node(s) didn't match Pod's node affinity/selector. preemption: not eligible due to preemptionPolicy=Never.");
    assert.deepEqual(r, {
      total: 4,
      reasons: [
        { count: 1, text: 'Insufficient cpu' },
        { count: 1, text: "node(s) had taint {virtual-kubelet.io/provider: x}, that the pod didn't tolerate" },
        { count: 2, text: "node(s) didn't match Pod's node affinity/selector" },
      ],
    });
    assert.equal(parseSchedulerMessage('something else'), undefined);
  });
});

describe('explainPodStart: image pull', () => {
  test('ErrImagePull, not found (containerd through the kubelet, as the lab stand-in words it too)', () => {
    const image = 'docker.io/library/python:3.13-alpine';
    const msg = `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${image}: not found`;
    const p = expectKind(explainPodStart(apiPod(waiting('ErrImagePull', msg), { nodeName: 'node-2' }), [], CTX), 'image-pull');
    assert.match(p.message, /python:3\.13-alpine/);
    assert.equal(p.message, 'the helper pod for node-2 cannot get its image "docker.io/library/python:3.13-alpine" from docker.io: not found');
    assert.match(p.hint, /--image/);
    assert.match(p.hint, /inventory's image field/);
    assert.match(p.hint, /python3/);
    // the stand-in's kubelet (kubelet.ts imageNotFound) adds which images it has
    const n = normalizeImageRef(image);
    const lab = `rpc error: code = NotFound desc = failed to pull and unpack image "${n}": failed to resolve reference "${n}": ${n}: not found (the podnet lab's stand-in has only the images ${IMAGES.flatMap(shortRefs).join(', ')})`;
    const q = expectKind(explainPodStart(apiPod(waiting('ErrImagePull', lab), { nodeName: 'node-2' }), [], CTX), 'image-pull');
    assert.match(q.message, /from docker\.io: not found \(the podnet lab's stand-in has only the images /);
  });

  test('ImagePullBackOff (kubelet 1.31+ keeps the cause) from a private registry that wants credentials', () => {
    const image = 'registry.example.com:5000/tools/python:3.12';
    const msg = `Back-off pulling image "${image}": ErrImagePull: failed to pull and unpack image "${image}": failed to resolve reference "${image}": unexpected status from HEAD request to https://registry.example.com:5000/v2/tools/python/manifests/3.12: 401 Unauthorized`;
    const p = expectKind(explainPodStart(apiPod(waiting('ImagePullBackOff', msg, image), { nodeName: 'node-2' }), [], { ...CTX, image }), 'image-pull');
    assert.match(p.message, /from registry\.example\.com:5000: the registry refused it/);
    assert.match(p.hint, /imagePullSecrets/);
    assert.match(p.hint, /--image/);
  });

  test('Docker Hub\'s ambiguous answer (missing or private), a rate limit and an unreachable registry, from the events before any status', () => {
    const denied = event('Failed', 'Failed to pull image "podnet/helper:1": failed to pull and unpack image "docker.io/podnet/helper:1": failed to resolve reference "docker.io/podnet/helper:1": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed');
    const a = expectKind(explainPodStart(apiPod({ phase: 'Pending' }, { nodeName: 'node-2' }), [event('Pulling', 'Pulling image "podnet/helper:1"', { type: 'Normal' }), denied], CTX), 'image-pull');
    assert.match(a.message, /"podnet\/helper:1" from docker\.io: the registry says it does not exist or needs credentials/);
    const rate = event('Failed', 'Failed to pull image "python:3.13-alpine": rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/library/python:3.13-alpine": failed to copy: httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/python/manifests/sha256:abc: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit.');
    assert.match(expectKind(explainPodStart(apiPod({ phase: 'Pending' }, { nodeName: 'node-2' }), [rate], CTX), 'image-pull').hint, /mirror/);
    const offline = waiting('ErrImagePull', 'rpc error: code = Unknown desc = failed to pull and unpack image "registry.internal/python:3.12": failed to resolve reference "registry.internal/python:3.12": failed to do request: Head "https://registry.internal/v2/python/manifests/3.12": dial tcp: lookup registry.internal on 10.96.0.10:53: no such host', 'registry.internal/python:3.12');
    const c = expectKind(explainPodStart(apiPod(offline, { nodeName: 'node-2' }), [], { ...CTX, image: 'registry.internal/python:3.12' }), 'image-pull');
    assert.match(c.hint, /cannot reach registry\.internal/);
  });

  test('InvalidImageName names the flag', () => {
    const msg = 'Failed to apply default image tag "Python:3": couldn\'t parse image name "Python:3": invalid reference format: repository name must be lowercase';
    const p = expectKind(explainPodStart(apiPod(waiting('InvalidImageName', msg, 'Python:3'), { nodeName: 'node-2' }), [], { ...CTX, image: 'Python:3' }), 'image-pull');
    assert.match(p.message, /"Python:3": not a valid image reference/);
    assert.match(p.hint, /--image/);
  });

  test('the runtime\'s own sandbox (pause) image: not podnet\'s --image', () => {
    const msg = 'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to get sandbox image "registry.k8s.io/pause:3.9": failed to pull image "registry.k8s.io/pause:3.9": failed to pull and unpack image "registry.k8s.io/pause:3.9": failed to resolve reference "registry.k8s.io/pause:3.9": failed to do request: Head "https://registry.k8s.io/v2/pause/manifests/3.9": dial tcp 34.96.108.209:443: i/o timeout';
    const p = expectKind(explainPodStart(apiPod({ phase: 'Pending' }, { nodeName: 'node-2' }), [event('FailedCreatePodSandBox', msg)], CTX), 'image-pull');
    assert.match(p.message, /pause:3\.9/);
    assert.match(p.hint, /not podnet's --image/);
  });

  test('imageRegistry resolves as the runtimes do', () => {
    assert.equal(imageRegistry('python:3.13-alpine'), 'docker.io');
    assert.equal(imageRegistry('library/python'), 'docker.io');
    assert.equal(imageRegistry('docker.io/library/python:3.13-alpine'), 'docker.io');
    assert.equal(imageRegistry('localhost/helper'), 'localhost');
    assert.equal(imageRegistry('registry.example.com:5000/a/b@sha256:0123'), 'registry.example.com:5000');
    assert.equal(imageRegistry('10.0.0.5:5000/helper'), '10.0.0.5:5000');
  });
});

describe('explainPodStart: the container failed', () => {
  test('no python3 in the image (runc\'s StartError), the pod Failed', () => {
    const terminated = {
      exitCode: 128,
      reason: 'StartError',
      message: 'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "python3": executable file not found in $PATH: unknown',
      startedAt: '1970-01-01T00:00:00Z',
      finishedAt: '2025-06-01T10:00:06Z',
    };
    const pod = apiPod({ phase: 'Failed', conditions: [scheduledCond], containerStatuses: [{ name: 'node-access', image: DEFAULT_HELPER_IMAGE, ready: false, restartCount: 0, state: { terminated }, lastState: {} }] }, { nodeName: 'node-2' });
    const p = expectKind(explainPodStart(pod, [], CTX), 'failed');
    assert.match(p.message, /exited with code 128, StartError/);
    assert.match(p.hint, /has no python3/);
    assert.match(p.hint, /--image/);
  });

  test('the lab stand-in\'s StartError wording is read the same way', () => {
    const pod = apiPod({ phase: 'Failed', containerStatuses: [{ name: 'node-access', state: { terminated: { exitCode: 128, reason: 'StartError', message: 'unshare: failed to execute python3: No such file or directory' } } }] }, { nodeName: 'node-2' });
    assert.match(expectKind(explainPodStart(pod, [], CTX), 'failed').hint, /has no python3/);
  });

  test('CreateContainerError while waiting, and a too old python3 exiting 1', () => {
    const p = expectKind(explainPodStart(apiPod(waiting('CreateContainerError', 'failed to generate container "abc" spec: failed to apply OCI options: no such file or directory'), { nodeName: 'node-2' }), [], CTX), 'failed');
    assert.match(p.message, /did not start \(CreateContainerError\)/);
    const old = apiPod({ phase: 'Failed', containerStatuses: [{ name: 'node-access', state: { terminated: { exitCode: 1, reason: 'Error', message: '  File "<string>", line 12\nSyntaxError: invalid syntax' } } }] }, { nodeName: 'node-2' });
    const q = expectKind(explainPodStart(old, [], CTX), 'failed');
    assert.match(q.message, /exited with code 1: File "<string>", line 12 SyntaxError/);
    assert.match(q.hint, /too old/);
  });

  test('the kubelet rejects the pod: out of cpu, NodeAffinity (also from the event alone), the stand-in\'s own rejection', () => {
    const outOfCpu = apiPod({ phase: 'Failed', reason: 'OutOfcpu', message: "Pod was rejected: Node didn't have enough resource: cpu, requested: 10, used: 3995, capacity: 4000" }, { nodeName: 'node-2' });
    const a = expectKind(explainPodStart(outOfCpu, [], CTX), 'failed');
    assert.match(a.message, /the kubelet on node-2 rejected the helper pod \(OutOfcpu\): Node didn't have enough resource: cpu/);
    assert.match(a.hint, /too little cpu/);
    const affinityEvent = event('NodeAffinity', "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector");
    const b = expectKind(explainPodStart(apiPod({ phase: 'Pending' }, { nodeName: 'node-2' }), [affinityEvent], CTX), 'failed');
    assert.match(b.hint, /does not see itself as the Node node-2/);
    const why = unsupported({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { containers: [] } } as unknown as Pod)!;
    const standIn = apiPod({ phase: 'Failed', reason: why.reason, message: `Pod was rejected: ${why.message}` }, { nodeName: 'node-2' });
    assert.match(expectKind(explainPodStart(standIn, [], CTX), 'failed').message, /rejected the helper pod \(PodNetworkUnsupported\): the podnet lab's stand-in kubelet runs hostNetwork pods only/);
  });

  test('evicted under memory pressure; a kubelet policy refusal is admission', () => {
    const evicted = apiPod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki. ' }, { nodeName: 'node-2' });
    assert.match(expectKind(explainPodStart(evicted, [], CTX), 'failed').message, /evicted by the kubelet: The node was low on resource: memory/);
    const sysctl = apiPod({ phase: 'Failed', reason: 'SysctlForbidden', message: 'Pod forbidden sysctl: "net.core.somaxconn" not allowlisted' }, { nodeName: 'node-2' });
    expectKind(explainPodStart(sysctl, [], CTX), 'admission');
  });

  test('the container ended with exit code 0 before any session', () => {
    const pod = apiPod({ phase: 'Succeeded', containerStatuses: [{ name: 'node-access', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }, { nodeName: 'node-2' });
    assert.match(expectKind(explainPodStart(pod, [], CTX), 'failed').message, /ended \(exit code 0\)/);
  });
});

describe('explainPodStart: deadline and deletion', () => {
  test('DeadlineExceeded, as the kubelet (and the stand-in) write it', () => {
    const pod = apiPod({ phase: 'Failed', reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' }, { nodeName: 'node-2' });
    const p = expectKind(explainPodStart(pod, [event('DeadlineExceeded', 'Pod was active on the node longer than the specified deadline', { type: 'Normal' })], CTX), 'deadline');
    assert.match(p.message, /deadline of 3600s/);
  });

  test('gone (a 404) or being deleted, with the event that says by what', () => {
    const gone = expectKind(explainPodStart(undefined, [], CTX), 'deleted');
    assert.match(gone.hint, /podnet's namespace podnet-a1b2c3/);
    const deleting = apiPod({ phase: 'Running' }, { nodeName: 'node-2', deletionTimestamp: '2025-06-01T10:01:00Z' });
    const p = expectKind(explainPodStart(deleting, [event('Killing', 'Stopping container node-access', { type: 'Normal' })], { ...CTX, namespaceOwned: false, namespace: 'ops' }), 'deleted');
    assert.match(p.message, /being deleted.*Killing: Stopping container node-access/);
    assert.match(p.hint, /drop --namespace/);
  });
});

describe('describeWaiting: where a pod stands at a timeout', () => {
  test('not scheduled, no kubelet report, pulling', () => {
    assert.match(describeWaiting(apiPod({ phase: 'Pending' }), [], CTX), /no scheduler has looked at it/);
    assert.match(describeWaiting(apiPod({ phase: 'Pending', conditions: [scheduledCond] }, { nodeName: 'node-2' }), [event('Scheduled', 'Successfully assigned', { type: 'Normal', component: 'default-scheduler' })], CTX), /kubelet has not reported/);
    assert.match(describeWaiting(apiPod(waiting('ContainerCreating'), { nodeName: 'node-2' }), [event('Pulling', `Pulling image "${DEFAULT_HELPER_IMAGE}"`, { type: 'Normal' })], CTX), /pulling the image/);
    assert.match(describeWaiting(undefined, [], CTX), /does not exist/);
  });
});

// -------------------------------------------------------------------------------------------------------

const CREATE_POD: ApiErrorContext = { verb: 'create', resource: 'pods', namespace: 'podnet-a1b2c3', what: 'create the helper pod on node-2', namespaceOwned: true };
const USER_NS: ApiErrorContext = { ...CREATE_POD, namespace: 'ops', namespaceOwned: false };

function expectApi(p: ApiProblem, kind: ApiProblem['kind']): ApiProblem {
  assert.equal(p.kind, kind, `${p.kind}: ${p.message}`);
  oneLine(p);
  return p;
}

describe('explainApiError: 403 from RBAC', () => {
  test('the stand-in\'s authorizer: names the verb, the resource, the user, and the podnet rbac line that fixes it', () => {
    const err = forbiddenFor({ name: 'alice', groups: [] }, { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'podnet-a1b2c3', name: 'podnet-a1b2c3-1' });
    const p = expectApi(explainApiError({ code: err.code, body: err.body }, { verb: 'create', resource: 'pods/exec', namespace: 'podnet-a1b2c3', what: 'open a session on node-2' }), 'forbidden');
    assert.equal(p.message, 'cannot open a session on node-2: not allowed to create pods/exec in the namespace podnet-a1b2c3 (as "alice")');
    assert.match(p.hint, /podnet rbac prints the ClusterRole/);
    assert.match(p.hint, /pods\/exec: create, get/);
    assert.match(p.hint, /podnet rbac --user alice \| kubectl apply -f -/);
  });

  test('a service account at the cluster scope, the body as client-node 1.x gives it (JSON text)', () => {
    const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'nodes is forbidden: User "system:serviceaccount:ops:podnet" cannot list resource "nodes" in API group "" at the cluster scope', reason: 'Forbidden', details: { kind: 'nodes' }, code: 403 });
    const p = expectApi(explainApiError({ code: 403, body, message: 'HTTP-Code: 403\nMessage: Unknown API Status Code!' }, { verb: 'list', resource: 'nodes', what: 'list the nodes', bin: 'kubectl podnet' }), 'forbidden');
    assert.match(p.message, /list nodes at the cluster scope/);
    assert.match(p.hint, /kubectl podnet rbac --service-account ops:podnet \| kubectl apply/);
  });

  test('a bare 403 on the exec upgrade (no body): the verb and resource podnet asked for', () => {
    const p = expectApi(explainApiError({ message: 'Unexpected server response: 403' }, { verb: 'get', resource: 'pods/exec', namespace: 'podnet-a1b2c3', what: 'open a session on node-2' }), 'forbidden');
    assert.match(p.message, /not allowed to get pods\/exec in the namespace podnet-a1b2c3/);
    assert.match(p.hint, /podnet rbac --user <you> \| kubectl apply/);
  });
});

describe('explainApiError: admission', () => {
  const baseline: KObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ops', labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } } };

  test('PodSecurity (the stand-in\'s plugin on podnet\'s real helper pod) in a namespace the user named', () => {
    const r = admitPod({ ...(helperPod({ ...SETTINGS, namespace: 'ops' }) as unknown as Pod) }, baseline);
    assert.ok(r.error);
    const p = expectApi(explainApiError({ code: r.error.code, body: r.error.body }, USER_NS), 'admission');
    assert.match(p.message, /PodSecurity admission in namespace ops enforces "baseline:latest"/);
    assert.match(p.message, /hostNetwork=true/);
    assert.match(p.hint, /kubectl label namespace ops pod-security\.kubernetes\.io\/enforce=privileged --overwrite/);
    assert.match(p.hint, /drop --namespace/);
  });

  test('PodSecurity in podnet\'s own namespace (its label was rewritten): say so instead', () => {
    const message = 'pods "podnet-a1b2c3-1" is forbidden: violates PodSecurity "restricted:v1.30": host namespaces (hostNetwork=true, hostPID=true), privileged (container "node-access" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "node-access" must set securityContext.allowPrivilegeEscalation=false)';
    const p = expectApi(explainApiError({ code: 403, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', message, code: 403 } }, CREATE_POD), 'admission');
    assert.match(p.message, /"restricted:v1\.30"/);
    assert.match(p.hint, /podnet created podnet-a1b2c3 with pod-security\.kubernetes\.io\/enforce=privileged/);
  });

  test('Gatekeeper (403) names the constraint; Kyverno (400, several lines) the policy', () => {
    const gk = 'admission webhook "validation.gatekeeper.sh" denied the request: [psp-privileged-container] Privileged container is not allowed: node-access, securityContext: {"privileged": true}\n[psp-host-namespace] Sharing the host namespace is not allowed: podnet-a1b2c3-1';
    const a = expectApi(explainApiError({ code: 403, body: { kind: 'Status', reason: 'Forbidden', message: gk, code: 403 } }, CREATE_POD), 'admission');
    assert.match(a.message, /Gatekeeper's constraints psp-privileged-container, psp-host-namespace denied it/);
    assert.match(a.hint, /excludedNamespaces/);
    assert.match(a.hint, /podnet\.io\/run/);
    const ky = 'admission webhook "validate.kyverno.svc-fail" denied the request: \n\nresource Pod/podnet-a1b2c3/podnet-a1b2c3-1 was blocked due to the following policies \n\ndisallow-privileged-containers:\n  privileged-containers: \'validation error: Privileged mode is disallowed. The fields spec.containers[*].securityContext.privileged and spec.initContainers[*].securityContext.privileged must be unset or set to `false`. rule privileged-containers failed at path /spec/containers/0/securityContext/privileged/\'\ndisallow-host-namespaces:\n  host-namespaces: \'validation error: Sharing the host namespaces is disallowed.\'\n';
    const b = expectApi(explainApiError({ code: 400, body: { kind: 'Status', reason: 'BadRequest', message: ky, code: 400 } }, USER_NS), 'admission');
    assert.match(b.message, /Kyverno policies disallow-privileged-containers, disallow-host-namespaces blocked it/);
    assert.match(b.hint, /PolicyException/);
    assert.match(b.hint, /the namespace ops/);
  });

  test('a ValidatingAdmissionPolicy (422) and a webhook that does not answer (500)', () => {
    const vap = 'pods "podnet-a1b2c3-1" is invalid: : ValidatingAdmissionPolicy \'deny-privileged\' with binding \'deny-privileged-binding\' denied request: privileged containers are not allowed';
    const a = expectApi(explainApiError({ code: 422, body: { kind: 'Status', reason: 'Invalid', message: vap, code: 422 } }, CREATE_POD), 'admission');
    assert.match(a.message, /ValidatingAdmissionPolicy "deny-privileged" \(binding "deny-privileged-binding"\)/);
    assert.match(a.hint, /namespaceSelector/);
    const down = 'Internal error occurred: failed calling webhook "validate.kyverno.svc-fail": failed to call webhook: Post "https://kyverno-svc.kyverno.svc:443/validate/fail?timeout=10s": dial tcp 10.96.12.34:443: connect: connection refused';
    const b = expectApi(explainApiError({ code: 500, body: { kind: 'Status', reason: 'InternalError', message: down, code: 500 } }, CREATE_POD), 'admission');
    assert.match(b.message, /"validate\.kyverno\.svc-fail" did not answer/);
    assert.equal(b.retryable, true);
  });

  test('OpenShift SCC, a ResourceQuota and the default ServiceAccount not made yet (retryable)', () => {
    const scc = 'pods "podnet-a1b2c3-1" is forbidden: unable to validate against any security context constraint: [provider "anyuid": Forbidden: not usable by user or serviceaccount, spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]';
    assert.match(expectApi(explainApiError({ code: 403, body: { message: scc, code: 403 } }, CREATE_POD), 'admission').hint, /add-scc-to-user privileged/);
    const quota = 'pods "podnet-ops-0" is forbidden: failed quota: compute: must specify limits.cpu for: node-access; limits.memory for: node-access';
    assert.match(expectApi(explainApiError({ code: 403, body: { message: quota, code: 403 } }, USER_NS), 'admission').hint, /drop --namespace/);
    const sa = 'pods "podnet-a1b2c3-1" is forbidden: error looking up service account podnet-a1b2c3/default: serviceaccount "default" not found';
    assert.equal(expectApi(explainApiError({ code: 403, body: { message: sa, code: 403 } }, CREATE_POD), 'admission').retryable, true);
  });
});

describe('explainApiError: the rest', () => {
  test('401 as client-node throws it (no body)', () => {
    const p = expectApi(explainApiError({ code: 401, body: undefined, message: 'HTTP-Code: 401\nMessage: Unauthorized\nBody: undefined\nHeaders: {}' }, CREATE_POD), 'unauthorized');
    assert.match(p.hint, /credentials/);
  });

  test('404: a namespace the user named is missing; podnet\'s own went; a pod went', () => {
    const err = notFound('namespaces', 'ops');
    assert.match(expectApi(explainApiError({ code: err.code, body: err.body }, USER_NS), 'not-found').hint, /kubectl create namespace ops/);
    const own = notFound('namespaces', 'podnet-a1b2c3');
    assert.match(expectApi(explainApiError({ code: own.code, body: own.body }, CREATE_POD), 'not-found').hint, /was deleted while it ran/);
    const pod = notFound('pods', 'podnet-a1b2c3-1');
    assert.match(expectApi(explainApiError({ code: pod.code, body: pod.body }, { ...CREATE_POD, verb: 'get', what: 'read the helper pod on node-2' }), 'not-found').hint, /pod was deleted/);
  });

  test('409 AlreadyExists, 422 Invalid (an image field: the flag; another: a bug), 429, 503', () => {
    const exists = alreadyExists('namespaces', 'podnet-a1b2c3');
    expectApi(explainApiError({ code: exists.code, body: exists.body }, { verb: 'create', resource: 'namespaces', what: 'create the namespace podnet-a1b2c3' }), 'exists');
    const bad = invalid('Pod', 'podnet-a1b2c3-1', [{ type: 'Required', field: 'spec.containers[0].image' }]);
    assert.match(expectApi(explainApiError({ code: bad.code, body: bad.body }, CREATE_POD), 'invalid').hint, /--image/);
    const other = invalid('Pod', 'podnet-a1b2c3-1', [{ type: 'Invalid', field: 'spec.activeDeadlineSeconds', value: 0, detail: 'must be greater than 0' }]);
    assert.match(expectApi(explainApiError({ code: other.code, body: other.body }, CREATE_POD), 'invalid').hint, /bug in podnet/);
    assert.equal(expectApi(explainApiError({ code: 429, body: { message: 'the server has received too many requests and has asked us to try again later', code: 429 } }, CREATE_POD), 'throttled').retryable, true);
    const unavailable = expectApi(explainApiError({ code: 503, body: 'service unavailable' }, CREATE_POD), 'server');
    assert.match(unavailable.message, /\(503\): service unavailable/);
    assert.equal(unavailable.retryable, true);
  });

  test('no answer: connection refused, a certificate the kubeconfig does not trust', () => {
    const refused = expectApi(explainApiError({ code: 'ECONNREFUSED', message: 'request to https://192.0.2.1:6443/api/v1/namespaces/podnet-a1b2c3/pods failed, reason: connect ECONNREFUSED 192.0.2.1:6443' }, CREATE_POD), 'unreachable');
    assert.match(refused.message, /did not answer/);
    assert.equal(refused.retryable, true);
    // podnet's client's own timeout (src/kube/client.ts KubeApiError without a code)
    const slow = expectApi(explainApiError({ message: 'the Kubernetes API at https://192.0.2.1:6443 did not answer within 10s (create pods)' }, CREATE_POD), 'unreachable');
    assert.equal(slow.retryable, true);
    const tls = expectApi(explainApiError({ code: 'SELF_SIGNED_CERT_IN_CHAIN', message: 'request to https://192.0.2.1:6443/api failed, reason: self-signed certificate in certificate chain' }, CREATE_POD), 'unreachable');
    assert.match(tls.hint, /certificate-authority/);
  });

  test('the namespace is being deleted', () => {
    const msg = 'pods "podnet-ops-0" is forbidden: unable to create new content in namespace ops because it is being terminated';
    const p = expectApi(explainApiError({ code: 403, body: { message: msg, reason: 'Forbidden', code: 403 } }, USER_NS), 'conflict');
    assert.equal(p.message, 'cannot create the helper pod on node-2: the namespace ops is being deleted');
  });
});

test('the namespace podnet creates admits the pod podnet creates (the stand-in\'s PodSecurity)', () => {
  const ns = helperNamespace(SETTINGS) as unknown as KObject;
  assert.deepEqual(admitPod(helperPod(SETTINGS) as unknown as Pod, ns), { warnings: [] });
});
