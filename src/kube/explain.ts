/**
 * Why a helper pod did not start, and what an API error means, in one line each plus a hint: read from the
 * pod's status and events (kube-scheduler's FailedScheduling, the kubelet's image pulls, container states
 * and rejections) and from the API's Status bodies (RBAC 403s, PodSecurity, admission webhooks and
 * policies, missing namespaces). Pure: plain objects in, text out; no client import. The wordings matched
 * are the real components' (kube-scheduler 1.24-1.35, kubelet, containerd, the PodSecurity plugin,
 * Gatekeeper, Kyverno, ValidatingAdmissionPolicy) and the lab stand-in's (src/lab/api).
 */
import { describeRule, ruleFor } from './rbac.js';

// ---------------------------------------------------------------------------------------------------
// The objects, as loosely as the API (or @kubernetes/client-node, with Date timestamps) gives them.

interface ContainerStateLike {
  waiting?: { reason?: string; message?: string };
  running?: unknown;
  terminated?: { exitCode?: number; signal?: number; reason?: string; message?: string };
}

interface ContainerStatusLike {
  name?: string;
  image?: string;
  state?: ContainerStateLike;
  lastState?: ContainerStateLike;
}

export interface PodLike {
  metadata?: { name?: string; namespace?: string; uid?: string; deletionTimestamp?: unknown };
  spec?: { nodeName?: string; activeDeadlineSeconds?: number; containers?: { name?: string; image?: string }[] };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
    containerStatuses?: ContainerStatusLike[];
  };
}

export interface EventLike {
  metadata?: { creationTimestamp?: unknown };
  involvedObject?: { kind?: string; name?: string; uid?: string };
  reason?: string;
  message?: string;
  type?: string;
  count?: number;
  firstTimestamp?: unknown;
  lastTimestamp?: unknown;
  eventTime?: unknown;
  series?: { lastObservedTime?: unknown };
  source?: { component?: string; host?: string };
  reportingComponent?: string;
}

export interface PodStartContext {
  /** the Node the helper pod is pinned to */
  node: string;
  /** the image podnet asked for (--image, the inventory's image, or the default) */
  image: string;
  namespace: string;
  /** podnet created the namespace (false: the user named it with --namespace) */
  namespaceOwned: boolean;
}

export type PodStartKind = 'unschedulable' | 'image-pull' | 'admission' | 'failed' | 'deadline' | 'deleted';

export interface PodStartProblem {
  kind: PodStartKind;
  message: string;
  hint: string;
}

// ---------------------------------------------------------------------------------------------------
// Text helpers

