/**
 * What podnet writes on a Node after a successful `up`: the NetworkUnavailable condition set to False,
 * as flannel (FlannelIsUp) and Calico (CalicoIsUp) do. While it is True (a cloud route controller or a
 * CNI sets it so until routes exist) the node lifecycle controller keeps the taint
 * node.kubernetes.io/network-unavailable:NoSchedule on the Node and no pod is scheduled there. Pure: the
 * body of a strategic-merge PATCH of nodes/NAME/status, which merges conditions by `type` and so leaves
 * the kubelet's own conditions alone.
 */

export const NETWORK_UNAVAILABLE = 'NetworkUnavailable';
export const PODNET_IS_UP = 'PodnetIsUp';
export const PODNET_IS_UP_MESSAGE = 'podnet configured the pod network on this node';
/** The taint the node lifecycle controller keeps on a Node whose NetworkUnavailable is True. */
export const NETWORK_UNAVAILABLE_TAINT = { key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' } as const;
/** The content type of the PATCH the body goes with. */
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';

export interface NodeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  lastHeartbeatTime: string;
}

/** RFC 3339 at second precision, as metav1.Time is serialised. */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** The body of `PATCH nodes/NAME/status` (strategic merge) that marks the node's pod network as up. */
export function networkAvailablePatch(now: Date, previous?: { status?: string; lastTransitionTime?: string }): { status: { conditions: NodeCondition[] } } {
  const t = rfc3339(now);
  // the transition is when it last changed: an already False condition keeps its time
  const since = previous?.status === 'False' && previous.lastTransitionTime ? previous.lastTransitionTime : t;
  return {
    status: {
      conditions: [{ type: NETWORK_UNAVAILABLE, status: 'False', reason: PODNET_IS_UP, message: PODNET_IS_UP_MESSAGE, lastTransitionTime: since, lastHeartbeatTime: t }],
    },
  };
}
