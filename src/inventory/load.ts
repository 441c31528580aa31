/**
 * Reading an inventory: YAML (or JSON) text -> schema -> cross-field rules -> the resolved Inventory that
 * commands use. Every problem surfaces as one single-line UserError naming the field, before any node is
 * touched; the first problem wins so the message stays actionable.
 */
import { statSync } from 'node:fs';
import { readInputFile } from '../util/files.js';
import { homedir } from 'node:os';
import { parseDocument } from 'yaml';
import type { ZodIssue } from 'zod';
import {
  maxNodeMaskSize,
  cidrContainsCidr,
  cidrContainsIp,
  cidrsOverlap,
  ipFamily,
  normalizeIp,
  parseCidr,
  subnetCount,
  subnetIndex,
  type Cidr,
  type Family,
} from '../net/cidr.js';
import { reservedOverlap } from '../net/reserved.js';
import { UserError } from '../util/errors.js';
import {
  API_VERSION,
  DEFAULT_NODE_MASK_SIZE,
  describeValue,
  formatPath,
  inventorySchema,
  KIND,
  SSH_DEFAULTS,
  type ClusterSettings,
  type Inventory,
  type InventoryFile,
  type InventoryNode,
  type ResolvedSsh,
  type SshSettings,
} from './schema.js';
import { familyByVersion } from '../net/family.js';

export type { ClusterSettings, Inventory, InventoryNode, ResolvedSsh, SshSettings } from './schema.js';

// Inventories are small; a cap keeps a wrong path (a log, /dev/zero) from being slurped.
const MAX_INVENTORY_BYTES = 1024 * 1024;

// IPv6 links cannot go below this (RFC 8200).
const MIN_IPV6_MTU = 1280;

function hintFor(source: string, more = 0): string {
  const rest = more > 0 ? ` (${more} more problem${more > 1 ? 's' : ''} may follow)` : '';
  return `fix ${source} and run again${rest}`;
}

function fail(message: string, source: string): never {
  throw new UserError(message, hintFor(source));
}

function famName(f: Family): string {
  return `IPv${f}`;
}

function parseYaml(text: string, source: string): unknown {
  const doc = parseDocument(text);
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0]?.line;
    // The library appends " at line L, column C:" and a code frame; we want one line.
    const what = (err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '').replace(/[^\x20-\x7e]/g, '?');
    throw new UserError(`${source}: malformed YAML${line !== undefined ? ` at line ${line}` : ''}: ${what}`, hintFor(source));
  }
  try {
    return doc.toJS();
  } catch (e) {
    // Unresolvable aliases and similar only show up when converting.
    const what = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.replace(/[^\x20-\x7e]/g, '?');
    throw new UserError(`${source}: malformed YAML: ${what}`, hintFor(source));
  }
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `cluster:` with only comments under it parses as null; treat such empty sections as absent. */
function dropEmptySections(raw: Record<string, unknown>): void {
  const drop = (obj: Record<string, unknown>, key: string) => {
    if (Object.prototype.hasOwnProperty.call(obj, key) && obj[key] === null) delete obj[key];
  };
  drop(raw, 'cluster');
  drop(raw, 'ssh');
  if (isMapping(raw.cluster)) drop(raw.cluster, 'vxlan');
  if (Array.isArray(raw.nodes)) for (const n of raw.nodes) if (isMapping(n)) drop(n, 'ssh');
}

function issueMessage(issue: ZodIssue, source: string): string {
  if (issue.code === 'unrecognized_keys') return issue.message;
  const where = issue.path.length === 0 ? source : formatPath(issue.path);
  return `${where}: ${issue.message}`;
}

function resolveSsh(top: SshSettings, node: SshSettings | undefined): ResolvedSsh {
  const pick = <K extends keyof SshSettings>(k: K): SshSettings[K] => (node?.[k] !== undefined ? node[k] : top[k]);
  const resolved: ResolvedSsh = {
    user: pick('user') ?? SSH_DEFAULTS.user,
    port: pick('port') ?? SSH_DEFAULTS.port,
    sudo: pick('sudo') ?? SSH_DEFAULTS.sudo,
    options: [...(pick('options') ?? SSH_DEFAULTS.options)],
    connectTimeout: pick('connectTimeout') ?? SSH_DEFAULTS.connectTimeout,
    commandTimeout: pick('commandTimeout') ?? SSH_DEFAULTS.commandTimeout,
    acceptNewHostKeys: SSH_DEFAULTS.acceptNewHostKeys,
  };
  const identityFile = pick('identityFile');
  if (identityFile !== undefined) resolved.identityFile = expandHome(identityFile);
  return resolved;
}

/** A pod or service network inside (or around) a special-purpose range would never route as expected. */
function refuseReserved(field: string, cidr: Cidr, source: string): void {
  const r = reservedOverlap(cidr);
  if (r) {
    const how = cidrContainsCidr(r.cidr, cidr) ? 'is inside' : 'overlaps';
    fail(`${field}: ${cidr.text} ${how} ${r.cidr}, ${r.what}; expected a private range such as ${familyByVersion(cidr.family).examplePodCidr}`, source);
  }
}

