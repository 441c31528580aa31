/**
 * What the API server checks and fills in before it stores an object: names (RFC 1123), the required
 * fields of a pod and the values it allows, and the defaults the real server sets (restartPolicy,
 * imagePullPolicy, terminationGracePeriodSeconds, the not-ready/unreachable tolerations…). Errors are the
 * 422 Invalid bodies kubectl prints.
 */
import { invalid, type FieldError } from './status.js';
import type { Container, KObject, NodeSelectorRequirement, Pod, Toleration } from './types.js';

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

export function isDnsLabel(s: string): boolean {
  return s.length <= 63 && LABEL.test(s);
}

export function nameErrors(name: string | undefined, field: string, kind: 'label' | 'subdomain'): FieldError[] {
  if (!name) return [{ type: 'Required', field, detail: 'name or generateName is required' }];
  if (kind === 'label' && !isDnsLabel(name)) return [{ type: 'Invalid', field, value: name, detail: name.length > 63 ? 'must be no more than 63 characters' : LABEL_MSG }];
  if (kind === 'subdomain' && (name.length > 253 || !SUBDOMAIN.test(name))) return [{ type: 'Invalid', field, value: name, detail: name.length > 253 ? 'must be no more than 253 characters' : SUBDOMAIN_MSG }];
  return [];
}

