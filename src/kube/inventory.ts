/**
 * The cluster as the inventory: the Node objects give the nodes (name, InternalIPs as node IPs,
 * spec.podCIDRs as pinned pod CIDRs: the controller manager's allocation is authoritative), the
 * kubeadm-config ConfigMap gives the cluster CIDR (else --pod-cidr, else the inventory file). An inventory
 * file given as well adds SSH settings, cluster settings and pins; a pin that disagrees with the cluster is
 * an error naming both. The result goes through the same validation as an inventory file.
 */
import { parse as parseYaml } from 'yaml';
import type { Inventory } from '../inventory/load.js';
import { parseCidr } from '../net/cidr.js';
import { describeValue } from '../util/describe.js';
import { UserError } from '../util/errors.js';
import { corePath, type KubeApi } from './client.js';
import { kubeNodeOf, type KubeNodeObject } from './node-object.js';
import type { KubeNode } from '../facts/kube.js';

export interface ClusterSelection {
  /** -l/--selector: a label selector, passed to the API */
  selector?: string;
  /** --node NAME…: only these */
  names?: string[];
  /** --pod-cidr: the cluster CIDR(s) when kubeadm-config does not say */
  podCIDR?: string;
  /** the inventory file lists the nodes (each must be a Node); else the cluster's Nodes are the nodes */
  onlyFileNodes?: boolean;
}

export interface ClusterInventory {
  inventory: Inventory;
  /** the Node objects of the inventory's nodes, as read */
  kubeNodes: KubeNode[];
  /** where the cluster CIDR came from */
  podCIDRSource: string;
}

type Raw = Record<string, unknown>;

function isMapping(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** networking.podSubnet and serviceSubnet of kubeadm's ClusterConfiguration ("a,b" when dual-stack). */
export function kubeadmNetworking(configMap: { data?: Record<string, string> } | undefined): { podSubnet?: string[]; serviceSubnet?: string[] } {
  const text = configMap?.data?.ClusterConfiguration;
  if (!text) return {};
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    return {};
  }
  const net = isMapping(doc) && isMapping(doc.networking) ? doc.networking : {};
  const list = (v: unknown) => (typeof v === 'string' && v.trim() ? v.split(',').map((x) => x.trim()).filter(Boolean) : undefined);
  return { podSubnet: list(net.podSubnet), serviceSubnet: list(net.serviceSubnet) };
}

function asList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

function sameCidrs(a: string[], b: string[]): boolean {
  const norm = (l: string[]) => l.map((x) => parseCidr(x)?.text ?? x);
  const x = norm(a);
  const y = norm(b);
  return x.length === y.length && x.every((c, i) => c === y[i]);
}

/** Order addresses as the cluster's families are ordered (primary first), one per family. */
function byFamilies(ips: string[], families: (4 | 6)[]): string[] {
  const out: string[] = [];
  for (const f of families) {
    const ip = ips.find((x) => (x.includes(':') ? 6 : 4) === f);
    if (ip) out.push(ip);
  }
  return out;
}

/**
 * Build the inventory from the cluster. `file` is the inventory file's data when -i was given too.
 * Every disagreement is a UserError (exit 2) before any node is touched.
 */
