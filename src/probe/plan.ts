/**
 * The probe matrix as data: which checks run from which node to which node. Each check declares its
 * source (a probe pod or the node itself), target and protocol; expected outcomes are values (reach the
 * target, and for pod→pod see the sender's pod IP). Every cell belongs to one IP family: on a dual-stack
 * network the whole matrix runs once over the pods' IPv4 addresses and once over their IPv6 ones. Pure.
 */
import { FAMILIES, type IpFamily } from '../net/family.js';

/** How a family is written for people. */
export const FAMILY_LABEL: Record<IpFamily, string> = { ipv4: 'IPv4', ipv6: 'IPv6' };

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

/** Every cell for the pairs, once per family (the families the probe pods have addresses of). */
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

/**
 * The families to probe: every family that some probe pod got an address of from its node's live config
 * (the union over the pods made, in the order IPv4, IPv6). Not the intersection: a node whose pod lacks a
 * family the other pods have is a broken node of a dual-stack network, and its cells of that family must
 * fail (naming it), not disappear. When no probe pod could be made at all, the families the live configs
 * declare stand in (their cells fail, blocked by the nodes), and IPv4 when nothing is known.
 */
export function familiesToProbe(pods: readonly Partial<Record<IpFamily, string>>[], declared: readonly IpFamily[] = []): IpFamily[] {
  const got = FAMILIES.map((f) => f.name).filter((f) => pods.some((p) => p[f] !== undefined));
  if (got.length) return got;
  const known = FAMILIES.map((f) => f.name).filter((f) => declared.includes(f));
  return known.length ? known : ['ipv4'];
}