function resolveCluster(file: InventoryFile, source: string): { cluster: ClusterSettings; pod: Cidr; service?: Cidr } {
  const c = file.cluster;
  const pod = parseCidr(c.podCIDR)!;
  refuseReserved('cluster.podCIDR', pod, source);
  const maskSize = c.nodeMaskSize ?? DEFAULT_NODE_MASK_SIZE[pod.family];
  const maxMask = maxNodeMaskSize(pod.family);
  if (maskSize <= pod.prefix || maskSize > maxMask) {
    const range = pod.prefix + 1 <= maxMask ? `an integer from ${pod.prefix + 1} to ${maxMask}` : 'a shorter cluster.podCIDR';
    fail(
      `cluster.nodeMaskSize: ${maskSize} does not fit cluster.podCIDR ${pod.text}; expected ${range} ` +
        '(longer than the cluster prefix, leaving room for a gateway and pods)',
      source,
    );
  }

  let service: Cidr | undefined;
  if (c.serviceCIDR !== undefined) {
    service = parseCidr(c.serviceCIDR)!;
    refuseReserved('cluster.serviceCIDR', service, source);
    if (service.family !== pod.family) {
      fail(
        `cluster.serviceCIDR: ${service.text} is ${famName(service.family)} but cluster.podCIDR ${pod.text} is ${famName(pod.family)}; ` +
          'expected the same family (mixed families are not supported)',
        source,
      );
    }
    if (cidrsOverlap(pod, service)) {
      fail(`cluster.serviceCIDR: ${service.text} overlaps cluster.podCIDR ${pod.text}; expected disjoint ranges`, source);
    }
  }

  if (c.vxlan.device === c.bridge) {
    fail(`cluster.vxlan.device: ${describeValue(c.vxlan.device)} is also cluster.bridge; expected a different name for the overlay device, such as podnet.1`, source);
  }

  if (c.mtu !== undefined && pod.family === 6 && c.mtu < MIN_IPV6_MTU) {
    fail(`cluster.mtu: ${c.mtu} is too small for an IPv6 pod network; expected at least ${MIN_IPV6_MTU}`, source);
  }

  const cluster: ClusterSettings = {
    podCIDR: pod.text,
    nodeMaskSize: maskSize,
    mode: c.mode,
    vxlan: { ...c.vxlan },
    bridge: c.bridge,
    masquerade: c.masquerade,
  };
  if (service) cluster.serviceCIDR = service.text;
  if (c.mtu !== undefined) cluster.mtu = c.mtu;
  if (c.cniBinDir !== undefined) cluster.cniBinDir = c.cniBinDir;
  return { cluster, pod, service };
}

/** `~/x` → `$HOME/x`: the paths travel in ssh's argv without a shell, and ssh expands `~` only for some flags. */
export function expandHome(path: string, home = homedir()): string {
  return path === '~' ? home : path.startsWith('~/') ? `${home}${path.slice(1)}` : path;
}

/**
 * The local files an inventory's ssh settings name must exist before podnet tries to connect (ssh would
 * fail later as "unreachable", or silently skip a missing key). The field named is where the value was
 * written: the node's own ssh section or the top-level one.
 */
function checkSshFiles(file: InventoryFile, nodes: InventoryNode[], source: string): void {
  const seen = new Set<string>();
  nodes.forEach((n, i) => {
    for (const key of ['identityFile'] as const) {
      const path = n.ssh[key];
      if (path === undefined) continue;
      const field = file.nodes[i]?.ssh?.[key] !== undefined ? `nodes[${i}].ssh.${key}` : `ssh.${key}`;
      if (seen.has(`${field}\0${path}`)) continue;
      seen.add(`${field}\0${path}`);
      let st;
      try {
        st = statSync(path);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        fail(`${field}: ${describeValue(path)} ${code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : `cannot be read (${code ?? 'error'})`}; expected a private key file on this machine`, source);
      }
      if (!st.isFile()) fail(`${field}: ${describeValue(path)} is not a regular file; expected a private key file`, source);
    }
  });
}

