/**
 * What a fresh kubeadm cluster has that podnet reads: the four system namespaces, the kubeadm-config
 * ConfigMap whose ClusterConfiguration names the pod subnet (the lab inventory's cluster.podCIDR), the
 * kube-root-ca.crt ConfigMap in every namespace, and a Node per lab node.
 */
import { stringify } from 'yaml';
import type { LabPlan } from '../topology.js';
import { LAB_CLUSTER_NETWORKS } from '../render.js';
import type { Store } from './store.js';
import type { KObject } from './types.js';
import { KUBELET_VERSION } from './resources.js';

export const SYSTEM_NAMESPACES = ['default', 'kube-node-lease', 'kube-public', 'kube-system'];
/** Namespaces the API refuses to delete. */
export const UNDELETABLE_NAMESPACES = ['default', 'kube-public', 'kube-system'];
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';

export function namespaceObject(name: string, labels: Record<string, string> = {}, extra: Partial<KObject['metadata']> = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { ...extra, name, labels: { ...labels, 'kubernetes.io/metadata.name': name } },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

export function rootCaConfigMap(namespace: string, caPem: string): KObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations: { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' } }, data: { 'ca.crt': caPem } };
}

/** The ClusterConfiguration kubeadm stores, with the lab's networks. */
export function clusterConfiguration(plan: LabPlan): string {
  const nets = LAB_CLUSTER_NETWORKS[plan.ipFamily];
  return stringify({
    apiServer: {},
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    caCertificateValidityPeriod: '87600h0m0s',
    certificateValidityPeriod: '8760h0m0s',
    certificatesDir: '/etc/kubernetes/pki',
    clusterName: plan.name,
    controlPlaneEndpoint: plan.api ? plan.api.server.replace(/^https:\/\//, '') : '',
    controllerManager: {},
    dns: {},
    encryptionAlgorithm: 'RSA-2048',
    etcd: { local: { dataDir: '/var/lib/etcd' } },
    imageRepository: 'registry.k8s.io',
    kind: 'ClusterConfiguration',
    kubernetesVersion: KUBELET_VERSION,
    networking: { dnsDomain: 'cluster.local', podSubnet: nets.podCIDRs.join(','), serviceSubnet: nets.serviceCIDRs.join(',') },
    proxy: {},
    scheduler: {},
  });
}

export function seedStore(store: Store, plan: LabPlan, caPem: string): void {
  for (const ns of SYSTEM_NAMESPACES) {
    store.create('namespaces', namespaceObject(ns));
    store.create('configmaps', rootCaConfigMap(ns, caPem));
  }
  store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kubeadm-config', namespace: 'kube-system' }, data: { ClusterConfiguration: clusterConfiguration(plan) } });
}
