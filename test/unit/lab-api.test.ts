/**
 * The lab's stand-in API server, its pure parts: patch formats, selectors, the store and watch
 * bookkeeping, PodSecurity admission, validation and defaults, Tables, RBAC messages, the exec
 * subprotocol, protobuf bodies, the sandbox script, pod status and scheduling, and what lab up renders
 * for it. Nothing here listens on a socket or starts a process (bash -n / sh -n aside).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, patchTypeOf } from '../../src/lab/api/patch.js';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector } from '../../src/lab/api/selectors.js';
import { Store } from '../../src/lab/api/store.js';
import { eventFor, openWatch, type WatchEvent } from '../../src/lab/api/watch.js';
import { admitPod, checkPod } from '../../src/lab/api/admission.js';
import { defaultPod, defaultPullPolicy, validatePod, validatePodUpdate } from '../../src/lab/api/validation.js';
import { humanDuration, podStatusText, toTable } from '../../src/lab/api/tables.js';
import { ApiError, invalid, notFound } from '../../src/lab/api/status.js';
import { authenticate, authorize } from '../../src/lab/api/rbac.js';
import { decodeClientMessage, exitStatus, frame, pickProtocol } from '../../src/lab/api/exec.js';
import { decodeProtobufObject, PROTOBUF_MAGIC } from '../../src/lab/api/protobuf.js';
import { capabilitySet, cgroupJoinArgv, renderSandboxScript, sandboxExecArgv, sandboxStartArgv, type SandboxSpec } from '../../src/lab/api/sandbox.js';
import { containerArgv, containerEnv, unsupported } from '../../src/lab/api/podspec.js';
import { matchesNodeAffinity, matchesNodeSelectorTerms, schedulePod } from '../../src/lab/api/scheduler.js';
import { computePodStatus, podPhase } from '../../src/lab/api/podstatus.js';
import { unknownFields } from '../../src/lab/api/strict.js';
import { findImage, isStaticElf, normalizeImageRef, parseLdd, pythonElfFiles, pythonImageModules, pythonImports, pythonLayer, IMAGES, PYTHON_PROBE, PYTHON_PROGRAMS, type ImageInfo } from '../../src/lab/api/images.js';
import { DEFAULT_HELPER_IMAGE } from '../../src/kube/objects.js';
import { buildNode, nodePodCidrs, withConditionTaints, withReadiness, hasCniConfig, type MachineFacts } from '../../src/lab/api/nodes.js';
import { networkAvailablePatch } from '../../src/kube/node-status.js';
import { clusterConfiguration } from '../../src/lab/api/seed.js';
import { openApiV3CoreDoc, openApiV3Root } from '../../src/lab/api/openapi.js';
import { apiPreflight, renderApiSetupScript, renderApiStartScript, renderKubeconfig, renderUsers } from '../../src/lab/api/setup.js';
import { apiPaths } from '../../src/lab/api/paths.js';
import { planLab } from '../../src/lab/topology.js';
import { renderLabInventory, renderLabUpScript } from '../../src/lab/render.js';
import { UserError } from '../../src/util/errors.js';
import type { ContainerStatus, KObject, NodeObject, Pod } from '../../src/lab/api/types.js';

function apiError(fn: () => unknown, code: number, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ApiError, `not an ApiError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

function pod(name: string, spec: Partial<Pod['spec']> = {}, meta: Partial<Pod['metadata']> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', ...meta }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }], ...spec } };
}

describe('patches', () => {
  it('merge patch: objects merge, null deletes, lists are replaced', () => {
    const out = applyMergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { b: { c: null, e: 4 }, l: [3] });
    assert.deepEqual(out, { a: 1, b: { d: 3, e: 4 }, l: [3] });
  });

  it('strategic merge patch: conditions merge by type, other conditions stay', () => {
    const node = { status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'MemoryPressure', status: 'False' }] } };
    const out = applyStrategicMergePatch(node, { status: { conditions: [{ type: 'NetworkUnavailable', status: 'False', reason: 'PodnetIsUp' }, { type: 'Ready', status: 'False' }] } });
    assert.deepEqual((out.status as { conditions: unknown[] }).conditions, [
      { type: 'Ready', status: 'False' },
      { type: 'MemoryPressure', status: 'False' },
      { type: 'NetworkUnavailable', status: 'False', reason: 'PodnetIsUp' },
    ]);
  });

  it('strategic merge patch directives: $patch delete and replace, $deleteFromPrimitiveList, $setElementOrder, $retainKeys', () => {
    const o = { metadata: { finalizers: ['a', 'b'], labels: { x: '1', y: '2' } }, status: { conditions: [{ type: 'A' }, { type: 'B' }, { type: 'C' }] }, spec: { keep: 1, drop: 2 } };
    const out = applyStrategicMergePatch(o, {
      metadata: { finalizers: ['c'], '$deleteFromPrimitiveList/finalizers': ['a'], labels: { $patch: 'replace', z: '3' } },
      status: { conditions: [{ type: 'B', $patch: 'delete' }], '$setElementOrder/conditions': [{ type: 'C' }, { type: 'A' }] },
      spec: { $retainKeys: ['keep'], keep: 5 },
    });
    assert.deepEqual(out, { metadata: { finalizers: ['b', 'c'], labels: { z: '3' } }, status: { conditions: [{ type: 'C' }, { type: 'A' }] }, spec: { keep: 5 } });
  });

  it('strategic merge patch: containers by name, env by name; lists without a strategy are replaced', () => {
    const p = { spec: { containers: [{ name: 'a', image: 'x', env: [{ name: 'E', value: '1' }] }], tolerations: [{ key: 'k' }] } };
    const out = applyStrategicMergePatch(p, { spec: { containers: [{ name: 'a', env: [{ name: 'F', value: '2' }] }], tolerations: [{ key: 'j' }] } });
    assert.deepEqual(out.spec, { containers: [{ name: 'a', image: 'x', env: [{ name: 'E', value: '1' }, { name: 'F', value: '2' }] }], tolerations: [{ key: 'j' }] });
    apiError(() => applyStrategicMergePatch(p, { spec: { containers: [{ image: 'y' }] } }), 400, /does not contain declared merge key: name/);
  });

  it('JSON patch: add, remove, replace, move, test; a failing test is 422', () => {
    const doc = { metadata: { labels: { a: '1' } }, list: [1, 2] };
    assert.deepEqual(
      applyJsonPatch(doc, [
        { op: 'add', path: '/metadata/labels/b~1c', value: '2' },
        { op: 'remove', path: '/metadata/labels/a' },
        { op: 'add', path: '/list/-', value: 3 },
        { op: 'replace', path: '/list/0', value: 0 },
        { op: 'test', path: '/list/2', value: 3 },
      ]),
      { metadata: { labels: { 'b/c': '2' } }, list: [0, 2, 3] },
    );
    assert.deepEqual(doc.list, [1, 2], 'the input is not changed');
    apiError(() => applyJsonPatch(doc, [{ op: 'test', path: '/list/0', value: 9 }]), 422, /testing value/);
    apiError(() => applyJsonPatch(doc, [{ op: 'remove', path: '/nope/x' }]), 422, /missing path/);
  });

  it('patch media types: the three the API takes; anything else is 415', () => {
    assert.equal(patchTypeOf('application/strategic-merge-patch+json'), 'strategic');
    assert.equal(patchTypeOf('application/merge-patch+json; charset=utf-8'), 'merge');
    assert.equal(patchTypeOf('application/json-patch+json'), 'json');
    apiError(() => patchTypeOf('application/apply-patch+yaml'), 415);
  });
});

describe('selectors', () => {
  it('label selectors: equality, sets, existence and numbers', () => {
    const l = { app: 'web', tier: 'front', n: '5' };
    const ok = (s: string) => matchLabels(parseLabelSelector(s), l);
    assert.ok(ok('app=web') && ok('app==web') && ok('app!=db') && ok('missing!=x'));
    assert.ok(ok('app in (web, db),tier notin (back)') && ok('tier') && ok('!missing') && ok('n>4') && ok('n<6'));
    assert.ok(!ok('app=db') && !ok('tier in (back)') && !ok('!app') && !ok('missing') && !ok('n>5'));
    assert.ok(ok(''), 'the empty selector matches everything');
    apiError(() => parseLabelSelector('app=(x'), 400, /unable to parse requirement/);
  });

  it('field selectors: supported fields only, missing fields are empty, escapes', () => {
    const supported = ['metadata.name', 'spec.nodeName', 'status.phase'];
    const reqs = parseFieldSelector('spec.nodeName=node-1,status.phase!=Failed', supported);
    assert.ok(matchFields(reqs, { 'spec.nodeName': 'node-1', 'status.phase': 'Running' }));
    assert.ok(!matchFields(reqs, { 'spec.nodeName': 'node-2', 'status.phase': 'Running' }));
    assert.ok(matchFields(parseFieldSelector('spec.nodeName=', supported), {}), 'unscheduled pods have an empty nodeName');
    assert.deepEqual(parseFieldSelector('metadata.name=a\\,b', supported), [{ field: 'metadata.name', op: '=', value: 'a,b' }]);
    apiError(() => parseFieldSelector('spec.foo=x', supported), 400, /^field label not supported: spec\.foo$/);
  });
});

describe('store and watch bookkeeping', () => {
  const cm = (name: string, labels: Record<string, string> = {}, data = '1'): KObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', labels }, data: { d: data } });

  it('one resourceVersion for the store; a no-op update is no change; a stale write is 409', () => {
    const s = new Store();
    const a = s.create('configmaps', cm('a'));
    const b = s.create('configmaps', cm('b'));
    assert.ok(Number(b.metadata.resourceVersion) > Number(a.metadata.resourceVersion));
    assert.equal(s.update('configmaps', a).metadata.resourceVersion, a.metadata.resourceVersion, 'nothing changed');
    const a2 = s.update('configmaps', { ...a, data: { d: '2' } });
    assert.equal(a2.metadata.uid, a.metadata.uid);
    apiError(() => s.update('configmaps', { ...a, data: { d: '3' } }, a.metadata.resourceVersion), 409, /the object has been modified/);
    apiError(() => s.create('configmaps', cm('a')), 409, /configmaps "a" already exists/);
    apiError(() => s.remove('configmaps', 'ns', 'zzz'), 404, /configmaps "zzz" not found/);
  });

  it('a watch from a resourceVersion replays what came after it, then follows', () => {
    const s = new Store();
    const a = s.create('configmaps', cm('a'));
    s.update('configmaps', { ...a, data: { d: '2' } });
    s.remove('configmaps', 'ns', 'a');
    const seen: string[] = [];
    const stop = openWatch(s, { resource: 'configmaps', kind: 'ConfigMap', apiVersion: 'v1', filter: () => true, resourceVersion: a.metadata.resourceVersion }, (e) => seen.push(`${e.type} ${(e.object as KObject).metadata.name}`));
    s.create('configmaps', cm('b'));
    stop();
    s.create('configmaps', cm('c'));
    assert.deepEqual(seen, ['MODIFIED a', 'DELETED a', 'ADDED b']);
  });

  it('a watch from "" or "0" starts with an ADDED per object; sendInitialEvents ends them with a bookmark', () => {
    const s = new Store();
    s.create('configmaps', cm('a'));
    s.create('configmaps', cm('b', { x: 'y' }));
    const seen: WatchEvent[] = [];
    openWatch(s, { resource: 'configmaps', kind: 'ConfigMap', apiVersion: 'v1', filter: (o) => o.metadata.labels?.x === 'y', resourceVersion: '', sendInitialEvents: true, allowBookmarks: true }, (e) => seen.push(e));
    assert.deepEqual(seen.map((e) => e.type), ['ADDED', 'BOOKMARK']);
    assert.equal((seen[1]!.object as KObject).metadata.annotations?.['k8s.io/initial-events-end'], 'true');
  });

  it('with a selector, an object that starts matching is ADDED and one that stops is DELETED', () => {
    const sel = (o: KObject) => o.metadata.labels?.app === 'x';
    const before = cm('a', { app: 'y' });
    const after = cm('a', { app: 'x' });
    assert.equal(eventFor({ rv: 2, type: 'MODIFIED', resource: 'configmaps', object: after, previous: before }, sel)?.type, 'ADDED');
    assert.equal(eventFor({ rv: 3, type: 'MODIFIED', resource: 'configmaps', object: before, previous: after }, sel)?.type, 'DELETED');
    assert.equal(eventFor({ rv: 4, type: 'MODIFIED', resource: 'configmaps', object: after, previous: after }, sel)?.type, 'MODIFIED');
    assert.equal(eventFor({ rv: 5, type: 'MODIFIED', resource: 'configmaps', object: before, previous: before }, sel), undefined);
  });

  it('a resourceVersion older than the history is one ERROR event: 410 Expired', () => {
    const s = new Store(3);
    const first = s.create('configmaps', cm('a'));
    for (let i = 0; i < 5; i++) s.update('configmaps', { ...first, data: { d: String(i + 10) } });
    const seen: WatchEvent[] = [];
    openWatch(s, { resource: 'configmaps', kind: 'ConfigMap', apiVersion: 'v1', filter: () => true, resourceVersion: first.metadata.resourceVersion }, (e) => seen.push(e));
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.type, 'ERROR');
    assert.match(String((seen[0]!.object as { message: string }).message), /^too old resource version: /);
    assert.equal((seen[0]!.object as { code: number }).code, 410);
  });

  it('a listener that writes while being told of a change does not reorder what others see', () => {
    const s = new Store();
    const order: number[] = [];
    s.subscribe((c) => {
      if (c.object.metadata.name === 'a') s.create('configmaps', cm('b'));
    });
    s.subscribe((c) => order.push(c.rv));
    s.create('configmaps', cm('a'));
    assert.deepEqual(order, [...order].sort((x, y) => x - y));
    assert.equal(order.length, 2);
  });
});

describe('PodSecurity admission', () => {
  const ns = (labels: Record<string, string>): KObject => ({ metadata: { name: 'x', labels } });
  it('baseline refuses host namespaces and privileged containers with the plugin\'s message', () => {
    const p = pod('helper', { hostNetwork: true, hostPID: true, containers: [{ name: 'c', image: 'i', securityContext: { privileged: true } }] });
    const r = admitPod(p, ns({ 'pod-security.kubernetes.io/enforce': 'baseline' }));
    assert.ok(r.error);
    assert.equal(r.error.code, 403);
    assert.equal(r.error.message, 'pods "helper" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true, hostPID=true), privileged (container "c" must not set securityContext.privileged=true)');
    assert.equal(admitPod(p, ns({ 'pod-security.kubernetes.io/enforce': 'privileged' })).error, undefined);
    assert.equal(admitPod(p, ns({})).error, undefined);
  });

  it('restricted adds its own checks, in the plugin\'s order; warn only warns', () => {
    const p = pod('p', { volumes: [{ name: 'h', hostPath: { path: '/' } }] });
    assert.deepEqual(checkPod(p, 'restricted').map((f) => f.reason), ['allowPrivilegeEscalation != false', 'unrestricted capabilities', 'hostPath volumes', 'restricted volume types', 'runAsNonRoot != true', 'seccompProfile']);
    const r = admitPod(p, ns({ 'pod-security.kubernetes.io/warn': 'baseline', 'pod-security.kubernetes.io/warn-version': 'v1.32' }));
    assert.equal(r.error, undefined);
    assert.deepEqual(r.warnings, ['would violate PodSecurity "baseline:v1.32": hostPath volumes (volume "h")']);
    const ok = pod('ok', { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, containers: [{ name: 'c', image: 'i', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }] });
    assert.deepEqual(checkPod(ok, 'restricted'), []);
  });
});

describe('validation and defaults', () => {
  it('a pod without containers or with a bad name is 422 with the real message', () => {
    apiError(() => validatePod(pod('Bad')), 422, /^Pod "Bad" is invalid: metadata\.name: Invalid value: "Bad": a lowercase RFC 1123 subdomain/);
    apiError(() => validatePod(pod('p', { containers: [{ name: 'c' }, { name: 'c', image: 'x' }] })), 422, /^Pod "p" is invalid: \[spec\.containers\[0\]\.image: Required value, spec\.containers\[1\]\.name: Duplicate value: "c"\]$/);
    apiError(() => validatePod(pod('p', { restartPolicy: 'Sometimes' })), 422, /Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"/);
    const e = invalid('Pod', 'p', [{ type: 'Required', field: 'spec.containers' }]);
    assert.deepEqual(e.body.details?.causes, [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers' }]);
  });

  it('defaults as the API server sets them', () => {
    const d = defaultPod(pod('p', { containers: [{ name: 'a', image: 'busybox' }, { name: 'b', image: 'busybox:1.36' }] }));
    assert.equal(d.spec.restartPolicy, 'Always');
    assert.equal(d.spec.terminationGracePeriodSeconds, 30);
    assert.deepEqual(d.spec.containers.map((c) => c.imagePullPolicy), ['Always', 'IfNotPresent']);
    assert.deepEqual(d.spec.tolerations?.map((t) => t.key), ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);
    assert.equal(d.status?.phase, 'Pending');
    assert.equal(defaultPod(pod('p', { tolerations: [{ operator: 'Exists' }] })).spec.tolerations?.length, 1, 'tolerating everything covers the defaults');
    assert.equal(defaultPullPolicy('reg:5000/x@sha256:abc'), 'IfNotPresent');
  });

  it('a pod spec is immutable but for images', () => {
    const old = defaultPod(pod('p'));
    validatePodUpdate({ ...old, spec: { ...old.spec, containers: [{ ...old.spec.containers[0]!, image: 'other' }] } }, old);
    apiError(() => validatePodUpdate({ ...old, spec: { ...old.spec, hostNetwork: true } }, old), 422, /pod updates may not change fields other than/);
  });
});

describe('tables', () => {
  it('ages as kubectl prints them', () => {
    assert.deepEqual([5, 119, 125, 600, 7260, 14460, 30 * 3600, 3 * 86400 + 3600, 20 * 86400].map((s) => humanDuration(s * 1000)), ['5s', '119s', '2m5s', '10m', '121m', '4h1m', '30h', '3d1h', '20d']);
  });

  it('the pod STATUS column: waiting reasons, Terminating, and the pod reason without containers', () => {
    const cs = (state: ContainerStatus['state'], restartCount = 0, ready = false): ContainerStatus => ({ name: 'c', state, lastState: {}, ready, restartCount, image: 'i', imageID: '' });
    const p = pod('p');
    assert.equal(podStatusText({ ...p, status: { phase: 'Pending', containerStatuses: [cs({ waiting: { reason: 'ImagePullBackOff' } })] } }).status, 'ImagePullBackOff');
    assert.deepEqual(podStatusText({ ...p, status: { phase: 'Running', containerStatuses: [cs({ running: {} }, 2, true)] } }), { ready: '1/1', status: 'Running', restarts: 2, lastRestart: undefined });
    assert.equal(podStatusText({ ...p, metadata: { ...p.metadata, deletionTimestamp: 'x' }, status: { phase: 'Running' } }).status, 'Terminating');
    assert.equal(podStatusText({ ...p, status: { phase: 'Failed', reason: 'PodNetworkUnsupported' } }).status, 'PodNetworkUnsupported');
  });

  it('a node row has the -o wide columns', () => {
    const plan = planLab({ name: 'x', nodes: 2, topology: 'flat', mtu: 1500 });
    const built = buildNode(plan, plan.nodes[1]!, 1, facts, [], false, '2026-01-01T00:00:00Z');
    const n = { ...built, metadata: { ...built.metadata, creationTimestamp: '2026-01-01T00:00:00Z' } };
    const t = toTable('nodes', [n], '7', 'Metadata', Date.parse('2026-01-01T00:01:00Z')) as { columnDefinitions: { name: string; priority: number }[]; rows: { cells: unknown[] }[] };
    assert.deepEqual(t.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name), ['Name', 'Status', 'Roles', 'Age', 'Version']);
    assert.deepEqual(t.rows[0]!.cells.slice(0, 7), ['node-2', 'NotReady', '<none>', '60s', 'v1.32.0', '192.0.2.12', '<none>']);
  });
});

const facts: MachineFacts = { osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0', cpus: 2, memoryKi: 1024, architecture: 'amd64' };

describe('nodes', () => {
  it('pod CIDRs as the controller manager allocates them, per family', () => {
    assert.deepEqual(nodePodCidrs(planLab({ name: 'x', nodes: 3, topology: 'flat', mtu: 1500 }), 2), ['10.244.2.0/24']);
    assert.deepEqual(nodePodCidrs(planLab({ name: 'x', nodes: 3, topology: 'flat', mtu: 1500, ipFamily: 'dual' }), 1), ['10.244.1.0/24', 'fd00:10:244:1::/64']);
  });

  it('Ready follows the CNI config; the not-ready taint comes and goes; a NetworkUnavailable condition stays', () => {
    const plan = planLab({ name: 'x', nodes: 1, topology: 'flat', mtu: 1500 });
    const n = buildNode(plan, plan.nodes[0]!, 0, facts, [], false, 't0');
    assert.deepEqual(n.spec.taints, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }]);
    assert.match(n.status.conditions!.find((c) => c.type === 'Ready')!.message!, /cni plugin not initialized/);
    const withNu: NodeObject = { ...n, status: { ...n.status, conditions: [...n.status.conditions!, { type: 'NetworkUnavailable', status: 'False', reason: 'PodnetIsUp' }] } };
    const ready = withReadiness(withNu, true, 't1');
    assert.equal(ready.spec.taints, undefined);
    assert.deepEqual(ready.status.conditions!.map((c) => `${c.type}=${c.status}`).slice(-2), ['NetworkUnavailable=False', 'Ready=True']);
    assert.equal(withReadiness(ready, true, 't2'), ready, 'unchanged when nothing changed');
    assert.ok(hasCniConfig(['10-podnet.conflist']) && hasCniConfig(['99-loopback.conf']) && !hasCniConfig(['README', '.keep']));
  });

  it('podnet\'s NetworkUnavailable patch merges by type; True becomes the network-unavailable taint, False removes it', () => {
    const plan = planLab({ name: 'x', nodes: 1, topology: 'flat', mtu: 1500 });
    const n = withReadiness(buildNode(plan, plan.nodes[0]!, 0, facts, [], false, 't0'), true, 't1');
    const down = applyStrategicMergePatch(n, { status: { conditions: [{ type: 'NetworkUnavailable', status: 'True', reason: 'NoRouteCreated', message: 'Node created without a route' }] } }) as unknown as NodeObject;
    const tainted = withConditionTaints(down);
    assert.deepEqual(tainted.spec.taints, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]);
    assert.equal(withConditionTaints(tainted), tainted, 'unchanged when the taints already match');
    const patch = networkAvailablePatch(new Date('2026-01-02T03:04:05.678Z'));
    const up = applyStrategicMergePatch(tainted, patch) as unknown as NodeObject;
    const conds = up.status.conditions!;
    assert.deepEqual(conds.map((c) => `${c.type}=${c.status}`), ['MemoryPressure=False', 'DiskPressure=False', 'PIDPressure=False', 'Ready=True', 'NetworkUnavailable=False'], 'the kubelet\'s conditions stay; one NetworkUnavailable');
    assert.deepEqual(conds.find((c) => c.type === 'NetworkUnavailable'), { type: 'NetworkUnavailable', status: 'False', reason: 'PodnetIsUp', message: 'podnet configured the pod network on this node', lastTransitionTime: '2026-01-02T03:04:05Z', lastHeartbeatTime: '2026-01-02T03:04:05Z' });
    assert.equal(withConditionTaints(up).spec.taints, undefined);
    // other taints are someone else's; NotReady keeps its own
    const other = { key: 'example.com/dedicated', value: 'db', effect: 'NoSchedule' };
    const notReady = withReadiness({ ...tainted, spec: { ...tainted.spec, taints: [other, ...tainted.spec.taints!] } }, false, 't2');
    assert.deepEqual(withConditionTaints(notReady).spec.taints!.map((t) => t.key).sort(), ['example.com/dedicated', 'node.kubernetes.io/network-unavailable', 'node.kubernetes.io/not-ready']);
  });

  it('kubeadm-config names the inventory\'s pod network', () => {
    for (const ipFamily of ['ipv4', 'dual'] as const) {
      const plan = planLab({ name: 'x', nodes: 1, topology: 'flat', mtu: 1500, ipFamily, api: true });
      const cc = parseYaml(clusterConfiguration(plan)) as { kind: string; networking: { podSubnet: string } };
      const inv = parseYaml(renderLabInventory(plan)) as { cluster: { podCIDR: string | string[] } };
      assert.equal(cc.kind, 'ClusterConfiguration');
      assert.equal(cc.networking.podSubnet, [inv.cluster.podCIDR].flat().join(','));
    }
  });
});

describe('status bodies and RBAC', () => {
  it('404 names the resource and object', () => {
    assert.deepEqual(notFound('pods', 'x').body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "x" not found', reason: 'NotFound', details: { name: 'x', kind: 'pods' }, code: 404 });
  });

  it('403 names the user, verb, resource, group and scope as the real authorizer does', () => {
    const users = renderUsers(planLab({ name: 'lab', nodes: 1, topology: 'flat', mtu: 1500, api: true }), { admin: 'a'.repeat(48), viewer: 'v'.repeat(48), podnet: 'p'.repeat(48) });
    const viewer = authenticate(users, `Bearer ${'v'.repeat(48)}`)!;
    const admin = authenticate(users, `Bearer ${'a'.repeat(48)}`)!;
    assert.equal(authenticate(users, 'Bearer nope'), undefined);
    authorize(viewer, { verb: 'list', resource: 'pods', namespace: 'default' });
    authorize(admin, { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'x', name: 'p' });
    apiError(() => authorize(viewer, { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'default', name: 'p' }), 403, /^pods "p" is forbidden: User "lab-viewer" cannot create resource "pods\/exec" in API group "" in the namespace "default"$/);
    // the podnet user has podnet rbac's rules: exec yes, secrets no, kubeadm-config only in kube-system
    const pn = authenticate(users, `Bearer ${'p'.repeat(48)}`)!;
    authorize(pn, { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'podnet-x', name: 'p' });
    authorize(pn, { verb: 'get', resource: 'configmaps', namespace: 'kube-system', name: 'kubeadm-config' });
    apiError(() => authorize(pn, { verb: 'get', resource: 'configmaps', namespace: 'default', name: 'x' }), 403, /User "lab-podnet" cannot get resource "configmaps"/);
    apiError(() => authorize(pn, { verb: 'list', resource: 'secrets', namespace: 'default' }), 403, /cannot list resource "secrets"/);
    apiError(() => authorize(viewer, { verb: 'patch', resource: 'nodes', subresource: 'status', name: 'node-1' }), 403, /^nodes "node-1" is forbidden: User "lab-viewer" cannot patch resource "nodes\/status" in API group "" at the cluster scope$/);
  });
});

describe('exec subprotocol', () => {
  it('v5 is preferred, v4 accepted, nothing else', () => {
    assert.equal(pickProtocol(['v4.channel.k8s.io', 'v5.channel.k8s.io']), 'v5.channel.k8s.io');
    assert.equal(pickProtocol([' v4.channel.k8s.io']), 'v4.channel.k8s.io');
    assert.equal(pickProtocol(['channel.k8s.io', 'base64.channel.k8s.io']), undefined);
  });

  it('the exit status on channel 3 is the v4 Status with an ExitCode cause', () => {
    assert.deepEqual(exitStatus(0), { metadata: {}, status: 'Success' });
    const f = exitStatus(7) as { reason: string; details: { causes: { reason: string; message: string }[] } };
    assert.equal(f.reason, 'NonZeroExitCode');
    assert.deepEqual(f.details.causes, [{ reason: 'ExitCode', message: '7' }]);
    assert.deepEqual([...frame(3, '{}')], [3, 0x7b, 0x7d]);
  });

  it('channel 255 closes a stream in v5 only', () => {
    assert.deepEqual(decodeClientMessage(Buffer.from([255, 0]), 'v5.channel.k8s.io'), { kind: 'close', channel: 0 });
    assert.equal(decodeClientMessage(Buffer.from([255, 0]), 'v4.channel.k8s.io').kind, 'ignored');
    const m = decodeClientMessage(Buffer.from([0, 104, 105]), 'v4.channel.k8s.io');
    assert.equal(m.kind, 'stdin');
    assert.equal(m.kind === 'stdin' && m.data.toString(), 'hi');
  });
});

/** A tiny protobuf encoder, enough for the envelope kubectl sends. */
function pbField(n: number, v: Buffer | string): Buffer {
  const b = typeof v === 'string' ? Buffer.from(v) : v;
  const varint = (x: number) => {
    const out: number[] = [];
    do {
      out.push((x & 0x7f) | (x > 0x7f ? 0x80 : 0));
      x >>>= 7;
    } while (x > 0);
    return Buffer.from(out);
  };
  return Buffer.concat([varint((n << 3) | 2), varint(b.length), b]);
}

