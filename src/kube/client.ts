/**
 * Boundary: the Kubernetes API. Finds the cluster as kubectl does (--kubeconfig, else KUBECONFIG, else
 * ~/.kube/config, else the in-cluster service account; --context picks a context), checks every file
 * first (kubeconfig.ts), and makes the few calls podnet makes as plain HTTPS requests (node:https, one
 * keep-alive agent; watches as streamed JSON lines; exec over WebSocket), each bounded in time, counted,
 * and failing with a KubeApiError that keeps the API's Status.
 *
 * Static credentials (certificates, tokens, token files, basic auth, the in-cluster service account) are
 * read here. Credentials that a program or a provider hands out (`exec` plugins such as `aws eks
 * get-token` or `kubelogin`, `auth-provider`) are obtained through @kubernetes/client-node, imported only
 * then: it is the heaviest module podnet has (~0.5 s to load) and stays off every other path.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Agent, RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { WebSocket } from 'ws';
import { describeValue } from '../util/describe.js';
import { errorMessage, UserError } from '../util/errors.js';
import { checkReferencedFile, KUBECONFIG_HINT, readKubeconfigs } from './kubeconfig.js';

/** The kubeconfig files found, or the in-cluster service account; undefined when there is no cluster. */
export type FoundKubeconfig = { kind: 'files'; value: string; label: string } | { kind: 'in-cluster' };

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** kubectl's order: the flag, KUBECONFIG, ~/.kube/config, then the pod's service account. */
export function findKubeconfig(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, home = homedir(), serviceAccountDir = SERVICE_ACCOUNT_DIR): FoundKubeconfig | undefined {
  if (flag !== undefined) return { kind: 'files', value: flag, label: '--kubeconfig' };
  if (env.KUBECONFIG && env.KUBECONFIG.split(':').some((p) => p !== '')) return { kind: 'files', value: env.KUBECONFIG, label: 'KUBECONFIG' };
  const def = join(home, '.kube', 'config');
  if (existsSync(def)) return { kind: 'files', value: def, label: 'the default kubeconfig ~/.kube/config' };
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT && existsSync(`${serviceAccountDir}/token`)) return { kind: 'in-cluster' };
  return undefined;
}

