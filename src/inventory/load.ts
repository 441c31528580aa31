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
  DEFAULT_POD_CIDR,
  describeValue,
  formatPath,
  inventorySchema,
  KIND,
  SSH_DEFAULTS,
  type ClusterSettings,
  type FamilyNetwork,
  type Inventory,
  type InventoryFile,
  type InventoryNode,
  type ResolvedSsh,
  type SshSettings,
} from './schema.js';
import { familyByVersion, IPV4, IPV6, type IpFamily } from '../net/family.js';

export type { ClusterSettings, FamilyNetwork, Inventory, InventoryNode, ResolvedSsh, SshSettings } from './schema.js';

// Inventories are small; a cap keeps a wrong path (a log, /dev/zero) from being slurped.
const MAX_INVENTORY_BYTES = 1024 * 1024;

/** Addresses that are never a node's address peers can route to. */
const NOT_A_NODE_IP: readonly (readonly [string, string])[] = [
  ['0.0.0.0/8', 'an unspecified ("this network") address'],
  ['127.0.0.0/8', 'a loopback address'],
  ['169.254.0.0/16', 'a link-local address'],
  ['224.0.0.0/4', 'a multicast address'],
  ['::/128', 'the unspecified address'],
  ['::1/128', 'the loopback address'],
  ['::ffff:0:0/96', 'an IPv4-mapped IPv6 address (write the IPv4 address)'],
  ['fe80::/10', 'a link-local address (it names no node beyond its link, and needs an interface)'],
  ['ff00::/8', 'a multicast address'],
];

/** kube-controller-manager refuses a node mask more than this many bits longer than the cluster mask. */
export const MAX_NODE_MASK_BITS = 16;

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

/** Where an item of a per-family list was written: "cluster.podCIDR" for one value, "cluster.podCIDR[1]" in a list of two. */
function itemField(field: string, index: number, count: number): string {
  return count > 1 ? `${field}[${index}]` : field;
}

/** A per-family list's CIDRs, parsed, refused if reserved, and at most one per family. */
function familyCidrs(field: string, texts: string[], source: string): Cidr[] {
  const out: Cidr[] = [];
  texts.forEach((t, i) => {
    const c = parseCidr(t)!;
    refuseReserved(itemField(field, i, texts.length), c, source);
    const same = out.findIndex((o) => o.family === c.family);
    if (same >= 0) {
      fail(`${field}[${i}]: ${c.text} is ${famName(c.family)} like ${field}[${same}] ${out[same]!.text}; expected one CIDR per IP family (an IPv4 and an IPv6 one for dual-stack)`, source);
    }
    out.push(c);
  });
  return out;
}

/**
 * The node mask size of one family: as written (a number for a single-stack cluster, or per family),
 * else the family's default (/24, /64); longer than the cluster prefix, room for a gateway and pods, and
 * at most 16 bits longer than the cluster prefix (kube-controller-manager's limit).
 */
function nodeMaskFor(written: number | { ipv4?: number; ipv6?: number } | undefined, pod: Cidr, families: number, source: string): number {
  const fam = familyByVersion(pod.family);
  const field = typeof written === 'object' ? `cluster.nodeMaskSize.${fam.name}` : 'cluster.nodeMaskSize';
  if (typeof written === 'number' && families > 1) {
    fail(`cluster.nodeMaskSize: ${written} is one number for a dual-stack cluster.podCIDR; expected one per family, such as {ipv4: ${IPV4.nodeMaskDefault}, ipv6: ${IPV6.nodeMaskDefault}}`, source);
  }
  const size = (typeof written === 'number' ? written : written?.[fam.name]) ?? DEFAULT_NODE_MASK_SIZE[pod.family];
  const maxMask = Math.min(maxNodeMaskSize(pod.family), pod.prefix + MAX_NODE_MASK_BITS);
  if (size <= pod.prefix || size > maxMask) {
    const range = pod.prefix + 1 <= maxMask ? `an integer from ${pod.prefix + 1} to ${maxMask}` : 'a shorter cluster.podCIDR';
    const why = size > pod.prefix && size - pod.prefix > MAX_NODE_MASK_BITS
      ? `(at most ${MAX_NODE_MASK_BITS} bits longer than the cluster prefix, as kube-controller-manager requires)`
      : '(longer than the cluster prefix, leaving room for a gateway and pods)';
    fail(`${field}: ${size} does not fit cluster.podCIDR ${pod.text}; expected ${range} ${why}`, source);
  }
  return size;
}