describe('protobuf bodies', () => {
  it('a Namespace from kubectl create namespace (k8s envelope, labels map, empty fields dropped)', () => {
    const meta = Buffer.concat([pbField(1, 'demo'), pbField(2, ''), pbField(11, Buffer.concat([pbField(1, 'team'), pbField(2, 'net')]))]);
    const ns = Buffer.concat([pbField(1, meta), pbField(2, Buffer.alloc(0)), pbField(3, Buffer.alloc(0))]);
    const unknown = Buffer.concat([pbField(1, Buffer.concat([pbField(1, 'v1'), pbField(2, 'Namespace')])), pbField(2, ns)]);
    assert.deepEqual(decodeProtobufObject(Buffer.concat([PROTOBUF_MAGIC, unknown])), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo', labels: { team: 'net' } }, spec: {}, status: {} });
    apiError(() => decodeProtobufObject(Buffer.concat([PROTOBUF_MAGIC, pbField(1, Buffer.concat([pbField(1, 'v1'), pbField(2, 'Pod')]))])), 415, /Namespace and ConfigMap objects only/);
  });
});

const image: ImageInfo = { def: IMAGES[0]!, dir: '/x/images/busybox', digest: 'sha256:00', sizeBytes: 1 };
const spec: SandboxSpec = {
  netns: 'podnet-x-node-1',
  mntFile: '/run/podnet/labs/x/ns/node-1.mnt',
  utsFile: '/run/podnet/labs/x/ns/node-1.uts',
  pidNsFile: '/proc/77/ns/pid_for_children',
  dir: "/run/podnet-lab/pods/u/c-0",
  imageDir: '/run/podnet-lab/images/busybox',
  hostPID: false,
  hostIPC: false,
  privileged: false,
  capAdd: ['NET_ADMIN'],
  capDrop: [],
  readOnlyRootFilesystem: true,
  mounts: [{ source: "/var/lib/it's", target: '/host', readOnly: true, create: 'directory' }],
  hostname: 'node-1',
  hosts: ['127.0.0.1\tlocalhost'],
  env: [['PATH', '/bin'], ['X', "a b'c"]],
  workingDir: '/tmp',
  argv: ['sleep', '1'],
};

describe('sandbox', () => {
  it('a container and its exec sessions join the container\'s cgroup before anything of theirs runs', () => {
    const argv = cgroupJoinArgv('/sys/fs/cgroup/lab/kubelet/u/c-0', ['/usr/bin/nsenter', '-t', '42', '--', 'sh']);
    assert.deepEqual(argv.slice(0, 2), ['/bin/sh', '-c']);
    assert.equal(spawnSync('sh', ['-n'], { input: argv[2] }).status, 0);
    assert.match(argv[2]!, /^echo \$\$ > "\$1\/cgroup\.procs" \|\| exit 125; shift; exec "\$@"$/);
    assert.deepEqual(argv.slice(3), ['podnet-cgroup', '/sys/fs/cgroup/lab/kubelet/u/c-0', '/usr/bin/nsenter', '-t', '42', '--', 'sh']);
  });

  it('the container script is valid sh, quotes every value, and execs through setpriv and unshare --root', () => {
    const script = renderSandboxScript(spec);
    const check = spawnSync('sh', ['-n'], { input: script });
    assert.equal(check.status, 0, String(check.stderr));
    assert.match(script, /mount -t overlay overlay -o lowerdir=\/run\/podnet-lab\/images\/busybox,upperdir=/);
    assert.match(script, /'\/var\/lib\/it'\\''s'/);
    assert.match(script, /--bounding-set=-all,\+chown.*\+net_admin/);
    assert.match(script, /\/usr\/bin\/unshare --root=\/run\/podnet-lab\/pods\/u\/c-0\/root --wd=\/tmp -- "\$@"$/m);
    assert.match(script, /mount -o remount,ro "\$R"/);
  });

  it('its own PID (in the node\'s) and IPC namespaces; with hostPID the node\'s (never the host\'s); exec joins them', () => {
    const start = sandboxStartArgv(spec);
    assert.deepEqual(start.slice(0, 6), ['/usr/bin/nsenter', '--net=/run/netns/podnet-x-node-1', `--mount=${spec.mntFile}`, `--uts=${spec.utsFile}`, '--pid=/proc/77/ns/pid_for_children', '--']);
    assert.ok(start.includes('--pid') && start.includes('--ipc') && start.includes('--kill-child'));
    const host = sandboxStartArgv({ ...spec, hostPID: true, hostIPC: true });
    assert.ok(!host.includes('--pid') && !host.includes('--ipc'));
    assert.equal(host[4], '--pid=/proc/77/ns/pid_for_children');
    assert.deepEqual(sandboxExecArgv(spec, 42, ['sh']).slice(0, 9), ['/usr/bin/nsenter', '-t', '42', '-m', '-u', '-n', '-i', '-p', '--']);
  });

  it('capabilities: the runtime default set, plus adds, minus drops; privileged keeps all', () => {
    assert.equal(capabilitySet({ privileged: true, capAdd: [], capDrop: [] }), undefined);
    assert.deepEqual(capabilitySet({ privileged: false, capAdd: ['NET_BIND_SERVICE'], capDrop: ['ALL'] }), ['NET_BIND_SERVICE']);
    assert.ok(!capabilitySet({ privileged: false, capAdd: [], capDrop: ['NET_RAW'] })!.includes('NET_RAW'));
  });

  it('command and args combine with the image like a runtime does; env resolves fieldRefs', () => {
    assert.deepEqual(containerArgv({ name: 'c' }, image), ['sh']);
    assert.deepEqual(containerArgv({ name: 'c', args: ['-c', 'x'] }, image), ['-c', 'x']);
    assert.deepEqual(containerArgv({ name: 'c', command: ['sleep'], args: ['1'] }, image), ['sleep', '1']);
    const env = new Map(containerEnv(pod('p'), { name: 'c', env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }, { name: 'P', value: '$(NODE)-x' }] }, image, { nodeName: 'node-1', hostIPs: ['192.0.2.11'], podDir: '/d', apiHost: '192.0.2.2', apiPort: 6443 }));
    assert.equal(env.get('NODE'), 'node-1');
    assert.equal(env.get('P'), 'node-1-x');
    assert.equal(env.get('KUBERNETES_SERVICE_HOST'), '192.0.2.2');
    assert.match(env.get('PATH')!, /\/bin/);
  });

  it('what the stand-in kubelet rejects: pods without hostNetwork, init containers, other volume types', () => {
    assert.equal(unsupported(pod('p'))?.reason, 'PodNetworkUnsupported');
    assert.equal(unsupported(pod('p', { hostNetwork: true })), undefined);
    assert.equal(unsupported(pod('p', { hostNetwork: true, initContainers: [{ name: 'i', image: 'x' }] }))?.reason, 'InitContainersUnsupported');
    assert.match(unsupported(pod('p', { hostNetwork: true, volumes: [{ name: 'v', configMap: { name: 'x' } }] }))!.message, /volume "v" is of type configMap/);
  });
});

