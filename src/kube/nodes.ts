/**
 * What podnet reads of a Node object: its name, spec.podCIDR(s), InternalIPs and conditions (the Ready
 * and NetworkUnavailable ones for doctor), as the facts the checks compare with what the nodes have.
 * Pure; the API is read in client.ts.
 */

import type { KubeNode, KubeNodeCondition } from '../facts/kube.js';

export type { KubeNode, KubeNodeCondition };

/** The parts of a Node object podnet reads (a V1Node, or its JSON). */
export interface NodeObjectLike {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { podCIDR?: string; podCIDRs?: string[] };
  status?: { addresses?: { type: string; address: string }[]; conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: Date | string }[] };
}

/** A Node object as podnet's facts: name, pod CIDRs, InternalIPs and conditions. */
export function kubeNodeOf(n: NodeObjectLike): KubeNode {
  const time = (t: Date | string | undefined) => (t instanceof Date ? t.toISOString().replace(/\.\d+Z$/, 'Z') : t);
  return {
    name: n.metadata?.name ?? '',
    podCIDRs: n.spec?.podCIDRs?.length ? n.spec.podCIDRs : n.spec?.podCIDR ? [n.spec.podCIDR] : [],
    internalIPs: (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address),
    conditions: (n.status?.conditions ?? []).map((c) => ({
      type: c.type,
      status: c.status,
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.message ? { message: c.message } : {}),
      ...(c.lastTransitionTime ? { lastTransitionTime: time(c.lastTransitionTime) } : {}),
    })),
  };
}
