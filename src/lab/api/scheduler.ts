/**
 * A stand-in for kube-scheduler, for pods created without spec.nodeName: the nodes a pod fits
 * (schedulable, its nodeSelector and required node affinity, taints it tolerates), the least busy of
 * them; or the FailedScheduling message the real scheduler writes when none fits.
 */
import type { NodeObject, NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration } from './types.js';

export function tolerates(tolerations: readonly Toleration[], taint: Taint): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (!t.key) return t.operator === 'Exists';
    if (t.key !== taint.key) return false;
    return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
  });
}

/** One label requirement, as k8s.io/apimachinery's labels.Requirement reads it. */
function labelMatches(labels: Record<string, string>, r: NodeSelectorRequirement): boolean {
  const has = Object.hasOwn(labels, r.key);
  const v = labels[r.key];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return has && values.includes(v!);
    case 'NotIn':
      return !has || !values.includes(v!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || values.length !== 1 || !/^-?\d+$/.test(v!) || !/^-?\d+$/.test(values[0]!)) return false;
      const [a, b] = [BigInt(v!), BigInt(values[0]!)];
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

/** One field requirement: the scheduler knows only metadata.name, with In and NotIn. */
function fieldMatches(node: NodeObject, r: NodeSelectorRequirement): boolean {
  if (r.key !== 'metadata.name') return false;
  const values = r.values ?? [];
  if (r.operator === 'In') return values.includes(node.metadata.name!);
  if (r.operator === 'NotIn') return !values.includes(node.metadata.name!);
  return false;
}

/** Node selector terms: any term may match (OR), every requirement of a term must (AND); an empty term matches nothing. */
export function matchesNodeSelectorTerms(node: NodeObject, terms: readonly NodeSelectorTerm[]): boolean {
  const labels = node.metadata.labels ?? {};
  return terms.some((t) => {
    const exprs = t.matchExpressions ?? [];
    const fields = t.matchFields ?? [];
    if (!exprs.length && !fields.length) return false;
    return exprs.every((r) => labelMatches(labels, r)) && fields.every((r) => fieldMatches(node, r));
  });
}

/** The NodeAffinity filter: spec.nodeSelector and the required node affinity both hold. */
export function matchesNodeAffinity(pod: Pod, node: NodeObject): boolean {
  if (Object.entries(pod.spec.nodeSelector ?? {}).some(([k, v]) => node.metadata.labels?.[k] !== v)) return false;
  const required = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  return !required || matchesNodeSelectorTerms(node, required.nodeSelectorTerms ?? []);
}

/**
 * NodeAffinity's PreFilter: the node names a pod's required terms pin it to (matchFields metadata.name
 * In), undefined when some term does not pin (every node is a candidate, terms being ORed). The real
 * scheduler runs its filters only on these nodes.
 */
export function pinnedNodeNames(pod: Pod): Set<string> | undefined {
  const terms = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  let names: Set<string> | undefined;
  for (const t of terms) {
    let termNames: Set<string> | undefined;
    for (const r of t.matchFields ?? []) {
      if (r.key !== 'metadata.name' || r.operator !== 'In') continue;
      const s = new Set(r.values ?? []);
      // requirements of a term are ANDed: the intersection
      termNames = termNames ? new Set([...termNames].filter((n) => s.has(n))) : s;
    }
    if (!termNames) return undefined;
    names = new Set([...(names ?? []), ...termNames]);
  }
  return names;
}

export type ScheduleResult = { node: string } | { message: string };

/** Pick a node for a pod, or say why none fits (`0/2 nodes are available: …`), as kube-scheduler 1.32 words it. */
export function schedulePod(pod: Pod, nodes: readonly NodeObject[], podsOnNode: (name: string) => number): ScheduleResult {
  const total = nodes.length;
  const preemption = `preemption: 0/${total} nodes are available: ${total} Preemption is not helpful for scheduling.`;
  const pinned = pinnedNodeNames(pod);
  if (pinned && pinned.size === 0) return { message: `0/${total} nodes are available: pod affinity terms conflict. ${preemption}` };
  const reasons = new Map<string, number>();
  const count = (why: string) => reasons.set(why, (reasons.get(why) ?? 0) + 1);
  const fits: NodeObject[] = [];
  const tol = pod.spec.tolerations ?? [];
  for (const n of nodes) {
    if (pinned && !pinned.has(n.metadata.name!)) {
      count("node(s) didn't satisfy plugin(s) [NodeAffinity]");
      continue;
    }
    let why: string | undefined;
    const taint = (n.spec.taints ?? []).find((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(tol, t));
    // the first filter that fails, in kube-scheduler's plugin order
    if (n.spec.unschedulable && !tolerates(tol, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })) why = 'node(s) were unschedulable';
    else if (taint) why = `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
    else if (!matchesNodeAffinity(pod, n)) why = "node(s) didn't match Pod's node affinity/selector";
    if (why) count(why);
    else fits.push(n);
  }
  if (fits.length) {
    const best = [...fits].sort((a, b) => podsOnNode(a.metadata.name!) - podsOnNode(b.metadata.name!) || a.metadata.name!.localeCompare(b.metadata.name!))[0]!;
    return { node: best.metadata.name! };
  }
  const detail = [...reasons.entries()]
    .map(([why, n]) => `${n} ${why}`)
    .sort()
    .join(', ');
  return { message: `0/${total} nodes are available: ${detail || 'no nodes available to schedule pods'}. ${preemption}` };
}
