/** A Node object as the API returns it (the fields podnet reads), and what podnet keeps of it. */
import type { KubeNode } from '../facts/kube.js';
import type { KubeApi } from './client.js';
import { kubeNodeOf as factsOf, type NodeObjectLike } from './nodes.js';

export type KubeNodeObject = NodeObjectLike & { status?: { addresses?: { type: string; address: string }[] } };

/** The node's facts from its Node object, and its Hostname address (an address when it has no InternalIP). */
export function kubeNodeOf(n: KubeNodeObject): KubeNode & { hostname?: string } {
  const hostname = n.status?.addresses?.find((a) => a.type === 'Hostname')?.address;
  return { ...factsOf(n), ...(hostname ? { hostname } : {}) };
}

/** Every Node (one request). */
export async function listKubeNodes(api: KubeApi): Promise<KubeNode[]> {
  const list = (await api.call('cluster', 'list', 'nodes', undefined, (c) => c.listNode())) as { items?: KubeNodeObject[] };
  return (list.items ?? []).map(factsOf);
}

/** Mark the Node's pod network as up (NetworkUnavailable=False, reason PodnetIsUp): one PATCH of its status. */
export async function markNetworkAvailable(api: KubeApi, name: string, now = new Date()): Promise<void> {
  const { networkAvailablePatch, STRATEGIC_MERGE_PATCH } = await import('./node-status.js');
  const k8s = await import('@kubernetes/client-node');
  await api.call(name, 'patch', 'nodes/status', undefined, (c) => c.patchNodeStatus({ name, body: networkAvailablePatch(now) }, k8s.setHeaderOptions('Content-Type', STRATEGIC_MERGE_PATCH)));
}
