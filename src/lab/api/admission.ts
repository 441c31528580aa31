/**
 * PodSecurity admission (the built-in Pod Security Standards): a namespace labelled
 * pod-security.kubernetes.io/enforce=baseline|restricted rejects pods that break its level with a 403
 * whose message lists the failed checks as the real admission plugin words them
 * (`violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true), privileged (…)`); the
 * warn label adds the same text as a warning instead.
 */
import { forbidden, type ApiError } from './status.js';
import type { Container, KObject, Pod } from './types.js';

export type Level = 'privileged' | 'baseline' | 'restricted';
const LEVELS: Level[] = ['privileged', 'baseline', 'restricted'];
export const PSA_PREFIX = 'pod-security.kubernetes.io/';

export interface CheckFailure {
  reason: string;
  detail: string;
}

/** Baseline allows adding only these capabilities (the container runtimes' defaults). */
const BASELINE_CAPS = ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'];
const RESTRICTED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

function allContainers(pod: Pod): Container[] {
  return [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? []), ...(pod.spec.ephemeralContainers ?? [])];
}

const quoted = (xs: readonly (string | number)[]) => xs.map((x) => (typeof x === 'number' ? String(x) : JSON.stringify(x))).join(', ');
/** `container "a"` or `containers "a", "b"` */
const containersNamed = (names: string[]) => `${names.length === 1 ? 'container' : 'containers'} ${quoted(names)}`;

type Check = { id: string; level: Level; run: (pod: Pod) => CheckFailure | undefined };