export async function clusterInventory(api: KubeApi, sel: ClusterSelection, file?: { path: string; data: unknown }, resolve?: (raw: unknown, source: string) => Inventory): Promise<ClusterInventory> {
  const [list, kubeadm] = await Promise.all([
    api.request<{ items?: unknown[] }>('cluster', { verb: 'list', resource: 'nodes', method: 'GET', path: corePath('nodes', { query: { labelSelector: sel.selector } }) }),
    api.request('cluster', { verb: 'get', resource: 'configmaps', namespace: 'kube-system', method: 'GET', path: corePath('configmaps', { namespace: 'kube-system', name: 'kubeadm-config' }) }).catch(() => undefined),
  ]);
  let objects = (list.items ?? []) as unknown as KubeNodeObject[];
  // podnet configures Linux nodes: Windows and virtual nodes (virtual-kubelet, Fargate) are not its, unless named
  const linux = (o: KubeNodeObject) => (o.metadata?.labels?.['kubernetes.io/os'] ?? 'linux') === 'linux' && o.metadata?.labels?.type !== 'virtual-kubelet';
  for (const n of sel.names ?? []) {
    const o = objects.find((x) => x.metadata?.name === n);
    if (o && !linux(o)) throw new UserError(`--node: ${describeValue(n)} is not a Linux node (kubernetes.io/os=${o.metadata?.labels?.['kubernetes.io/os'] ?? '?'}${o.metadata?.labels?.type ? `, type=${o.metadata.labels.type}` : ''}); expected a Linux node podnet can configure`);
  }
  if (!sel.names?.length) objects = objects.filter(linux);
  if (sel.selector && objects.length === 0) throw new UserError(`--selector: ${describeValue(sel.selector)} matches no Node in the cluster at ${api.server}; expected a label selector that matches nodes (kubectl get nodes -l …)`);
  if (sel.names?.length) {
    for (const n of sel.names) {
      if (!objects.some((o) => o.metadata?.name === n)) {
        throw new UserError(`--node: no Node ${describeValue(n)}${sel.selector ? ` matching ${describeValue(sel.selector)}` : ''} in the cluster at ${api.server}; expected one of ${objects.map((o) => o.metadata?.name ?? '').slice(0, 10).join(', ')}${objects.length > 10 ? ', …' : ''}`);
      }
    }
    objects = objects.filter((o) => sel.names!.includes(o.metadata?.name ?? ''));
  }
  if (objects.length === 0) throw new UserError(`the cluster at ${api.server} has no Node objects; expected at least one registered node (kubectl get nodes)`);
  const kubeNodes = objects.map(kubeNodeOf);

  const data = file ? file.data : {};
  if (file && !isMapping(data)) throw new UserError(`${file.path}: the inventory is not a mapping; expected cluster, ssh and nodes settings`);
  const fileData = data as Raw;
  const cluster: Raw = isMapping(fileData.cluster) ? { ...fileData.cluster } : {};
  const where = file ? file.path : 'the inventory';

  // The cluster CIDR: kubeadm's ClusterConfiguration, else the flag, else the inventory file.
  const net = kubeadmNetworking(kubeadm as { data?: Record<string, string> } | undefined);
  let podCIDRSource = 'the inventory';
  const filePods = asList(cluster.podCIDR);
  if (net.podSubnet) {
    if (filePods.length && !sameCidrs(filePods, net.podSubnet)) {
      throw new UserError(`cluster.podCIDR: ${filePods.join(', ')} in ${where} but the cluster's kubeadm-config says networking.podSubnet ${net.podSubnet.join(',')}; expected them to agree`, 'remove cluster.podCIDR from the inventory, or fix the cluster\'s configuration');
    }
    if (sel.podCIDR && !sameCidrs(sel.podCIDR.split(','), net.podSubnet)) {
      throw new UserError(`--pod-cidr: ${sel.podCIDR} but the cluster's kubeadm-config says networking.podSubnet ${net.podSubnet.join(',')}; expected them to agree (or leave --pod-cidr out)`);
    }
    cluster.podCIDR = net.podSubnet.length === 1 ? net.podSubnet[0] : net.podSubnet;
    podCIDRSource = 'the kubeadm-config ConfigMap';
  } else if (sel.podCIDR) {
    const l = sel.podCIDR.split(',').map((x) => x.trim());
    if (filePods.length && !sameCidrs(filePods, l)) throw new UserError(`--pod-cidr: ${sel.podCIDR} but ${where} says cluster.podCIDR ${filePods.join(', ')}; expected them to agree`);
    cluster.podCIDR = l.length === 1 ? l[0] : l;
    podCIDRSource = '--pod-cidr';
  } else if (!filePods.length) {
    throw new UserError(
      `cluster.podCIDR: not known: the cluster at ${api.server} has no kubeadm-config ConfigMap naming networking.podSubnet; expected --pod-cidr CIDR (the controller manager's --cluster-cidr) or an inventory file (-i) with cluster.podCIDR`,
    );
  }
  if (net.serviceSubnet && cluster.serviceCIDR === undefined) cluster.serviceCIDR = net.serviceSubnet.length === 1 ? net.serviceSubnet[0] : net.serviceSubnet;

  const families = asList(cluster.podCIDR).map((c) => (c.includes(':') ? 6 : 4) as 4 | 6);
  const fileNodes = Array.isArray(fileData.nodes) ? (fileData.nodes as unknown[]) : [];
  const byName = new Map<string, { entry: Raw; index: number }>();
  fileNodes.forEach((e, index) => {
    if (isMapping(e) && typeof e.name === 'string') byName.set(e.name, { entry: e, index });
  });
  const names = new Set(kubeNodes.map((k) => k.name));
  for (const [name, { index }] of byName) {
    if (!names.has(name) && (sel.onlyFileNodes || (!sel.selector && !sel.names?.length))) {
      throw new UserError(`nodes[${index}].name: ${describeValue(name)} in ${where} is not a Node in the cluster at ${api.server}; expected the name of a registered Node (kubectl get nodes)`);
    }
  }
  const chosen = sel.onlyFileNodes ? [...byName.keys()].map((n) => kubeNodes.find((k) => k.name === n)!) : kubeNodes;

  const nodes = chosen.map((k) => {
    const mine = byName.get(k.name);
    const entry: Raw = mine ? { ...mine.entry } : { name: k.name };
    const at = mine ? `nodes[${mine.index}]` : `Node ${describeValue(k.name)}`;
    if (entry.address === undefined) {
      const address = k.internalIPs[0] ?? k.hostname;
      if (!address) throw new UserError(`${at}: the Node has no InternalIP or Hostname address; expected the kubelet to report one (--node-ip), or an address for it in the inventory`);
      entry.address = address;
    }
    if (entry.ip === undefined && k.internalIPs.length) {
      const ips = byFamilies(k.internalIPs, families);
      if (ips.length) entry.ip = ips.length === 1 ? ips[0] : ips;
    }
    if (k.podCIDRs.length) {
      const pins = asList(entry.podCIDR);
      if (pins.length && !sameCidrs(pins, k.podCIDRs)) {
        throw new UserError(
          `${at}.podCIDR: ${pins.join(', ')} pinned in ${where} for ${k.name}, but the cluster assigned ${k.podCIDRs.join(', ')} (spec.podCIDRs); expected them to agree`,
          'the controller manager\'s allocation is what kubelet and the cluster use: remove the pin, or re-register the Node',
        );
      }
      entry.podCIDR = k.podCIDRs.length === 1 ? k.podCIDRs[0] : k.podCIDRs;
    }
    return entry;
  });

  const raw: Raw = { ...fileData, cluster, nodes };
  const source = file ? file.path : `the cluster at ${api.server}`;
  const inventory = resolve ? resolve(raw, source) : (await import('../inventory/load.js')).resolveInventory(raw, source);
  // Picked nodes are some of the cluster's: routes to the others stay as they are (plan: keepUnclaimed).
  if (sel.selector !== undefined || (sel.names?.length ?? 0) > 0 || chosen.length < kubeNodes.length) inventory.partial = true;
  return { inventory, kubeNodes: chosen, podCIDRSource };
}