/** A per-family setting may key only the families cluster.podCIDR has. */
function refuseAbsentFamilyKeys(field: string, value: unknown, pods: Cidr[], source: string): void {
  if (typeof value !== 'object' || value === null) return;
  for (const key of ['ipv4', 'ipv6'] as const) {
    if ((value as Record<string, unknown>)[key] !== undefined && !pods.some((p) => familyByVersion(p.family).name === key)) {
      fail(`${field}.${key}: set, but cluster.podCIDR has no ${key === 'ipv4' ? 'IPv4' : 'IPv6'} CIDR; expected keys only for the families of cluster.podCIDR`, source);
    }
  }
}

function resolveCluster(file: InventoryFile, source: string): { cluster: ClusterSettings; pods: Cidr[]; services: Cidr[] } {
  const c = file.cluster;
  const pods = familyCidrs('cluster.podCIDR', c.podCIDR ?? [DEFAULT_POD_CIDR], source);
  refuseAbsentFamilyKeys('cluster.nodeMaskSize', c.nodeMaskSize, pods, source);
  const masks = pods.map((p) => nodeMaskFor(c.nodeMaskSize, p, pods.length, source));
  refuseAbsentFamilyKeys('cluster.masquerade', c.masquerade, pods, source);

  const services = c.serviceCIDR === undefined ? [] : familyCidrs('cluster.serviceCIDR', c.serviceCIDR, source);
  services.forEach((service, i) => {
    const field = itemField('cluster.serviceCIDR', i, services.length);
    const pod = pods.find((p) => p.family === service.family);
    if (!pod) {
      fail(
        `${field}: ${service.text} is ${famName(service.family)} but cluster.podCIDR has no ${famName(service.family)} CIDR (${pods.map((p) => p.text).join(', ')}); ` +
          'expected a service CIDR of a family the pods have',
        source,
      );
    }
    if (cidrsOverlap(pod, service)) {
      fail(`${field}: ${service.text} overlaps cluster.podCIDR ${pod.text}; expected disjoint ranges`, source);
    }
  });

  if (c.vxlan.device === c.bridge) {
    fail(`cluster.vxlan.device: ${describeValue(c.vxlan.device)} is also cluster.bridge; expected a different name for the overlay device, such as podnet.1`, source);
  }

  if (c.mtu !== undefined && pods.some((p) => p.family === 6) && c.mtu < IPV6.minMtu) {
    fail(`cluster.mtu: ${c.mtu} is too small for an IPv6 pod network; expected at least ${IPV6.minMtu}`, source);
  }

  const networks: FamilyNetwork[] = pods.map((p, i) => {
    const family = familyByVersion(p.family).name;
    // IPv4 pods use private addresses that cannot leave unmasqueraded; IPv6 pods are often globally
    // routed, and NAT66 hides which pod talked: masqueraded only when asked.
    const masq = typeof c.masquerade === 'boolean' ? c.masquerade : (c.masquerade?.[family] ?? family === 'ipv4');
    const net: FamilyNetwork = { family, podCIDR: p.text, nodeMaskSize: masks[i]!, masquerade: masq };
    const svc = services.find((s) => s.family === p.family);
    if (svc) net.serviceCIDR = svc.text;
    return net;
  });
  const primary = networks[0]!;
  const cluster: ClusterSettings = {
    podCIDR: primary.podCIDR,
    nodeMaskSize: primary.nodeMaskSize,
    networks,
    mode: c.mode,
    vxlan: { ...c.vxlan },
    bridge: c.bridge,
    masquerade: primary.masquerade,
  };
  if (primary.serviceCIDR) cluster.serviceCIDR = primary.serviceCIDR;
  if (c.mtu !== undefined) cluster.mtu = c.mtu;
  if (c.cniBinDir !== undefined) cluster.cniBinDir = c.cniBinDir;
  return { cluster, pods, services };
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

function resolveNodes(file: InventoryFile, cluster: ClusterSettings, pods: Cidr[], services: Cidr[], source: string): InventoryNode[] {
  const names = new Map<string, number>();
  const addresses = new Map<string, number>();
  const nodeIps = new Map<string, string>(); // normalized ip -> field path that claimed it
  const pinned = new Map<string, number>(); // family/subnet index -> node index
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

    const ipList = (n.ip ?? []).map((x) => normalizeIp(x)!);
    const ipField = (k: number) => itemField(`${at}.ip`, k, ipList.length);
    const ips: Partial<Record<IpFamily, string>> = {};
    ipList.forEach((ip, k) => {
      const fam = familyByVersion(ipFamily(ip)!);
      if (ips[fam.name] !== undefined) fail(`${ipField(k)}: ${ip} is ${famName(fam.version)} like ${ips[fam.name]}; expected one node IP per IP family`, source);
      ips[fam.name] = ip;
    });

    // A node is reached and routed to at a unicast address of its own: not a link-local, loopback,
    // multicast, unspecified or IPv4-mapped one (the kernel never shows a node holding ::ffff:a.b.c.d).
    for (const [field, value] of [...(addressIp !== undefined ? [[`${at}.address`, addressIp] as const] : []), ...ipList.map((x, k) => [ipField(k), x] as const)]) {
      const what = NOT_A_NODE_IP.find(([range]) => cidrContainsIp(range, value));
      if (what) fail(`${field}: ${value} is ${what[1]}; expected a unicast address the node holds, such as ${ipFamily(value) === 6 ? '2001:db8::11' : '192.0.2.11'}`, source);
    }

    // Every IP literal of the node must stay clear of the pod and service ranges, or routing loops.
    const literals: [string, string][] = [];
    if (addressIp !== undefined) literals.push([`${at}.address`, addressIp]);
    ipList.forEach((ip, k) => literals.push([ipField(k), ip]));
    for (const [field, value] of literals) {
      for (const pod of pods) {
        if (cidrContainsIp(pod, value)) fail(`${field}: ${value} is inside cluster.podCIDR ${pod.text}; expected node addresses outside the pod network`, source);
      }
      for (const service of services) {
        if (cidrContainsIp(service, value)) fail(`${field}: ${value} is inside cluster.serviceCIDR ${service.text}; expected node addresses outside the service network`, source);
      }
    }

    // The node IP peers route to: the first ip listed, else the address when it is a literal.
    const ip = ipList[0];
    const nodeIpField = ip !== undefined ? ipField(0) : `${at}.address`;
    const nodeIp = ip ?? addressIp;
    if (nodeIp !== undefined) {
      const family = ipFamily(nodeIp)!;
      if (!pods.some((p) => p.family === family)) {
        const pod = pods[0]!;
        fail(
          `${nodeIpField}: ${nodeIp} is ${famName(family)} but cluster.podCIDR ${pod.text} is ${famName(pod.family)}; ` +
            `expected an ${famName(pod.family)} node IP first (the underlay carries the pod network of its own family)`,
          source,
        );
      }
      for (const [field, value] of ipList.length ? ipList.map((x, k) => [ipField(k), x] as const) : [[nodeIpField, nodeIp] as const]) {
        const claimed = nodeIps.get(value);
        if (claimed !== undefined) fail(`${field}: duplicate node IP ${value} (also ${claimed}); expected one node per IP`, source);
        nodeIps.set(value, field);
      }
    }

    const podCIDRs: Partial<Record<IpFamily, string>> = {};
    const pins = n.podCIDR ?? [];
    pins.forEach((text, k) => {
      const field = itemField(`${at}.podCIDR`, k, pins.length);
      const p = parseCidr(text)!;
      const fam = familyByVersion(p.family);
      const net = cluster.networks.find((x) => x.family === fam.name);
      const pod = pods.find((x) => x.family === p.family);
      if (!net || !pod) {
        fail(`${field}: ${p.text} is ${famName(p.family)} but cluster.podCIDR ${pods.map((x) => x.text).join(', ')} has no ${famName(p.family)} CIDR; expected a pin of a family the cluster has`, source);
      }
      if (podCIDRs[fam.name] !== undefined) fail(`${field}: ${p.text} is ${famName(p.family)} like ${podCIDRs[fam.name]}; expected one pod CIDR per IP family`, source);
      const expected = `expected a /${net.nodeMaskSize} inside cluster.podCIDR ${pod.text}`;
      if (!cidrContainsCidr(pod, p)) {
        fail(`${field}: ${p.text} is outside cluster.podCIDR ${pod.text}; ${expected}`, source);
      }
      if (p.prefix !== net.nodeMaskSize) {
        fail(`${field}: ${p.text} is a /${p.prefix} but ${cluster.networks.length > 1 ? `cluster.nodeMaskSize.${fam.name}` : 'cluster.nodeMaskSize'} is ${net.nodeMaskSize}; ${expected}`, source);
      }
      const key = `${fam.name}/${subnetIndex(pod, net.nodeMaskSize, p)!}`;
      const other = pinned.get(key);
      if (other !== undefined) {
        fail(`${field}: ${p.text} overlaps nodes[${other}].podCIDR; expected a distinct subnet per node`, source);
      }
      pinned.set(key, i);
      podCIDRs[fam.name] = p.text;
    });

    const node: InventoryNode = { name: n.name, address, ips, podCIDRs, ssh: resolveSsh(file.ssh, n.ssh) };
    if (ip !== undefined) node.ip = ip;
    const primaryPin = podCIDRs[cluster.networks[0]!.family];
    if (primaryPin !== undefined) node.podCIDR = primaryPin;
    nodes.push(node);
  });

  pods.forEach((pod, k) => {
    const mask = cluster.networks[k]!.nodeMaskSize;
    const capacity = subnetCount(pod, mask);
    if (capacity < BigInt(nodes.length)) {
      fail(
        `cluster.podCIDR: ${pod.text} holds ${capacity} /${mask} subnets but ${nodes.length} nodes need one each; ` +
          'expected a larger CIDR or a larger cluster.nodeMaskSize',
        source,
      );
    }
  });
  return nodes;
}

