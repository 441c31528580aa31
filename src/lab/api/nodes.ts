/**
 * The lab's nodes as Node objects: addresses from the lab, pod CIDRs as the controller manager would
 * allocate them (node i gets the i-th subnet of each pod network, the lab inventory's mask), what the
 * kubelet reports about the machine, and the Ready condition a real kubelet derives from its container
 * runtime: NotReady with "cni plugin not initialized" until the node has a CNI config, Ready after; and
 * the NoSchedule taints the node lifecycle controller derives from the conditions (a NetworkUnavailable
 * that a client set to True becomes node.kubernetes.io/network-unavailable).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { arch, cpus, release, totalmem } from 'node:os';
import { nthSubnet } from '../../net/cidr.js';
import { hostIps, type LabHost, type LabPlan } from '../topology.js';
import { LAB_CLUSTER_NETWORKS } from '../render.js';
import { KUBELET_VERSION } from './resources.js';
import type { ImageInfo } from './images.js';
import { shortRefs } from './images.js';
import type { Condition, NodeObject, Taint } from './types.js';

export const RUNTIME_VERSION = 'podnet-lab://0.1.0';
export const NOT_READY_TAINT: Taint = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };
export const NETWORK_NOT_READY =
  'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized';

export interface MachineFacts {
  osImage: string;
  kernelVersion: string;
  cpus: number;
  memoryKi: number;
  architecture: string;
}

export function machineFacts(): MachineFacts {
  let osImage = 'Linux';
  try {
    osImage = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? osImage;
  } catch {
    /* no os-release */
  }
  const a = arch();
  return { osImage, kernelVersion: release(), cpus: cpus().length, memoryKi: Math.floor(totalmem() / 1024), architecture: a === 'x64' ? 'amd64' : a };
}

/** The pod CIDRs of the index-th node (0-based), one per pod network of the lab. */
export function nodePodCidrs(plan: LabPlan, index: number): string[] {
  const nets = LAB_CLUSTER_NETWORKS[plan.ipFamily];
  return nets.podCIDRs.map((c, i) => nthSubnet(c, nets.nodeMaskSizes[i]!, index).text);
}

/** A CNI config directory the runtime would load: any .conf, .conflist or .json file. */
export function hasCniConfig(files: readonly string[]): boolean {
  return files.some((f) => /\.(conf|conflist|json)$/.test(f));
}

const PRESSURE: [string, string, string][] = [
  ['MemoryPressure', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
  ['DiskPressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
  ['PIDPressure', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
];

function readyCondition(ready: boolean, now: string): Condition {
  return ready
    ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }
    : { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: NETWORK_NOT_READY, lastHeartbeatTime: now, lastTransitionTime: now };
}

export function buildNode(plan: LabPlan, node: LabHost, index: number, facts: MachineFacts, images: ImageInfo[], ready: boolean, now: string): NodeObject {
  const podCIDRs = nodePodCidrs(plan, index);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      labels: {
        'beta.kubernetes.io/arch': facts.architecture,
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': facts.architecture,
        'kubernetes.io/hostname': node.name,
        'kubernetes.io/os': 'linux',
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: { podCIDR: podCIDRs[0], podCIDRs, ...(ready ? {} : { taints: [NOT_READY_TAINT] }) },
    status: {
      capacity: { cpu: String(facts.cpus), memory: `${facts.memoryKi}Ki`, pods: '110', 'ephemeral-storage': '10Gi', 'hugepages-2Mi': '0' },
      allocatable: { cpu: String(facts.cpus), memory: `${facts.memoryKi}Ki`, pods: '110', 'ephemeral-storage': '10Gi', 'hugepages-2Mi': '0' },
      conditions: [...PRESSURE.map(([type, reason, message]) => ({ type, status: 'False' as const, reason, message, lastHeartbeatTime: now, lastTransitionTime: now })), readyCondition(ready, now)],
      addresses: [...hostIps(node).map((address) => ({ type: 'InternalIP', address })), { type: 'Hostname', address: node.name }],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: randomBytes(16).toString('hex'),
        systemUUID: randomUUID(),
        bootID: randomUUID(),
        kernelVersion: facts.kernelVersion,
        osImage: facts.osImage,
        containerRuntimeVersion: RUNTIME_VERSION,
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: KUBELET_VERSION,
        operatingSystem: 'linux',
        architecture: facts.architecture,
      },
      images: images.map((i) => ({ names: [`${i.def.refs[0]!.replace(/:[^:/]+$/, '')}@${i.digest}`, ...shortRefs(i.def)], sizeBytes: i.sizeBytes })),
    },
  };
}

/**
 * The node with its Ready condition (and the not-ready taint) for the runtime's readiness; other
 * conditions, such as a NetworkUnavailable that a client set, are kept. Unchanged when nothing changed.
 */
export function withReadiness(node: NodeObject, ready: boolean, now: string): NodeObject {
  const conds = node.status.conditions ?? [];
  const cur = conds.find((c) => c.type === 'Ready');
  if (cur && (cur.status === 'True') === ready) return node;
  const taints = (node.spec.taints ?? []).filter((t) => !(t.key === NOT_READY_TAINT.key && t.effect === NOT_READY_TAINT.effect));
  if (!ready) taints.push(NOT_READY_TAINT);
  const { taints: _old, ...spec } = node.spec;
  return {
    ...node,
    spec: { ...spec, ...(taints.length ? { taints } : {}) },
    status: { ...node.status, conditions: [...conds.filter((c) => c.type !== 'Ready'), readyCondition(ready, now)] },
  };
}

/** The NoSchedule taint the node lifecycle controller keeps for a condition in a status (doNoScheduleTaintingPass). */
const CONDITION_TAINTS: { type: string; status: Condition['status']; key: string }[] = [
  { type: 'Ready', status: 'False', key: 'node.kubernetes.io/not-ready' },
  { type: 'Ready', status: 'Unknown', key: 'node.kubernetes.io/unreachable' },
  { type: 'MemoryPressure', status: 'True', key: 'node.kubernetes.io/memory-pressure' },
  { type: 'DiskPressure', status: 'True', key: 'node.kubernetes.io/disk-pressure' },
  { type: 'NetworkUnavailable', status: 'True', key: 'node.kubernetes.io/network-unavailable' },
  { type: 'PIDPressure', status: 'True', key: 'node.kubernetes.io/pid-pressure' },
];

/**
 * The node with the NoSchedule taints its conditions call for, and no others of those keys: a
 * NetworkUnavailable=True condition adds node.kubernetes.io/network-unavailable, False (or none)
 * removes it. Other taints stay as they are; unchanged (the same object) when nothing changes.
 */
export function withConditionTaints(node: NodeObject): NodeObject {
  const conds = node.status.conditions ?? [];
  const managed = new Set(CONDITION_TAINTS.map((c) => c.key));
  const want = CONDITION_TAINTS.filter((m) => conds.some((c) => c.type === m.type && c.status === m.status)).map((m) => m.key);
  const cur = node.spec.taints ?? [];
  const have = cur.filter((t) => t.effect === 'NoSchedule' && managed.has(t.key)).map((t) => t.key);
  if (have.length === want.length && want.every((k) => have.includes(k))) return node;
  const taints = [...cur.filter((t) => !(t.effect === 'NoSchedule' && managed.has(t.key))), ...want.map((key) => ({ key, effect: 'NoSchedule' }))];
  const { taints: _old, ...spec } = node.spec;
  return { ...node, spec: { ...spec, ...(taints.length ? { taints } : {}) } };
}
