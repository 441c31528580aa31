/**
 * What podnet reads about nodes from the Kubernetes API (kube/nodes.ts fetches it), as plain data the
 * checks compare with what the nodes themselves report.
 */
export interface KubeNode {
  name: string;
  /** spec.podCIDRs (or the single spec.podCIDR of older clusters) */
  podCIDRs: string[];
  internalIPs: string[];
  /** status.conditions (Ready, NetworkUnavailable, …); absent when they were not read */
  conditions?: KubeNodeCondition[];
}

export interface KubeNodeCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}