/** Validate and resolve inventory text. `source` names it in messages (usually the file path). */
export function parseInventory(text: string, source: string, opts: { checkFiles?: boolean } = {}): Inventory {
  return resolveInventory(parseYaml(text, source), source, opts);
}

/** Parse an inventory's text into plain data (YAML or JSON), unvalidated; bad syntax is a UserError. */
export function readInventoryData(text: string, source: string): unknown {
  return parseYaml(text, source);
}

/** Validate and resolve inventory data (parsed from a file, or assembled from the cluster's Node objects). */
export function resolveInventory(raw: unknown, source: string, opts: { checkFiles?: boolean } = {}): Inventory {
  if (raw === null || raw === undefined) {
    fail(`${source}: the inventory is empty; expected a mapping with at least a nodes list`, source);
  }
  if (isMapping(raw)) dropEmptySections(raw);

  const parsed = inventorySchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    throw new UserError(issueMessage(issues[0]!, source), hintFor(source, issues.length - 1));
  }

  const { cluster, pods, services } = resolveCluster(parsed.data, source);
  const nodes = resolveNodes(parsed.data, cluster, pods, services, source);
  if (opts.checkFiles !== false) checkSshFiles(parsed.data, nodes, source);
  return { apiVersion: API_VERSION, kind: KIND, source, cluster, ssh: parsed.data.ssh, nodes, ...(parsed.data.kube ? { kube: parsed.data.kube } : {}) };
}

/** Read and validate an inventory file; `label` names where the path came from in messages. */
export function loadInventory(path: string, label = '--inventory'): Inventory {
  // Bounded: a wrong path (a log, /dev/zero, a FIFO) is refused, never slurped.
  const text = readInputFile(path, { label, what: 'an inventory file (YAML or JSON)', maxBytes: MAX_INVENTORY_BYTES, hint: 'pass the path of an existing inventory file' });
  return parseInventory(text, path);
}