/** One line, bounded: API messages (Kyverno's, a kubelet's) may span lines and run long. */
function oneLine(text: string, max = 400): string {
  // (no terminal control from an API message: C0 and C1 controls, DEL, become "?")
  // eslint-disable-next-line no-control-regex
  const s = text.replace(/\s+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').trim();
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

const q = (s: string) => JSON.stringify(s);

function timeOf(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? 0 : t;
  }
  return 0;
}

function eventTime(e: EventLike): number {
  return Math.max(timeOf(e.series?.lastObservedTime), timeOf(e.lastTimestamp), timeOf(e.eventTime), timeOf(e.firstTimestamp), timeOf(e.metadata?.creationTimestamp));
}

/** The events about this pod (this uid when both carry one), oldest first. */
function eventsAbout(pod: PodLike | undefined, events: readonly EventLike[]): EventLike[] {
  const uid = pod?.metadata?.uid;
  const name = pod?.metadata?.name;
  const mine = events.filter((e) => {
    const o = e.involvedObject;
    if (!o || !pod) return true;
    if (o.kind && o.kind !== 'Pod') return false;
    if (uid && o.uid) return o.uid === uid;
    return !name || o.name === name;
  });
  // stable: events without times keep the order they came in
  return mine.map((e, i) => ({ e, i, t: eventTime(e) })).sort((a, b) => a.t - b.t || a.i - b.i).map((x) => x.e);
}

function latest(events: EventLike[], test: (e: EventLike) => boolean): EventLike | undefined {
  for (let i = events.length - 1; i >= 0; i--) if (test(events[i]!)) return events[i];
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Images

/** The registry host of an image reference, as container runtimes resolve it (no host: Docker Hub). */
export function imageRegistry(ref: string): string {
  const name = ref.split('@')[0]!;
  const slash = name.indexOf('/');
  if (slash < 0) return 'docker.io';
  const first = name.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : 'docker.io';
}

const IMAGE_HINT_TAIL = 'it must contain python3 (3.8 or later)';

function imageHint(image: string, why: string): string {
  const registry = imageRegistry(image);
  const flag = `with --image (or the inventory's image field); ${IMAGE_HINT_TAIL}`;
  switch (why) {
    case 'missing':
      return `check the name and tag of ${q(image)}, or name another image ${flag}`;
    case 'denied':
      return `check the name and tag of ${q(image)}; if it is private: podnet's helper pods carry no imagePullSecrets, so name one the nodes' runtime may pull (a mirror, or pre-loaded on the nodes) ${flag}`;
    case 'auth':
      return `${registry} wants credentials and podnet's helper pods carry no imagePullSecrets: name an image the nodes' runtime may pull (a mirror, or pre-loaded on the nodes) ${flag}`;
    case 'rate':
      return `${registry} limits anonymous pulls: name the image on a mirror ${flag}`;
    case 'network':
      return `the node cannot reach ${registry} (air-gapped, a proxy, DNS?): name an image on a registry it can reach ${flag}`;
    case 'tls':
      return `the node's container runtime does not trust ${registry}'s certificate: configure the runtime's CA for it, or name another image ${flag}`;
    case 'platform':
      return `${q(image)} has no build for the node's OS/architecture: name another image ${flag}`;
    case 'invalid':
      return `${q(image)} is not a valid image reference: name a valid one ${flag}`;
    case 'never':
      return `the image is not on the node and its pull policy forbids pulling (something changed podnet's IfNotPresent): pre-load it, or name another image ${flag}`;
    default:
      return `name an image the nodes can pull ${flag}`;
  }
}

function classifyPull(message: string): string {
  // Docker Hub answers a private and a missing repository alike
  if (/repository does not exist or may require authorization/i.test(message)) return 'denied';
  if (/not found|manifest unknown|name unknown|no such image/i.test(message)) return 'missing';
  if (/unauthorized|authorization failed|authentication required|pull access denied|insufficient_scope|\b401\b|\b403\b|forbidden|denied/i.test(message)) return 'auth';
  if (/toomanyrequests|too many requests|rate limit|\b429\b/i.test(message)) return 'rate';
  if (/x509|certificate/i.test(message)) return 'tls';
  if (/no match for platform|no matching manifest/i.test(message)) return 'platform';
  if (/no such host|i\/o timeout|connection refused|network is unreachable|dial tcp|tls handshake timeout|context deadline exceeded|connection reset|EOF/i.test(message)) return 'network';
  return 'other';
}

const PULL_WHY: Record<string, string> = {
  missing: 'not found',
  denied: 'the registry says it does not exist or needs credentials',
  auth: 'the registry refused it (credentials needed)',
  rate: 'the registry\'s pull rate limit',
  tls: 'the registry\'s TLS certificate is not trusted',
  platform: 'no build for the node\'s platform',
  network: 'the registry could not be reached',
  other: 'the pull failed',
};

/** The runtime's own words, without the gRPC wrapping: `failed to resolve reference ...: not found`. */
function pullDetail(message: string): string {
  const bare = message
    .replace(/^Back-off pulling image "[^"]*": (ErrImagePull: )?/, '')
    .replace(/^rpc error: code = \w+ desc = /, '')
    // the image is named already
    .replace(/^failed to pull and unpack image "[^"]*": /, '')
    .replace(/^failed to resolve reference "[^"]*": /, '')
    // containerd repeats the reference before "not found"
    .replace(/^[\w.\-/:@]+: (?=not found)/, '');
  return oneLine(bare, 240);
}

function imagePull(ctx: PodStartContext, image: string, reason: string, message: string): PodStartProblem {
  const lead = `the helper pod for ${ctx.node} cannot get its image ${q(image)}`;
  if (reason === 'InvalidImageName') return { kind: 'image-pull', message: `${lead}: not a valid image reference${message ? ` (${pullDetail(message)})` : ''}`, hint: imageHint(image, 'invalid') };
  if (reason === 'ErrImageNeverPull') return { kind: 'image-pull', message: `${lead}: it is not on the node and may not be pulled`, hint: imageHint(image, 'never') };
  const why = classifyPull(message);
  let detail = message ? pullDetail(message) : '';
  // "not found: not found (...)" says it once
  if (why === 'missing' && /^not found\b/.test(detail)) detail = detail.replace(/^not found\s*/, '');
  return { kind: 'image-pull', message: `${lead} from ${imageRegistry(image)}: ${PULL_WHY[why]}${detail ? `${detail.startsWith('(') ? ' ' : ': '}${detail}` : ''}`, hint: imageHint(image, why) };
}

const IMAGE_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'ImageInspectError', 'RegistryUnavailable', 'SignatureValidationFailed']);

// ---------------------------------------------------------------------------------------------------
// Containers

const CONTAINER_REASONS = new Set(['CreateContainerError', 'CreateContainerConfigError', 'RunContainerError', 'StartError', 'PreStartHookError', 'PostStartHookError', 'ContainerCannotRun']);

/** A hint for what a container's failure text says about the image. */
function containerHint(text: string, ctx: PodStartContext): string {
  if (/python3/.test(text) && /not found|no such file|executable file/i.test(text)) return `the image ${q(ctx.image)} has no python3: choose another with --image (or the inventory's image field); ${IMAGE_HINT_TAIL}`;
  if (/SyntaxError|invalid syntax|ModuleNotFoundError|ImportError/.test(text)) return `the image's python3 is too old or incomplete for podnet's helper: choose another with --image; ${IMAGE_HINT_TAIL}`;
  if (/\/bin\/sh/.test(text)) return `the image ${q(ctx.image)} has no /bin/sh: choose another with --image; ${IMAGE_HINT_TAIL}`;
  return `see kubectl describe pod -n ${ctx.namespace} and the node's container runtime log; if the image is at fault, choose another with --image (${IMAGE_HINT_TAIL})`;
}

function exitText(t: NonNullable<ContainerStateLike['terminated']>): string {
  const parts = [`exited with code ${t.exitCode ?? '?'}`];
  if (t.signal) parts.push(`signal ${t.signal}`);
  if (t.reason && t.reason !== 'Error' && t.reason !== 'Completed') parts.push(t.reason);
  const msg = t.message ? `: ${oneLine(t.message, 240)}` : '';
  return `${parts.join(', ')}${msg}`;
}

