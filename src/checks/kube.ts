/**
 * The Kubernetes API's view of the nodes against what the nodes have (optional: doctor --kubeconfig).
 * kube-controller-manager assigns spec.podCIDR per Node and kubelet, kube-proxy and many CNIs trust it;
 * when the node's CNI config hands out another range, pods get addresses the cluster does not route or
 * expect. The Node's conditions say what the cluster makes of the node's network: NetworkUnavailable=True
 * (set by a cloud route controller or a CNI until its routes exist) taints it so nothing is scheduled
 * there, and a kubelet whose runtime loaded no CNI config keeps it NotReady. Pure: NodeViews and Node
 * objects in, findings out.
 */
import type { KubeNode, KubeNodeCondition } from '../facts/kube.js';
import { cidrContainsCidr, parseCidr } from '../net/cidr.js';
import type { Finding, NodeView } from './index.js';
import { familyOf, IPV4 } from '../net/family.js';

/** Findings about the API itself (it did not answer) carry this in place of a node name. */
export const API_NODE = 'kubernetes-api';

export function kubeChecks(inventoryNodes: string[], views: NodeView[], kube: KubeNode[], clusterCIDR: string): Finding[] {
  const out: Finding[] = [];
  const matched = new Set<string>();
  for (const name of inventoryNodes) {
    const v = views.find((x) => x.name === name);
    const k = kube.find((x) => x.name === name) ?? (v?.nodeIP ? kube.find((x) => x.internalIPs.includes(v.nodeIP!)) : undefined);
    if (!k) {
      out.push({ id: 'kube-node-missing', node: name, severity: 'warning', message: 'the Kubernetes API has no Node for this machine: its kubelet is not registered (or under another name and address)', evidence: `Nodes in the API: ${kube.map((x) => x.name).join(', ') || '(none)'}`, fix: 'check kubelet on the node (systemctl status kubelet; journalctl -u kubelet), or the node name in the inventory' });
      continue;
    }
    matched.add(k.name);
    out.push(...conditionFindings(name, k, v));
    const api = k.podCIDRs.filter((c) => familyOf(c) === IPV4);
    if (!api.length || !v) continue;
    for (const c of api) {
      if (parseCidr(c) && !cidrContainsCidr(clusterCIDR, c)) {
        out.push({ id: 'kube-podcidr', node: name, severity: 'warning', message: `the API assigned ${c} to Node ${k.name}, outside the inventory's cluster CIDR ${clusterCIDR}`, evidence: `Node ${k.name} spec.podCIDRs: ${k.podCIDRs.join(', ')}`, fix: `make kube-controller-manager's --cluster-cidr and the inventory's cluster.podCIDR the same range` });
      }
    }
    if (v.podCIDR && !api.includes(v.podCIDR)) {
      out.push({ id: 'kube-podcidr', node: name, severity: 'error', message: `the API assigned ${api.join(', ')} to Node ${k.name}, but the node's CNI config hands out ${v.podCIDR}: pods get addresses the cluster does not expect`, evidence: `Node ${k.name} spec.podCIDRs: ${k.podCIDRs.join(', ')}; ${v.live?.file.name ?? 'live CNI config'}: ${v.podCIDR}`, fix: `make them agree: pin nodes[].podCIDR: ${api[0]} for ${name} in the inventory and run podnet up (then restart the node's pods), or delete and re-register the Node so the controller manager allocates again` });
    }
  }
  for (const k of kube) {
    if (matched.has(k.name)) continue;
    out.push({ id: 'kube-node-unknown', node: k.name, severity: 'warning', message: 'a Node in the cluster that is not in the inventory: podnet routes no pod traffic to or from it', evidence: `Node ${k.name}${k.internalIPs.length ? ` (InternalIP ${k.internalIPs.join(', ')})` : ''}${k.podCIDRs.length ? `, podCIDRs ${k.podCIDRs.join(', ')}` : ''}`, fix: `add ${k.name} to the inventory and run podnet up` });
  }
  return out;
}

/** kubelet's Ready message while the runtime has no pod network (containerd, CRI-O, and dockershim's older words). */
const RUNTIME_NETWORK_NOT_READY = /NetworkReady=false|NetworkPluginNotReady|cni config uninitiali[sz]ed|cni plugin not initiali[sz]ed|network plugin is not ready|No CNI configuration file/i;

function describeCondition(c: KubeNodeCondition): string {
  return `${c.type}=${c.status}${c.reason ? ` reason ${c.reason}` : ''}${c.message ? `: ${JSON.stringify(c.message)}` : ''}${c.lastTransitionTime ? ` (since ${c.lastTransitionTime})` : ''}`;
}

/** What the Node's conditions say about its pod network. */
function conditionFindings(name: string, k: KubeNode, v: NodeView | undefined): Finding[] {
  const out: Finding[] = [];
  const cond = (type: string) => k.conditions?.find((c) => c.type === type);
  const nu = cond('NetworkUnavailable');
  if (nu?.status === 'True') {
    const why = [nu.reason, nu.message].filter(Boolean).join(': ');
    out.push({
      id: 'kube-network-unavailable',
      node: name,
      severity: 'error',
      message: `Node ${k.name} has NetworkUnavailable=True${why ? ` (${why})` : ''}: it carries the taint node.kubernetes.io/network-unavailable:NoSchedule and no new pod is scheduled there`,
      evidence: `Node ${k.name} condition ${describeCondition(nu)}`,
      fix: `run podnet up: it sets NetworkUnavailable=False (reason PodnetIsUp) once the node's pod network is configured; if another CNI or the cloud route controller owns the condition${nu.reason ? ` (reason ${nu.reason})` : ''}, fix that component: it sets it False when its routes exist`,
    });
  }
  const ready = cond('Ready');
  if (ready && (ready.status === 'False' || ready.status === 'Unknown') && RUNTIME_NETWORK_NOT_READY.test(ready.message ?? '')) {
    // the node has a config its runtime should load: the runtime has not (re)read it
    const loaded = v?.live && !v.live.parseError && !v.live.kindError ? v.live.file.name : undefined;
    out.push({
      id: 'kube-node-notready-cni',
      node: name,
      severity: 'error',
      message: `Node ${k.name} is NotReady because its container runtime has no pod network (no CNI config loaded${loaded ? `, although the node has ${loaded} now` : ''}): it carries the taint node.kubernetes.io/not-ready and only pods that tolerate it are scheduled there, none of them with a pod network`,
      evidence: `Node ${k.name} condition ${describeCondition(ready)}`,
      fix: loaded
        ? `the runtime has not loaded ${loaded} yet: it rereads the conf dir within seconds; if the node stays NotReady, restart the container runtime (systemctl restart containerd) and see podnet doctor's other findings for ${name}`
        : `give the node a CNI config: run podnet up (it writes 10-podnet.conflist), and see podnet doctor's other findings for ${name} (no-cni-config, cni-config-*)`,
    });
  }
  return out;
}

export function kubeApiFailure(error: string): Finding {
  return { id: 'kube-api', node: API_NODE, severity: 'warning', message: 'the Kubernetes API could not be read; the nodes were checked without it', evidence: error, fix: 'check the kubeconfig (server, credentials) and that the API server runs: kubectl get nodes' };
}