function resolveNodes(file: InventoryFile, cluster: ClusterSettings, pod: Cidr, service: Cidr | undefined, source: string): InventoryNode[] {
  const names = new Map<string, number>();
  const addresses = new Map<string, number>();
  const nodeIps = new Map<string, string>(); // normalized ip -> field path that claimed it
  const pinned = new Map<bigint, number>();
  const nodes: InventoryNode[] = [];

  file.nodes.forEach((n, i) => {
    const at = `nodes[${i}]`;

    const sameName = names.get(n.name);
    if (sameName !== undefined) fail(`${at}.name: duplicate node name "${n.name}"`, source);
    names.set(n.name, i);

    const addressIp = normalizeIp(n.address);
    const address = addressIp ?? n.address;
    const addressKey = address.toLowerCase();
    const sameAddress = addresses.get(addressKey);
    if (sameAddress !== undefined) {
      fail(`${at}.address: duplicate address ${describeValue(address)} (also nodes[${sameAddress}].address); expected one node per address`, source);
    }
    addresses.set(addressKey, i);

    const ip = n.ip !== undefined ? normalizeIp(n.ip)! : undefined;

    // Every IP literal of the node must stay clear of the pod and service ranges, or routing loops.
    const literals: [string, string][] = [];
    if (addressIp !== undefined) literals.push([`${at}.address`, addressIp]);
    if (ip !== undefined) literals.push([`${at}.ip`, ip]);
    for (const [field, value] of literals) {
      if (cidrContainsIp(pod, value)) {
        fail(`${field}: ${value} is inside cluster.podCIDR ${pod.text}; expected node addresses outside the pod network`, source);
      }
      if (service && cidrContainsIp(service, value)) {
        fail(`${field}: ${value} is inside cluster.serviceCIDR ${service.text}; expected node addresses outside the service network`, source);
      }
    }

    // The node IP peers route to: explicit ip, else the address when it is a literal.
    const nodeIpField = ip !== undefined ? `${at}.ip` : `${at}.address`;
    const nodeIp = ip ?? addressIp;
    if (nodeIp !== undefined) {
      const family = ipFamily(nodeIp)!;
      if (family !== pod.family) {
        fail(
          `${nodeIpField}: ${nodeIp} is ${famName(family)} but cluster.podCIDR ${pod.text} is ${famName(pod.family)}; ` +
            `expected an ${famName(pod.family)} node IP (mixed families are not supported)`,
          source,
        );
      }
      const claimed = nodeIps.get(nodeIp);
      if (claimed !== undefined) {
        fail(`${nodeIpField}: duplicate node IP ${nodeIp} (also ${claimed}); expected one node per IP`, source);
      }
      nodeIps.set(nodeIp, nodeIpField);
    }

    let podCIDR: string | undefined;
    if (n.podCIDR !== undefined) {
      const p = parseCidr(n.podCIDR)!;
      const expected = `expected a /${cluster.nodeMaskSize} inside cluster.podCIDR ${pod.text}`;
      if (!cidrContainsCidr(pod, p)) {
        fail(`${at}.podCIDR: ${p.text} is outside cluster.podCIDR ${pod.text}; ${expected}`, source);
      }
      if (p.prefix !== cluster.nodeMaskSize) {
        fail(`${at}.podCIDR: ${p.text} is a /${p.prefix} but cluster.nodeMaskSize is ${cluster.nodeMaskSize}; ${expected}`, source);
      }
      const index = subnetIndex(pod, cluster.nodeMaskSize, p)!;
      const other = pinned.get(index);
      if (other !== undefined) {
        fail(`${at}.podCIDR: ${p.text} overlaps nodes[${other}].podCIDR; expected a distinct subnet per node`, source);
      }
      pinned.set(index, i);
      podCIDR = p.text;
    }

    const node: InventoryNode = { name: n.name, address, ssh: resolveSsh(file.ssh, n.ssh) };
    if (ip !== undefined) node.ip = ip;
    if (podCIDR !== undefined) node.podCIDR = podCIDR;
    nodes.push(node);
  });

  const capacity = subnetCount(pod, cluster.nodeMaskSize);
  if (capacity < BigInt(nodes.length)) {
    fail(
      `cluster.podCIDR: ${pod.text} holds ${capacity} /${cluster.nodeMaskSize} subnets but ${nodes.length} nodes need one each; ` +
        'expected a larger CIDR or a larger cluster.nodeMaskSize',
      source,
    );
  }
  return nodes;
}

/** Validate and resolve inventory text. `source` names it in messages (usually the file path). */
export function parseInventory(text: string, source: string, opts: { checkFiles?: boolean } = {}): Inventory {
  const raw = parseYaml(text, source);
  if (raw === null || raw === undefined) {
    fail(`${source}: the inventory is empty; expected a mapping with at least a nodes list`, source);
  }
  if (isMapping(raw)) dropEmptySections(raw);

  const parsed = inventorySchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    throw new UserError(issueMessage(issues[0]!, source), hintFor(source, issues.length - 1));
  }

  const { cluster, pod, service } = resolveCluster(parsed.data, source);
  const nodes = resolveNodes(parsed.data, cluster, pod, service, source);
  if (opts.checkFiles !== false) checkSshFiles(parsed.data, nodes, source);
  return { apiVersion: API_VERSION, kind: KIND, source, cluster, ssh: parsed.data.ssh, nodes };
}

/** Read and validate an inventory file; `label` names where the path came from in messages. */
export function loadInventory(path: string, label = '--inventory'): Inventory {
  // Bounded: a wrong path (a log, /dev/zero, a FIFO) is refused, never slurped.
  const text = readInputFile(path, { label, what: 'an inventory file (YAML or JSON)', maxBytes: MAX_INVENTORY_BYTES, hint: 'pass the path of an existing inventory file' });
  return parseInventory(text, path);
}
