/**
 * Boundary: nodes reached through the Kubernetes API, no SSH. Per node a short-lived privileged helper
 * pod (kube/objects.ts) in a namespace podnet creates (or one the user names); each session is a
 * pods/exec WebSocket into it whose shell is the node's own `sh -s` (kube/helper.py enters PID 1's
 * namespaces), so podnet's framing, lock and exit codes are those of the SSH sessions (session.ts).
 *
 * Nothing stays behind: close() ends the sessions and deletes what podnet created; if podnet dies
 * without closing (SIGKILL), the API server ends its streams, the shells read end of input and exit, and
 * the helper pods' watchers end the pods within seconds (helper.py), while a small reaper process that
 * podnet started beside itself (kube/reaper.ts) sees podnet's pipe close and deletes the namespace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import type { WebSocket } from 'ws';
import type { KubeApi } from '../kube/client.js';
import { corePath, KubeApiError } from '../kube/client.js';
import { describeWaiting, explainApiError, explainPodStart } from '../kube/explain.js';
import { ANNOTATIONS, CONTAINER, helperNamespace, helperPod, LABELS, SESSION_ARGV } from '../kube/objects.js';
import { errorMessage } from '../util/errors.js';
import { SessionTransport, type Channel, type SessionResult } from './session.js';
import { TransportError, type NodePrograms, type NodeTarget } from './types.js';

export const KUBE_PROGRAMS: NodePrograms = {
  // The probe's python3 is the helper image's: chroot to the image's root, which the session keeps on fd 8.
  python: 'chroot /proc/self/fd/8 python3 -I -S',
  // ... where the node's files are those of PID 1 (the pod has hostPID).
  nodeRoot: '/proc/1/root',
  // and fd 7 on the node's root lets it come back to run a teardown there
  rootFdRedirect: '7</',
  needsNodePython: false,
  via: 'the Kubernetes API',
};

export interface KubeAccessSettings {
  image: string;
  /** an existing namespace to use (podnet neither creates nor deletes it); default: its own */
  namespace?: string;
  runId: string;
  owner: string;
  /** the helper pods' activeDeadlineSeconds */
  deadlineSeconds: number;
  /** how long a helper pod may take to start before the run gives up on that node */
  startTimeoutMs: number;
  /** a script's limit when the caller names none */
  commandTimeoutMs: number;
  /** start the reaper that removes the run's objects should podnet die (off in unit tests) */
  reaper: boolean;
  /** the Node's Ready condition as last read, if known */
  nodeReady?: (node: string) => { status: string; message?: string } | undefined;
}

const CH = { stdin: 0, stdout: 1, stderr: 2, error: 3, close: 255 } as const;

/** The exit code in a v4 channel-3 Status: 0 on Success, the ExitCode cause on NonZeroExitCode. */
export function exitCodeOfStatus(text: string): { code: number; reason?: string } {
  try {
    const s = JSON.parse(text) as { status?: string; reason?: string; message?: string; details?: { causes?: { reason?: string; message?: string }[] } };
    if (s.status === 'Success') return { code: 0 };
    const cause = s.details?.causes?.find((c) => c.reason === 'ExitCode');
    if (s.reason === 'NonZeroExitCode' && cause?.message && /^\d+$/.test(cause.message)) return { code: Number(cause.message) };
    return { code: 255, reason: s.message ?? s.reason ?? 'the exec stream failed' };
  } catch {
    return { code: 255, reason: text.trim() || 'the exec stream failed' };
  }
}

/** One pods/exec WebSocket as a session's channel; writes wait until it is open. */
class ExecChannel implements Channel {
  private ws: WebSocket | undefined;
  private protocol = '';
  private queue: string[] = [];
  private ended = false;
  private closed = false;
  private status: { code: number; reason?: string } | undefined;
  private failure: string | undefined;
  private readonly out: ((d: string) => void)[] = [];
  private readonly err: ((d: string) => void)[] = [];
  private closeFns: ((code: number, reason?: string) => void)[] = [];
  private readonly decoders = [new StringDecoder('utf8'), new StringDecoder('utf8')];
  private errorText = '';