describe('images', () => {
  it('references are read as a container runtime reads them', () => {
    assert.equal(normalizeImageRef('busybox'), 'docker.io/library/busybox:latest');
    assert.equal(normalizeImageRef('library/busybox:1.36'), 'docker.io/library/busybox:1.36');
    assert.equal(normalizeImageRef('ghcr.io/x/y'), 'ghcr.io/x/y:latest');
    assert.equal(normalizeImageRef('localhost:5000/y@sha256:ab'), 'localhost:5000/y@sha256:ab');
    assert.equal(findImage('busybox:1.36')?.name, 'busybox');
    assert.equal(findImage('docker.io/library/busybox:latest')?.name, 'busybox');
    assert.equal(findImage('busybox:0.1'), undefined);
    assert.equal(findImage('example.invalid/nope:1'), undefined);
  });

  it('the python image answers to podnet\'s default helper image and its usual variants', () => {
    assert.equal(findImage(DEFAULT_HELPER_IMAGE)?.name, 'python');
    for (const r of ['python:3.13', 'python:3-alpine', 'python:3.12-alpine', 'docker.io/library/python:3.13-slim']) assert.equal(findImage(r)?.name, 'python', r);
    assert.equal(findImage('python:2.7'), undefined);
    assert.equal(findImage('python'), undefined, 'no :latest');
  });

  it('its modules: what helper.py and echo.py import, found in their text, with the base list', () => {
    assert.deepEqual(pythonImports('import os, sys as system\nfrom json.decoder import x\ndef f():\n    import ctypes  # 3.11\n"""\nimport is a word here\n"""\n'), ['ctypes', 'json', 'os', 'sys']);
    const mods = pythonImageModules(PYTHON_PROGRAMS.map((u) => readFileSync(u, 'utf8')));
    for (const m of ['json', 'selectors', 'socket', 'struct', 'errno', 'ctypes', 'os', 'sys', 'time']) assert.ok(mods.includes(m), m);
  });

  it('ldd output: the libraries by the paths the loader looks them up at, the ELF interpreter included', () => {
    const out = [
      '/usr/bin/python3.11:',
      '\tlinux-vdso.so.1 (0x00007fcb5ad14000)',
      '\tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007fcb5ac23000)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fcb5a9f7000)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007fcb5ad16000)',
      '/usr/lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so:',
      '\tstatically linked',
      '/usr/lib/python3.11/lib-dynload/_ctypes.cpython-311-x86_64-linux-gnu.so:',
      '\tlibffi.so.8 => /lib/x86_64-linux-gnu/libffi.so.8 (0x00007f07fa928000)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f07fa746000)',
    ].join('\n');
    assert.deepEqual(parseLdd(out), ['/lib/x86_64-linux-gnu/libc.so.6', '/lib/x86_64-linux-gnu/libffi.so.8', '/lib/x86_64-linux-gnu/libm.so.6', '/lib64/ld-linux-x86-64.so.2']);
    assert.throws(() => parseLdd('\tlibfoo.so.1 => not found'), /libfoo\.so\.1 not found/);
  });

  it('the python layer: the interpreter with its python3 and python3.X names, the loaded files, the libraries', () => {
    const probe = { executable: '/usr/bin/python3', real: '/usr/bin/python3.11', stdlib: '/usr/lib/python3.11', dynload: '/usr/lib/python3.11/lib-dynload', files: ['/usr/lib/python3.11/os.py', '/usr/lib/python3.11/lib-dynload/_ctypes.cpython-311-x86_64-linux-gnu.so'], missing: [] };
    assert.deepEqual(pythonElfFiles(probe), ['/usr/bin/python3.11', '/usr/lib/python3.11/lib-dynload/_ctypes.cpython-311-x86_64-linux-gnu.so']);
    const layer = pythonLayer(probe, ['/lib64/ld-linux-x86-64.so.2', '/lib/x86_64-linux-gnu/libffi.so.8']);
    assert.deepEqual(layer.files, ['/lib/x86_64-linux-gnu/libffi.so.8', '/lib64/ld-linux-x86-64.so.2', '/usr/bin/python3.11', '/usr/lib/python3.11/lib-dynload/_ctypes.cpython-311-x86_64-linux-gnu.so', '/usr/lib/python3.11/os.py']);
    assert.deepEqual(layer.links, [['/usr/bin/python3', 'python3.11']]);
    assert.deepEqual(layer.dirs, ['/usr/lib/python3.11/lib-dynload']);
    assert.ok(PYTHON_PROBE.includes('__cached__'), 'the bytecode is copied too: no compiling at every start');
  });

  it('a static ELF has no program interpreter', () => {
    assert.equal(isStaticElf('/bin/sh'), false);
    assert.equal(isStaticElf('/etc/hostname'), false);
    if (isStaticElf('/bin/busybox')) assert.ok(true);
  });
});

