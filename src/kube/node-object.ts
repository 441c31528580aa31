/** A Node object as the API returns it (the fields podnet reads), and what podnet keeps of it. */
import type { KubeNode } from '../facts/kube.js';
import { corePath, type KubeApi } from './client.js';
import { kubeNodeOf as factsOf, type NodeObjectLike } from './nodes.js';

export type KubeNodeObject = NodeObjectLike & { status?: { addresses?: { type: string; address: string }[] } };

/** The node's facts from its Node object, and its Hostname address (an address when it has no InternalIP). */
export function kubeNodeOf(n: KubeNodeObject): KubeNode & { hostname?: string } {
  const hostname = n.status?.addresses?.find((a) => a.type === 'Hostname')?.address;
  return { ...factsOf(n), ...(hostname ? { hostname } : {}) };
}

/** Every Node (one request). */
export async function listKubeNodes(api: KubeApi): Promise<KubeNode[]> {
  const list = await api.request<{ items?: KubeNodeObject[] }>('cluster', { verb: 'list', resource: 'nodes', method: 'GET', path: corePath('nodes') });
  return (list.items ?? []).map(factsOf);
}

/** Mark the Node's pod network as up (NetworkUnavailable=False, reason PodnetIsUp): one PATCH of its status. */
export async function markNetworkAvailable(api: KubeApi, name: string, now = new Date(), previous?: { status?: string; lastTransitionTime?: string }): Promise<void> {
  const { networkAvailablePatch, STRATEGIC_MERGE_PATCH } = await import('./node-status.js');
  await api.request(name, { verb: 'patch', resource: 'nodes/status', method: 'PATCH', path: corePath('nodes', { name, sub: 'status' }), body: networkAvailablePatch(now, previous), contentType: STRATEGIC_MERGE_PATCH });
}