  constructor(open: Promise<{ ws: WebSocket; protocol: string }>) {
    open.then(
      ({ ws, protocol }) => {
        this.ws = ws;
        this.protocol = protocol;
        ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(Buffer.isBuffer(data) ? data : Buffer.from(data as unknown as ArrayBuffer), isBinary));
        ws.on('close', () => {
          clearInterval(ping);
          this.onEnd();
        });
        // as kubectl does: keep an idle stream alive through proxies and load balancers
        const ping = setInterval(() => {
          if (ws.readyState === ws.OPEN) ws.ping();
        }, 20_000);
        ping.unref();
        ws.on('error', (e) => {
          this.failure ??= errorMessage(e);
        });
        if (this.closed) return void ws.terminate();
        for (const q of this.queue) this.send(q);
        this.queue = [];
        if (this.ended) this.end();
      },
      (err: unknown) => {
        this.failure = errorMessage(err);
        this.onEnd();
      },
    );
  }

  private send(data: string): void {
    const body = Buffer.from(data, 'utf8');
    this.ws!.send(Buffer.concat([Buffer.from([CH.stdin]), body]), { binary: true });
  }

  private onMessage(buf: Buffer, isBinary: boolean): void {
    if (!isBinary || buf.length === 0) return;
    const ch = buf[0];
    const body = buf.subarray(1);
    if (ch === CH.stdout || ch === CH.stderr) {
      const text = this.decoders[ch - 1]!.write(body);
      if (text) for (const fn of ch === CH.stdout ? this.out : this.err) fn(text);
    } else if (ch === CH.error) {
      this.errorText += body.toString('utf8');
    }
  }

  private onEnd(): void {
    if (this.closed && !this.closeFns.length) return;
    this.closed = true;
    if (this.errorText) this.status = exitCodeOfStatus(this.errorText);
    const code = this.status?.code ?? 255;
    const reason = this.status?.reason ?? (this.status ? undefined : (this.failure ?? 'the exec stream closed'));
    const fns = this.closeFns;
    this.closeFns = [];
    for (const fn of fns) fn(code, reason);
  }

  write(data: string): void {
    if (this.ws && this.ws.readyState === this.ws.OPEN) this.send(data);
    else if (!this.ws) this.queue.push(data);
  }

  end(): void {
    this.ended = true;
    const ws = this.ws;
    if (!ws || ws.readyState !== ws.OPEN) return;
    // v5: "stdin is done" (the shell reads end of input and exits, then the server closes); v4 has no
    // such signal: closing the stream ends the shell's input too.
    if (this.protocol === 'v5.channel.k8s.io') ws.send(Buffer.from([CH.close, CH.stdin]), { binary: true });
    else ws.close(1000);
  }

  kill(): void {
    this.closed = true;
    if (this.ws) this.ws.terminate();
    else this.onEnd();
  }

  onStdout(fn: (d: string) => void): void {
    this.out.push(fn);
  }

  onStderr(fn: (d: string) => void): void {
    this.err.push(fn);
  }

  onClose(fn: (code: number, reason?: string) => void): void {
    this.closeFns.push(fn);
  }
}

interface HelperState {
  name: string;
  node: string;
  ready: Promise<void>;
  resolve: () => void;
  reject: (e: TransportError) => void;
  settled: boolean;
  created: number;
  /** the pod was deleted or ended during the run: the node's next script gets a new one (the teardown of a probe, say) */
  gone?: boolean;
}

type PodJson = { metadata?: { name?: string; deletionTimestamp?: string }; spec?: { nodeName?: string }; status?: { phase?: string; containerStatuses?: { state?: { running?: unknown } }[] } };

export class KubeTransport extends SessionTransport {
  readonly programs = KUBE_PROGRAMS;
  private readonly helpers = new Map<string, HelperState>();
  /** creates on their way: close() waits for them, so that what they create is deleted too */
  private readonly inflight = new Set<Promise<unknown>>();
  /** why the API refused a node's last exec */
  private readonly execErrors = new Map<string, unknown>();
  /** helper pods created (their names' last part) */
  private podCount = 0;
  /** every helper pod of the run, replaced ones too (a namespace the user named keeps none of them) */
  private readonly allPods: HelperState[] = [];
  private namespaceReady: Promise<void> | undefined;
  private staleSweep: Promise<void> | undefined;
  private createdNamespace = false;
  private poller: NodeJS.Timeout | undefined;
  private stopWatch: (() => void) | undefined;
  /** the run's pods as last listed or watched */
  private pods = new Map<string, PodJson>();
  private polling = false;
  private lastEvents = 0;
  /** when listing the run's pods started failing (a busy API is asked again for a while) */
  private listFailingSince: number | undefined;
  private events: unknown[] = [];
  private reaper: ChildProcess | undefined;
  private closing = false;
  readonly namespace: string;

