/**
 * The stand-in API's request handling without sockets: routes, verbs, authorization, namespaces and
 * their root CA, pod creation with validation, defaults and PodSecurity, lists and Tables with
 * selectors, status patches, PUT preconditions, graceful deletion, namespace termination and watch
 * streams — each answered with the status code and body the real API server gives.
 */
import { describe, it, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { ApiHandler, parseResourcePath, type ApiRequest, type ApiResponse } from '../../src/lab/api/handler.js';
import { Controllers } from '../../src/lab/api/controllers.js';
import { EventRecorder } from '../../src/lab/api/events.js';
import { ApiError } from '../../src/lab/api/status.js';
import { Store } from '../../src/lab/api/store.js';
import { seedStore } from '../../src/lab/api/seed.js';
import { buildNode } from '../../src/lab/api/nodes.js';
import { authenticate } from '../../src/lab/api/rbac.js';
import { renderUsers } from '../../src/lab/api/setup.js';
import { planLab } from '../../src/lab/topology.js';
import type { KObject, Pod } from '../../src/lab/api/types.js';

const plan = planLab({ name: 'lab', nodes: 2, topology: 'flat', mtu: 1500, api: true });
const users = renderUsers(plan, { admin: 'admintoken', viewer: 'viewertoken', podnet: 'podnettoken' });
const admin = authenticate(users, 'Bearer admintoken')!;
const viewer = authenticate(users, 'Bearer viewertoken')!;
const facts = { osImage: 'Debian', kernelVersion: '6.1', cpus: 2, memoryKi: 1024, architecture: 'amd64' };

let store: Store;
let handler: ApiHandler;

function setup(): void {
  store = new Store();
  seedStore(store, plan, 'CA PEM');
  plan.nodes.forEach((n, i) => store.create('nodes', buildNode(plan, n, i, facts, [], true, '2026-01-01T00:00:00Z')));
  const events = new EventRecorder(store);
  const isLabNode = (n: string) => plan.nodes.some((x) => x.name === n);
  const kubelet = {
    execArgv: (_p: Pod, _c: string | undefined, cmd: string[]) => cmd,
    logFile: () => ({ file: '/nonexistent', running: () => false }),
  };
  new Controllers(store, events, isLabNode, () => 0).start();
  handler = new ApiHandler({ store, events, kubelet, caPem: 'CA PEM', serverAddress: '192.0.2.2:6443', isLabNode });
}

interface Call {
  method?: string;
  body?: unknown;
  contentType?: string;
  accept?: string;
  user?: ApiRequest['user'];
}

async function call(path: string, o: Call = {}): Promise<{ status: number; body: Record<string, unknown>; warnings?: string[] }> {
  const url = new URL(path, 'https://x');
  const req: ApiRequest = {
    method: o.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers: { ...(o.contentType ? { 'content-type': o.contentType } : {}), ...(o.accept ? { accept: o.accept } : {}) },
    body: Buffer.from(o.body === undefined ? '' : typeof o.body === 'string' ? o.body : JSON.stringify(o.body)),
    user: o.user ?? admin,
  };
  try {
    const r: ApiResponse = await handler.handle(req);
    if (r.kind === 'json') return { status: r.status, body: r.body as Record<string, unknown>, ...(r.warnings ? { warnings: r.warnings } : {}) };
    if (r.kind === 'text') return { status: r.status, body: { text: r.body } };
    throw new Error('a stream');
  } catch (e) {
    if (e instanceof ApiError) return { status: e.code, body: e.body as unknown as Record<string, unknown> };
    throw e;
  }
}

const tick = () => new Promise((r) => setTimeout(r, 5));

function hostPod(name: string, extra: Partial<Pod['spec']> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: name } }, spec: { nodeName: 'node-1', hostNetwork: true, containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '60'] }], ...extra } };
}