/** The checks in the order the admission plugin reports them (by check id). */
const CHECKS: Check[] = [
  {
    id: 'allowPrivilegeEscalation',
    level: 'restricted',
    run: (pod) => {
      const bad = allContainers(pod).filter((c) => c.securityContext?.allowPrivilegeEscalation !== false).map((c) => c.name);
      return bad.length ? { reason: 'allowPrivilegeEscalation != false', detail: `${containersNamed(bad)} must set securityContext.allowPrivilegeEscalation=false` } : undefined;
    },
  },
  {
    id: 'capabilities_baseline',
    level: 'baseline',
    run: (pod) => {
      const bad = allContainers(pod).filter((c) => (c.securityContext?.capabilities?.add ?? []).some((cap) => !BASELINE_CAPS.includes(cap)));
      if (!bad.length) return undefined;
      const caps = [...new Set(bad.flatMap((c) => (c.securityContext?.capabilities?.add ?? []).filter((cap) => !BASELINE_CAPS.includes(cap))))];
      return { reason: 'non-default capabilities', detail: `${containersNamed(bad.map((c) => c.name))} must not include ${quoted(caps)} in securityContext.capabilities.add` };
    },
  },
  {
    id: 'capabilities_restricted',
    level: 'restricted',
    run: (pod) => {
      const cs = allContainers(pod);
      const noDrop = cs.filter((c) => !(c.securityContext?.capabilities?.drop ?? []).includes('ALL')).map((c) => c.name);
      const adds = cs.filter((c) => (c.securityContext?.capabilities?.add ?? []).some((cap) => cap !== 'NET_BIND_SERVICE'));
      const parts: string[] = [];
      if (noDrop.length) parts.push(`${containersNamed(noDrop)} must set securityContext.capabilities.drop=["ALL"]`);
      if (adds.length) {
        const caps = [...new Set(adds.flatMap((c) => (c.securityContext?.capabilities?.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE')))];
        parts.push(`${containersNamed(adds.map((c) => c.name))} must not include ${quoted(caps)} in securityContext.capabilities.add`);
      }
      return parts.length ? { reason: 'unrestricted capabilities', detail: parts.join('; ') } : undefined;
    },
  },
  {
    id: 'hostNamespaces',
    level: 'baseline',
    run: (pod) => {
      const set = (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((k) => pod.spec[k] === true).map((k) => `${k}=true`);
      return set.length ? { reason: 'host namespaces', detail: set.join(', ') } : undefined;
    },
  },
  {
    id: 'hostPathVolumes',
    level: 'baseline',
    run: (pod) => {
      const bad = (pod.spec.volumes ?? []).filter((v) => v.hostPath).map((v) => v.name);
      return bad.length ? { reason: 'hostPath volumes', detail: `${bad.length === 1 ? 'volume' : 'volumes'} ${quoted(bad)}` } : undefined;
    },
  },
  {
    id: 'hostPorts',
    level: 'baseline',
    run: (pod) => {
      const bad = allContainers(pod).filter((c) => (c.ports ?? []).some((p) => (p.hostPort ?? 0) > 0));
      if (!bad.length) return undefined;
      const ports = [...new Set(bad.flatMap((c) => (c.ports ?? []).map((p) => p.hostPort ?? 0).filter((p) => p > 0)))];
      return { reason: 'hostPort', detail: `${containersNamed(bad.map((c) => c.name))} ${bad.length === 1 ? 'uses' : 'use'} ${ports.length === 1 ? 'hostPort' : 'hostPorts'} ${quoted(ports)}` };
    },
  },
  {
    id: 'privileged',
    level: 'baseline',
    run: (pod) => {
      const bad = allContainers(pod).filter((c) => c.securityContext?.privileged === true).map((c) => c.name);
      return bad.length ? { reason: 'privileged', detail: `${containersNamed(bad)} must not set securityContext.privileged=true` } : undefined;
    },
  },
  {
    id: 'restrictedVolumes',
    level: 'restricted',
    run: (pod) => {
      const bad = (pod.spec.volumes ?? []).map((v) => ({ name: v.name, type: Object.keys(v).find((k) => k !== 'name') ?? '' })).filter((v) => !RESTRICTED_VOLUMES.includes(v.type));
      if (!bad.length) return undefined;
      const types = [...new Set(bad.map((v) => v.type))];
      return { reason: 'restricted volume types', detail: `${bad.length === 1 ? 'volume' : 'volumes'} ${quoted(bad.map((v) => v.name))} ${bad.length === 1 ? 'uses' : 'use'} restricted volume ${types.length === 1 ? 'type' : 'types'} ${quoted(types)}` };
    },
  },
  {
    id: 'runAsNonRoot',
    level: 'restricted',
    run: (pod) => {
      const podLevel = pod.spec.securityContext?.runAsNonRoot;
      if (podLevel === false) return { reason: 'runAsNonRoot != true', detail: 'pod must not set securityContext.runAsNonRoot=false' };
      const bad = allContainers(pod)
        .filter((c) => c.securityContext?.runAsNonRoot === false || (podLevel !== true && c.securityContext?.runAsNonRoot !== true))
        .map((c) => c.name);
      return bad.length ? { reason: 'runAsNonRoot != true', detail: `pod or ${containersNamed(bad)} must set securityContext.runAsNonRoot=true` } : undefined;
    },
  },
  {
    id: 'runAsUser',
    level: 'restricted',
    run: (pod) => {
      const parts: string[] = [];
      if (pod.spec.securityContext?.runAsUser === 0) parts.push('pod must not set runAsUser=0');
      const bad = allContainers(pod).filter((c) => c.securityContext?.runAsUser === 0).map((c) => c.name);
      if (bad.length) parts.push(`${containersNamed(bad)} must not set runAsUser=0`);
      return parts.length ? { reason: 'runAsUser=0', detail: parts.join('; ') } : undefined;
    },
  },
  {
    id: 'seccompProfile_baseline',
    level: 'baseline',
    run: (pod) => {
      const parts: string[] = [];
      if (pod.spec.securityContext?.seccompProfile?.type === 'Unconfined') parts.push('pod must not set securityContext.seccompProfile.type to "Unconfined"');
      const bad = allContainers(pod).filter((c) => c.securityContext?.seccompProfile?.type === 'Unconfined').map((c) => c.name);
      if (bad.length) parts.push(`${containersNamed(bad)} must not set securityContext.seccompProfile.type to "Unconfined"`);
      return parts.length ? { reason: 'seccompProfile', detail: parts.join('; ') } : undefined;
    },
  },
  {
    id: 'seccompProfile_restricted',
    level: 'restricted',
    run: (pod) => {
      const ok = (t: string | undefined) => t === 'RuntimeDefault' || t === 'Localhost';
      if (ok(pod.spec.securityContext?.seccompProfile?.type)) return undefined;
      const bad = allContainers(pod).filter((c) => !ok(c.securityContext?.seccompProfile?.type)).map((c) => c.name);
      return bad.length ? { reason: 'seccompProfile', detail: `pod or ${containersNamed(bad)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` } : undefined;
    },
  },
];

/** The failed checks of a level (restricted includes baseline's), in the plugin's order. */
export function checkPod(pod: Pod, level: Level): CheckFailure[] {
  if (level === 'privileged') return [];
  const levels: Level[] = level === 'baseline' ? ['baseline'] : ['baseline', 'restricted'];
  const out: CheckFailure[] = [];
  for (const c of CHECKS) {
    if (!levels.includes(c.level)) continue;
    // restricted's seccomp check supersedes baseline's
    if (level === 'restricted' && c.id === 'seccompProfile_baseline') continue;
    const f = c.run(pod);
    if (f) out.push(f);
  }
  return out;
}

function levelOf(value: string | undefined): Level | undefined {
  if (value === undefined) return undefined;
  // an unknown level is evaluated as the strictest, as the plugin does
  return LEVELS.includes(value as Level) ? (value as Level) : 'restricted';
}

export function describeFailures(level: Level, version: string, failures: CheckFailure[]): string {
  return `PodSecurity "${level}:${version}": ${failures.map((f) => `${f.reason} (${f.detail})`).join(', ')}`;
}

export interface AdmissionResult {
  /** the 403 when the namespace enforces a level the pod breaks */
  error?: ApiError;
  warnings: string[];
}

/** Admit a new pod into a namespace by the namespace's pod-security labels. */
export function admitPod(pod: Pod, namespace: KObject): AdmissionResult {
  const labels = namespace.metadata.labels ?? {};
  const warnings: string[] = [];
  const warn = levelOf(labels[`${PSA_PREFIX}warn`]);
  if (warn) {
    const f = checkPod(pod, warn);
    if (f.length) warnings.push(`would violate ${describeFailures(warn, labels[`${PSA_PREFIX}warn-version`] ?? 'latest', f)}`);
  }
  const enforce = levelOf(labels[`${PSA_PREFIX}enforce`]);
  if (enforce) {
    const f = checkPod(pod, enforce);
    if (f.length) {
      const version = labels[`${PSA_PREFIX}enforce-version`] ?? 'latest';
      return { error: forbidden('pods', pod.metadata.name, `violates ${describeFailures(enforce, version, f)}`), warnings };
    }
  }
  return { warnings };
}
