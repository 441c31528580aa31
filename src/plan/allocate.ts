/**
 * Pod CIDR allocation: which /nodeMaskSize subnet of the cluster CIDR each node gets. Pure and
 * deterministic, and deliberately sticky: a node keeps the subnet it already has (pinned or read from the
 * node) so that adding or removing other nodes never renumbers running pods.
 */
import { maxNodeMaskSize, nthSubnet, parseCidr, subnetCount, subnetIndex, type Cidr } from '../net/cidr.js';
import { UserError } from '../util/errors.js';

export interface AllocationRequest {
  name: string;
  /** podCIDR from the inventory: always honoured */
  pinned?: string;
  /** podCIDR the node already has (read from the node): kept when still valid and free */
  existing?: string;
}

export interface Allocation {
  name: string;
  podCIDR: string;
  source: 'pinned' | 'existing' | 'allocated';
}

export { maxNodeMaskSize } from '../net/cidr.js';

function parseCluster(clusterCidr: string, maskSize: number): Cidr {
  const cluster = parseCidr(clusterCidr);
  if (!cluster) {
    throw new UserError(
      `cluster.podCIDR: ${JSON.stringify(clusterCidr)} is not a valid CIDR; expected a network such as 10.244.0.0/16`,
    );
  }
  const max = maxNodeMaskSize(cluster.family);
  if (!Number.isInteger(maskSize) || maskSize <= cluster.prefix || maskSize > max) {
    throw new UserError(
      `cluster.nodeMaskSize: ${maskSize} does not fit ${cluster.text}; expected an integer from ${cluster.prefix + 1} to ${max}`,
    );
  }
  return cluster;
}

/**
 * Allocate one pod CIDR per node, returned in input order. Precedence: pinned, then existing (first
 * claimant in input order wins), then the lowest free subnet in input order that is not `reserved`.
 */
export function allocatePodCidrs(clusterCidr: string, maskSize: number, nodes: AllocationRequest[], reserved: string[] = []): Allocation[] {
  const cluster = parseCluster(clusterCidr, maskSize);
  const capacity = subnetCount(cluster, maskSize);
  if (BigInt(nodes.length) > capacity) {
    throw new UserError(
      `cluster.podCIDR: ${cluster.text} holds ${capacity} /${maskSize} subnets but ${nodes.length} nodes need one each; ` +
        'expected a larger CIDR or a larger cluster.nodeMaskSize',
    );
  }

  const seenNames = new Set<string>();
  for (const n of nodes) {
    if (seenNames.has(n.name)) throw new UserError(`duplicate node name "${n.name}"; expected each node once`);
    seenNames.add(n.name);
  }

  // Subnets are tracked by index so that spellings of the same network cannot be told apart.
  const owner = new Map<bigint, string>();
  const result = new Map<string, Allocation>();

  for (const n of nodes) {
    if (n.pinned === undefined) continue;
    const pinned = parseCidr(n.pinned);
    const index = pinned ? subnetIndex(cluster, maskSize, pinned) : undefined;
    if (!pinned || index === undefined) {
      throw new UserError(
        `node "${n.name}": podCIDR ${JSON.stringify(n.pinned)} is not a /${maskSize} inside ${cluster.text}; ` +
          `expected a network such as ${nthSubnet(cluster, maskSize, 0).text}`,
      );
    }
    const other = owner.get(index);
    if (other !== undefined) {
      throw new UserError(`node "${n.name}": podCIDR ${pinned.text} is already pinned to node "${other}"; expected a distinct subnet per node`);
    }
    owner.set(index, n.name);
    result.set(n.name, { name: n.name, podCIDR: pinned.text, source: 'pinned' });
  }

  for (const n of nodes) {
    if (result.has(n.name) || n.existing === undefined) continue;
    const existing = parseCidr(n.existing);
    const index = existing ? subnetIndex(cluster, maskSize, existing) : undefined;
    // An unusable existing CIDR (other cluster, other size, taken) is not an error: the node is renumbered.
    if (!existing || index === undefined || owner.has(index)) continue;
    owner.set(index, n.name);
    result.set(n.name, { name: n.name, podCIDR: existing.text, source: 'existing' });
  }

  // Subnets that may belong to nodes not read this run (their peers still route them) go to no new node.
  for (const r of reserved) {
    const c = parseCidr(r);
    const index = c ? subnetIndex(cluster, maskSize, c) : undefined;
    if (index !== undefined && !owner.has(index)) owner.set(index, '(held by a node not read this run)');
  }

  // The cursor only moves forward: everything below it is taken, so the scan is O(nodes), not O(subnets).
  let cursor = 0n;
  for (const n of nodes) {
    if (result.has(n.name)) continue;
    while (owner.has(cursor)) cursor++;
    if (cursor >= capacity) {
      // Unreachable given the capacity check above; kept so a logic slip cannot hand out a bogus subnet.
      throw new UserError(`cluster.podCIDR: ${cluster.text} has no free /${maskSize} subnet left for node "${n.name}"`);
    }
    owner.set(cursor, n.name);
    result.set(n.name, { name: n.name, podCIDR: nthSubnet(cluster, maskSize, cursor).text, source: 'allocated' });
  }

  return nodes.map((n) => result.get(n.name)!);
}