/** An answer from the API that is not a success, with its Status (reason, message) when it sent one. */
export class KubeApiError extends Error {
  constructor(
    message: string,
    readonly code: number | undefined,
    readonly status: { reason?: string; message?: string; details?: unknown } | undefined,
    readonly verb: string,
    readonly resource: string,
    readonly namespace?: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

function statusOf(body: unknown): KubeApiError['status'] {
  let b = body;
  if (typeof body === 'string') {
    try {
      b = JSON.parse(body);
    } catch {
      return body.trim() ? { message: body.trim().split('\n')[0] } : undefined;
    }
  }
  if (b && typeof b === 'object' && (b as { kind?: string }).kind === 'Status') return b as KubeApiError['status'];
  return undefined;
}

export interface ExecStream {
  ws: WebSocket;
  protocol: string;
}

/** TLS and headers of every request, as the kubeconfig's cluster and user say. */
export interface Credentials {
  ca?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
  rejectUnauthorized: boolean;
  servername?: string;
  headers: Record<string, string>;
}

/** What a request is: the verb and resource name it for messages and RBAC, the path and body make it. */
export interface ApiRequest {
  verb: string;
  resource: string;
  namespace?: string;
  method: 'GET' | 'POST' | 'DELETE' | 'PATCH';
  path: string;
  body?: unknown;
  contentType?: string;
}

type Raw = Record<string, unknown>;
const isMapping = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The calls podnet makes, on one cluster. */
export class KubeApi {
  /** API requests made, per key (a node's name for what concerns one node, else "cluster") */
  readonly requests = new Map<string, number>();
  private agent: Agent | undefined;

  constructor(
    readonly server: string,
    private readonly credentials: () => Promise<Credentials>,
    readonly found: FoundKubeconfig,
    readonly context: string | undefined,
    private readonly timeoutMs = 15_000,
  ) {}

  private count(key: string): void {
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  private async options(path: string, method: string, headers: Record<string, string>): Promise<{ url: URL; opts: RequestOptions; secure: boolean }> {
    const url = new URL(`${this.server.replace(/\/+$/, '')}${path}`);
    const c = await this.credentials();
    const secure = url.protocol === 'https:';
    if (secure && !this.agent) {
      const { Agent } = await import('node:https');
      this.agent = new Agent({ keepAlive: true, maxSockets: 32 });
    }
    const opts: RequestOptions = { method, headers: { Accept: 'application/json', 'User-Agent': 'podnet', ...c.headers, ...headers } };
    if (secure) Object.assign(opts, { agent: this.agent, ca: c.ca, cert: c.cert, key: c.key, rejectUnauthorized: c.rejectUnauthorized, servername: c.servername });
    return { url, opts, secure };
  }

  /** One request: counted under `key`, bounded in time, its failure a KubeApiError. */
  async request<T = unknown>(key: string, r: ApiRequest, timeoutMs = this.timeoutMs): Promise<T> {
    this.count(key);
    const body = r.body === undefined ? undefined : JSON.stringify(r.body);
    const fail = (code: number | undefined, status: KubeApiError['status'], what: string) =>
      new KubeApiError(code ? `${r.verb} ${r.resource}: ${code}${status?.reason ? ` ${status.reason}` : ''}: ${what}` : `${r.verb} ${r.resource} at ${this.server}: ${what}`, code, status, r.verb, r.resource, r.namespace);
    const { url, opts, secure } = await this.options(r.path, r.method, body === undefined ? {} : { 'Content-Type': r.contentType ?? 'application/json', 'Content-Length': String(Buffer.byteLength(body)) });
    const mod = secure ? await import('node:https') : await import('node:http');
    return new Promise<T>((resolve, reject) => {
      const req = mod.request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          size += d.length;
          if (size <= 64 * 1024 * 1024) chunks.push(d);
        });
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) {
            try {
              resolve((text ? JSON.parse(text) : {}) as T);
            } catch {
              reject(fail(code, undefined, 'the answer is not JSON'));
            }
            return;
          }
          const status = statusOf(text);
          reject(fail(code, status, status?.message ?? (text.trim().split('\n')[0] || res.statusMessage || 'no message')));
        });
        res.on('error', (e) => reject(fail(undefined, undefined, errorMessage(e))));
      });
      const timer = setTimeout(() => {
        req.destroy();
        reject(new KubeApiError(`the Kubernetes API at ${this.server} did not answer within ${timeoutMs / 1000}s (${r.verb} ${r.resource})`, undefined, undefined, r.verb, r.resource, r.namespace));
      }, timeoutMs);
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(fail(undefined, undefined, errorMessage(e)));
      });
      req.end(body);
    });
  }

  /**
   * Watch a collection from a resourceVersion (one long-lived request): `onEvent` for each change,
   * `onEnd` once when the stream ends (an error, or the server closing it). Returns a stop function.
   */
  async watch(key: string, path: string, query: Record<string, string>, onEvent: (type: string, obj: unknown) => void, onEnd: (err?: unknown) => void): Promise<() => void> {
    this.count(key);
    const q = new URLSearchParams({ ...query, watch: 'true', allowWatchBookmarks: 'true' });
    const { url, opts, secure } = await this.options(`${path}?${q.toString()}`, 'GET', {});
    const mod = secure ? await import('node:https') : await import('node:http');
    let ended = false;
    const end = (err?: unknown) => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    const req = mod.request(url, opts, (res) => {
      if ((res.statusCode ?? 0) >= 300) {
        res.resume();
        return end(new Error(`watch ${path}: ${res.statusCode}`));
      }
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (d: string) => {
        buf += d;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          try {
            const ev = JSON.parse(line) as { type?: string; object?: unknown };
            if (ev.type === 'ERROR') return end(new Error(`watch ${path}: ${JSON.stringify(ev.object)}`));
            if (ev.type) onEvent(ev.type, ev.object);
          } catch {
            /* a torn line cannot happen on a newline boundary; ignore garbage */
          }
        }
      });
      res.on('end', () => end());
      res.on('error', (e) => end(e));
    });
    req.on('error', (e) => end(e));
    req.end();
    return () => {
      ended = true;
      req.destroy();
    };
  }

  /**
   * Open a pods/exec WebSocket (v5.channel.k8s.io, else v4) for argv, with stdin, stdout and stderr, with
   * the same credentials as every request.
   */
  async exec(key: string, namespace: string, pod: string, container: string, argv: string[]): Promise<ExecStream> {
    this.count(key);
    const { WebSocket } = await import('ws');
    const q = new URLSearchParams();
    for (const a of argv) q.append('command', a);
    q.set('container', container);
    for (const s of ['stdin', 'stdout', 'stderr']) q.set(s, 'true');
    const url = `${this.server.replace(/\/+$/, '').replace(/^http/, 'ws')}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/exec?${q.toString()}`;
    const c = await this.credentials();
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], {
        headers: c.headers,
        ca: c.ca,
        cert: c.cert,
        key: c.key,
        rejectUnauthorized: c.rejectUnauthorized,
        ...(c.servername ? ({ servername: c.servername } as object) : {}),
        handshakeTimeout: this.timeoutMs,
        maxPayload: 64 * 1024 * 1024,
      });
      ws.once('open', () => resolve({ ws, protocol: ws.protocol }));
      ws.once('unexpected-response', (req, res) => {
        // The API's answer (a 403, a 404): its Status is the explanation. Read it whole, then drop the request
        // (terminating the socket first would only say it closed before it opened).
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += body.length < 65536 ? d : ''));
        res.on('end', () => {
          const status = statusOf(body);
          const code = res.statusCode;
          reject(new KubeApiError(`exec in pod ${pod}: ${code}${status?.reason ? ` ${status.reason}` : ''}: ${status?.message ?? (body.trim().split('\n')[0] || res.statusMessage)}`, code, status, 'create', 'pods/exec', namespace));
          req.destroy();
        });
      });
      ws.once('error', (err) => reject(new KubeApiError(`exec in pod ${pod} at ${this.server}: ${errorMessage(err)}`, undefined, undefined, 'create', 'pods/exec', namespace)));
    });
  }

  /** Keep-alive connections closed: the process may exit. */
  close(): void {
    this.agent?.destroy();
  }
}

