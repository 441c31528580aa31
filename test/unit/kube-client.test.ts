/**
 * The API client (src/kube/client.ts) against a local HTTP server on loopback: kubectl's kubeconfig merge
 * and context choice, the credentials each kind of user gives (token, token file re-read, basic, an exec
 * plugin through client-node), requests with their errors as KubeApiError (Status kept), timeouts, and
 * watches as streamed JSON lines.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connectKube, corePath, KubeApiError } from '../../src/kube/client.js';
import { UserError } from '../../src/util/errors.js';

let server: Server;
let url = '';
const seen: { method: string; url: string; auth?: string; type?: string; body: string }[] = [];
let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void = (_q, res) => res.end('{}');

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, type: req.headers['content-type'], body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

function kubeconfig(users: string, extra = '', insecure = false): string {
  const dir = mkdtempSync(`${tmpdir()}/podnet-kc-`);
  const path = `${dir}/config`;
  writeFileSync(path, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${url}"${insecure ? ', insecure-skip-tls-verify: true' : ''}}}]\ncontexts: [{name: a, context: {cluster: c, user: u}}, {name: b, context: {cluster: c, user: v}}]\ncurrent-context: a\nusers: ${users}\n${extra}`);
  return path;
}

const files = (value: string) => ({ kind: 'files' as const, value, label: '--kubeconfig' });

describe('KubeApi: plain HTTPS requests with the kubeconfig\'s credentials', () => {
  it('a token; the path, verb and body as asked; JSON back; one request counted per key', async () => {
    handler = (_q, res) => res.end('{"kind":"NodeList","items":[{"metadata":{"name":"n1"}}]}');
    const api = await connectKube(files(kubeconfig('[{name: u, user: {token: s3cret}}, {name: v, user: {username: ann, password: pw}}]')));
    const list = await api.request<{ items: unknown[] }>('cluster', { verb: 'list', resource: 'nodes', method: 'GET', path: corePath('nodes', { query: { labelSelector: 'a=b' } }) });
    assert.equal(list.items.length, 1);
    assert.deepEqual(seen.at(-1), { method: 'GET', url: '/api/v1/nodes?labelSelector=a%3Db', auth: 'Bearer s3cret', type: undefined, body: '' });
    await api.request('n1', { verb: 'patch', resource: 'nodes/status', method: 'PATCH', path: corePath('nodes', { name: 'n1', sub: 'status' }), body: { a: 1 }, contentType: 'application/strategic-merge-patch+json' });
    assert.deepEqual(seen.at(-1), { method: 'PATCH', url: '/api/v1/nodes/n1/status', auth: 'Bearer s3cret', type: 'application/strategic-merge-patch+json', body: '{"a":1}' });
    assert.deepEqual(Object.fromEntries(api.requests), { cluster: 1, n1: 1 });
    api.close();
    const basic = await connectKube(files(kubeconfig('[{name: u, user: {token: x}}, {name: v, user: {username: ann, password: pw}}]')), 'b');
    await basic.request('cluster', { verb: 'get', resource: 'nodes', method: 'GET', path: corePath('nodes', { name: 'x' }) });
    assert.equal(seen.at(-1)!.auth, `Basic ${Buffer.from('ann:pw').toString('base64')}`);
    basic.close();
  });

  it('a token file is read on every request (it may rotate)', async () => {
    const dir = mkdtempSync(`${tmpdir()}/podnet-tok-`);
    writeFileSync(`${dir}/t`, 'one\n');
    const api = await connectKube(files(kubeconfig(`[{name: u, user: {tokenFile: ${dir}/t}}]`)));
    await api.request('cluster', { verb: 'list', resource: 'nodes', method: 'GET', path: corePath('nodes') });
    assert.equal(seen.at(-1)!.auth, 'Bearer one');
    writeFileSync(`${dir}/t`, 'two\n');
    await api.request('cluster', { verb: 'list', resource: 'nodes', method: 'GET', path: corePath('nodes') });
    assert.equal(seen.at(-1)!.auth, 'Bearer two');
    api.close();
  });

  it('an exec credential plugin runs (through client-node) and its token is sent', async () => {
    const cred = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'from-plugin' } });
    const api = await connectKube(files(kubeconfig(`[{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: ["-c", ${JSON.stringify(`echo '${cred}'`)}], interactiveMode: Never}}}]`, '', true)));
    await api.request('cluster', { verb: 'list', resource: 'nodes', method: 'GET', path: corePath('nodes') });
    assert.equal(seen.at(-1)!.auth, 'Bearer from-plugin');
    api.close();
  });

  it('an error answer is a KubeApiError with the code and the Status; a server that does not answer, a timeout', async () => {
    handler = (_q, res) => {
      res.statusCode = 403;
      res.end(JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'Forbidden', message: 'namespaces is forbidden: User "v" cannot create resource "namespaces"', code: 403 }));
    };
    const api = await connectKube(files(kubeconfig('[{name: u, user: {token: t}}]')));
    await assert.rejects(api.request('cluster', { verb: 'create', resource: 'namespaces', method: 'POST', path: corePath('namespaces'), body: {} }), (e: unknown) => e instanceof KubeApiError && e.code === 403 && e.status?.reason === 'Forbidden' && /^create namespaces: 403 Forbidden: namespaces is forbidden/.test(e.message));
    handler = () => undefined; // never answers
    await assert.rejects(api.request('cluster', { verb: 'list', resource: 'pods', method: 'GET', path: corePath('pods') }, 300), (e: unknown) => e instanceof KubeApiError && e.code === undefined && /did not answer within 0\.3s/.test(e.message));
    api.close();
    handler = (_q, res) => res.end('{}');
  });

  it('a watch: events as they come, one line each; the end reported once', async () => {
    handler = (_q, res) => {
      res.write('{"type":"ADDED","object":{"metadata":{"name":"p1"}}}\n{"type":"MODI');
      setTimeout(() => res.end('FIED","object":{"metadata":{"name":"p1"},"status":{"phase":"Running"}}}\n'), 50);
    };
    const api = await connectKube(files(kubeconfig('[{name: u, user: {token: t}}]')));
    const events: string[] = [];
    let ends = 0;
    await new Promise<void>((resolve) => {
      void api.watch('cluster', corePath('pods', { namespace: 'x' }), { labelSelector: 'r=1', resourceVersion: '7' }, (type, obj) => events.push(`${type} ${(obj as { metadata: { name: string } }).metadata.name}`), () => {
        ends++;
        resolve();
      });
    });
    assert.deepEqual(events, ['ADDED p1', 'MODIFIED p1']);
    assert.equal(ends, 1);
    assert.match(seen.at(-1)!.url, /^\/api\/v1\/namespaces\/x\/pods\?labelSelector=r%3D1&resourceVersion=7&watch=true/);
    api.close();
    handler = (_q, res) => res.end('{}');
  });
});

describe('connectKube: kubectl\'s merge and context, bad input exit 2', () => {
  it('the first file naming a cluster, user or context wins; --context picks one; a missing context names the choices', async () => {
    const second = kubeconfig('[{name: u, user: {token: second}}]');
    const first = kubeconfig('[{name: u, user: {token: first}}]');
    const api = await connectKube(files(`${first}:${second}`));
    await api.request('cluster', { verb: 'list', resource: 'nodes', method: 'GET', path: corePath('nodes') });
    assert.equal(seen.at(-1)!.auth, 'Bearer first');
    api.close();
    await assert.rejects(connectKube(files(first), 'nope'), (e: unknown) => e instanceof UserError && /^--context: no context "nope" in .*; expected one of "a", "b"$/.test(e.message));
    const dir = mkdtempSync(`${tmpdir()}/podnet-kc-`);
    writeFileSync(`${dir}/c`, 'apiVersion: v1\nkind: Config\nclusters: []\n');
    await assert.rejects(connectKube(files(`${dir}/c`)), (e: unknown) => e instanceof UserError && /^--kubeconfig: .* has no current cluster/.test(e.message));
  });

  it('corePath builds core v1 paths, names escaped', () => {
    assert.equal(corePath('pods', { namespace: 'n', name: 'a b', query: { gracePeriodSeconds: '0', x: undefined } }), '/api/v1/namespaces/n/pods/a%20b?gracePeriodSeconds=0');
    assert.equal(corePath('nodes', { name: 'n.example.com', sub: 'status' }), '/api/v1/nodes/n.example.com/status');
  });
});
