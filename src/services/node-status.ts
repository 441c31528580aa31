/**
 * After a successful up with a cluster: each Node that came up says so, as flannel and Calico do
 * (NetworkUnavailable=False, reason PodnetIsUp). A Node podnet may not patch is that node's failure, with
 * the fix; a machine the cluster has no Node for (its kubelet has not joined yet) is not.
 */
import type { KubeApi } from '../kube/client.js';
import type { KubeNode } from '../facts/kube.js';
import type { UpReport } from './bootstrap.js';

export async function markNodesUp(report: UpReport, kube: { api: KubeApi; nodes: KubeNode[] }): Promise<void> {
  const { markNetworkAvailable } = await import('../kube/node-object.js');
  const { explainApiError } = await import('../kube/explain.js');
  await Promise.all(
    report.nodes
      .filter((n) => n.result !== 'failed')
      .map(async (n) => {
        try {
          const previous = kube.nodes.find((k) => k.name === n.node)?.conditions?.find((c) => c.type === 'NetworkUnavailable');
          await markNetworkAvailable(kube.api, n.node, new Date(), previous);
          n.nodeStatus = 'NetworkUnavailable=False (PodnetIsUp)';
        } catch (err) {
          const e = err as { code?: number; status?: unknown; message?: string };
          if (e.code === 404) {
            n.nodeStatus = `not set: the cluster has no Node named ${n.node}`;
            return;
          }
          const x = explainApiError({ code: e.code, body: e.status, message: e.message }, { verb: 'patch', resource: 'nodes/status', what: `set NetworkUnavailable=False on Node ${n.node}` });
          Object.assign(n, { result: 'failed', step: 'node-status', error: x.message, hint: `${x.hint}; or run with --no-node-status` });
        }
      }),
  );
}