/** Core v1 paths: `/api/v1[/namespaces/NS]/RESOURCE[/NAME][/SUB][?query]`. */
export function corePath(resource: string, opts: { namespace?: string; name?: string; sub?: string; query?: Record<string, string | undefined> } = {}): string {
  const ns = opts.namespace !== undefined ? `/namespaces/${encodeURIComponent(opts.namespace)}` : '';
  const name = opts.name !== undefined ? `/${encodeURIComponent(opts.name)}` : '';
  const sub = opts.sub ? `/${opts.sub}` : '';
  const q = Object.entries(opts.query ?? {}).filter((e): e is [string, string] => e[1] !== undefined);
  return `/api/v1${ns}/${resource}${name}${sub}${q.length ? `?${new URLSearchParams(q).toString()}` : ''}`;
}

/** The kubeconfig after kubectl's merge: the first file that names a cluster, user, context or the current context wins. */
interface Merged {
  clusters: Map<string, { cluster: Raw; dir: string }>;
  users: Map<string, { user: Raw; dir: string }>;
  contexts: Map<string, Raw>;
  current?: string;
}

function merge(files: { path: string; text: string }[], label: string): Merged {
  const m: Merged = { clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const f of files) {
    let doc: unknown;
    try {
      doc = parseYaml(f.text);
    } catch (err) {
      throw new UserError(`${label}: cannot load ${describeValue(f.path)}: ${errorMessage(err).split('\n')[0]}; expected a kubeconfig file`, KUBECONFIG_HINT);
    }
    if (!isMapping(doc)) continue;
    const dir = dirname(f.path);
    const pick = (list: unknown, key: string) => (Array.isArray(list) ? list.filter(isMapping).flatMap((e) => (typeof e.name === 'string' && isMapping(e[key]) ? [{ name: e.name, body: e[key] as Raw }] : [])) : []);
    for (const c of pick(doc.clusters, 'cluster')) if (!m.clusters.has(c.name)) m.clusters.set(c.name, { cluster: c.body, dir });
    for (const u of pick(doc.users, 'user')) if (!m.users.has(u.name)) m.users.set(u.name, { user: u.body, dir });
    for (const c of pick(doc.contexts, 'context')) if (!m.contexts.has(c.name)) m.contexts.set(c.name, c.body);
    if (m.current === undefined && typeof doc['current-context'] === 'string' && doc['current-context']) m.current = doc['current-context'];
  }
  return m;
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
const abs = (dir: string, p: string) => (isAbsolute(p) ? p : join(dir, p));

/**
 * Load the cluster's credentials (bad input → UserError, exit 2, before any node is touched). Files are
 * read and checked (regular, within a size cap) first.
 */
export async function connectKube(found: FoundKubeconfig, context?: string): Promise<KubeApi> {
  if (found.kind === 'in-cluster') {
    const host = process.env.KUBERNETES_SERVICE_HOST!;
    const server = `https://${host.includes(':') ? `[${host}]` : host}:${process.env.KUBERNETES_SERVICE_PORT}`;
    const where = 'the in-cluster service account';
    if (context) throw new UserError(`--context: ${where} has no contexts; expected a kubeconfig (--kubeconfig, KUBECONFIG) to pick one from`);
    checkReferencedFile(where, `${SERVICE_ACCOUNT_DIR}/token`, 'a token file', 'in-cluster');
    const ca = existsSync(`${SERVICE_ACCOUNT_DIR}/ca.crt`) ? readFileSync(`${SERVICE_ACCOUNT_DIR}/ca.crt`) : undefined;
    // the token is re-read on each request: the kubelet rotates it
    return new KubeApi(server, async () => ({ ca, rejectUnauthorized: true, headers: { Authorization: `Bearer ${readFileSync(`${SERVICE_ACCOUNT_DIR}/token`, 'utf8').trim()}` } }), found, undefined);
  }
  const label = found.label;
  const files = readKubeconfigs(found.value, label);
  const m = merge(files, label);
  const source = files.length === 1 ? describeValue(files[0]!.path) : `the ${files.length} kubeconfig files`;
  const ctxName = context ?? m.current;
  if (context !== undefined && !m.contexts.has(context)) {
    throw new UserError(`--context: no context ${describeValue(context)} in ${source}; expected one of ${[...m.contexts.keys()].map((c) => describeValue(c)).join(', ') || '(none)'}`);
  }
  const ctx = ctxName !== undefined ? m.contexts.get(ctxName) : undefined;
  const clusterName = str(ctx?.cluster);
  const c = clusterName !== undefined ? m.clusters.get(clusterName) : undefined;
  const server = str(c?.cluster.server);
  if (!ctx || !c || !server) throw new UserError(`${label}: ${source} has no current cluster; expected a current-context that names a cluster with a server`, KUBECONFIG_HINT);
  const userName = str(ctx.user);
  const u = userName !== undefined ? m.users.get(userName) : undefined;
  const user = u?.user ?? {};
  const udir = u?.dir ?? c.dir;
  const cluster = c.cluster;
  const caFile = str(cluster['certificate-authority']) && abs(c.dir, str(cluster['certificate-authority'])!);
  const certFile = str(user['client-certificate']) && abs(udir, str(user['client-certificate'])!);
  const keyFile = str(user['client-key']) && abs(udir, str(user['client-key'])!);
  const tokenFile = str(user.tokenFile) ?? str(user['token-file']);
  for (const [where, path, what] of [
    [`cluster ${describeValue(clusterName!)} certificate-authority`, caFile, 'a CA certificate file'],
    [`user ${describeValue(userName ?? '')} client-certificate`, certFile, 'a client certificate file'],
    [`user ${describeValue(userName ?? '')} client-key`, keyFile, 'a client key file'],
    [`user ${describeValue(userName ?? '')} tokenFile`, tokenFile && abs(udir, tokenFile), 'a token file'],
  ] as const) {
    if (path) checkReferencedFile(where, path, what, label);
  }
  const b64 = (v: unknown) => (str(v) ? Buffer.from(str(v)!, 'base64') : undefined);
  const base: Omit<Credentials, 'headers'> = {
    ca: b64(cluster['certificate-authority-data']) ?? (caFile ? readFileSync(caFile) : undefined),
    cert: b64(user['client-certificate-data']) ?? (certFile ? readFileSync(certFile) : undefined),
    key: b64(user['client-key-data']) ?? (keyFile ? readFileSync(keyFile) : undefined),
    rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
    ...(str(cluster['tls-server-name']) ? { servername: str(cluster['tls-server-name']) } : {}),
  };
  let credentials: () => Promise<Credentials>;
  if (isMapping(user.exec) || isMapping(user['auth-provider'])) {
    // Credentials a program or provider hands out: client-node runs the plugin (and caches its token).
    credentials = await dynamicCredentials(files, found, ctxName!, base);
  } else {
    const headers: Record<string, string> = {};
    if (str(user.token)) headers.Authorization = `Bearer ${str(user.token)}`;
    else if (str(user.username) && str(user.password)) headers.Authorization = `Basic ${Buffer.from(`${str(user.username)}:${str(user.password)}`).toString('base64')}`;
    const tf = tokenFile ? abs(udir, tokenFile) : undefined;
    credentials = async () => (tf && !headers.Authorization ? { ...base, headers: { Authorization: `Bearer ${readFileSync(tf, 'utf8').trim()}` } } : { ...base, headers });
  }
  return new KubeApi(server, credentials, found, context);
}

/** Credentials from an exec plugin or an auth provider, through @kubernetes/client-node. */
async function dynamicCredentials(files: { path: string; text: string }[], found: FoundKubeconfig, ctxName: string, base: Omit<Credentials, 'headers'>): Promise<() => Promise<Credentials>> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  for (const file of files) {
    const one = new k8s.KubeConfig();
    try {
      one.loadFromString(file.text);
    } catch (err) {
      throw new UserError(`${found.kind === 'files' ? found.label : 'in-cluster'}: cannot load ${describeValue(file.path)}: ${errorMessage(err).split('\n')[0]}; expected a kubeconfig file`, KUBECONFIG_HINT);
    }
    one.makePathsAbsolute(dirname(file.path));
    for (const c of one.getClusters()) if (!kc.getCluster(c.name)) kc.addCluster(c);
    for (const u of one.getUsers()) if (!kc.getUser(u.name)) kc.addUser(u);
    for (const c of one.getContexts()) if (!kc.getContextObject(c.name)) kc.addContext(c);
  }
  kc.setCurrentContext(ctxName);
  return async () => {
    const opts: { headers?: Record<string, string>; ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
    await kc.applyToHTTPSOptions(opts as never);
    return { ...base, ...(opts.ca ? { ca: opts.ca } : {}), ...(opts.cert ? { cert: opts.cert } : {}), ...(opts.key ? { key: opts.key } : {}), headers: { ...(opts.headers ?? {}) } };
  };
}