  constructor(
    readonly api: KubeApi,
    readonly settings: KubeAccessSettings,
  ) {
    super();
    this.namespace = settings.namespace ?? `podnet-${settings.runId}`;
  }

  protected defaultTimeoutMs(): number {
    return this.settings.commandTimeoutMs;
  }

  protected override lockTimeoutMs(): number {
    return 30_000;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const done = () => this.inflight.delete(p);
    p.then(done, done);
    return p;
  }

  private apiFailure(node: string, err: unknown, verb: string, resource: string, what: string): TransportError {
    if (err instanceof TransportError) return err;
    const e = err instanceof KubeApiError ? err : undefined;
    const x = explainApiError({ code: e?.code, body: e?.status, message: errorMessage(err) }, { verb: e?.verb ?? verb, resource: e?.resource ?? resource, namespace: this.namespace, what, namespaceOwned: !this.settings.namespace });
    return new TransportError(node, 'api', `${node}: ${x.message}`, x.hint);
  }

  private ensureNamespace(node: string): Promise<void> {
    this.namespaceReady ??= (async () => {
      // The reaper first: podnet killed while the create is on its way still leaves nothing behind.
      this.startReaper();
      if (this.settings.namespace) return;
      this.createdNamespace = true;
      try {
        await this.api.request('cluster', { verb: 'create', resource: 'namespaces', method: 'POST', path: corePath('namespaces'), body: helperNamespace({ ...this.settings, namespace: this.namespace }) });
      } catch (err) {
        this.createdNamespace = false;
        throw err;
      }
      this.staleSweep = this.removeStale();
    })();
    return this.namespaceReady.catch((err: unknown) => {
      throw this.apiFailure(node, err, 'create', 'namespaces', `create the namespace ${this.namespace} for podnet's helper pods`);
    });
  }

  /** The helper pod of a node, created on first use; resolves once its container runs. */
  protected override async prepare(node: NodeTarget): Promise<void> {
    if (this.closing) throw new TransportError(node.name, 'helper-pod', `${node.name}: the run is ending`);
    let h = this.helpers.get(node.name);
    if (!h || h.gone) {
      let resolve!: () => void;
      let reject!: (e: TransportError) => void;
      const ready = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      ready.catch(() => undefined);
      h = { name: `podnet-${this.settings.runId}-${this.podCount++}`, node: node.name, ready, resolve, reject, settled: false, created: Date.now() };
      this.helpers.set(node.name, h);
      this.allPods.push(h);
      const state = h;
      void (async () => {
        try {
          await this.ensureNamespace(node.name);
          if (this.closing) throw new TransportError(node.name, 'helper-pod', `${node.name}: the run is ending`);
          await this.track(this.api.request(node.name, { verb: 'create', resource: 'pods', namespace: this.namespace, method: 'POST', path: corePath('pods', { namespace: this.namespace }), body: helperPod({ ...this.settings, namespace: this.namespace, node: node.name, name: state.name }) }));
          this.watchPods();
        } catch (err) {
          this.settle(state, this.apiFailure(node.name, err, 'create', 'pods', `create the helper pod on ${node.name}`));
        }
      })();
    }
    await h.ready;
  }

  private settle(h: HelperState, err?: TransportError): void {
    if (h.settled) return;
    h.settled = true;
    if (err) h.reject(err);
    else h.resolve();
  }