describe('pod status and scheduling', () => {
  const cs = (state: ContainerStatus['state'], lastState: ContainerStatus['lastState'] = {}): ContainerStatus => ({ name: 'c', state, lastState, ready: !!state.running, restartCount: 0, image: 'i', imageID: '' });
  const view = (containers: ContainerStatus[], restartPolicy = 'Always') => ({ containers, restartPolicy, startTime: 't', hostIPs: ['192.0.2.11'] });

  it('phases by container states and restart policy', () => {
    assert.equal(podPhase(view([cs({ waiting: { reason: 'ErrImagePull' } })])), 'Pending');
    assert.equal(podPhase(view([cs({ running: {} })])), 'Running');
    assert.equal(podPhase(view([cs({ waiting: { reason: 'CrashLoopBackOff' } }, { terminated: { exitCode: 1 } })])), 'Running');
    assert.equal(podPhase(view([cs({ terminated: { exitCode: 0 } })], 'Never')), 'Succeeded');
    assert.equal(podPhase(view([cs({ terminated: { exitCode: 2 } })], 'Never')), 'Failed');
    assert.equal(podPhase({ ...view([cs({ running: {} })]), final: { phase: 'Failed', reason: 'DeadlineExceeded' } }), 'Failed');
  });

  it('conditions keep their transition time while unchanged; a hostNetwork pod has its node\'s IPs', () => {
    const s1 = computePodStatus(undefined, view([cs({ running: {} })]), 't1');
    const s2 = computePodStatus(s1, view([cs({ running: {} })]), 't2');
    assert.equal(s2.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime, 't1');
    assert.equal(s2.podIP, '192.0.2.11');
    const s3 = computePodStatus(s2, view([cs({ waiting: { reason: 'CrashLoopBackOff' } }, { terminated: { exitCode: 1 } })]), 't3');
    assert.deepEqual(s3.conditions!.find((c) => c.type === 'Ready'), { type: 'Ready', status: 'False', lastProbeTime: null, lastTransitionTime: 't3', reason: 'ContainersNotReady', message: 'containers with unready status: [c]' });
  });

  it('the scheduler skips tainted, unschedulable and unselected nodes, and says so like kube-scheduler', () => {
    const plan = planLab({ name: 'x', nodes: 3, topology: 'flat', mtu: 1500 });
    const nodes = plan.nodes.map((n, i) => buildNode(plan, n, i, facts, [], i !== 0, 't'));
    assert.deepEqual(schedulePod(pod('p'), nodes, (n) => (n === 'node-2' ? 5 : 0)), { node: 'node-3' });
    const none = schedulePod(pod('p', { nodeSelector: { disk: 'ssd' } }), nodes, () => 0);
    assert.ok('message' in none);
    assert.equal(none.message, "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.");
    assert.deepEqual(schedulePod(pod('p', { tolerations: [{ operator: 'Exists' }] }), [nodes[0]!], () => 0), { node: 'node-1' });
  });

  it('required node affinity: matchFields on metadata.name and matchExpressions on labels, terms ORed, requirements ANDed', () => {
    const plan = planLab({ name: 'x', nodes: 3, topology: 'flat', mtu: 1500 });
    const nodes = plan.nodes.map((n, i) => buildNode(plan, n, i, facts, [], true, 't'));
    nodes[0]!.metadata.labels!['disk'] = 'ssd';
    nodes[1]!.metadata.labels!['disk'] = 'hdd';
    nodes[2]!.metadata.labels!['gen'] = '7';
    const req = (key: string, operator: string, values?: string[]) => ({ key, operator, ...(values ? { values } : {}) });
    const affinity = (...terms: { matchExpressions?: ReturnType<typeof req>[]; matchFields?: ReturnType<typeof req>[] }[]) => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } });
    const fits = (a: ReturnType<typeof affinity>) => nodes.filter((n) => matchesNodeAffinity(pod('p', { affinity: a }), n)).map((n) => n.metadata.name);
    assert.deepEqual(fits(affinity({ matchFields: [req('metadata.name', 'In', ['node-2'])] })), ['node-2']);
    assert.deepEqual(fits(affinity({ matchFields: [req('metadata.name', 'NotIn', ['node-2'])] })), ['node-1', 'node-3']);
    assert.deepEqual(fits(affinity({ matchExpressions: [req('disk', 'In', ['ssd', 'nvme'])] })), ['node-1']);
    assert.deepEqual(fits(affinity({ matchExpressions: [req('disk', 'NotIn', ['ssd'])] })), ['node-2', 'node-3'], 'NotIn matches a node without the label');
    assert.deepEqual(fits(affinity({ matchExpressions: [req('disk', 'Exists')] })), ['node-1', 'node-2']);
    assert.deepEqual(fits(affinity({ matchExpressions: [req('disk', 'DoesNotExist')] })), ['node-3']);
    assert.deepEqual(fits(affinity({ matchExpressions: [req('gen', 'Gt', ['5'])] })), ['node-3']);
    assert.deepEqual(fits(affinity({ matchExpressions: [req('disk', 'Exists')], matchFields: [req('metadata.name', 'In', ['node-2'])] })), ['node-2'], 'ANDed within a term');
    assert.deepEqual(fits(affinity({ matchExpressions: [req('disk', 'In', ['ssd'])] }, { matchFields: [req('metadata.name', 'In', ['node-3'])] })), ['node-1', 'node-3'], 'terms ORed');
    assert.deepEqual(fits(affinity({})), [], 'an empty term matches nothing');
    assert.deepEqual(fits(affinity({ matchFields: [req('metadata.uid', 'In', ['x'])] })), [], 'a field the scheduler does not know matches nothing');
    // with the nodeSelector: both must hold
    assert.equal(matchesNodeAffinity(pod('p', { nodeSelector: { disk: 'hdd' }, affinity: affinity({ matchFields: [req('metadata.name', 'In', ['node-1'])] }) }), nodes[0]!), false);
    assert.deepEqual(matchesNodeSelectorTerms(nodes[1]!, [{ matchExpressions: [req('disk', 'In', ['hdd'])] }]), true);
  });

  it('a pod pinned by matchFields (as podnet\'s helper pods are) goes to its node, or says why not as kube-scheduler 1.32 does', () => {
    const plan = planLab({ name: 'x', nodes: 3, topology: 'flat', mtu: 1500 });
    const nodes = plan.nodes.map((n, i) => buildNode(plan, n, i, facts, [], i !== 1, 't'));
    const pinned = (node: string, spec: Partial<Pod['spec']> = {}) =>
      pod('p', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }] } } }, ...spec });
    assert.deepEqual(schedulePod(pinned('node-3'), nodes, (n) => (n === 'node-3' ? 9 : 0)), { node: 'node-3' }, 'not the least busy node: the pinned one');
    assert.deepEqual(schedulePod(pinned('node-2', { tolerations: [{ operator: 'Exists' }] }), nodes, () => 0), { node: 'node-2' }, 'a NotReady node, tolerated');
    const tainted = schedulePod(pinned('node-2'), nodes, () => 0);
    assert.ok('message' in tainted);
    assert.equal(tainted.message, "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.");
    const gone = schedulePod(pinned('node-9'), nodes, () => 0);
    assert.ok('message' in gone);
    assert.equal(gone.message, "0/3 nodes are available: 3 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.");
    const labelled = schedulePod(pod('p', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'Exists' }] }] } } } }), nodes, () => 0);
    assert.ok('message' in labelled);
    assert.equal(labelled.message, "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.");
    const conflict = schedulePod(pod('p', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-1'] }, { key: 'metadata.name', operator: 'In', values: ['node-2'] }] }] } } } }), nodes, () => 0);
    assert.ok('message' in conflict);
    assert.match(conflict.message, /^0\/3 nodes are available: pod affinity terms conflict\. preemption:/);
  });

  it('node affinity the API server refuses to store: 422 naming the field', () => {
    const na = (terms: unknown[]) => pod('p', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms as never } } } });
    const base = 'spec\\.affinity\\.nodeAffinity\\.requiredDuringSchedulingIgnoredDuringExecution\\.nodeSelectorTerms';
    apiError(() => validatePod(na([])), 422, new RegExp(`${base}: Required value: must have at least one node selector term`));
    apiError(() => validatePod(na([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a', 'b'] }] }])), 422, new RegExp(`${base}\\[0\\]\\.matchFields\\[0\\]\\.values: Required value: must be only one value`));
    apiError(() => validatePod(na([{ matchFields: [{ key: 'metadata.uid', operator: 'In', values: ['a'] }] }])), 422, /Unsupported value: "metadata\.uid": supported values: "metadata\.name"/);
    apiError(() => validatePod(na([{ matchExpressions: [{ key: 'disk', operator: 'Exists', values: ['x'] }] }])), 422, /may not be specified when `operator` is 'Exists' or 'DoesNotExist'/);
    apiError(() => validatePod(na([{ matchExpressions: [{ key: 'disk', operator: 'Near', values: ['x'] }] }])), 422, /operator: Invalid value: "Near": not a valid selector operator/);
    validatePod(na([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-1'] }] }, { matchExpressions: [{ key: 'disk', operator: 'DoesNotExist' }] }]));
  });
});

describe('strict field validation', () => {
  it('names unknown fields by path, with the Kubernetes schema of @kubernetes/client-node', async () => {
    const p = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', labelz: {} }, spec: { containers: [{ name: 'c', image: 'i', imagee: 'typo' }], hostNetwork: true } };
    assert.deepEqual(await unknownFields(p, 'V1Pod'), ['metadata.labelz', 'spec.containers[0].imagee']);
    assert.deepEqual(await unknownFields({ metadata: { name: 'n', labels: { any: 'x' } }, data: { k: 'v' } }, 'V1ConfigMap'), []);
  });
});

describe('what lab up --api renders', () => {
  const plan = planLab({ name: 'x', nodes: 2, topology: 'flat', mtu: 1500, api: true });

  it('the plan names the server on the operator\'s address (IPv6 in brackets)', () => {
    assert.deepEqual(plan.api, { port: 6443, server: 'https://192.0.2.2:6443', addresses: ['192.0.2.2'] });
    assert.equal(planLab({ name: 'x', nodes: 1, topology: 'flat', mtu: 1500, ipFamily: 'ipv6', api: true }).api?.server, 'https://[2001:db8:0:a::2]:6443');
    assert.equal(planLab({ name: 'x', nodes: 1, topology: 'flat', mtu: 1500 }).api, undefined);
  });

  it('nodes of an API lab get the images and their pods under /run/podnet-lab; other labs are as before', () => {
    const up = renderLabUpScript(plan, undefined);
    assert.equal(spawnSync('bash', ['-n'], { input: up }).status, 0);
    assert.match(up, /exec 8<\/run\/podnet\/labs\/x\/images 9<\/run\/podnet\/labs\/x\/api\/nodes\/node-1/);
    assert.match(up, /mount --bind \/proc\/self\/fd\/8 \/run\/podnet-lab\/images && mount -o remount,bind,ro/);
    assert.doesNotMatch(renderLabUpScript(planLab({ name: 'x', nodes: 2, topology: 'flat', mtu: 1500 }), undefined), /\/run\/podnet-lab|exec 8</);
  });

  it('certificates with the server\'s addresses as SANs; the server starts inside the operator namespace', () => {
    const setup = renderApiSetupScript(plan, apiPaths(plan.dir));
    assert.equal(spawnSync('bash', ['-n'], { input: setup }).status, 0);
    assert.match(setup, /subjectAltName=IP:192\.0\.2\.2,IP:127\.0\.0\.1,DNS:localhost,DNS:kubernetes/);
    const start = renderApiStartScript(plan, apiPaths(plan.dir), '/sys/fs/cgroup/podnet-lab-x', ['/usr/bin/node', '/x/main.js']);
    assert.equal(spawnSync('bash', ['-n'], { input: start }).status, 0);
    assert.match(start, /^nsenter --net=\/run\/netns\/podnet-x-op -- setsid \/usr\/bin\/node \/x\/main\.js --lab-dir \/run\/podnet\/labs\/x <\/dev\/null/m);
  });

  it('a kubeconfig with the CA, an admin context (current) and a read-only one', () => {
    const kc = parseYaml(renderKubeconfig(plan, '-----BEGIN CERTIFICATE-----\n', { admin: 'A', viewer: 'V', podnet: 'P' })) as {
      clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
      contexts: { name: string; context: { user: string } }[];
      users: { name: string; user: { token: string } }[];
      'current-context': string;
    };
    assert.equal(kc.clusters[0]!.cluster.server, 'https://192.0.2.2:6443');
    assert.equal(Buffer.from(kc.clusters[0]!.cluster['certificate-authority-data'], 'base64').toString(), '-----BEGIN CERTIFICATE-----\n');
    assert.deepEqual(kc.contexts.map((c) => c.name), ['x', 'x-viewer', 'x-podnet']);
    assert.equal(kc['current-context'], 'x');
    assert.deepEqual(kc.users.map((u) => u.user.token), ['A', 'V', 'P']);
  });

  it('the preflight names the Debian packages that are missing', () => {
    assert.throws(() => apiPreflight(() => false), (e: unknown) => e instanceof UserError && /--api: missing openssl, setpriv, python3, a static busybox/.test(e.message) && /apt-get install -y openssl util-linux python3 busybox-static/.test(e.hint ?? ''));
    assert.equal(apiPreflight(() => true, () => true), '/bin/busybox');
  });

  it('OpenAPI v3: every kind\'s PATCH takes fieldValidation (so kubectl validates on the server)', () => {
    const doc = openApiV3CoreDoc() as { paths: Record<string, { patch?: { parameters: { name: string; in: string }[]; 'x-kubernetes-group-version-kind': { kind: string } } }> };
    const kinds = Object.values(doc.paths).flatMap((p) => (p.patch && p.patch.parameters.some((x) => x.name === 'fieldValidation' && x.in === 'query') ? [p.patch['x-kubernetes-group-version-kind'].kind] : []));
    assert.deepEqual([...new Set(kinds)].sort(), ['ConfigMap', 'Event', 'Namespace', 'Node', 'Pod']);
    assert.match((openApiV3Root() as { paths: Record<string, { serverRelativeURL: string }> }).paths['api/v1']!.serverRelativeURL, /^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]+$/);
  });
});
