/**
 * The kubelet's part for the lab's nodes: a pod bound to a lab node runs there. Its images are "pulled"
 * from the lab's images dir (an unknown one fails as ErrImagePull, then ImagePullBackOff), its containers
 * start in the node's namespaces with their own root filesystem, exits are restarted by the restart
 * policy (CrashLoopBackOff), activeDeadlineSeconds ends it (DeadlineExceeded), and a graceful delete sends
 * SIGTERM, waits the grace period, kills what is left and removes the pod. Each container instance has a
 * cgroup of its own (with cgroup v2) that `pods/exec` sessions join too: when the container's main
 * process exits, whatever is left in it dies with it, as containerd does — also the sessions of a hostPID
 * pod that entered the node's namespaces. Every step writes the pod's status and the events a real
 * kubelet records. A pod bound to a node the lab does not have stays Pending, with an event that says so.
 */
import { rmSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { NODE_RUNTIME_DIR, nodeMountNsFile, nodeRuntimeHostDir, nodeUtsNsFile } from '../render.js';
import { hostIps, type LabHost, type LabPlan } from '../topology.js';
import type { EventRecorder } from './events.js';
import { findImage, IMAGES, normalizeImageRef, shortRefs, type ImageInfo } from './images.js';
import { computePodStatus, type PodView } from './podstatus.js';
import { sandboxFor, unsupported, type PodContext } from './podspec.js';
import { createCgroup, killCgroup, killNamespace, removeCgroup, signalProcess, startContainer, type ContainerProcess } from './runtime.js';
import { cgroupJoinArgv, sandboxExecArgv, type SandboxSpec } from './sandbox.js';
import type { Change, Store } from './store.js';
import { timestamp } from './store.js';
import { badRequest } from './status.js';
import type { Container, ContainerStatus, Pod } from './types.js';

interface ContainerState {
  spec: Container;
  status: ContainerStatus;
  image?: ImageInfo;
  proc?: ContainerProcess;
  sandbox?: SandboxSpec;
  /** mount namespaces of every instance, for killing what exec left behind */
  mntInos: number[];
  /** the running instance's cgroup, and those of every instance */
  cgroup?: string;
  cgroups: string[];
  timer?: NodeJS.Timeout;
  pullFailures: number;
  logFile?: string;
  previousLog?: string;
}

interface PodState {
  uid: string;
  namespace: string;
  name: string;
  node: LabHost;
  /** the pod's directory on the host, and as its node sees it */
  dir: string;
  nodeDir: string;
  startTime: string;
  containers: ContainerState[];
  final?: PodView['final'];
  terminating: boolean;
  timers: NodeJS.Timeout[];
}

export interface KubeletDeps {
  store: Store;
  events: EventRecorder;
  plan: LabPlan;
  images: ImageInfo[];
  apiHost: string;
  apiPort: number;
  /** the node's PID namespace for hostPID pods (NodeMonitor's) */
  nodePidNs: (node: LabHost) => string;
  /** the cgroup (v2) below which each container instance gets its own; none: containers share the server's */
  cgroupRoot?: string;
  log: (line: string) => void;
}

const MAX_BACKOFF_S = 300;
const backoffSeconds = (n: number) => Math.min(10 * 2 ** Math.max(0, n - 1), MAX_BACKOFF_S);

function imageNotFound(ref: string): string {
  const n = normalizeImageRef(ref);
  const have = IMAGES.flatMap(shortRefs).join(', ');
  return `rpc error: code = NotFound desc = failed to pull and unpack image "${n}": failed to resolve reference "${n}": ${n}: not found (the podnet lab's stand-in has only the images ${have})`;
}

export class Kubelet {
  private readonly pods = new Map<string, PodState>();
  private readonly warnedUnknownNode = new Set<string>();

  constructor(private readonly d: KubeletDeps) {}

  start(): void {
    this.d.store.subscribe((c) => this.onChange(c));
    for (const p of this.d.store.list('pods')) this.onPod('ADDED', p as Pod);
  }

  private onChange(c: Change): void {
    if (c.resource !== 'pods') return;
    // defer: a change is handled after the store has told everyone about it
    queueMicrotask(() => this.onPod(c.type, c.object as Pod));
  }

  private source(node: string) {
    return { component: 'kubelet', host: node };
  }

  private event(st: PodState, type: 'Normal' | 'Warning', reason: string, message: string, container?: string): void {
    const pod = this.d.store.get('pods', st.namespace, st.name);
    if (!pod || pod.metadata.uid !== st.uid) return;
    this.d.events.record(pod, type, reason, message, this.source(st.node.name), container ? `spec.containers{${container}}` : undefined);
  }

  private onPod(type: Change['type'], pod: Pod): void {
    const uid = pod.metadata.uid!;
    const st = this.pods.get(uid);
    if (type === 'DELETED') {
      this.warnedUnknownNode.delete(uid);
      if (st) void this.forget(st);
      return;
    }
    if (st) {
      if (pod.metadata.deletionTimestamp && !st.terminating) this.terminate(st, pod.metadata.deletionGracePeriodSeconds ?? 30);
      return;
    }
    const nodeName = pod.spec.nodeName;
    if (!nodeName) return;
    const node = this.d.plan.nodes.find((n) => n.name === nodeName);
    if (!node) {
      if (!this.warnedUnknownNode.has(uid)) {
        this.warnedUnknownNode.add(uid);
        const nodes = this.d.plan.nodes.map((n) => n.name).join(', ');
        this.d.events.record(pod, 'Warning', 'FailedScheduling', `pod is bound to node "${nodeName}", which is not a node of this lab (its nodes: ${nodes}): no kubelet will run it`, { component: 'podnet-lab-api' });
      }
      return;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    this.admit(pod, node);
  }

  private podContext(st: PodState): PodContext {
    return { nodeName: st.node.name, hostIPs: hostIps(st.node), podDir: st.nodeDir, apiHost: this.d.apiHost, apiPort: this.d.apiPort };
  }

  private admit(pod: Pod, node: LabHost): void {
    const uid = pod.metadata.uid!;
    const st: PodState = {
      uid,
      namespace: pod.metadata.namespace!,
      name: pod.metadata.name!,
      node,
      dir: `${nodeRuntimeHostDir(this.d.plan, node)}/${uid}`,
      nodeDir: `${NODE_RUNTIME_DIR}/pods/${uid}`,
      startTime: timestamp(),
      containers: pod.spec.containers.map((c) => ({
        spec: c,
        status: { name: c.name, state: { waiting: { reason: 'ContainerCreating' } }, lastState: {}, ready: false, restartCount: 0, image: c.image ?? '', imageID: '', started: false },
        mntInos: [],
        cgroups: [],
        pullFailures: 0,
      })),
      terminating: false,
      timers: [],
    };
    this.pods.set(uid, st);
    const rejected = unsupported(pod);
    if (rejected) {
      st.final = { phase: 'Failed', reason: rejected.reason, message: `Pod was rejected: ${rejected.message}` };
      st.containers = [];
      this.d.log(`${node.name}: pod ${st.namespace}/${st.name} rejected: ${rejected.reason}`);
      this.event(st, 'Warning', rejected.reason, rejected.message);
      this.writeStatus(st);
      return;
    }
    this.writeStatus(st);
    if (pod.spec.activeDeadlineSeconds) st.timers.push(setTimeout(() => void this.deadlineExceeded(st), pod.spec.activeDeadlineSeconds * 1000));
    for (const c of st.containers) void this.pullAndStart(st, c);
  }

  private writeStatus(st: PodState): void {
    const pod = this.d.store.get('pods', st.namespace, st.name) as Pod | undefined;
    if (!pod || pod.metadata.uid !== st.uid) return;
    const view: PodView = {
      containers: st.containers.map((c) => structuredClone(c.status)),
      restartPolicy: pod.spec.restartPolicy ?? 'Always',
      startTime: st.startTime,
      hostIPs: hostIps(st.node),
      ...(st.final ? { final: st.final } : {}),
    };
    this.d.store.update('pods', { ...pod, status: computePodStatus(pod.status, view, timestamp()) });
  }

  private later(st: PodState, c: ContainerState, ms: number, fn: () => void): void {
    if (c.timer) clearTimeout(c.timer);
    c.timer = setTimeout(() => {
      c.timer = undefined;
      if (!st.terminating && !st.final) fn();
    }, ms);
  }

  private async pullAndStart(st: PodState, c: ContainerState): Promise<void> {
    if (st.terminating || st.final) return;
    const ref = c.spec.image ?? '';
    const policy = String(c.spec.imagePullPolicy ?? 'IfNotPresent');
    const def = findImage(ref);
    const info = def && this.d.images.find((i) => i.def === def);
    const name = c.spec.name;
    if (!info) {
      if (policy === 'Never') {
        const msg = `Container image "${ref}" is not present with pull policy of Never`;
        c.status.state = { waiting: { reason: 'ErrImageNeverPull', message: msg } };
        this.event(st, 'Warning', 'ErrImageNeverPull', msg, name);
        this.event(st, 'Warning', 'Failed', 'Error: ErrImageNeverPull', name);
        this.writeStatus(st);
        return;
      }
      const msg = imageNotFound(ref);
      this.event(st, 'Normal', 'Pulling', `Pulling image "${ref}"`, name);
      this.event(st, 'Warning', 'Failed', `Failed to pull image "${ref}": ${msg}`, name);
      this.event(st, 'Warning', 'Failed', 'Error: ErrImagePull', name);
      c.status.state = { waiting: { reason: 'ErrImagePull', message: msg } };
      this.writeStatus(st);
      const wait = backoffSeconds(++c.pullFailures);
      this.later(st, c, 1000, () => {
        c.status.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${ref}": ErrImagePull: ${msg}` } };
        this.event(st, 'Normal', 'BackOff', `Back-off pulling image "${ref}"`, name);
        this.event(st, 'Warning', 'Failed', 'Error: ImagePullBackOff', name);
        this.writeStatus(st);
        this.later(st, c, wait * 1000, () => void this.pullAndStart(st, c));
      });
      return;
    }
    if (policy === 'Always') {
      this.event(st, 'Normal', 'Pulling', `Pulling image "${ref}"`, name);
      this.event(st, 'Normal', 'Pulled', `Successfully pulled image "${ref}" in 1ms (1ms including waiting). Image size: ${info.sizeBytes} bytes.`, name);
    } else {
      this.event(st, 'Normal', 'Pulled', `Container image "${ref}" already present on machine`, name);
    }
    c.image = info;
    await this.startOne(st, c);
  }

  private async startOne(st: PodState, c: ContainerState): Promise<void> {
    if (st.terminating || st.final || !c.image) return;
    const pod = this.d.store.get('pods', st.namespace, st.name) as Pod | undefined;
    if (!pod || pod.metadata.uid !== st.uid) return;
    const name = c.spec.name;
    const instance = `${name}-${c.status.restartCount}`;
    const node = { netns: st.node.netns, mntFile: nodeMountNsFile(this.d.plan, st.node), utsFile: nodeUtsNsFile(this.d.plan, st.node), pidNsFile: this.d.nodePidNs(st.node) };
    const sandbox = sandboxFor(pod, c.spec, c.image, this.podContext(st), node, `${st.nodeDir}/${instance}`);
    this.event(st, 'Normal', 'Created', `Created container: ${name}`, name);
    if (c.logFile) c.previousLog = c.logFile;
    c.logFile = `${st.dir}/${instance}.log`;
    const cgroup = this.d.cgroupRoot ? `${this.d.cgroupRoot}/${st.uid}/${instance}` : undefined;
    const inCgroup = cgroup !== undefined && createCgroup(cgroup);
    if (inCgroup) c.cgroups.push(cgroup);
    const r = await startContainer(sandbox, `${st.dir}/${instance}`, c.logFile, inCgroup ? { cgroupDir: cgroup } : {});
    if (!r.ok) {
      if (inCgroup) void killCgroup(cgroup).then(() => removeCgroup(cgroup));
      this.d.log(`${st.node.name}: pod ${st.namespace}/${st.name}: container ${name} did not start: ${r.message}`);
      c.status.state = { waiting: { reason: 'CreateContainerError', message: r.message } };
      this.event(st, 'Warning', 'Failed', `Error: ${r.message}`, name);
      this.writeStatus(st);
      this.later(st, c, backoffSeconds(++c.pullFailures) * 1000, () => void this.startOne(st, c));
      return;
    }
    const proc = r.process;
    c.proc = proc;
    c.sandbox = sandbox;
    c.cgroup = inCgroup ? cgroup : undefined;
    c.mntInos.push(proc.mntIno);
    if (st.terminating || st.final) {
      signalProcess(proc.pid, 'SIGKILL');
      await this.killInstance(c, proc);
      return;
    }
    const containerID = `podnet-lab://${randomBytes(32).toString('hex')}`;
    const startedAt = timestamp(proc.startedAt);
    c.status = {
      ...c.status,
      state: { running: { startedAt } },
      ready: true,
      started: true,
      containerID,
      imageID: `${c.image.def.refs[0]!.replace(/:[^:/]+$/, '')}@${c.image.digest}`,
    };
    this.event(st, 'Normal', 'Started', `Started container ${name}`, name);
    this.writeStatus(st);
    void proc.exited.then((code) => this.onExit(st, c, proc, code, startedAt, containerID));
  }

  private startError(c: ContainerState, code: number): string | undefined {
    if (code !== 126 && code !== 127) return undefined;
    let last = '';
    try {
      last = readFileSync(c.logFile!, 'utf8').trim().split('\n').pop() ?? '';
    } catch {
      return undefined;
    }
    return /^unshare: failed to execute/.test(last) ? last : undefined;
  }

  /** Kill what is left of one container instance: its cgroup (exec sessions included) and its mount namespace. */
  private async killInstance(c: ContainerState, proc: ContainerProcess): Promise<void> {
    await Promise.all([c.cgroup ? killCgroup(c.cgroup) : undefined, killNamespace(proc.mntIno)]);
  }

  private onExit(st: PodState, c: ContainerState, proc: ContainerProcess, code: number, startedAt: string, containerID: string): void {
    if (c.proc !== proc) return;
    c.proc = undefined;
    // the main process is gone: so is everything else in the container, as when containerd's shim sees its init exit
    const cgroup = c.cgroup;
    void this.killInstance(c, proc).then(() => cgroup && removeCgroup(cgroup));
    const startErr = this.startError(c, code);
    const terminated = {
      exitCode: startErr ? 128 : code,
      reason: startErr ? 'StartError' : code === 0 ? 'Completed' : 'Error',
      ...(startErr ? { message: startErr } : {}),
      startedAt,
      finishedAt: timestamp(),
      containerID,
    };
    const name = c.spec.name;
    this.d.log(`${st.node.name}: pod ${st.namespace}/${st.name}: container ${name} exited ${terminated.exitCode} (${terminated.reason})`);
    if (st.terminating || st.final) {
      c.status = { ...c.status, state: { terminated }, ready: false, started: false };
      if (!st.terminating) this.writeStatus(st);
      return;
    }
    const spec = this.d.store.get('pods', st.namespace, st.name)?.spec as { restartPolicy?: string } | undefined;
    const restartPolicy = spec?.restartPolicy ?? 'Always';
    const restart = restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && terminated.exitCode !== 0);
    if (!restart) {
      c.status = { ...c.status, state: { terminated }, ready: false, started: false };
      this.writeStatus(st);
      return;
    }
    const delay = c.status.restartCount === 0 ? 0 : backoffSeconds(c.status.restartCount);
    c.status = { ...c.status, lastState: { terminated }, ready: false, started: false };
    if (delay > 0) {
      const podRef = `${st.name}_${st.namespace}(${st.uid})`;
      c.status.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${delay}s restarting failed container=${name} pod=${podRef}` } };
      this.event(st, 'Warning', 'BackOff', `Back-off restarting failed container ${name} in pod ${podRef}`, name);
    } else {
      c.status.state = { terminated };
    }
    this.writeStatus(st);
    this.later(st, c, delay * 1000, () => {
      c.status.restartCount++;
      void this.startOne(st, c);
    });
  }

  private clearTimers(st: PodState): void {
    for (const t of st.timers) clearTimeout(t);
    for (const c of st.containers) if (c.timer) clearTimeout(c.timer);
  }

  private async deadlineExceeded(st: PodState): Promise<void> {
    if (st.final || st.terminating) return;
    const message = 'Pod was active on the node longer than the specified deadline';
    st.final = { phase: 'Failed', reason: 'DeadlineExceeded', message };
    this.clearTimers(st);
    this.event(st, 'Normal', 'DeadlineExceeded', message);
    const running = st.containers.filter((c) => c.proc);
    for (const c of running) this.event(st, 'Normal', 'Killing', `Stopping container ${c.spec.name}`, c.spec.name);
    await Promise.all(running.map(async (c) => {
      const p = c.proc!;
      signalProcess(p.pid, 'SIGKILL');
      await this.killInstance(c, p);
      await p.exited;
    }));
    this.writeStatus(st);
  }

  /** Graceful deletion: SIGTERM now, SIGKILL after the grace period, then the pod object goes. */
  private terminate(st: PodState, graceSeconds: number): void {
    st.terminating = true;
    this.clearTimers(st);
    const running = st.containers.filter((c) => c.proc);
    for (const c of running) {
      this.event(st, 'Normal', 'Killing', `Stopping container ${c.spec.name}`, c.spec.name);
      signalProcess(c.proc!.pid, 'SIGTERM');
    }
    const kill = setTimeout(() => {
      for (const c of running) if (c.proc) void this.killInstance(c, c.proc);
    }, Math.max(0, graceSeconds) * 1000);
    void Promise.all(running.map((c) => c.proc!.exited)).then(async () => {
      clearTimeout(kill);
      await this.killLeftovers(st);
      const pod = this.d.store.get('pods', st.namespace, st.name);
      if (pod && pod.metadata.uid === st.uid && !(pod.metadata.finalizers ?? []).length) this.d.store.remove('pods', st.namespace, st.name);
    });
  }

  private async killLeftovers(st: PodState): Promise<void> {
    for (const c of st.containers) {
      if (c.proc) signalProcess(c.proc.pid, 'SIGKILL');
      for (const cg of c.cgroups) await killCgroup(cg);
      for (const ino of c.mntInos) await killNamespace(ino);
    }
  }

  /** The pod object is gone: whatever still runs is killed at once, and its files removed. */
  private async forget(st: PodState): Promise<void> {
    this.pods.delete(st.uid);
    st.terminating = true;
    this.clearTimers(st);
    await this.killLeftovers(st);
    if (this.d.cgroupRoot) removeCgroup(`${this.d.cgroupRoot}/${st.uid}`);
    rmSync(st.dir, { recursive: true, force: true });
  }

  /** Stop every container (the API server is shutting down). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.pods.values()].map((st) => this.forget(st)));
  }

  private runningContainer(pod: Pod, container: string | undefined, what: string): { st: PodState; c: ContainerState } {
    const st = this.pods.get(pod.metadata.uid!);
    const names = pod.spec.containers.map((c) => c.name);
    const name = container || (names.length === 1 ? names[0] : undefined);
    if (!name) throw badRequest(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${names.join(' ')}]`);
    if (!names.includes(name)) throw badRequest(`container ${name} is not valid for pod ${pod.metadata.name}`);
    const phase = pod.status?.phase;
    if (what === 'exec' && (phase === 'Succeeded' || phase === 'Failed')) throw badRequest(`cannot exec into a container in a completed pod; current phase is ${phase}`);
    const c = st?.containers.find((x) => x.spec.name === name);
    if (!st || !c) throw badRequest(`container "${name}" in pod "${pod.metadata.name}" is waiting to start: ${pod.status?.containerStatuses?.find((s) => s.name === name)?.state.waiting?.reason ?? 'ContainerCreating'}`);
    return { st, c };
  }

  /** The argv that runs a command in a running container (pods/exec), or a 400 naming why not. */
  execArgv(pod: Pod, container: string | undefined, command: string[]): string[] {
    const { c } = this.runningContainer(pod, container, 'exec');
    if (!c.proc || !c.sandbox) throw badRequest(`unable to upgrade connection: container not found ("${c.spec.name}")`);
    const argv = sandboxExecArgv(c.sandbox, c.proc.pid, command);
    // in the container's cgroup, so the session ends with the container even after it left its namespaces
    return c.cgroup ? cgroupJoinArgv(c.cgroup, argv) : argv;
  }

  /** A container's log file (pods/log), the previous instance's with `previous`. */
  logFile(pod: Pod, container: string | undefined, previous: boolean): { file: string; running: () => boolean } {
    const { c } = this.runningContainer(pod, container, 'log');
    const file = previous ? c.previousLog : c.logFile;
    if (!file) {
      if (previous) throw badRequest(`previous terminated container "${c.spec.name}" in pod "${pod.metadata.name}" not found`);
      throw badRequest(`container "${c.spec.name}" in pod "${pod.metadata.name}" is waiting to start: ${c.status.state.waiting?.reason ?? 'ContainerCreating'}`);
    }
    return { file, running: () => !previous && c.proc !== undefined && c.logFile === file };
  }

  /** How many pods run on a node (the scheduler spreads by it). */
  podsOn(node: string): number {
    return [...this.pods.values()].filter((p) => p.node.name === node && !p.final).length;
  }
}
