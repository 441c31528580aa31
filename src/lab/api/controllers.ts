/**
 * The control loops the stand-in needs besides the kubelet: graceful pod deletion (a pod on a running
 * kubelet gets a deletionTimestamp and goes when its containers have stopped; one that no kubelet runs
 * goes at once), the namespace controller (a deleted namespace is Terminating until its pods, config
 * maps and events are gone), a scheduler for pods created without spec.nodeName, and the node
 * lifecycle controller's taints for a Node's conditions (NetworkUnavailable=True → network-unavailable).
 */
import type { EventRecorder } from './events.js';
import { withConditionTaints } from './nodes.js';
import { schedulePod } from './scheduler.js';
import type { Change, Store } from './store.js';
import { timestamp } from './store.js';
import type { KObject, NodeObject, Pod } from './types.js';

/** Delete a pod as the API does: gracefully when a kubelet runs it, at once when none does. */
export function deletePod(store: Store, pod: Pod, graceSeconds: number | undefined, isLabNode: (name: string) => boolean): KObject {
  const grace = graceSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
  const phase = pod.status?.phase;
  const immediate = grace <= 0 || !pod.spec.nodeName || !isLabNode(pod.spec.nodeName) || phase === 'Succeeded' || phase === 'Failed';
  const meta = pod.metadata;
  if (immediate && !(meta.finalizers ?? []).length) return store.remove('pods', meta.namespace, meta.name!);
  if (meta.deletionTimestamp && (meta.deletionGracePeriodSeconds ?? 0) <= grace) return pod;
  const g = immediate ? 0 : grace;
  return store.update('pods', { ...pod, metadata: { ...meta, deletionTimestamp: timestamp(new Date(Date.now() + g * 1000)), deletionGracePeriodSeconds: g } });
}

export class Controllers {
  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
    private readonly isLabNode: (name: string) => boolean,
    private readonly podsOn: (node: string) => number,
  ) {}

  start(): void {
    this.store.subscribe((c) => queueMicrotask(() => this.onChange(c)));
    for (const p of this.store.list('pods')) this.schedule(p as Pod);
  }

  private onChange(c: Change): void {
    if (c.resource === 'pods') {
      if (c.type !== 'DELETED') this.schedule(c.object as Pod);
      if (c.type === 'DELETED') this.finishNamespace(c.object.metadata.namespace);
    } else if (c.resource === 'nodes' && c.type !== 'DELETED') {
      if (this.taintByConditions(c.object as NodeObject)) return;
      if (c.type !== 'MODIFIED') return;
      for (const p of this.store.list('pods')) if (!(p as Pod).spec.nodeName) this.schedule(p as Pod, true);
    } else if (c.resource === 'namespaces' && c.type === 'MODIFIED' && c.object.metadata.deletionTimestamp && !c.previous?.metadata.deletionTimestamp) {
      this.terminateNamespace(c.object.metadata.name!);
    }
  }

  /** Keep the Node's condition taints; true when it was updated (its own change follows). */
  private taintByConditions(node: NodeObject): boolean {
    const cur = this.store.get('nodes', undefined, node.metadata.name!) as NodeObject | undefined;
    if (!cur) return false;
    const next = withConditionTaints(cur);
    if (next === cur) return false;
    this.store.update('nodes', next);
    return true;
  }

  /** Bind a pod without a node to the least busy node it fits, or record why none fits. */
  private schedule(pod: Pod, retry = false): void {
    if (pod.spec.nodeName || pod.metadata.deletionTimestamp) return;
    const cur = this.store.get('pods', pod.metadata.namespace, pod.metadata.name!) as Pod | undefined;
    if (!cur || cur.metadata.uid !== pod.metadata.uid || cur.spec.nodeName) return;
    const unschedulable = cur.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    if (unschedulable && !retry) return;
    const nodes = this.store.list('nodes') as NodeObject[];
    const r = schedulePod(cur, nodes, this.podsOn);
    const now = timestamp();
    const others = (cur.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    if ('node' in r) {
      const bound = this.store.update('pods', {
        ...cur,
        spec: { ...cur.spec, nodeName: r.node },
        status: { ...cur.status, conditions: [...others, { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now }] },
      });
      this.events.record(bound, 'Normal', 'Scheduled', `Successfully assigned ${cur.metadata.namespace}/${cur.metadata.name} to ${r.node}`, { component: 'default-scheduler' });
      return;
    }
    const updated = this.store.update('pods', {
      ...cur,
      status: { ...cur.status, conditions: [...others, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: r.message, lastProbeTime: null, lastTransitionTime: unschedulable?.lastTransitionTime ?? now }] },
    });
    this.events.record(updated, 'Warning', 'FailedScheduling', r.message, { component: 'default-scheduler' });
  }

  private terminateNamespace(ns: string): void {
    for (const p of this.store.list('pods', ns)) deletePod(this.store, p as Pod, undefined, this.isLabNode);
    for (const r of ['configmaps', 'events']) for (const o of this.store.list(r, ns)) this.store.remove(r, ns, o.metadata.name!);
    this.events.forgetNamespace(ns);
    this.finishNamespace(ns);
  }

  /** A terminating namespace goes once nothing is left in it. */
  private finishNamespace(ns: string | undefined): void {
    if (!ns) return;
    const obj = this.store.get('namespaces', undefined, ns);
    if (!obj?.metadata.deletionTimestamp || this.store.list('pods', ns).length) return;
    for (const r of ['configmaps', 'events']) for (const o of this.store.list(r, ns)) this.store.remove(r, ns, o.metadata.name!);
    if ((obj.metadata.finalizers ?? []).length) return;
    this.store.remove('namespaces', undefined, ns);
  }
}
