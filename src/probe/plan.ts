/**
 * The probe matrix as data: which checks run from which node to which node. Each check declares its
 * source (a probe pod or the node itself), target and protocol; expected outcomes are values (reach the
 * target, and for pod→pod see the sender's pod IP). Pure.
 */
import type { IpFamily } from '../net/family.js';

export const PROBE_CHECKS = {
  'pod-tcp': { label: 'pod→pod TCP', from: 'pod', to: 'pod', proto: 'tcp', nat: 'fail' },
  'pod-udp': { label: 'pod→pod UDP', from: 'pod', to: 'pod', proto: 'udp', nat: 'fail' },
  'pod-icmp': { label: 'pod→pod ICMP', from: 'pod', to: 'pod', proto: 'icmp', nat: 'none' },
  'pod-mtu': { label: 'pod→pod path MTU (DF)', from: 'pod', to: 'pod', proto: 'mtu', nat: 'none' },
  'host-pod-tcp': { label: 'hostNetwork→pod TCP', from: 'host', to: 'pod', proto: 'tcp', nat: 'warn' },
  'hostport-tcp-pod': { label: 'pod→nodeIP:hostPort TCP', from: 'pod', to: 'hostport', proto: 'tcp', nat: 'none' },
  'hostport-udp-pod': { label: 'pod→nodeIP:hostPort UDP', from: 'pod', to: 'hostport', proto: 'udp', nat: 'none' },
  'hostport-tcp-host': { label: 'node→nodeIP:hostPort TCP', from: 'host', to: 'hostport', proto: 'tcp', nat: 'none' },
  'hostport-udp-host': { label: 'node→nodeIP:hostPort UDP', from: 'host', to: 'hostport', proto: 'udp', nat: 'none' },
  localhost: { label: 'pod localhost (two processes)', from: 'pod', to: 'localhost', proto: 'tcp', nat: 'none' },
} as const;

export type ProbeCheck = keyof typeof PROBE_CHECKS;

export interface ProbePair {
  src: string;
  dst: string;
}

/**
 * Ordered pairs to probe. Full mesh (every ordered pair, plus each node to itself) by default; with
 * `sample` K each node probes itself and its K next nodes in a ring, so every node is both a source and
 * a target K times.
 */
export function probePairs(nodes: string[], sample?: number): ProbePair[] {
  const n = nodes.length;
  const k = sample === undefined ? n - 1 : Math.min(sample, n - 1);
  const pairs: ProbePair[] = [];
  nodes.forEach((src, i) => {
    for (let j = 0; j <= k; j++) pairs.push({ src, dst: nodes[(i + j) % n]! });
  });
  return pairs;
}

export interface ProbeCell {
  check: ProbeCheck;
  src: string;
  dst: string;
  /** the IP family the cell proves (every cell is one family's) */
  family: IpFamily;
}

/** Every cell for the pairs, once per family (IPv4 only for now: the probe pods get IPv4 addresses). */
export function probeCells(nodes: string[], sample?: number, families: readonly IpFamily[] = ['ipv4']): ProbeCell[] {
  const cells: ProbeCell[] = [];
  for (const family of families) {
    for (const p of probePairs(nodes, sample)) {
      for (const check of Object.keys(PROBE_CHECKS) as ProbeCheck[]) {
        if (check === 'localhost' && p.src !== p.dst) continue;
        cells.push({ check, src: p.src, dst: p.dst, family });
      }
    }
  }
  return cells;
}
