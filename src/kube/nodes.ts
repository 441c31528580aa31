/**
 * Boundary: the Kubernetes API, read-only and optional. doctor works without it (the API may be down or
 * not installed yet); with --kubeconfig it also reads the Node objects and compares what the cluster
 * believes (spec.podCIDR, InternalIP) with what the nodes have. @kubernetes/client-node is imported
 * here only, and only when asked: it is the heaviest module podnet has and stays off every start-up path.
 */
import { dirname } from 'node:path';
import { describeValue } from '../util/describe.js';
import { PodnetError, ExitCode, UserError, errorMessage } from '../util/errors.js';
import { checkReferencedFile, KUBECONFIG_HINT, readKubeconfigs } from './kubeconfig.js';

import type { KubeNode } from '../facts/kube.js';

export type { KubeNode };

export interface KubeSource {
  /** one kubeconfig file, or several joined with ":" (merged as kubectl merges KUBECONFIG) */
  kubeconfig: string;
  context?: string;
}

/**
 * Load the kubeconfig (bad input → UserError, exit 2, before any node is touched) and return a function
 * that lists the cluster's Node objects; an API that does not answer makes it throw a PodnetError that
 * the caller reports as a finding.
 */
export async function kubeNodeLister(src: KubeSource, timeoutMs = 10_000): Promise<() => Promise<KubeNode[]>> {
  // Every file is read and checked (regular, within a size cap) before the client is even imported.
  const files = readKubeconfigs(src.kubeconfig);
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  for (const file of files) {
    const one = new k8s.KubeConfig();
    try {
      one.loadFromString(file.text);
    } catch (err) {
      throw new UserError(`--kubeconfig: cannot load ${describeValue(file.path)}: ${errorMessage(err).split('\n')[0]}; expected a kubeconfig file`, KUBECONFIG_HINT);
    }
    // as loadFromFile does: certificate and key paths are relative to their kubeconfig
    one.makePathsAbsolute(dirname(file.path));
    // kubectl's merge: the first file that names a cluster, user, context or the current context wins
    for (const c of one.getClusters()) if (!kc.getCluster(c.name)) kc.addCluster(c);
    for (const u of one.getUsers()) if (!kc.getUser(u.name)) kc.addUser(u);
    for (const c of one.getContexts()) if (!kc.getContextObject(c.name)) kc.addContext(c);
    if (!kc.getCurrentContext() && one.getCurrentContext()) kc.setCurrentContext(one.getCurrentContext());
  }
  const source = files.length === 1 ? describeValue(files[0]!.path) : `the ${files.length} kubeconfig files`;
  if (src.context) {
    if (!kc.getContexts().some((c) => c.name === src.context)) {
      throw new UserError(`--context: no context ${describeValue(src.context)} in ${source}; expected one of ${kc.getContexts().map((c) => describeValue(c.name)).join(', ') || '(none)'}`);
    }
    kc.setCurrentContext(src.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new UserError(`--kubeconfig: ${source} has no current cluster; expected a current-context that names a cluster`);
  // The client reads these whole on the first request: the same bounds as the kubeconfig itself.
  const user = kc.getCurrentUser();
  for (const [where, path, what] of [
    [`cluster ${describeValue(cluster.name)} certificate-authority`, cluster.caFile, 'a CA certificate file'],
    [`user ${describeValue(user?.name ?? '')} client-certificate`, user?.certFile, 'a client certificate file'],
    [`user ${describeValue(user?.name ?? '')} client-key`, user?.keyFile, 'a client key file'],
  ] as const) {
    if (path) checkReferencedFile(where, path, what);
  }
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
