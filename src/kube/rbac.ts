/**
 * What podnet may do through the Kubernetes API, as RBAC: one ClusterRole (nodes, its own namespaces, the
 * helper pods, their exec sessions, their events) bound to a user, group or service account, and a Role in
 * kube-system that reads only kubeadm's ConfigMap. `podnet rbac` prints these; the transport names the rule a
 * 403 is missing from RBAC_RULES. Pure data: no client import (the YAML library is loaded only to render).
 */

export const RBAC_API_VERSION = 'rbac.authorization.k8s.io/v1';
const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** One PolicyRule of podnet's, with the commands that need it (the comment above it in the YAML). */
export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
  /** in this namespace's Role; absent: in the ClusterRole */
  namespace?: string;
  /** which commands need it, and for what */
  neededBy: string;
  /** left out with --no-node-status */
  nodeStatus?: true;
}

export const KUBEADM_CONFIG = { namespace: 'kube-system', name: 'kubeadm-config' } as const;

export const RBAC_RULES: readonly RbacRule[] = [
  {
    apiGroups: [''],
    resources: ['nodes'],
    verbs: ['get', 'list'],
    neededBy: 'every command on a cluster: the nodes, their IPs and spec.podCIDRs come from the Node objects; doctor reads their conditions',
  },
  {
    apiGroups: [''],
    resources: ['nodes/status'],
    verbs: ['patch'],
    neededBy: 'up: sets the NetworkUnavailable=False condition (reason PodnetIsUp) after a successful up; up --no-node-status does without',
    nodeStatus: true,
  },
  {
    apiGroups: [''],
    resources: ['namespaces'],
    verbs: ['create', 'delete', 'get', 'list'],
    neededBy: 'every command with --access kube: creates and deletes the namespace podnet-<run> of the helper pods; get checks a --namespace you name; list finds those a killed run left behind',
  },
  {
    apiGroups: [''],
    resources: ['pods'],
    verbs: ['create', 'delete', 'get', 'list', 'watch'],
    neededBy: 'every command with --access kube: one privileged helper pod per node (hostNetwork, hostPID), watched until it runs, read again when its session ends, deleted afterwards',
  },
  {
    // A WebSocket exec (kubectl 1.31+ and podnet) is a GET upgrade, authorized as `get`; SPDY exec was a
    // POST (`create`). Since Kubernetes 1.35 the API server checks `create` for the WebSocket upgrade too
    // (feature gate AuthorizePodWebsocketUpgradeCreatePermission, beta and on by default:
    // https://github.com/kubernetes/kubernetes/pull/134577), so both verbs are needed across versions.
    apiGroups: [''],
    resources: ['pods/exec'],
    verbs: ['create', 'get'],
    neededBy: 'every command with --access kube: the session on each node runs through the helper pod\'s exec (a WebSocket GET upgrade; Kubernetes 1.35+ also checks create)',
  },
  {
    apiGroups: [''],
    resources: ['events'],
    verbs: ['list'],
    neededBy: 'every command with --access kube: explains a helper pod that does not start (unschedulable, image pull, rejected by the kubelet)',
  },
  {
    apiGroups: [''],
    resources: ['configmaps'],
    verbs: ['get'],
    resourceNames: [KUBEADM_CONFIG.name],
    namespace: KUBEADM_CONFIG.namespace,
    neededBy: 'every command on a cluster: the cluster CIDR from kubeadm\'s ClusterConfiguration (optional: without it the CIDR comes from a flag or the inventory)',
  },
];

export type RbacSubject = { kind: 'User' | 'Group'; name: string } | { kind: 'ServiceAccount'; name: string; namespace: string };

/** Who the binding names when no subject flag is given. */
export const DEFAULT_SUBJECT: RbacSubject = { kind: 'User', name: 'podnet' };

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** NAMESPACE:NAME of a service account, or why not (the API's rules: a DNS label and a DNS subdomain). */
export function parseServiceAccount(value: string): { namespace: string; name: string } | string {
  const i = value.indexOf(':');
  if (i < 0) return 'no ":" between the namespace and the name';
  const namespace = value.slice(0, i);
  const name = value.slice(i + 1);
  if (namespace.length > 63 || !DNS_LABEL.test(namespace)) return 'the namespace is not a DNS label (lowercase letters, digits and "-", at most 63)';
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) return 'the name is not a DNS subdomain (lowercase letters, digits, "-" and ".", at most 253)';
  return { namespace, name };
}

/** Why a user or group name cannot be used, if it cannot. */
export function subjectNameProblem(value: string): string | undefined {
  return CONTROL.test(value) ? 'it holds control characters' : undefined;
}

/** Why a name cannot name the ClusterRole, Role and bindings (the API's path-segment rule, printable), if it cannot. */
export function rbacNameProblem(value: string): string | undefined {
  if (value === '.' || value === '..') return 'it may not be "." or ".."';
  if (/[/%]/.test(value)) return 'it may not contain "/" or "%"';
  if (value.length > 253) return 'it is longer than 253 characters';
  if (!/^[\x21-\x7e]+$/.test(value)) return 'it may hold printable ASCII only, no spaces';
  return undefined;
}