  /**
   * Every node waiting for its helper pod is answered from one watch of the run's pods (one list, then
   * one long-lived request; a list every few seconds only while the watch is down). Events are read
   * only for pods that are slow to start, to say why.
   */
  private watchPods(): void {
    if (this.poller || this.closing) return;
    const selector = `${LABELS.run}=${this.settings.runId}`;
    const startWatch = async (resourceVersion: string) => {
      if (this.stopWatch || this.closing) return;
      this.stopWatch = await this.api.watch('cluster', `/api/v1/namespaces/${this.namespace}/pods`, { labelSelector: selector, resourceVersion }, (type, obj) => {
        const pod = obj as PodJson;
        const name = pod.metadata?.name ?? '';
        if (type === 'DELETED') this.pods.delete(name);
        else if (type === 'ADDED' || type === 'MODIFIED') this.pods.set(name, pod);
        this.evaluate();
      }, () => {
        // the watch ended (the server's timeout, an error): the next tick lists and watches again
        this.stopWatch = undefined;
      });
    };
    const tick = async () => {
      if (this.polling) return;
      this.polling = true;
      try {
        const waiting = [...this.helpers.values()].filter((h) => !h.settled);
        if (!waiting.length) return this.stopPolling();
        if (!this.stopWatch) {
          const list = await this.api.request<{ metadata?: { resourceVersion?: string }; items?: PodJson[] }>('cluster', { verb: 'list', resource: 'pods', namespace: this.namespace, method: 'GET', path: corePath('pods', { namespace: this.namespace, query: { labelSelector: selector } }) });
          this.pods = new Map((list.items ?? []).map((p) => [p.metadata?.name ?? '', p]));
          void startWatch(list.metadata?.resourceVersion ?? '0').catch(() => undefined);
        }
        if (waiting.some((h) => Date.now() - h.created > 1500) && Date.now() - this.lastEvents > 2000) {
          this.lastEvents = Date.now();
          const ev = (await this.api
            .request('cluster', { verb: 'list', resource: 'events', namespace: this.namespace, method: 'GET', path: corePath('events', { namespace: this.namespace }) })
            .catch(() => ({ items: [] }))) as { items?: unknown[] };
          this.events = ev.items ?? [];
        }
        this.evaluate(true);
        this.listFailingSince = undefined;
      } catch (err) {
        // A busy API (429, 5xx, a slow answer) is asked again for a while; then, or when the API went
        // away, every waiting node is told.
        const e = err instanceof KubeApiError ? err : undefined;
        const transient = e !== undefined && (e.code === 429 || (e.code !== undefined && e.code >= 500) || /did not answer within/.test(e.message));
        this.listFailingSince ??= Date.now();
        if (!transient || Date.now() - this.listFailingSince > 30_000) {
          for (const h of this.helpers.values()) if (!h.settled) this.settle(h, this.apiFailure(h.node, err, 'list', 'pods', `watch the helper pod on ${h.node} start`));
        }
        return;
      } finally {
        this.polling = false;
      }
    };
    this.poller = setInterval(() => void tick(), 1000);
    void tick();
  }

  /** Settle every waiting node whose helper pod runs, or cannot (`slow`: also the ones not seen yet). */
  private evaluate(slow = false): void {
    for (const h of this.helpers.values()) {
      if (h.settled) continue;
      const pod = this.pods.get(h.name);
      if (!pod) {
        // not listed yet right after the create; gone later: deleted
        if (slow && Date.now() - h.created > 5000) this.settle(h, new TransportError(h.node, 'helper-pod', `${h.node}: the helper pod ${this.namespace}/${h.name} was deleted before it started`, `something deletes pods in that namespace (a policy controller?): check kubectl get events -n ${this.namespace}`));
        continue;
      }
      if (pod.spec?.nodeName && pod.spec.nodeName !== h.node) {
        // something (a mutating webhook, another scheduler) moved it: podnet would change the wrong machine
        this.settle(h, new TransportError(h.node, 'helper-pod', `${h.node}: the helper pod ${this.namespace}/${h.name} was bound to ${pod.spec.nodeName}, not to ${h.node}: refusing to use it`, 'a mutating admission webhook or another scheduler changes pods in that namespace: exempt it, or use --namespace with one that is left alone'));
        continue;
      }
      if (pod.status?.phase === 'Running' && pod.status.containerStatuses?.[0]?.state?.running) {
        this.settle(h);
        continue;
      }
      const mine = this.events.filter((e) => (e as { involvedObject?: { name?: string } }).involvedObject?.name === h.name);
      const ctx = { node: h.node, image: this.settings.image, namespace: this.namespace, namespaceOwned: !this.settings.namespace };
      const why = explainPodStart(pod as never, mine as never, ctx);
      if (why) {
        this.settle(h, new TransportError(h.node, 'helper-pod', `${h.node}: ${why.message}`, why.hint));
        continue;
      }
      // A kubelet that stopped posting its status starts no pod: say so instead of waiting.
      const ready = this.settings.nodeReady?.(h.node);
      if (slow && ready?.status === 'Unknown' && Date.now() - h.created > 5000) {
        this.settle(h, new TransportError(h.node, 'helper-pod', `${h.node}: its kubelet does not answer (Node condition Ready=Unknown${ready.message ? `: ${ready.message}` : ''}): no pod starts there`, `check the kubelet on ${h.node} (systemctl status kubelet), or reach the node over SSH: --access ssh`));
        continue;
      }
      if (Date.now() - h.created > this.settings.startTimeoutMs) {
        this.settle(h, new TransportError(h.node, 'helper-pod', `${h.node}: the helper pod ${this.namespace}/${h.name} did not start within ${Math.round(this.settings.startTimeoutMs / 1000)}s: ${describeWaiting(pod as never, mine as never, ctx)}`, `kubectl describe pod -n ${this.namespace} ${h.name}`));
      }
    }
    if (![...this.helpers.values()].some((h) => !h.settled)) this.stopPolling();
  }

