/**
 * A stand-in for kube-scheduler, for pods created without spec.nodeName: the nodes a pod fits
 * (schedulable, its nodeSelector, taints it tolerates), the least busy of them; or the
 * FailedScheduling message the real scheduler writes when none fits.
 */
import type { NodeObject, Pod, Taint, Toleration } from './types.js';

export function tolerates(tolerations: readonly Toleration[], taint: Taint): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (!t.key) return t.operator === 'Exists';
    if (t.key !== taint.key) return false;
    return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
  });
}

export type ScheduleResult = { node: string } | { message: string };

/** Pick a node for a pod, or say why none fits (`0/2 nodes are available: …`). */
export function schedulePod(pod: Pod, nodes: readonly NodeObject[], podsOnNode: (name: string) => number): ScheduleResult {
  const reasons = new Map<string, number>();
  const fits: NodeObject[] = [];
  const tol = pod.spec.tolerations ?? [];
  for (const n of nodes) {
    let why: string | undefined;
    const taint = (n.spec.taints ?? []).find((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(tol, t));
    // the first filter that fails, in kube-scheduler's plugin order
    if (n.spec.unschedulable && !tolerates(tol, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })) why = 'node(s) were unschedulable';
    else if (taint) why = `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
    else if (Object.entries(pod.spec.nodeSelector ?? {}).some(([k, v]) => n.metadata.labels?.[k] !== v)) why = "node(s) didn't match Pod's node affinity/selector";
    if (why) reasons.set(why, (reasons.get(why) ?? 0) + 1);
    else fits.push(n);
  }
  if (fits.length) {
    const best = [...fits].sort((a, b) => podsOnNode(a.metadata.name!) - podsOnNode(b.metadata.name!) || a.metadata.name!.localeCompare(b.metadata.name!))[0]!;
    return { node: best.metadata.name! };
  }
  const total = nodes.length;
  const detail = [...reasons.entries()]
    .map(([why, n]) => `${n} ${why}`)
    .sort()
    .join(', ');
  return { message: `0/${total} nodes are available: ${detail || 'no nodes available to schedule pods'}. preemption: 0/${total} nodes are available: ${total} Preemption is not helpful for scheduling.` };
}