export interface RbacOptions {
  /** the ClusterRole, Role and bindings' name */
  name: string;
  subjects: RbacSubject[];
  /** include nodes/status patch (false: --no-node-status) */
  nodeStatus: boolean;
}

/** The rules these options select. */
export function selectedRules(o: Pick<RbacOptions, 'nodeStatus'>): RbacRule[] {
  return RBAC_RULES.filter((r) => o.nodeStatus || !r.nodeStatus);
}

/** The rule that grants a verb on a resource ("pods/exec"), if podnet has one. */
export function ruleFor(verb: string, resource: string): RbacRule | undefined {
  return RBAC_RULES.find((r) => r.resources.includes(resource) && r.verbs.includes(verb));
}

/** `pods/exec: create, get` */
export function describeRule(r: RbacRule): string {
  const where = r.namespace ? ` in ${r.namespace}` : '';
  const names = r.resourceNames ? ` (${r.resourceNames.join(', ')})` : '';
  return `${r.resources.join(', ')}${names}: ${r.verbs.join(', ')}${where}`;
}

function policyRule(r: RbacRule): Record<string, unknown> {
  return { apiGroups: r.apiGroups, resources: r.resources, ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}), verbs: r.verbs };
}

function subjectObject(s: RbacSubject): Record<string, unknown> {
  return s.kind === 'ServiceAccount' ? { kind: s.kind, name: s.name, namespace: s.namespace } : { kind: s.kind, apiGroup: RBAC_GROUP, name: s.name };
}

const LABELS = { 'app.kubernetes.io/part-of': 'podnet' };

/** One object of the manifest, with the rules it holds (for the comments). */
export interface RbacObject {
  object: Record<string, unknown>;
  rules: RbacRule[];
}

/** ClusterRole, ClusterRoleBinding, and per namespace a Role and RoleBinding: plain API objects. */
export function rbacObjects(o: RbacOptions): RbacObject[] {
  const rules = selectedRules(o);
  const subjects = o.subjects.map(subjectObject);
  const cluster = rules.filter((r) => !r.namespace);
  const out: RbacObject[] = [
    { object: { apiVersion: RBAC_API_VERSION, kind: 'ClusterRole', metadata: { name: o.name, labels: LABELS }, rules: cluster.map(policyRule) }, rules: cluster },
    {
      object: { apiVersion: RBAC_API_VERSION, kind: 'ClusterRoleBinding', metadata: { name: o.name, labels: LABELS }, roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: o.name }, subjects },
      rules: [],
    },
  ];
  for (const ns of [...new Set(rules.flatMap((r) => (r.namespace ? [r.namespace] : [])))]) {
    const mine = rules.filter((r) => r.namespace === ns);
    out.push(
      { object: { apiVersion: RBAC_API_VERSION, kind: 'Role', metadata: { name: o.name, namespace: ns, labels: LABELS }, rules: mine.map(policyRule) }, rules: mine },
      {
        object: { apiVersion: RBAC_API_VERSION, kind: 'RoleBinding', metadata: { name: o.name, namespace: ns, labels: LABELS }, roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: o.name }, subjects },
        rules: [],
      },
    );
  }
  return out;
}

export function describeSubject(s: RbacSubject): string {
  return s.kind === 'ServiceAccount' ? `ServiceAccount ${s.namespace}/${s.name}` : `${s.kind} ${JSON.stringify(s.name)}`;
}

/** The manifest as YAML documents for `kubectl apply -f -`, each rule under a comment naming what needs it. */
export async function renderRbacYaml(o: RbacOptions, opts: { defaultSubject: boolean; bin: string }): Promise<string> {
  const { Document, isMap, isSeq, visit } = await import('yaml');
  const header = [
    ` What podnet needs through the Kubernetes API (${opts.bin} rbac), for: ${o.subjects.map(describeSubject).join(', ')}`,
    ...(opts.defaultSubject ? [' (the default subject: name yours with --user, --group or --service-account NAMESPACE:NAME)'] : []),
    ' Whoever holds this is root on every node: podnet\'s helper pods are privileged, with the host\'s PID and',
    ' network namespaces, and exec into them enters the node. Bind it only to those who may administer the nodes.',
    ` Apply: ${opts.bin} rbac ... | kubectl apply -f -`,
  ].join('\n');
  const docs = rbacObjects(o).map((x, i) => {
    const doc = new Document(x.object);
    if (i === 0) doc.commentBefore = header;
    visit(doc, {
      Pair(_key, pair) {
        // the lists inside a rule and a subject read best on one line: [get, list, watch]
        if (isSeq(pair.value) && ['apiGroups', 'resources', 'verbs', 'resourceNames'].includes(String((pair.key as { value?: unknown }).value))) pair.value.flow = true;
      },
    });
    const rules = doc.get('rules', true);
    if (isSeq(rules)) {
      rules.items.forEach((item, j) => {
        const r = x.rules[j];
        if (r && isMap(item)) item.commentBefore = ` ${r.neededBy}`;
      });
    }
    return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  });
  return docs.join('---\n');
}
