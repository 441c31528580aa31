/**
 * From a pod and one of its containers to what the runtime runs (sandbox.ts): the command (the image's
 * CMD unless the pod names one), the environment (the image's, the API's service variables, the pod's
 * own with fieldRefs resolved), volumes, credentials and capabilities. And what the stand-in kubelet
 * refuses to run, with the reason it rejects the pod for.
 */
import { NODE_RUNTIME_DIR } from '../render.js';
import type { ImageInfo } from './images.js';
import type { SandboxMount, SandboxSpec } from './sandbox.js';
import type { Container, Pod } from './types.js';

export interface Rejection {
  reason: string;
  message: string;
}

/** What the stand-in kubelet cannot run; the pod is rejected (Failed) with this reason. */
export function unsupported(pod: Pod): Rejection | undefined {
  if (pod.spec.hostNetwork !== true) {
    return {
      reason: 'PodNetworkUnsupported',
      message: "the podnet lab's stand-in kubelet runs hostNetwork pods only: pod networking (a sandbox with the node's CNI config) is out of its scope",
    };
  }
  if (pod.spec.initContainers?.length) return { reason: 'InitContainersUnsupported', message: "the podnet lab's stand-in kubelet does not run init containers" };
  for (const v of pod.spec.volumes ?? []) {
    if (!v.hostPath && !v.emptyDir) {
      const type = Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
      return { reason: 'VolumeUnsupported', message: `volume "${v.name}" is of type ${type}: the podnet lab's stand-in kubelet mounts hostPath and emptyDir volumes only` };
    }
  }
  return undefined;
}

export interface PodContext {
  nodeName: string;
  hostIPs: string[];
  /** the pod's directory as the node sees it */
  podDir: string;
  apiHost: string;
  apiPort: number;
}

function fieldValue(pod: Pod, path: string, ctx: PodContext): string | undefined {
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace;
    case 'metadata.uid':
      return pod.metadata.uid;
    case 'spec.nodeName':
      return ctx.nodeName;
    case 'spec.serviceAccountName':
      return String(pod.spec.serviceAccountName ?? 'default');
    case 'status.hostIP':
    case 'status.podIP':
      return ctx.hostIPs[0];
    case 'status.hostIPs':
    case 'status.podIPs':
      return ctx.hostIPs.join(',');
    default: {
      const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
      if (m) return (m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations)?.[m[2]!];
      return undefined;
    }
  }
}

/** The container's environment, in the order a real kubelet builds it (later entries win). */
export function containerEnv(pod: Pod, c: Container, image: ImageInfo, ctx: PodContext): [string, string][] {
  const env = new Map<string, string>();
  for (const kv of image.def.env) {
    const i = kv.indexOf('=');
    env.set(kv.slice(0, i), kv.slice(i + 1));
  }
  env.set('HOSTNAME', ctx.nodeName);
  // the API's address, as every pod gets it (here: the stand-in's, on the operator's lab address)
  env.set('KUBERNETES_SERVICE_HOST', ctx.apiHost);
  env.set('KUBERNETES_SERVICE_PORT', String(ctx.apiPort));
  env.set('KUBERNETES_SERVICE_PORT_HTTPS', String(ctx.apiPort));
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env.set(e.name, e.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, n: string) => env.get(n) ?? m));
    else if (e.valueFrom?.fieldRef?.fieldPath) env.set(e.name, fieldValue(pod, e.valueFrom.fieldRef.fieldPath, ctx) ?? '');
    else if (!e.valueFrom) env.set(e.name, '');
  }
  return [...env.entries()];
}

/** The container's argv: command and args as Kubernetes combines them with the image's ENTRYPOINT and CMD. */
export function containerArgv(c: Container, image: ImageInfo): string[] {
  if (c.command?.length) return [...c.command, ...(c.args ?? [])];
  if (c.args?.length) return [...c.args];
  return [...image.def.cmd];
}

function mountsOf(pod: Pod, c: Container, ctx: PodContext): SandboxMount[] {
  return (c.volumeMounts ?? []).map((m) => {
    const v = (pod.spec.volumes ?? []).find((x) => x.name === m.name)!;
    if (v.hostPath) {
      const type = v.hostPath.type ?? '';
      const create = type === 'DirectoryOrCreate' ? 'directory' : type === 'FileOrCreate' ? 'file' : undefined;
      return { source: v.hostPath.path, target: m.mountPath, readOnly: m.readOnly === true, ...(create ? { create } : {}) };
    }
    return { source: `${ctx.podDir}/volumes/${v.name}`, target: m.mountPath, readOnly: m.readOnly === true, create: 'directory' as const };
  });
}

export interface NodeNamespaces {
  netns: string;
  mntFile: string;
  utsFile: string;
  pidNsFile: string;
}

export function sandboxFor(pod: Pod, c: Container, image: ImageInfo, ctx: PodContext, node: NodeNamespaces, dir: string): SandboxSpec {
  const podSc = pod.spec.securityContext ?? {};
  const sc = c.securityContext ?? {};
  const runAsUser = sc.runAsUser ?? podSc.runAsUser;
  const runAsGroup = sc.runAsGroup ?? podSc.runAsGroup;
  return {
    ...node,
    dir,
    imageDir: `${NODE_RUNTIME_DIR}/images/${image.def.name}`,
    hostPID: pod.spec.hostPID === true,
    hostIPC: pod.spec.hostIPC === true,
    privileged: sc.privileged === true,
    capAdd: sc.capabilities?.add ?? [],
    capDrop: sc.capabilities?.drop ?? [],
    ...(runAsUser !== undefined ? { runAsUser } : {}),
    ...(runAsGroup !== undefined ? { runAsGroup } : {}),
    readOnlyRootFilesystem: sc.readOnlyRootFilesystem === true,
    mounts: mountsOf(pod, c, ctx),
    hostname: ctx.nodeName,
    hosts: ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', ...ctx.hostIPs.map((ip) => `${ip}\t${ctx.nodeName}`)],
    env: containerEnv(pod, c, image, ctx),
    workingDir: c.workingDir ?? '/',
    argv: containerArgv(c, image),
  };
}