  private stopPolling(): void {
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
    this.stopWatch?.();
    this.stopWatch = undefined;
  }

  protected openChannel(node: NodeTarget): Channel {
    const h = this.helpers.get(node.name)!;
    const open = this.api.exec(node.name, this.namespace, h.name, CONTAINER, SESSION_ARGV);
    // An exec the API refuses (RBAC, admission, a gone pod) is explained as the API's answer.
    open.catch((err: unknown) => this.execErrors.set(node.name, err));
    return new ExecChannel(open);
  }

  protected async failure(node: NodeTarget, r: Omit<SessionResult, 'framed'>, timeoutMs: number): Promise<TransportError> {
    if (r.timedOut) {
      const own = timeoutMs === this.settings.commandTimeoutMs;
      return new TransportError(node.name, 'timeout', `${node.name}: no answer within ${Math.round(timeoutMs / 1000)}s`, own ? 'raise ssh.commandTimeout in the inventory (it bounds every script, whatever the access), or check the node' : 'the node stopped answering in the middle of the run: check it (load, the helper pod, the API server)');
    }
    const refused = this.execErrors.get(node.name);
    this.execErrors.delete(node.name);
    if (refused instanceof KubeApiError && refused.code !== undefined && refused.code !== 404) return this.apiFailure(node.name, refused, 'create', 'pods/exec', `run a session in the helper pod on ${node.name}`);
    const h = this.helpers.get(node.name);
    // Why the stream ended: the helper pod gone or ended, or the API server.
    if (h) {
      try {
        const pod = await this.api.request<PodJson>(node.name, { verb: 'get', resource: 'pods', namespace: this.namespace, method: 'GET', path: corePath('pods', { namespace: this.namespace, name: h.name }) });
        if (pod.metadata?.deletionTimestamp || (pod.status?.phase && pod.status.phase !== 'Running')) h.gone = true;
        if (pod.metadata?.deletionTimestamp) return new TransportError(node.name, 'helper-pod', `${node.name}: the helper pod ${this.namespace}/${h.name} was deleted during the run`, 'something deleted it (kubectl delete, a policy controller, node drain): run podnet again');
        if (pod.status?.phase && pod.status.phase !== 'Running') {
          const why = explainPodStart(pod as never, [], { node: node.name, image: this.settings.image, namespace: this.namespace, namespaceOwned: !this.settings.namespace });
          return new TransportError(node.name, 'helper-pod', `${node.name}: ${why?.message ?? `the helper pod ${this.namespace}/${h.name} ended (phase ${pod.status.phase}) during the run`}`, why?.hint);
        }
      } catch (err) {
        if (err instanceof KubeApiError && err.code === 404) h.gone = true;
        if (err instanceof KubeApiError && err.code === 404) return new TransportError(node.name, 'helper-pod', `${node.name}: the helper pod ${this.namespace}/${h.name} was deleted during the run`, 'something deleted it (kubectl delete, a policy controller, node drain): run podnet again');
        if (err instanceof KubeApiError && err.code === undefined) return new TransportError(node.name, 'api', `${node.name}: the Kubernetes API at ${this.api.server} went away during the run: ${err.message}`, 'check the API server (kubectl get --raw /readyz); what podnet changed on the node so far stays');
      }
    }
    const why = r.reason ?? (r.stderr.trim().split('\n').pop() || `exit ${r.exitCode}`);
    return new TransportError(node.name, 'disconnected', `${node.name}: the exec session in the helper pod ended: ${why}`);
  }

