/**
 * Boundary: the Kubernetes API, read-only and optional. doctor works without it (the API may be down or
 * not installed yet); with --kubeconfig it also reads the Node objects and compares what the cluster
 * believes (spec.podCIDR, InternalIP) with what the nodes have. @kubernetes/client-node is imported
 * here only, and only when asked: it is the heaviest module podnet has and stays off every start-up path.
 */
import { PodnetError, ExitCode, UserError, errorMessage } from '../util/errors.js';

export interface KubeNode {
  name: string;
  /** spec.podCIDRs (or the single spec.podCIDR of older clusters) */
  podCIDRs: string[];
  internalIPs: string[];
}

export interface KubeSource {
  kubeconfig: string;
  context?: string;
}

/**
 * Load the kubeconfig (bad input → UserError, exit 2, before any node is touched) and return a function
 * that lists the cluster's Node objects; an API that does not answer makes it throw a PodnetError that
 * the caller reports as a finding.
 */
export async function kubeNodeLister(src: KubeSource, timeoutMs = 10_000): Promise<() => Promise<KubeNode[]>> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  try {
    kc.loadFromFile(src.kubeconfig);
  } catch (err) {
    throw new UserError(`--kubeconfig: cannot load ${src.kubeconfig}: ${errorMessage(err)}`, 'pass a readable kubeconfig file');
  }
  if (src.context) {
    if (!kc.getContexts().some((c) => c.name === src.context)) {
      throw new UserError(`--context: no context "${src.context}" in ${src.kubeconfig}; expected one of ${kc.getContexts().map((c) => c.name).join(', ') || '(none)'}`);
    }
    kc.setCurrentContext(src.context);
  }
  if (!kc.getCurrentCluster()) throw new UserError(`--kubeconfig: ${src.kubeconfig} has no current cluster; expected a current-context that names a cluster`);
  const api = kc.makeApiClient(k8s.CoreV1Api);
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const list = await Promise.race([
        api.listNode(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000}s`)), timeoutMs);
        }),
      ]);
      return (list.items ?? []).map((n) => ({
        name: n.metadata?.name ?? '',
        podCIDRs: n.spec?.podCIDRs?.length ? n.spec.podCIDRs : n.spec?.podCIDR ? [n.spec.podCIDR] : [],
        internalIPs: (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address),
      }));
    } catch (err) {
      throw new PodnetError(`the Kubernetes API at ${kc.getCurrentCluster()?.server ?? '?'} did not list the nodes: ${errorMessage(err).split('\n')[0]}`, ExitCode.NODE);
    } finally {
      clearTimeout(timer);
    }
  };
}