function containerProblem(cs: ContainerStatusLike, ctx: PodStartContext): PodStartProblem | undefined {
  const lead = `the helper pod for ${ctx.node}`;
  const w = cs.state?.waiting;
  if (w?.reason && IMAGE_REASONS.has(w.reason)) return imagePull(ctx, cs.image || ctx.image, w.reason, w.message ?? '');
  if (w?.reason && CONTAINER_REASONS.has(w.reason)) {
    const text = oneLine(w.message ?? '', 300);
    return { kind: 'failed', message: `${lead}: its container did not start (${w.reason})${text ? `: ${text}` : ''}`, hint: containerHint(text, ctx) };
  }
  if (w?.reason === 'CrashLoopBackOff') {
    const last = cs.lastState?.terminated;
    return { kind: 'failed', message: `${lead}: its container keeps exiting${last ? ` (${exitText(last)})` : ''}`, hint: containerHint(last?.message ?? '', ctx) };
  }
  const t = cs.state?.terminated;
  if (t) {
    if (t.exitCode === 0) {
      return {
        kind: 'failed',
        message: `${lead}: its container ended (exit code 0) before podnet's session reached it`,
        hint: 'the helper ends when no session reaches it in its grace period: the node or the API may be slow; run podnet again',
      };
    }
    if (t.reason === 'OOMKilled') return { kind: 'failed', message: `${lead}: its container was killed for memory (${exitText(t)})`, hint: `the node ${ctx.node} is short of memory: free some and run podnet again` };
    return { kind: 'failed', message: `${lead}: its container ${exitText(t)}`, hint: containerHint(`${t.reason ?? ''} ${t.message ?? ''}`, ctx) };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Scheduling

interface SchedulerReason {
  count: number;
  text: string;
}

/** kube-scheduler's `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) ... . preemption: ...` */
export function parseSchedulerMessage(message: string): { total: number; reasons: SchedulerReason[] } | undefined {
  const m = /^0\/(\d+) nodes are available: (.*?)\.?(?: preemption: .*)?$/s.exec(message.trim());
  if (!m) return undefined;
  const reasons = m[2]!
    .split(/, (?=\d+ )/)
    .map((r) => /^(\d+) (.*)$/s.exec(r.trim()))
    .filter((x): x is RegExpExecArray => x !== null)
    .map((x) => ({ count: Number(x[1]), text: x[2]!.trim() }));
  return { total: Number(m[1]), reasons };
}

/** Reasons about the other nodes: the helper pod is pinned to one node, so every other one fails NodeAffinity. */
const OTHER_NODES = /didn't satisfy plugin\(s\)? \[?NodeAffinity\]?|didn't match Pod's node affinity\/selector|node is filtered out by the prefilter result/;

function explainSchedulerReason(text: string, ctx: PodStartContext): { why: string; hint: string } {
  const node = ctx.node;
  let m: RegExpExecArray | null;
  if ((m = /^Insufficient (\S+)$/.exec(text))) {
    return { why: `${node} has too little allocatable ${m[1]} left for the helper pod's small request`, hint: `free some ${m[1]} on ${node} (kubectl describe node ${node} shows what is allocated) and run podnet again` };
  }
  if (/^Too many pods$/.test(text)) return { why: `${node} already runs as many pods as its kubelet allows (maxPods)`, hint: `remove a pod from ${node} or raise its kubelet's maxPods` };
  if (/were unschedulable/.test(text)) {
    return { why: `${node} is cordoned and the pod does not tolerate it`, hint: `podnet's helper pods tolerate every taint: something removed their tolerations (a mutating webhook?); or uncordon: kubectl uncordon ${node}` };
  }
  if ((m = /had untolerated taint \{(.*)\}/.exec(text)) || (m = /had taints? (\{.*\}), that the pod didn't tolerate/.exec(text))) {
    return { why: `${node} has the taint {${m[1]}} that the pod does not tolerate`, hint: 'podnet\'s helper pods tolerate every taint: something removed their tolerations (a mutating webhook or policy); exempt podnet\'s namespaces from it' };
  }
  return { why: text, hint: `see kubectl describe node ${node}` };
}

function unschedulable(message: string, ctx: PodStartContext): PodStartProblem {
  const lead = `the helper pod for ${ctx.node} cannot be scheduled`;
  // (what preemption could not do adds nothing here)
  const raw = oneLine(message.replace(/\s*preemption: .*$/s, ''), 300);
  // the real scheduler when the pinned node is gone from its cache (some versions): an error, not a fit error
  if (/nodeinfo not found for node name/.test(message)) {
    return { kind: 'unschedulable', message: `${lead}: the scheduler does not know the node ${ctx.node} (kube-scheduler: ${raw})`, hint: `check that the Node exists: kubectl get node ${ctx.node}` };
  }
  // the lab stand-in: a pod bound to a node it has no kubelet for
  if (/which is not a node of this lab/.test(message)) {
    return { kind: 'unschedulable', message: `${lead}: ${raw}`, hint: `check that the Node exists: kubectl get node ${ctx.node}` };
  }
  const parsed = parseSchedulerMessage(message);
  if (!parsed) return { kind: 'unschedulable', message: `${lead}: ${raw}`, hint: `see kubectl describe node ${ctx.node}` };
  const own = parsed.reasons.filter((r) => !OTHER_NODES.test(r.text));
  if (own.length === 0) {
    return {
      kind: 'unschedulable',
      message: `${lead}: no Node named ${ctx.node} is among the scheduler's ${parsed.total} node(s) (kube-scheduler: ${raw})`,
      hint: `check that the Node exists and is named so: kubectl get node ${ctx.node}`,
    };
  }
  const explained = own.map((r) => explainSchedulerReason(r.text, ctx));
  return { kind: 'unschedulable', message: `${lead}: ${explained.map((e) => e.why).join('; ')} (kube-scheduler: ${raw})`, hint: explained[0]!.hint };
}

// ---------------------------------------------------------------------------------------------------
// The pod as a whole

/** Reasons the kubelet rejects a pod with at admission (lifecycle predicates): the pod is Failed at once. */
const KUBELET_REJECT = /^(OutOf\w+|NodeAffinity|NodeName|NodePorts|TaintToleration|UnexpectedAdmissionError|InitContainerRestartPolicyForbidden|\w+Unsupported)$/;
/** ... and those that are policies: the node's, not its resources. */
const KUBELET_POLICY = /^(SysctlForbidden|AppArmor|Forbidden|SeccompProfileForbidden)$/;

function failedPod(pod: PodLike, events: EventLike[], ctx: PodStartContext): PodStartProblem {
  const st = pod.status ?? {};
  const reason = st.reason ?? '';
  const text = oneLine((st.message ?? '').replace(/^Pod was rejected: /, '').replace(/^Pod (?=Node didn't have enough resource)/, ''), 300);
  const lead = `the helper pod for ${ctx.node}`;
  if (reason === 'DeadlineExceeded') {
    const s = pod.spec?.activeDeadlineSeconds;
    return {
      kind: 'deadline',
      message: `${lead} outlived its deadline${s ? ` of ${s}s` : ''} (activeDeadlineSeconds) and was stopped by the kubelet`,
      hint: 'the deadline is podnet\'s upper bound for a whole run: a run that long is stuck (a node or the API too slow?); run podnet again, and report it if it recurs',
    };
  }
  if (reason === 'Evicted') return { kind: 'failed', message: `${lead} was evicted by the kubelet: ${text}`, hint: `${ctx.node} is under resource pressure: free memory or disk on it and run podnet again` };
  if (/^(Shutdown|Terminated|NodeShutdown)$/.test(reason)) return { kind: 'failed', message: `${lead} was stopped: the node ${ctx.node} is shutting down (${text || reason})`, hint: `run podnet again once ${ctx.node} is back` };
  if (KUBELET_POLICY.test(reason)) {
    return { kind: 'admission', message: `the kubelet on ${ctx.node} refused the helper pod (${reason}): ${text}`, hint: `the node's kubelet configuration forbids what the helper pod needs (privileged, hostPID, hostNetwork): allow it on ${ctx.node}` };
  }
  if (KUBELET_REJECT.test(reason) || /^Pod was rejected/.test(st.message ?? '')) {
    let hint = 'see kubectl describe pod and the kubelet\'s log on the node';
    if (/^OutOf(\w+)$/.test(reason)) hint = `${ctx.node} has too little ${reason.slice(5)} left for the helper pod's small request: free some and run podnet again`;
    else if (reason === 'NodeAffinity') hint = `the kubelet does not see itself as the Node ${ctx.node} (a changed node name or labels?): check kubectl get node ${ctx.node} --show-labels`;
    return { kind: 'failed', message: `the kubelet on ${ctx.node} rejected the helper pod (${reason || 'rejected'}): ${text}`, hint };
  }
  for (const cs of st.containerStatuses ?? []) {
    const p = containerProblem(cs, ctx);
    if (p) return p;
  }
  const ev = latest(events, (e) => e.type === 'Warning');
  const why = [reason, text].filter(Boolean).join(': ') || (ev ? `${ev.reason}: ${oneLine(ev.message ?? '', 240)}` : 'no reason given');
  return { kind: 'failed', message: `${lead} failed: ${why}`, hint: `see kubectl describe pod -n ${ctx.namespace}${pod.metadata?.name ? ` ${pod.metadata.name}` : ''}` };
}

function deleted(pod: PodLike | undefined, events: EventLike[], ctx: PodStartContext): PodStartProblem {
  const lead = `the helper pod for ${ctx.node}`;
  const ev = latest(events, (e) => /^(Killing|Preempting|Preempted|TaintManagerEviction|Evicted|NodeNotReady|DeletingPod)$/.test(e.reason ?? ''));
  const evText = ev ? ` (last event ${ev.reason}: ${oneLine(ev.message ?? '', 160)})` : '';
  const hint = ctx.namespaceOwned
    ? `something else deleted it or podnet's namespace ${ctx.namespace} (a cleanup job, another podnet run, an operator?): run podnet again`
    : `something deleted it (a cleanup job or policy in ${ctx.namespace}?): run podnet again, or drop --namespace so podnet uses a namespace of its own`;
  return { kind: 'deleted', message: `${lead} was ${pod ? 'being ' : ''}deleted while podnet needed it${evText}`, hint };
}

/**
 * Why a helper pod will not start (or stopped), from its status and events; undefined while it may still
 * start normally. `pod` undefined or null: it is gone (a 404). Read on every watch event: each case is
 * decided as soon as its first sign appears, so the user hears within seconds, not at a timeout.
 */
export function explainPodStart(pod: PodLike | null | undefined, events: readonly EventLike[], ctx: PodStartContext): PodStartProblem | undefined {
  const mine = eventsAbout(pod ?? undefined, events);
  if (!pod) return deleted(undefined, mine, ctx);
  if (pod.metadata?.deletionTimestamp) return deleted(pod, mine, ctx);
  const st = pod.status ?? {};
  if (st.phase === 'Failed') return failedPod(pod, mine, ctx);
  for (const cs of st.containerStatuses ?? []) {
    const p = containerProblem(cs, ctx);
    if (p) return p;
  }
  if (st.phase === 'Succeeded') {
    return { kind: 'failed', message: `the helper pod for ${ctx.node} ended before podnet's session reached it`, hint: 'the helper ends when no session reaches it in its grace period: run podnet again' };
  }
  // Kubelet rejections show as events before (or instead of) the Failed status when the status write lags.
  const rejected = latest(mine, (e) => e.type === 'Warning' && (KUBELET_REJECT.test(e.reason ?? '') || KUBELET_POLICY.test(e.reason ?? '')));
  if (rejected) return failedPod({ ...pod, status: { ...st, phase: 'Failed', reason: rejected.reason, message: rejected.message } }, mine, ctx);

  const scheduled = (st.conditions ?? []).find((c) => c.type === 'PodScheduled');
  if (!pod.spec?.nodeName) {
    if (scheduled?.status === 'False' && (scheduled.reason === 'Unschedulable' || scheduled.reason === 'SchedulerError') && scheduled.message) return unschedulable(scheduled.message, ctx);
    const ev = latest(mine, (e) => e.reason === 'FailedScheduling');
    if (ev?.message) return unschedulable(ev.message, ctx);
    return undefined;
  }
  // bound to a node the stand-in has no kubelet for (its FailedScheduling after binding)
  const unbound = latest(mine, (e) => e.reason === 'FailedScheduling' && /which is not a node of this lab/.test(e.message ?? ''));
  if (unbound?.message) return unschedulable(unbound.message, ctx);
  // a container runs: whatever went wrong before it was overcome
  if ((st.containerStatuses ?? []).some((c) => c.state?.running)) return undefined;

  // The kubelet's warnings, before the container statuses say it; only those after its last step
  // forward (a pull that failed once and then succeeded is no failure).
  const progress = mine.map((e) => /^(Pulled|Created|Started)$/.test(e.reason ?? '') && e.type !== 'Warning').lastIndexOf(true);
  const recent = mine.slice(progress + 1);
  const pull = latest(recent, (e) => e.type === 'Warning' && e.reason === 'Failed' && /^Failed to pull image "/.test(e.message ?? ''));
  if (pull?.message) {
    const image = /^Failed to pull image "([^"]*)"/.exec(pull.message)?.[1] ?? ctx.image;
    return imagePull(ctx, image, 'ErrImagePull', pull.message.replace(/^Failed to pull image "[^"]*": /, ''));
  }
  const never = latest(recent, (e) => e.reason === 'ErrImageNeverPull' || e.reason === 'InspectFailed');
  if (never) return imagePull(ctx, ctx.image, never.reason === 'InspectFailed' ? 'InvalidImageName' : 'ErrImageNeverPull', never.message ?? '');
  const sandbox = latest(recent, (e) => e.type === 'Warning' && e.reason === 'FailedCreatePodSandBox');
  if (sandbox?.message) {
    const text = oneLine(sandbox.message, 300);
    const pause = /(?:sandbox|pause) image "([^"]+)"/.exec(sandbox.message)?.[1];
    if (pause) {
      return {
        kind: 'image-pull',
        message: `the container runtime on ${ctx.node} cannot get its sandbox (pause) image ${q(pause)}: ${text}`,
        hint: `that image is the node's container runtime setting (sandbox_image), not podnet's --image: make it pullable on ${ctx.node} or pre-load it`,
      };
    }
    return { kind: 'failed', message: `the container runtime on ${ctx.node} cannot create the helper pod's sandbox: ${text}`, hint: `see the container runtime's log on ${ctx.node}` };
  }
  const startErr = latest(recent, (e) => e.type === 'Warning' && e.reason === 'Failed' && /^Error: /.test(e.message ?? '') && !/^Error: (ErrImagePull|ImagePullBackOff)$/.test(e.message ?? ''));
  if (startErr?.message) {
    const text = oneLine(startErr.message.replace(/^Error: /, ''), 300);
    return { kind: 'failed', message: `the helper pod for ${ctx.node}: its container did not start: ${text}`, hint: containerHint(text, ctx) };
  }
  return undefined;
}

/**
 * Where a helper pod that has not started yet stands, for a message at the caller's timeout (never a bare
 * "timed out"): `not scheduled yet`, `pulling image "x"`, `scheduled, but the kubelet on node-1 has not
 * reported it`.
 */
export function describeWaiting(pod: PodLike | null | undefined, events: readonly EventLike[], ctx: PodStartContext): string {
  if (!pod) return 'the helper pod does not exist';
  const mine = eventsAbout(pod, events);
  const st = pod.status ?? {};
  if (!pod.spec?.nodeName) {
    const cond = (st.conditions ?? []).find((c) => c.type === 'PodScheduled');
    if (cond?.status === 'False') return `not scheduled: ${oneLine(cond.message ?? cond.reason ?? '', 240)}`;
    return 'not scheduled yet: no scheduler has looked at it (is kube-scheduler running?)';
  }
  const waiting = (st.containerStatuses ?? []).map((c) => c.state?.waiting).find((w) => w?.reason);
  const last = mine[mine.length - 1];
  if (!st.containerStatuses?.length && !mine.some((e) => e.source?.component === 'kubelet' || e.reportingComponent === 'kubelet')) {
    return `scheduled to ${ctx.node}, but its kubelet has not reported on it (is the kubelet on ${ctx.node} running, the Node Ready?)`;
  }
  if (last?.reason === 'Pulling') return `pulling the image ${q(ctx.image)} on ${ctx.node} (${oneLine(last.message ?? '', 160)})`;
  if (waiting?.reason) return `its container is waiting on ${ctx.node}: ${waiting.reason}${waiting.message ? ` (${oneLine(waiting.message, 160)})` : ''}`;
  if (last) return `${st.phase ?? 'Pending'} on ${ctx.node}; last event ${last.reason}: ${oneLine(last.message ?? '', 160)}`;
  return `${st.phase ?? 'Pending'} on ${ctx.node}`;
}

// ---------------------------------------------------------------------------------------------------
// API errors

export interface ApiErrorLike {
  /** the HTTP status, or a Node.js error code (ECONNREFUSED, CERT_HAS_EXPIRED) for a request that got none */
  code?: number | string;
  /** the answer's body: a Status object, its JSON text, or plain text */
  body?: unknown;
  message?: string;
}

export interface ApiErrorContext {
  /** what podnet asked: create, get, delete, list, watch, patch */
  verb: string;
  /** "pods", "pods/exec", "namespaces", "nodes/status" */
  resource: string;
  namespace?: string;
  /** what podnet was doing, for the message: "create the helper pod on node-1" */
  what: string;
  /** podnet created the namespace (false: the user named it with --namespace) */
  namespaceOwned?: boolean;
  /** how podnet is called: podnet or kubectl podnet */
  bin?: string;
}

export type ApiErrorKind = 'forbidden' | 'admission' | 'unauthorized' | 'not-found' | 'exists' | 'conflict' | 'invalid' | 'throttled' | 'server' | 'unreachable' | 'other';

export interface ApiProblem {
  kind: ApiErrorKind;
  message: string;
  hint: string;
  /** worth trying again shortly (a default service account not made yet, a conflict, throttling, a busy server) */
  retryable: boolean;
}

interface StatusLike {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: { name?: string; kind?: string; causes?: { field?: string; message?: string; reason?: string }[] };
}

function statusOf(body: unknown): { status?: StatusLike; text?: string } {
  if (body && typeof body === 'object' && !Array.isArray(body)) return { status: body as StatusLike };
  if (typeof body === 'string' && body.trim()) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (parsed && typeof parsed === 'object') return { status: parsed as StatusLike };
    } catch {
      // plain text (a proxy's answer)
    }
    return { text: body };
  }
  return {};
}

function httpCode(err: ApiErrorLike, status: StatusLike | undefined): number | undefined {
  if (typeof err.code === 'number') return err.code;
  if (typeof status?.code === 'number') return status.code;
  const m = /HTTP-Code: (\d{3})|Unexpected server response: (\d{3})/.exec(err.message ?? '');
  return m ? Number(m[1] ?? m[2]) : undefined;
}

const LABEL_ENFORCE = 'pod-security.kubernetes.io/enforce';

function podSecurity(detail: RegExpExecArray, ctx: ApiErrorContext, lead: string): ApiProblem {
  const ns = ctx.namespace ?? 'the namespace';
  const level = detail[1]!;
  const checks = oneLine(detail[2] ?? '', 300);
  const message = `${lead}: PodSecurity admission in namespace ${ns} enforces ${q(level)} and the helper pod needs "privileged": ${checks}`;
  if (ctx.namespaceOwned) {
    return {
      kind: 'admission',
      message,
      hint: `podnet created ${ns} with ${LABEL_ENFORCE}=privileged, yet another level was enforced: something rewrote its labels (a policy?); see kubectl get namespace ${ns} --show-labels`,
      retryable: false,
    };
  }
  return {
    kind: 'admission',
    message,
    hint: `label the namespace: kubectl label namespace ${ns} ${LABEL_ENFORCE}=privileged --overwrite; or drop --namespace and podnet uses a namespace of its own that has the label`,
    retryable: false,
  };
}

const EXEMPT = 'podnet\'s namespaces (podnet-<run>, labelled podnet.io/run)';

function webhook(name: string, detail: string, ctx: ApiErrorContext, lead: string): ApiProblem {
  const text = oneLine(detail, 300);
  const where = ctx.namespaceOwned === false && ctx.namespace ? `the namespace ${ctx.namespace}` : EXEMPT;
  if (/gatekeeper/i.test(name)) {
    const constraints = [...detail.matchAll(/(?:^|\n)\s*\[([^\]]+)\]/g)].map((m) => m[1]!);
    const named = constraints.length ? `constraint${constraints.length > 1 ? 's' : ''} ${constraints.join(', ')}` : 'the constraint';
    return {
      kind: 'admission',
      message: `${lead}: Gatekeeper's ${named} denied it: ${text}`,
      hint: `exempt ${where} from ${named} (spec.match.excludedNamespaces, e.g. ["podnet-*"]) or in Gatekeeper's Config`,
      retryable: false,
    };
  }
  if (/kyverno/i.test(name)) {
    const after = detail.split(/following policies:?/)[1] ?? '';
    const policies = [...after.matchAll(/^\s*([\w.-]+):\s*$/gm)].map((m) => m[1]!);
    const named = policies.length ? `polic${policies.length > 1 ? 'ies' : 'y'} ${policies.join(', ')}` : 'a policy';
    return {
      kind: 'admission',
      message: `${lead}: Kyverno ${named} blocked it: ${text}`,
      hint: `exempt ${where} from ${named}: a Kyverno PolicyException, or an exclude block in the policy`,
      retryable: false,
    };
  }
  return {
    kind: 'admission',
    message: `${lead}: the admission webhook ${q(name)} denied it: ${text}`,
    hint: `exempt ${where} from the webhook (its namespaceSelector, e.g. podnet.io/run DoesNotExist) or from the policy it names`,
    retryable: false,
  };
}

function rbac(text: string, ctx: ApiErrorContext, lead: string): ApiProblem {
  const bin = ctx.bin ?? 'podnet';
  const m = /cannot (\S+) resource "([^"]+)" in API group "([^"]*)"(?: in the namespace "([^"]+)"| at the cluster scope)?/.exec(text);
  const verb = m?.[1] ?? ctx.verb;
  const resource = m?.[2] ?? ctx.resource;
  const group = m?.[3];
  const ns = m ? m[4] : ctx.namespace;
  const user = /(?:User|ServiceAccount) "([^"]+)"/.exec(text)?.[1];
  const scope = ns ? `in the namespace ${ns}` : 'at the cluster scope';
  const who = user ? ` (as ${q(user)})` : '';
  const rule = ruleFor(verb, resource);
  const sa = user ? /^system:serviceaccount:([^:]+):(.+)$/.exec(user) : null;
  const subject = sa ? ` --service-account ${sa[1]}:${sa[2]}` : user ? ` --user ${user}` : ' --user <you>';
  const needs = rule ? `podnet's rule ${describeRule(rule)}` : `${verb} on ${resource}${group ? ` (API group ${group})` : ''}`;
  return {
    kind: 'forbidden',
    message: `${lead}: not allowed to ${verb} ${resource}${group ? ` in API group ${group}` : ''} ${scope}${who}`,
    hint: `${bin} rbac prints the ClusterRole and bindings podnet needs (here ${needs}); an admin applies them: ${bin} rbac${subject} | kubectl apply -f -`,
    retryable: false,
  };
}