describe('stand-in API handler', () => {
  beforeEach(setup);

  it('parses the paths kubectl uses and nothing else', () => {
    assert.deepEqual(
      ['/api/v1/pods', '/api/v1/namespaces/a/pods/b/exec', '/api/v1/namespaces/a', '/api/v1/namespaces/a/status', '/api/v1/nodes/n/status', '/api/v1/watch/namespaces/a/pods'].map((p) => {
        const t = parseResourcePath(p);
        return t && `${t.def.plural} ${t.namespace ?? '-'} ${t.name ?? '-'} ${t.subresource ?? '-'} ${t.watchPath}`;
      }),
      ['pods - - - false', 'pods a b exec false', 'namespaces - a - false', 'namespaces - a status false', 'nodes - n status false', 'pods a - - true'],
    );
    for (const p of ['/api/v1/pods/x', '/api/v1/namespaces/a/nodes', '/api/v1/secrets', '/api/v2/pods', '/api/v1/nodes/n/exec']) assert.equal(parseResourcePath(p), undefined, p);
  });

  it('discovery, version and health', async () => {
    const v1 = await call('/api/v1');
    assert.ok((v1.body.resources as { name: string }[]).some((r) => r.name === 'pods/exec'));
    assert.equal((await call('/version')).body.minor, '32');
    assert.equal((await call('/apis')).body.kind, 'APIGroupList');
    assert.equal((await call('/api/v1/secrets')).status, 404);
  });

  it('creates a namespace with its name label and root CA; a second one is 409; a bad name 422', async () => {
    const r = await call('/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x', labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } } });
    assert.equal(r.status, 201);
    assert.deepEqual((r.body.metadata as KObject['metadata']).labels, { 'pod-security.kubernetes.io/enforce': 'privileged', 'kubernetes.io/metadata.name': 'x' });
    assert.equal((await call('/api/v1/namespaces/x/configmaps/kube-root-ca.crt')).status, 200);
    const again = await call('/api/v1/namespaces', { method: 'POST', body: { metadata: { name: 'x' } } });
    assert.deepEqual([again.status, again.body.reason, again.body.message], [409, 'AlreadyExists', 'namespaces "x" already exists']);
    assert.equal((await call('/api/v1/namespaces', { method: 'POST', body: { metadata: { name: 'X_1' } } })).status, 422);
    const kd = await call('/api/v1/namespaces/kube-system/configmaps/kubeadm-config');
    assert.match(String((kd.body.data as Record<string, string>).ClusterConfiguration), /podSubnet: 10\.244\.0\.0\/16/);
  });

  it('creates pods: defaults, generateName, a missing namespace 404, strict unknown fields 400, PodSecurity 403', async () => {
    const r = await call('/api/v1/namespaces/default/pods', { method: 'POST', body: hostPod('a') });
    assert.equal(r.status, 201);
    assert.equal((r.body.spec as Pod['spec']).restartPolicy, 'Always');
    assert.equal((r.body.status as Pod['status'])!.phase, 'Pending');
    const g = await call('/api/v1/namespaces/default/pods', { method: 'POST', body: { ...hostPod(''), metadata: { generateName: 'helper-' } } });
    assert.match(String((g.body.metadata as KObject['metadata']).name), /^helper-[a-z0-9]{5}$/);
    const nf = await call('/api/v1/namespaces/nope/pods', { method: 'POST', body: hostPod('b') });
    assert.deepEqual([nf.status, nf.body.message], [404, 'namespaces "nope" not found']);
    const strict = await call('/api/v1/namespaces/default/pods?fieldValidation=Strict', { method: 'POST', body: { ...hostPod('c'), spec: { ...hostPod('c').spec, hostNetwrk: true } } });
    assert.deepEqual([strict.status, strict.body.message], [400, 'strict decoding error: unknown field "spec.hostNetwrk"']);
    const warned = await call('/api/v1/namespaces/default/pods', { method: 'POST', body: { ...hostPod('d'), spec: { ...hostPod('d').spec, hostNetwrk: true } } });
    assert.deepEqual([warned.status, warned.warnings], [201, ['unknown field "spec.hostNetwrk"']]);
    await call('/api/v1/namespaces', { method: 'POST', body: { metadata: { name: 'b', labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } } } });
    const psa = await call('/api/v1/namespaces/b/pods', { method: 'POST', body: hostPod('e') });
    assert.deepEqual([psa.status, psa.body.reason, psa.body.message], [403, 'Forbidden', 'pods "e" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true)']);
    assert.equal((await call('/api/v1/namespaces/default/pods', { method: 'POST', body: hostPod('f'), user: viewer })).body.message, 'pods is forbidden: User "lab-viewer" cannot create resource "pods" in API group "" in the namespace "default"');
  });

  it('lists with label and field selectors, across namespaces, as a list or a Table', async () => {
    await call('/api/v1/namespaces/default/pods', { method: 'POST', body: hostPod('a') });
    await call('/api/v1/namespaces/default/pods', { method: 'POST', body: hostPod('b', { nodeName: 'node-2' }) });
    const names = async (q: string) => ((await call(`/api/v1/pods?${q}`)).body.items as KObject[]).map((p) => p.metadata.name);
    assert.deepEqual(await names('fieldSelector=spec.nodeName%3Dnode-2'), ['b']);
    assert.deepEqual(await names('labelSelector=app%20in%20(a,c)'), ['a']);
    assert.deepEqual(await names(''), ['a', 'b']);
    assert.equal((await call('/api/v1/pods?fieldSelector=spec.foo%3Dx')).status, 400);
    const list = await call('/api/v1/namespaces/default/pods');
    assert.equal(list.body.kind, 'PodList');
    assert.ok(Number((list.body.metadata as { resourceVersion: string }).resourceVersion) > 0);
    assert.equal((list.body.items as KObject[])[0]!.kind, undefined, 'list items carry no kind');
    const table = await call('/api/v1/nodes', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    assert.equal(table.body.kind, 'Table');
    assert.deepEqual((table.body.rows as { cells: unknown[] }[]).map((r) => r.cells.slice(0, 2)), [['node-1', 'Ready'], ['node-2', 'Ready']]);
  });

  it('patches node status by strategic merge and keeps the spec; the viewer may not', async () => {
    const patch = { status: { conditions: [{ type: 'NetworkUnavailable', status: 'False', reason: 'PodnetIsUp' }] }, spec: { unschedulable: true } };
    const r = await call('/api/v1/nodes/node-1/status', { method: 'PATCH', contentType: 'application/strategic-merge-patch+json', body: patch });
    assert.equal(r.status, 200);
    const n = (await call('/api/v1/nodes/node-1')).body as { spec: { unschedulable?: boolean }; status: { conditions: { type: string }[] } };
    assert.deepEqual(n.status.conditions.map((c) => c.type), ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready', 'NetworkUnavailable']);
    assert.equal(n.spec.unschedulable, undefined, 'the status subresource changes status only');
    const denied = await call('/api/v1/nodes/node-1/status', { method: 'PATCH', contentType: 'application/merge-patch+json', body: patch, user: viewer });
    assert.deepEqual([denied.status, denied.body.message], [403, 'nodes "node-1" is forbidden: User "lab-viewer" cannot patch resource "nodes/status" in API group "" at the cluster scope']);
    assert.equal((await call('/api/v1/nodes/node-1', { method: 'PATCH', contentType: 'application/apply-patch+yaml', body: '{}' })).status, 415);
    assert.equal((await call('/api/v1/nodes/node-1/status', { method: 'DELETE' })).status, 405);
    assert.equal((await call('/api/v1/nodes/node-1', { method: 'DELETE' })).status, 405, 'the lab\'s nodes are the lab\'s');
  });

  it('PUT needs the resourceVersion and refuses a stale one; a pod\'s spec is immutable', async () => {
    const cm = (await call('/api/v1/namespaces/default/configmaps', { method: 'POST', body: { metadata: { name: 'c' }, data: { a: '1' } } })).body as KObject;
    assert.equal((await call('/api/v1/namespaces/default/configmaps/c', { method: 'PUT', body: { ...cm, metadata: { name: 'c' } } })).status, 422);
    assert.equal((await call('/api/v1/namespaces/default/configmaps/c', { method: 'PUT', body: { ...cm, data: { a: '2' } } })).status, 200);
    const stale = await call('/api/v1/namespaces/default/configmaps/c', { method: 'PUT', body: { ...cm, data: { a: '3' } } });
    assert.deepEqual([stale.status, stale.body.reason], [409, 'Conflict']);
    await call('/api/v1/namespaces/default/pods', { method: 'POST', body: hostPod('a') });
    const p = await call('/api/v1/namespaces/default/pods/a', { method: 'PATCH', contentType: 'application/merge-patch+json', body: { spec: { hostPID: true } } });
    assert.deepEqual([p.status, p.body.reason], [422, 'Invalid']);
    assert.equal((await call('/api/v1/namespaces/default/pods/a', { method: 'PATCH', contentType: 'application/merge-patch+json', body: { metadata: { labels: { x: 'y' } } } })).status, 200);
  });

  it('deletes gracefully on a lab node, at once elsewhere; a namespace terminates with its pods', async () => {
    await call('/api/v1/namespaces/default/pods', { method: 'POST', body: hostPod('a') });
    const d = await call('/api/v1/namespaces/default/pods/a?gracePeriodSeconds=5', { method: 'DELETE' });
    assert.equal(d.status, 200);
    assert.equal((d.body.metadata as KObject['metadata']).deletionGracePeriodSeconds, 5);
    assert.equal((await call('/api/v1/namespaces/default/pods/a')).status, 200, 'still there: its kubelet has to stop it');
    assert.equal((await call('/api/v1/namespaces/default/pods/a', { method: 'DELETE', body: { kind: 'DeleteOptions', gracePeriodSeconds: 0 }, contentType: 'application/json' })).status, 200);
    assert.equal((await call('/api/v1/namespaces/default/pods/a')).status, 404, 'grace 0 removes it');
    await call('/api/v1/namespaces/default/pods', { method: 'POST', body: hostPod('elsewhere', { nodeName: 'node-9' }) });
    await call('/api/v1/namespaces/default/pods/elsewhere', { method: 'DELETE' });
    assert.equal((await call('/api/v1/namespaces/default/pods/elsewhere')).status, 404, 'no kubelet runs it: removed at once');
    await call('/api/v1/namespaces', { method: 'POST', body: { metadata: { name: 't' } } });
    await call('/api/v1/namespaces/t/pods', { method: 'POST', body: hostPod('p', { nodeName: 'node-9' }) });
    const ns = await call('/api/v1/namespaces/t', { method: 'DELETE' });
    assert.equal((ns.body.status as { phase: string }).phase, 'Terminating');
    await tick();
    assert.equal((await call('/api/v1/namespaces/t')).status, 404);
    assert.equal((await call('/api/v1/namespaces/t/pods/p')).status, 404);
    assert.equal((await call('/api/v1/namespaces/default', { method: 'DELETE' })).body.message, 'namespaces "default" is forbidden: this namespace may not be deleted');
  });

  it('schedules a pod without a node and records the binding', async () => {
    await call('/api/v1/namespaces/default/pods', { method: 'POST', body: { ...hostPod('s'), spec: { ...hostPod('s').spec, nodeName: undefined } } });
    await tick();
    const p = (await call('/api/v1/namespaces/default/pods/s')).body as Pod;
    assert.ok(p.spec.nodeName === 'node-1' || p.spec.nodeName === 'node-2');
    const ev = await call(`/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Ds,reason%3DScheduled`);
    assert.match(String((ev.body.items as { message: string }[])[0]?.message), /^Successfully assigned default\/s to node-\d$/);
  });

  it('a watch stream: initial ADDED, then changes, in resourceVersion order; Tables when asked', async () => {
    const url = new URL('https://x/api/v1/namespaces/default/pods?watch=true&labelSelector=app%3Dw');
    const r = await handler.handle({ method: 'GET', path: url.pathname, query: url.searchParams, headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' }, body: Buffer.alloc(0), user: admin });
    assert.equal(r.kind, 'stream');
    const lines: { type: string; object: { kind: string; rows: { cells: unknown[] }[] } }[] = [];
    let ended = false;
    const stop = r.kind === 'stream' ? r.start({ write: (c) => lines.push(JSON.parse(c)), end: () => (ended = true) }) : () => undefined;
    await call('/api/v1/namespaces/default/pods', { method: 'POST', body: hostPod('w') });
    await call('/api/v1/namespaces/default/pods', { method: 'POST', body: hostPod('other') });
    await call('/api/v1/namespaces/default/pods/w?gracePeriodSeconds=0', { method: 'DELETE' });
    stop();
    assert.deepEqual(lines.map((l) => `${l.type} ${l.object.kind} ${String(l.object.rows[0]!.cells[0])}`), ['ADDED Table w', 'DELETED Table w']);
    assert.equal(ended, true);
  });
});
