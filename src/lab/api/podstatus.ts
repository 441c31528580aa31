/**
 * A pod's status as the kubelet reports it, from its containers' states: the phase (Pending until every
 * container has run, Running, then Succeeded or Failed by the restart policy), the Ready, ContainersReady,
 * Initialized, PodReadyToStartContainers and PodScheduled conditions, host and pod IPs. Pure.
 */
import type { Condition, ContainerStatus, PodStatus } from './types.js';

export interface PodView {
  containers: ContainerStatus[];
  restartPolicy: string;
  startTime: string;
  /** the node's addresses: a hostNetwork pod's IPs are its node's */
  hostIPs: string[];
  /** a phase the kubelet decided (rejected, deadline exceeded) */
  final?: { phase: 'Failed' | 'Succeeded'; reason?: string; message?: string };
}

export function podPhase(view: PodView): string {
  if (view.final) return view.final.phase;
  const cs = view.containers;
  const neverRan = cs.filter((c) => c.state.waiting && !c.lastState.terminated).length;
  const running = cs.filter((c) => c.state.running || (c.state.waiting && c.lastState.terminated)).length;
  const terminated = cs.filter((c) => c.state.terminated);
  const failed = terminated.filter((c) => c.state.terminated!.exitCode !== 0).length;
  if (neverRan > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (terminated.length === cs.length && cs.length > 0) {
    if (view.restartPolicy === 'Always') return 'Running';
    if (view.restartPolicy === 'OnFailure') return failed > 0 ? 'Running' : 'Succeeded';
    return failed > 0 ? 'Failed' : 'Succeeded';
  }
  return 'Pending';
}

function condition(type: string, ok: boolean, now: string, prev: Condition[] | undefined, reason?: string, message?: string): Condition {
  const status = ok ? 'True' : 'False';
  const before = prev?.find((c) => c.type === type);
  const since = before && before.status === status ? before.lastTransitionTime : now;
  return { type, status, lastProbeTime: null, lastTransitionTime: since, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

export function computePodStatus(prev: PodStatus | undefined, view: PodView, now: string): PodStatus {
  const phase = podPhase(view);
  const done = phase === 'Succeeded' || phase === 'Failed';
  const unready = view.containers.filter((c) => !c.ready).map((c) => c.name);
  const allReady = unready.length === 0 && view.containers.length > 0;
  const notReadyReason = done ? 'PodCompleted' : 'ContainersNotReady';
  const notReadyMessage = done ? undefined : `containers with unready status: [${unready.join(' ')}]`;
  const prevConds = prev?.conditions;
  const conditions: Condition[] = [
    condition('PodReadyToStartContainers', !done || phase === 'Succeeded', now, prevConds),
    condition('Initialized', true, now, prevConds),
    condition('Ready', allReady && !done, now, prevConds, allReady && !done ? undefined : notReadyReason, allReady && !done ? undefined : notReadyMessage),
    condition('ContainersReady', allReady && !done, now, prevConds, allReady && !done ? undefined : notReadyReason, allReady && !done ? undefined : notReadyMessage),
    condition('PodScheduled', true, now, prevConds),
  ];
  return {
    phase,
    conditions,
    ...(view.final?.reason ? { reason: view.final.reason } : {}),
    ...(view.final?.message ? { message: view.final.message } : {}),
    hostIP: view.hostIPs[0],
    hostIPs: view.hostIPs.map((ip) => ({ ip })),
    podIP: view.hostIPs[0],
    podIPs: view.hostIPs.map((ip) => ({ ip })),
    startTime: view.startTime,
    containerStatuses: view.containers,
    qosClass: prev?.qosClass ?? 'BestEffort',
  };
}
