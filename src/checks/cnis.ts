/** Plugin types that belong to a CNI other than a plain bridge network, by project: how checks tell whose a config or device is. */
export const CNI_OF_PLUGIN: Readonly<Record<string, string>> = {
  flannel: 'flannel',
  calico: 'Calico',
  'calico-ipam': 'Calico',
  'cilium-cni': 'Cilium',
  'weave-net': 'Weave Net',
  'weave-ipam': 'Weave Net',
  antrea: 'Antrea',
  'kube-ovn': 'Kube-OVN',
  'ovn-k8s-cni-overlay': 'OVN-Kubernetes',
  multus: 'Multus',
  'multus-shim': 'Multus',
  'aws-cni': 'AWS VPC CNI',
};