function networkError(err: ApiErrorLike, lead: string): ApiProblem | undefined {
  const code = typeof err.code === 'string' ? err.code : '';
  const text = `${code} ${err.message ?? ''}`;
  if (/CERT|certificate|self[- ]signed|x509|UNABLE_TO_VERIFY|ALTNAME/i.test(text)) {
    return { kind: 'unreachable', message: `${lead}: the API server's TLS certificate was not accepted: ${oneLine(err.message ?? code, 240)}`, hint: 'check the kubeconfig\'s certificate-authority for this cluster (and the server address it names)', retryable: false };
  }
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|EPIPE|socket hang up|network|timed? ?out|did not answer|closed/i.test(text)) {
    return { kind: 'unreachable', message: `${lead}: the API server did not answer: ${oneLine(err.message ?? code, 240)}`, hint: 'check that the API server is up and reachable at the kubeconfig\'s server address (kubectl get --raw /readyz)', retryable: true };
  }
  return undefined;
}

/** What an error answer from the API (or no answer) means for the user, and what fixes it. */
export function explainApiError(err: ApiErrorLike, ctx: ApiErrorContext): ApiProblem {
  const { status, text: bodyText } = statusOf(err.body);
  const code = httpCode(err, status);
  const raw = status?.message ?? bodyText ?? '';
  const text = raw || (code === undefined ? (err.message ?? '') : '');
  const one = oneLine(text, 300);
  const lead = `cannot ${ctx.what}`;
  const ns = ctx.namespace;

  if (code === undefined) {
    const net = networkError(err, lead);
    if (net) return net;
    return { kind: 'other', message: `${lead}: ${one || 'the request failed'}`, hint: 'run again with --verbose for the details', retryable: false };
  }

  // Admission first: PodSecurity and policy engines answer 403, 400 or 422 alike.
  let m: RegExpExecArray | null;
  if ((m = /violates PodSecurity "([^"]+)": (.*)$/s.exec(text))) return podSecurity(m, ctx, lead);
  if ((m = /admission webhook "([^"]+)" denied the request:?\s*(.*)$/s.exec(text))) return webhook(m[1]!, m[2] ?? '', ctx, lead);
  if ((m = /ValidatingAdmissionPolicy '([^']+)' with binding '([^']+)' denied request: (.*)$/s.exec(text))) {
    return {
      kind: 'admission',
      message: `${lead}: the ValidatingAdmissionPolicy ${q(m[1]!)} (binding ${q(m[2]!)}) denied it: ${oneLine(m[3] ?? '', 240)}`,
      hint: `exempt ${ctx.namespaceOwned === false && ns ? `the namespace ${ns}` : EXEMPT} in the binding ${m[2]} (spec.matchResources.namespaceSelector, e.g. podnet.io/run DoesNotExist)`,
      retryable: false,
    };
  }
  if ((m = /failed calling webhook "([^"]+)"/.exec(text))) {
    return {
      kind: 'admission',
      message: `${lead}: the admission webhook ${q(m[1]!)} did not answer and it is set to fail closed: ${one}`,
      hint: `fix the webhook's service, or exempt ${EXEMPT} in its namespaceSelector`,
      retryable: true,
    };
  }
  if (/unable to validate against any security context constraint/.test(text)) {
    return {
      kind: 'admission',
      message: `${lead}: OpenShift's security context constraints admit no privileged pod for this user: ${one}`,
      hint: `grant the privileged SCC to the user who runs podnet (oc adm policy add-scc-to-user privileged <user>) or to the default service account of the namespace${ns ? ` ${ns}` : ''}`,
      retryable: false,
    };
  }
  if (/unable to validate against any pod security policy/.test(text)) {
    return { kind: 'admission', message: `${lead}: a PodSecurityPolicy refuses privileged pods: ${one}`, hint: 'allow a privileged PodSecurityPolicy (use) for the user who runs podnet', retryable: false };
  }
  if (/exceeded quota|failed quota|must specify (limits|requests)/.test(text)) {
    return {
      kind: 'admission',
      message: `${lead}: a ResourceQuota in ${ns ?? 'the namespace'} refuses it: ${one}`,
      hint: ctx.namespaceOwned === false ? 'the helper pods request cpu 10m and memory 32Mi and set no limits: drop --namespace so podnet uses a namespace of its own, or raise the quota' : 'raise or remove the quota',
      retryable: false,
    };
  }
  if (/(maximum|minimum) \S+ usage per (Container|Pod)|LimitRange/.test(text)) {
    return {
      kind: 'admission',
      message: `${lead}: a LimitRange in ${ns ?? 'the namespace'} refuses it: ${one}`,
      hint: ctx.namespaceOwned === false ? 'drop --namespace so podnet uses a namespace of its own, or relax the LimitRange' : 'relax the LimitRange',
      retryable: false,
    };
  }
  if (/error looking up service account/.test(text)) {
    return {
      kind: 'admission',
      message: `${lead}: the namespace's default ServiceAccount does not exist yet: ${one}`,
      hint: 'a new namespace gets it within seconds from the controller manager; if this lasts, kube-controller-manager\'s serviceaccount controller is not running',
      retryable: true,
    };
  }
  if (/because it is being terminated/.test(text)) {
    return { kind: 'conflict', message: `${lead}: the namespace${ns ? ` ${ns}` : ''} is being deleted`, hint: ctx.namespaceOwned === false ? 'wait until it is gone, or name another --namespace' : 'run podnet again', retryable: false };
  }

  switch (code) {
    case 401:
      return {
        kind: 'unauthorized',
        message: `${lead}: the API server did not accept the credentials (401 Unauthorized)`,
        hint: 'the kubeconfig\'s credentials are wrong or expired: renew them (log in again, refresh the token), then check with kubectl auth whoami',
        retryable: false,
      };
    case 403:
      return rbac(text, ctx, lead);
    case 404: {
      const missingNs = /^namespaces "([^"]+)" not found/.exec(text)?.[1] ?? (status?.details?.kind === 'namespaces' ? status.details.name : undefined);
      if (missingNs) {
        return {
          kind: 'not-found',
          message: `${lead}: the namespace ${missingNs} does not exist`,
          hint: ctx.namespaceOwned === false ? `create it (kubectl create namespace ${missingNs}) or drop --namespace and podnet creates one of its own` : `podnet's namespace ${missingNs} was deleted while it ran: run podnet again`,
          retryable: false,
        };
      }
      if (/the server could not find the requested resource/.test(text)) {
        return { kind: 'not-found', message: `${lead}: the API server does not serve ${ctx.resource} (404)`, hint: 'check that the kubeconfig\'s server is a Kubernetes API server (and no proxy path is missing)', retryable: false };
      }
      if (!text) {
        return { kind: 'not-found', message: `${lead}: not found (404)`, hint: /^pods/.test(ctx.resource) ? 'the helper pod was deleted meanwhile: run podnet again' : 'it was deleted meanwhile: run podnet again', retryable: false };
      }
      return { kind: 'not-found', message: `${lead}: ${one}`, hint: /^pods "/.test(text) ? 'the pod was deleted while podnet needed it: run podnet again' : 'it was deleted meanwhile: run podnet again', retryable: false };
    }
    case 409:
      if (status?.reason === 'AlreadyExists' || /already exists/.test(text)) {
        return { kind: 'exists', message: `${lead}: ${one}`, hint: 'left by an earlier run? podnet removes expired ones itself; otherwise delete it (kubectl delete) and run podnet again', retryable: false };
      }
      return { kind: 'conflict', message: `${lead}: ${one}`, hint: 'it changed meanwhile: run podnet again', retryable: true };
    case 400:
    case 422: {
      const image = (status?.details?.causes ?? []).some((c) => /image/.test(c.field ?? '')) || /\.image\b|image name/i.test(text);
      return {
        kind: 'invalid',
        message: `${lead}: the API refused it as invalid: ${one}`,
        hint: image ? 'check --image (or the inventory\'s image field): it must be a valid image reference' : 'this is a bug in podnet: please report it with this message',
        retryable: false,
      };
    }
    case 429:
      return { kind: 'throttled', message: `${lead}: the API server asks to slow down (429 Too Many Requests)`, hint: 'run podnet again, or with a lower --concurrency', retryable: true };
    default:
      if (code >= 500) {
        return {
          kind: 'server',
          message: `${lead}: the API server failed (${code}${status?.reason ? ` ${status.reason}` : ''})${one ? `: ${one}` : ''}`,
          hint: 'the API server or etcd is in trouble: check the control plane (kubectl get --raw /readyz?verbose) and run podnet again',
          retryable: code === 503 || code === 504 || code === 500,
        };
      }
      return { kind: 'other', message: `${lead}: the API answered ${code}${one ? `: ${one}` : ''}`, hint: 'run again with --verbose for the details', retryable: false };
  }
}
