/**
 * The resources the stand-in serves — all in the core group, v1 — with what the API server needs to know
 * of each: its kind and names for discovery, whether it lives in a namespace, its subresources and the
 * fields a field selector may name.
 */
import type { KObject } from './types.js';

export interface ResourceDef {
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
  subresources: { name: string; kind: string; verbs: string[] }[];
  /** the selectable fields and their values for a field selector */
  fields: (o: KObject) => Record<string, string>;
  categories?: string[];
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const path = (o: unknown, p: string): unknown => p.split('.').reduce<unknown>((cur, k) => (cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined), o);
const pick = (o: KObject, names: string[]): Record<string, string> => Object.fromEntries(names.map((n) => [n, str(path(o, n))]));

const META = ['metadata.name', 'metadata.namespace'];
const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const POD_FIELDS = [...META, 'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'];
const EVENT_FIELDS = [
  ...META,
  'involvedObject.kind',
  'involvedObject.namespace',
  'involvedObject.name',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.resourceVersion',
  'involvedObject.fieldPath',
  'reason',
  'reportingComponent',
  'source',
  'type',
];

export const RESOURCES: ResourceDef[] = [
  {
    plural: 'configmaps',
    singular: 'configmap',
    kind: 'ConfigMap',
    namespaced: true,
    shortNames: ['cm'],
    verbs: ALL_VERBS,
    subresources: [],
    fields: (o) => pick(o, META),
  },
  {
    plural: 'events',
    singular: 'event',
    kind: 'Event',
    namespaced: true,
    shortNames: ['ev'],
    verbs: ALL_VERBS,
    subresources: [],
    fields: (o) => ({ ...pick(o, EVENT_FIELDS), source: str(path(o, 'source.component')) }),
  },
  {
    plural: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [{ name: 'status', kind: 'Namespace', verbs: ['get', 'patch', 'update'] }],
    fields: (o) => pick(o, ['metadata.name', 'status.phase']),
  },
  {
    plural: 'nodes',
    singular: 'node',
    kind: 'Node',
    namespaced: false,
    shortNames: ['no'],
    // the lab's nodes are the lab's: the stand-in neither adds nor removes Node objects
    verbs: ['get', 'list', 'patch', 'update', 'watch'],
    subresources: [{ name: 'status', kind: 'Node', verbs: ['get', 'patch', 'update'] }],
    fields: (o) => ({ 'metadata.name': str(o.metadata.name), 'spec.unschedulable': str(path(o, 'spec.unschedulable') ?? false) }),
  },
  {
    plural: 'pods',
    singular: 'pod',
    kind: 'Pod',
    namespaced: true,
    shortNames: ['po'],
    verbs: ALL_VERBS,
    categories: ['all'],
    subresources: [
      { name: 'binding', kind: 'Binding', verbs: ['create'] },
      { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'log', kind: 'Pod', verbs: ['get'] },
      { name: 'status', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
    ],
    fields: (o) => ({ ...pick(o, POD_FIELDS), 'spec.hostNetwork': String(path(o, 'spec.hostNetwork') === true) }),
  },
];

export function resourceDef(plural: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.plural === plural);
}

/** GET /api/v1: the resource list kubectl's discovery reads. */
export function apiResourceList(): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const r of RESOURCES) {
    resources.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
    });
    for (const s of r.subresources) resources.push({ name: `${r.plural}/${s.name}`, singularName: '', namespaced: r.namespaced, kind: s.kind, verbs: s.verbs });
  }
  return { kind: 'APIResourceList', groupVersion: 'v1', resources };
}

/** GET /api: the legacy group's versions (clients then read /api/v1). */
export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

/** GET /apis: no named groups. */
export function apiGroupList(): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [] };
}

export const SERVER_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-podnet-lab', gitCommit: '0000000000000000000000000000000000000000', gitTreeState: 'clean', buildDate: '2025-01-01T00:00:00Z', goVersion: 'go1.23.4', compiler: 'gc', platform: 'linux/amd64' };
export const KUBELET_VERSION = 'v1.32.0';
