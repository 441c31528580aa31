/**
 * Boundary: the Kubernetes API. Finds the cluster as kubectl does (--kubeconfig, else KUBECONFIG, else
 * ~/.kube/config, else the in-cluster service account; --context picks a context), checks every file
 * before @kubernetes/client-node sees it (kubeconfig.ts), and offers the few calls podnet makes, each
 * bounded in time, counted, and failing with a KubeApiError that keeps the API's Status. The client is
 * imported here only, lazily: it is the heaviest module podnet has and stays off every start-up path.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { KubeConfig, CoreV1Api } from '@kubernetes/client-node';
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

type K8s = typeof import('@kubernetes/client-node');

export interface ExecStream {
  ws: WebSocket;
  protocol: string;
}

/** The calls podnet makes, on one cluster. */
export class KubeApi {
  /** API requests made, per key (a node's name for what concerns one node, else "cluster") */
  readonly requests = new Map<string, number>();

  constructor(
    private readonly k8s: K8s,
    readonly kc: KubeConfig,
    readonly found: FoundKubeconfig,
    readonly context: string | undefined,
    private readonly timeoutMs = 15_000,
  ) {}

  get server(): string {
    return this.kc.getCurrentCluster()?.server ?? '?';
  }

  private get core(): CoreV1Api {
    return this.kc.makeApiClient(this.k8s.CoreV1Api);
  }

  private count(key: string): void {
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  /** One request: counted under `key`, bounded in time, its failure a KubeApiError. */
  async call<T>(key: string, verb: string, resource: string, namespace: string | undefined, fn: (core: CoreV1Api) => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    this.count(key);
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        fn(this.core),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new KubeApiError(`the Kubernetes API at ${this.server} did not answer within ${timeoutMs / 1000}s (${verb} ${resource})`, undefined, undefined, verb, resource, namespace)), timeoutMs);
        }),
      ]);
    } catch (err) {
      if (err instanceof KubeApiError) throw err;
      const e = err as { code?: unknown; body?: unknown };
      const code = typeof e.code === 'number' ? e.code : undefined;
      const status = statusOf(e.body);
      const what = status?.message ?? errorMessage(err).split('\n')[0];
      throw new KubeApiError(code ? `${verb} ${resource}: ${code}${status?.reason ? ` ${status.reason}` : ''}: ${what}` : `${verb} ${resource} at ${this.server}: ${what}`, code, status, verb, resource, namespace);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Open a pods/exec WebSocket (v5.channel.k8s.io, else v4) for argv, with stdin, stdout and stderr. The
   * credentials and TLS settings are the kubeconfig's, applied as client-node applies them.
   */
  async exec(key: string, namespace: string, pod: string, container: string, argv: string[]): Promise<ExecStream> {
    this.count(key);
    const { WebSocket } = await import('ws');
    const server = this.server.replace(/\/+$/, '');
    const q = new URLSearchParams();
    for (const a of argv) q.append('command', a);
    q.set('container', container);
    for (const s of ['stdin', 'stdout', 'stderr']) q.set(s, 'true');
    const url = `${server.replace(/^http/, 'ws')}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/exec?${q.toString()}`;
    const opts: Record<string, unknown> = {};
    await this.kc.applyToHTTPSOptions(opts);
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], { ...opts, handshakeTimeout: this.timeoutMs, maxPayload: 64 * 1024 * 1024 });
      ws.once('open', () => resolve({ ws, protocol: ws.protocol }));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d.length < 65536 ? d : ''));
        res.on('end', () => {
          const status = statusOf(body);
          const code = res.statusCode;
          reject(new KubeApiError(`exec in pod ${pod}: ${code}${status?.reason ? ` ${status.reason}` : ''}: ${status?.message ?? (body.trim().split('\n')[0] || res.statusMessage)}`, code, status, 'create', 'pods/exec', namespace));
        });
        ws.terminate();
      });
      ws.once('error', (err) => reject(new KubeApiError(`exec in pod ${pod} at ${this.server}: ${errorMessage(err)}`, undefined, undefined, 'create', 'pods/exec', namespace)));
    });
  }

  /** Requests made in all. */
  get totalRequests(): number {
    return [...this.requests.values()].reduce((a, b) => a + b, 0);
  }
}

/** The strategic-merge patch content type, for the Node status patch. */
export async function strategicMerge(): Promise<unknown> {
  const k8s = await import('@kubernetes/client-node');
  return k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);
}

/**
 * Load the cluster's credentials (bad input → UserError, exit 2, before any node is touched). Files are
 * read and checked (regular, within a size cap) before the client is even imported.
 */
export async function connectKube(found: FoundKubeconfig, context?: string): Promise<KubeApi> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  let source = 'the in-cluster service account';
  let label = '--kubeconfig';
  if (found.kind === 'in-cluster') {
    kc.loadFromCluster();
  } else {
    label = found.label;
    const files = readKubeconfigs(found.value, label);
    for (const file of files) {
      const one = new k8s.KubeConfig();
      try {
        one.loadFromString(file.text);
      } catch (err) {
        throw new UserError(`${label}: cannot load ${describeValue(file.path)}: ${errorMessage(err).split('\n')[0]}; expected a kubeconfig file`, KUBECONFIG_HINT);
      }
      // as loadFromFile does: certificate and key paths are relative to their kubeconfig
      one.makePathsAbsolute(dirname(file.path));
      // kubectl's merge: the first file that names a cluster, user, context or the current context wins
      for (const c of one.getClusters()) if (!kc.getCluster(c.name)) kc.addCluster(c);
      for (const u of one.getUsers()) if (!kc.getUser(u.name)) kc.addUser(u);
      for (const c of one.getContexts()) if (!kc.getContextObject(c.name)) kc.addContext(c);
      if (!kc.getCurrentContext() && one.getCurrentContext()) kc.setCurrentContext(one.getCurrentContext());
    }
    source = files.length === 1 ? describeValue(files[0]!.path) : `the ${files.length} kubeconfig files`;
  }
  if (context) {
    if (!kc.getContexts().some((c) => c.name === context)) {
      throw new UserError(`--context: no context ${describeValue(context)} in ${source}; expected one of ${kc.getContexts().map((c) => describeValue(c.name)).join(', ') || '(none)'}`);
    }
    kc.setCurrentContext(context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new UserError(`${label}: ${source} has no current cluster; expected a current-context that names a cluster`, KUBECONFIG_HINT);
  // The client reads these whole on the first request: the same bounds as the kubeconfig itself.
  const user = kc.getCurrentUser();
  for (const [where, path, what] of [
    [`cluster ${describeValue(cluster.name)} certificate-authority`, cluster.caFile, 'a CA certificate file'],
    [`user ${describeValue(user?.name ?? '')} client-certificate`, user?.certFile, 'a client certificate file'],
    [`user ${describeValue(user?.name ?? '')} client-key`, user?.keyFile, 'a client key file'],
  ] as const) {
    if (path) checkReferencedFile(where, path, what, label);
  }
  return new KubeApi(k8s, kc, found, context);
}