/** "busybox" and "busybox:latest" are pulled Always; a fixed tag or digest IfNotPresent. */
export function defaultPullPolicy(image: string): string {
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.slice(image.lastIndexOf('/') + 1);
  const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

const DEFAULT_TOLERATIONS: Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

function defaultContainer(c: Container): Container {
  return {
    ...c,
    imagePullPolicy: c.imagePullPolicy ?? defaultPullPolicy(c.image ?? ''),
    terminationMessagePath: c.terminationMessagePath ?? '/dev/termination-log',
    terminationMessagePolicy: c.terminationMessagePolicy ?? 'File',
    resources: c.resources ?? {},
  };
}

/** The defaults the API server and its admission plugins add to a new pod. */
export function defaultPod(pod: Pod): Pod {
  const s = pod.spec;
  const tolerations = [...(s.tolerations ?? [])];
  // DefaultTolerationSeconds: unless the pod tolerates the taint already (an Exists toleration of everything counts)
  for (const t of DEFAULT_TOLERATIONS) {
    if (!tolerations.some((x) => (x.key === t.key || (x.key === undefined && x.operator === 'Exists')) && (x.effect === undefined || x.effect === '' || x.effect === t.effect))) tolerations.push(t);
  }
  const serviceAccountName = (s.serviceAccountName as string | undefined) ?? 'default';
  return {
    ...pod,
    spec: {
      ...s,
      containers: (s.containers ?? []).map(defaultContainer),
      ...(s.initContainers ? { initContainers: s.initContainers.map(defaultContainer) } : {}),
      restartPolicy: s.restartPolicy ?? 'Always',
      terminationGracePeriodSeconds: s.terminationGracePeriodSeconds ?? 30,
      dnsPolicy: s.dnsPolicy ?? 'ClusterFirst',
      securityContext: s.securityContext ?? {},
      schedulerName: s.schedulerName ?? 'default-scheduler',
      serviceAccountName,
      serviceAccount: serviceAccountName,
      enableServiceLinks: s.enableServiceLinks ?? true,
      preemptionPolicy: s.preemptionPolicy ?? 'PreemptLowerPriority',
      priority: s.priority ?? 0,
      tolerations,
    },
    status: { phase: 'Pending', qosClass: 'BestEffort' },
  };
}

function containerErrors(cs: Container[] | undefined, field: string, volumes: Set<string>, seen: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  (cs ?? []).forEach((c, i) => {
    const f = `${field}[${i}]`;
    if (!c.name) errs.push({ type: 'Required', field: `${f}.name` });
    else if (!isDnsLabel(c.name)) errs.push({ type: 'Invalid', field: `${f}.name`, value: c.name, detail: LABEL_MSG });
    else if (seen.has(c.name)) errs.push({ type: 'Duplicate', field: `${f}.name`, value: c.name });
    else seen.add(c.name);
    if (!c.image || !String(c.image).trim()) errs.push({ type: 'Required', field: `${f}.image` });
    (c.volumeMounts ?? []).forEach((m, j) => {
      if (!volumes.has(m.name)) errs.push({ type: 'NotFound', field: `${f}.volumeMounts[${j}].name`, value: m.name });
      if (!m.mountPath) errs.push({ type: 'Required', field: `${f}.volumeMounts[${j}].mountPath` });
    });
    if (c.command !== undefined && !Array.isArray(c.command)) errs.push({ type: 'Invalid', field: `${f}.command`, value: c.command, detail: 'must be a list of strings' });
  });
  return errs;
}

function requirementErrors(r: NodeSelectorRequirement, f: string, field: boolean): FieldError[] {
  const n = (r.values ?? []).length;
  if (field) {
    if (r.key !== 'metadata.name') return [{ type: 'NotSupported', field: `${f}.key`, value: r.key, supported: ['metadata.name'] }];
    if (r.operator !== 'In' && r.operator !== 'NotIn') return [{ type: 'Invalid', field: `${f}.operator`, value: r.operator, detail: 'not a valid selector operator' }];
    return n === 1 ? [] : [{ type: 'Required', field: `${f}.values`, detail: "must be only one value when `operator` is 'In' or 'NotIn' for node field selector" }];
  }
  if (r.operator === 'In' || r.operator === 'NotIn') return n ? [] : [{ type: 'Required', field: `${f}.values`, detail: "must be specified when `operator` is 'In' or 'NotIn'" }];
  if (r.operator === 'Exists' || r.operator === 'DoesNotExist') return n ? [{ type: 'Forbidden', field: `${f}.values`, detail: "may not be specified when `operator` is 'Exists' or 'DoesNotExist'" }] : [];
  if (r.operator === 'Gt' || r.operator === 'Lt') return n === 1 ? [] : [{ type: 'Required', field: `${f}.values`, detail: "must be specified single value when `operator` is 'Lt' or 'Gt'" }];
  return [{ type: 'Invalid', field: `${f}.operator`, value: r.operator, detail: 'not a valid selector operator' }];
}

/** The required node affinity, as ValidateNodeSelector checks it. */
function nodeAffinityErrors(spec: Pod['spec']): FieldError[] {
  const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return [];
  const base = 'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms';
  const terms = required.nodeSelectorTerms ?? [];
  if (!terms.length) return [{ type: 'Required', field: base, detail: 'must have at least one node selector term' }];
  return terms.flatMap((t, i) => [
    ...(t.matchExpressions ?? []).flatMap((r, j) => requirementErrors(r, `${base}[${i}].matchExpressions[${j}]`, false)),
    ...(t.matchFields ?? []).flatMap((r, j) => requirementErrors(r, `${base}[${i}].matchFields[${j}]`, true)),
  ]);
}

/** Throws 422 Invalid for a pod the real API server would refuse to store. */
export function validatePod(pod: Pod): void {
  const errs: FieldError[] = [...nameErrors(pod.metadata.name, 'metadata.name', 'subdomain')];
  const s = pod.spec ?? ({} as Pod['spec']);
  const volumes = new Set<string>();
  (s.volumes ?? []).forEach((v, i) => {
    if (!v.name) errs.push({ type: 'Required', field: `spec.volumes[${i}].name` });
    else if (volumes.has(v.name)) errs.push({ type: 'Duplicate', field: `spec.volumes[${i}].name`, value: v.name });
    else volumes.add(v.name);
  });
  if (!s.containers || s.containers.length === 0) errs.push({ type: 'Required', field: 'spec.containers' });
  const seen = new Set<string>();
  errs.push(...containerErrors(s.containers, 'spec.containers', volumes, seen), ...containerErrors(s.initContainers, 'spec.initContainers', volumes, seen));
  if (s.restartPolicy !== undefined && !['Always', 'OnFailure', 'Never'].includes(s.restartPolicy)) {
    errs.push({ type: 'NotSupported', field: 'spec.restartPolicy', value: s.restartPolicy, supported: ['Always', 'OnFailure', 'Never'] });
  }
  if (s.activeDeadlineSeconds !== undefined && !(Number.isInteger(s.activeDeadlineSeconds) && s.activeDeadlineSeconds >= 1)) {
    errs.push({ type: 'Invalid', field: 'spec.activeDeadlineSeconds', value: s.activeDeadlineSeconds, detail: 'must be between 1 and 2147483647, inclusive' });
  }
  if (s.nodeName !== undefined && s.nodeName !== '' && !SUBDOMAIN.test(s.nodeName)) errs.push({ type: 'Invalid', field: 'spec.nodeName', value: s.nodeName, detail: SUBDOMAIN_MSG });
  errs.push(...nodeAffinityErrors(s));
  if (errs.length) throw invalid('Pod', pod.metadata.name ?? '', errs);
}

const POD_UPDATE_FORBIDDEN =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** A pod's spec is immutable but for images, the deadline and added tolerations. */
export function validatePodUpdate(next: Pod, old: Pod): void {
  const mutable = (p: Pod) =>
    JSON.stringify({
      ...p.spec,
      containers: p.spec.containers?.map((c) => ({ ...c, image: undefined })),
      initContainers: p.spec.initContainers?.map((c) => ({ ...c, image: undefined })),
      activeDeadlineSeconds: undefined,
      tolerations: undefined,
      terminationGracePeriodSeconds: undefined,
    });
  const errs: FieldError[] = [];
  if (mutable(next) !== mutable(old)) errs.push({ type: 'Forbidden', field: 'spec', detail: POD_UPDATE_FORBIDDEN });
  const oldTol = (old.spec.tolerations ?? []).map((t) => JSON.stringify(t));
  const newTol = new Set((next.spec.tolerations ?? []).map((t) => JSON.stringify(t)));
  if (oldTol.some((t) => !newTol.has(t))) errs.push({ type: 'Forbidden', field: 'spec.tolerations', detail: 'existing toleration can not be modified except its tolerationSeconds' });
  if (errs.length) throw invalid('Pod', next.metadata.name ?? '', errs);
}

export function validateNamespace(ns: KObject): void {
  const errs = nameErrors(ns.metadata.name, 'metadata.name', 'label');
  if (errs.length) throw invalid('Namespace', ns.metadata.name ?? '', errs);
}

export function validateConfigMap(cm: KObject): void {
  const errs: FieldError[] = [...nameErrors(cm.metadata.name, 'metadata.name', 'subdomain')];
  for (const k of Object.keys((cm.data as object | undefined) ?? {})) {
    if (!CONFIG_KEY.test(k)) errs.push({ type: 'Invalid', field: 'data', value: k, detail: "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')" });
  }
  if (errs.length) throw invalid('ConfigMap', cm.metadata.name ?? '', errs);
}

export function validateEvent(ev: KObject): void {
  const errs: FieldError[] = [...nameErrors(ev.metadata.name, 'metadata.name', 'subdomain')];
  if (!ev.involvedObject) errs.push({ type: 'Required', field: 'involvedObject' });
  if (errs.length) throw invalid('Event', ev.metadata.name ?? '', errs);
}