  /**
   * Namespaces of earlier runs that are past their expiry (the machine running podnet died with them,
   * reaper and all): their pods ended long ago (activeDeadlineSeconds); remove what is left. Best effort.
   */
  private async removeStale(): Promise<void> {
    try {
      const list = await this.api.request<{ items?: { metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: unknown } }[] }>('cluster', { verb: 'list', resource: 'namespaces', method: 'GET', path: corePath('namespaces', { query: { labelSelector: `${LABELS.managedBy}=podnet` } }) });
      const now = Date.now();
      for (const ns of list.items ?? []) {
        const name = ns.metadata?.name;
        const expires = Date.parse(ns.metadata?.annotations?.[ANNOTATIONS.expires] ?? '');
        // only podnet's own: its name, its labels, past its expiry
        if (!name?.startsWith('podnet-') || name === this.namespace || !ns.metadata?.labels?.[LABELS.run] || ns.metadata?.deletionTimestamp || !(expires < now)) continue;
        await this.api.request('cluster', { verb: 'delete', resource: 'namespaces', method: 'DELETE', path: corePath('namespaces', { name }) }).catch(() => undefined);
      }
    } catch {
      /* not allowed to list, or the API is busy: the next run tries again */
    }
  }

  /** A detached process that removes the run's objects if podnet dies before close() (kube/reaper.ts). */
  private startReaper(): void {
    if (!this.settings.reaper || this.reaper) return;
    const here = import.meta.url;
    const file = fileURLToPath(new URL(here.endsWith('.ts') ? '../kube/reaper.ts' : '../kube/reaper.js', here));
    const job = JSON.stringify({ found: this.api.found, context: this.api.context, namespace: this.namespace, owned: !this.settings.namespace, runId: this.settings.runId });
    try {
      const child = spawn(process.execPath, [...process.execArgv, file, job], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
      child.on('error', () => undefined);
      child.stdin!.on('error', () => undefined);
      child.unref();
      (child.stdin as unknown as { unref?: () => void }).unref?.();
      this.reaper = child;
    } catch {
      /* no reaper: the helper pods still end by themselves */
    }
  }

  override async close(): Promise<void> {
    this.closing = true;
    this.stopPolling();
    for (const h of this.helpers.values()) this.settle(h, new TransportError(h.node, 'helper-pod', `${h.node}: the run is ending`));
    await this.closeSessions();
    // What is on its way to the API lands before it is deleted (each request is bounded in time).
    await Promise.allSettled([this.namespaceReady, this.staleSweep, ...this.inflight]);
    const errors: string[] = [];
    const gone = (e: unknown) => e instanceof KubeApiError && e.code === 404;
    if (this.createdNamespace) {
      await this.api
        .request('cluster', { verb: 'delete', resource: 'namespaces', method: 'DELETE', path: corePath('namespaces', { name: this.namespace }) })
        .catch((e: unknown) => {
          if (!gone(e)) errors.push(errorMessage(e));
        });
    } else if (this.settings.namespace) {
      await Promise.all(
        this.allPods.map((h) =>
          this.api.request(h.node, { verb: 'delete', resource: 'pods', namespace: this.namespace, method: 'DELETE', path: corePath('pods', { namespace: this.namespace, name: h.name, query: { gracePeriodSeconds: '0' } }) }).catch((e: unknown) => {
            if (!gone(e)) errors.push(errorMessage(e));
          }),
        ),
      );
    }
    if (this.reaper) {
      // Done: unless removing failed, the reaper has nothing left to do (else it tries again itself).
      if (!errors.length) this.reaper.stdin?.end('done\n');
      else this.reaper.stdin?.end();
    }
    if (errors.length) process.stderr.write(`warning: podnet could not remove its helper objects in the namespace ${this.namespace}: ${errors[0]}; remove them with: kubectl delete namespace ${this.namespace}\n`);
  }
}
