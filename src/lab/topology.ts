/**
 * The lab as pure data: which namespaces, links, addresses and routes a lab of N nodes has. Rendering
 * (lab/render.ts) turns this into scripts; nothing here touches the machine.
 *
 * Underlay addresses come from the documentation ranges only (IPv4: RFC 5737; IPv6: 2001:db8::/32, RFC
 * 3849), so a lab can never collide with or leak into a real network. An IPv6 underlay mirrors the IPv4
 * one: a /64 per segment (2001:db8:0:a::/64 beside 192.0.2.0/24, 2001:db8:0:b::/64 beside 198.51.100.0/24)
 * and the same host part written the same way (192.0.2.11 ↔ 2001:db8:0:a::11, the router .1 ↔ ::1, the
 * operator .2 ↔ ::2).
 */
import { UserError } from '../util/errors.js';
import { IPV4, IPV6, type FamilyTable } from '../net/family.js';

export type Topology = 'flat' | 'routed';
/** The underlay's address families: IPv4 only, IPv6 only, or both (dual: IPv4 is the primary). */
export type LabIpFamily = 'ipv4' | 'ipv6' | 'dual';
export const LAB_IP_FAMILIES: readonly LabIpFamily[] = ['ipv4', 'ipv6', 'dual'];

export const LAB_ROOT = '/run/podnet/labs';
export const LAB_NAME_PATTERN = /^[a-z][a-z0-9]{0,9}$/;
export const MAX_NODES_PER_SEGMENT = 200;
const FIRST_NODE_HOST = 11;

export interface Segment {
  name: 'a' | 'b';
  bridge: string;
  /** the subnet of the segment in the primary family, e.g. 192.0.2.0/24 */
  cidr: string;
  /** the router's address on the segment in the primary family (routed topology only) */
  gateway?: string;
  /** the segment's subnets, one per family of the lab, primary first (2001:db8:0:a::/64 is IPv6's) */
  cidrs: string[];
  /** the router's addresses on the segment, one per family, primary first (routed topology only) */
  gateways?: string[];
}

export interface LabRoute {
  to: string;
  via: string;
}

export interface LabHost {
  name: string;
  netns: string;
  segment: Segment['name'];
  /** the primary address (IPv4, or IPv6 in an IPv6-only lab): what the inventory's `address` names */
  ip: string;
  prefixLength: number;
  /** every underlay address as ADDRESS/PREFIX, one per family of the lab, primary first */
  addresses: string[];
  mtu: number;
  /** the fabric-side veth end */
  port: string;
  routes: LabRoute[];
}

/** The lab's stand-in Kubernetes API server (lab up --api): where it listens, inside the operator namespace. */
export interface LabApi {
  port: number;
  /** the kubeconfig's server URL (the operator's primary address) */
  server: string;
  /** every address it listens on: the operator's underlay addresses */
  addresses: string[];
}

export const LAB_API_PORT = 6443;

export interface LabPlan {
  name: string;
  dir: string;
  topology: Topology;
  ipFamily: LabIpFamily;
  fabricNetns: string;
  segments: Segment[];
  operator: LabHost;
  nodes: LabHost[];
  cgroupName: string;
  /** present when the lab runs a stand-in API server */
  api?: LabApi;
}

export interface LabOptions {
  name: string;
  nodes: number;
  topology: Topology;
  /** default ipv4 */
  ipFamily?: LabIpFamily;
  mtu: number;
  /** per-node uplink MTU overrides, by node name */
  nodeMtu?: Record<string, number>;
  /** run a stand-in Kubernetes API server in the operator namespace */
  api?: boolean;
}

/** prefix: the IPv4 /24 without its last octet; prefix6: the IPv6 /64 without its interface identifier */
const SEGMENTS: Record<Segment['name'], { bridge: string; prefix: string; prefix6: string }> = {
  a: { bridge: 'br-a', prefix: '192.0.2', prefix6: '2001:db8:0:a' },
  b: { bridge: 'br-b', prefix: '198.51.100', prefix6: '2001:db8:0:b' },
};
const GATEWAY_HOST = 1;
const OPERATOR_HOST = 2;

/** The families of a lab's underlay, primary first. */
export function labFamilies(f: LabIpFamily): FamilyTable[] {
  return f === 'dual' ? [IPV4, IPV6] : f === 'ipv6' ? [IPV6] : [IPV4];
}

/** Whether the lab's underlay has IPv6 addresses. */
export function labHasIpv6(f: LabIpFamily): boolean {
  return f !== 'ipv4';
}

function segmentPrefixLength(fam: FamilyTable): number {
  return fam.version === 6 ? 64 : 24;
}

/** The subnet of a segment in one family: 192.0.2.0/24, 2001:db8:0:a::/64. */
function segmentCidr(seg: Segment['name'], fam: FamilyTable): string {
  return fam.version === 6 ? `${SEGMENTS[seg].prefix6}::/64` : `${SEGMENTS[seg].prefix}.0/24`;
}

/**
 * Host `host` (1 … 254) of a segment in one family. The IPv6 interface identifier is the IPv4 host
 * number written with the same digits (11 → ::11), so the two addresses of a dual-stack node read alike.
 */
function segmentAddress(seg: Segment['name'], fam: FamilyTable, host: number): string {
  return fam.version === 6 ? `${SEGMENTS[seg].prefix6}::${host}` : `${SEGMENTS[seg].prefix}.${host}`;
}

/** The bare address of ADDRESS/PREFIX. */
export function addressIp(cidr: string): string {
  return cidr.slice(0, cidr.lastIndexOf('/'));
}

/** Every underlay address of a host, bare, primary first. */
export function hostIps(h: LabHost): string[] {
  return h.addresses.map(addressIp);
}

/**
 * A plan read back from a lab's lab.json, with what labs made by an older podnet did not record (they
 * were IPv4 only) filled in.
 */
export function normalizeLabPlan(plan: LabPlan): LabPlan {
  const host = (h: LabHost): LabHost => ({ ...h, addresses: h.addresses ?? [`${h.ip}/${h.prefixLength}`] });
  return {
    ...plan,
    ipFamily: plan.ipFamily ?? 'ipv4',
    segments: plan.segments.map((s) => ({ ...s, cidrs: s.cidrs ?? [s.cidr], ...(s.gateway && !s.gateways ? { gateways: [s.gateway] } : {}) })),
    operator: host(plan.operator),
    nodes: plan.nodes.map(host),
  };
}

export function labNetnsPrefix(name: string): string {
  return `podnet-${name}-`;
}

export function labDir(name: string): string {
  return `${LAB_ROOT}/${name}`;
}

export function validateLabName(name: string): void {
  if (!LAB_NAME_PATTERN.test(name)) {
    throw new UserError(`--name: "${name}" is not a valid lab name; expected 1-10 lowercase letters or digits, starting with a letter`);
  }
}

export function planLab(opts: LabOptions): LabPlan {
  validateLabName(opts.name);
  const ipFamily = opts.ipFamily ?? 'ipv4';
  if (!LAB_IP_FAMILIES.includes(ipFamily)) {
    throw new UserError(`--ip-family: "${String(ipFamily)}" is not a valid choice; expected one of: ${LAB_IP_FAMILIES.join(', ')}`);
  }
  const families = labFamilies(ipFamily);
  const segmentCount = opts.topology === 'routed' ? 2 : 1;
  const max = MAX_NODES_PER_SEGMENT * segmentCount;
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > max) {
    throw new UserError(`--nodes: expected a whole number from 1 to ${max} for a ${opts.topology} lab, got ${opts.nodes}`);
  }
  if (opts.topology === 'routed' && opts.nodes < 2) {
    throw new UserError('--nodes: a routed lab needs at least 2 nodes (one on each segment)');
  }
  checkMtu('--mtu', opts.mtu);
  for (const [node, mtu] of Object.entries(opts.nodeMtu ?? {})) {
    checkMtu(`--node-mtu ${node}`, mtu);
    const idx = Number(/^node-(\d+)$/.exec(node)?.[1]);
    if (!(idx >= 1 && idx <= opts.nodes)) throw new UserError(`--node-mtu: no node "${node}" in a lab of ${opts.nodes} nodes; expected node-1 … node-${opts.nodes}`);
  }

  const routed = opts.topology === 'routed';
  const segments: Segment[] = (routed ? (['a', 'b'] as const) : (['a'] as const)).map((s) => {
    const cidrs = families.map((f) => segmentCidr(s, f));
    const gateways = routed ? families.map((f) => segmentAddress(s, f, GATEWAY_HOST)) : undefined;
    return { name: s, bridge: SEGMENTS[s].bridge, cidr: cidrs[0]!, gateway: gateways?.[0], cidrs, ...(gateways ? { gateways } : {}) };
  });
  // Routes to the other segment through the router, one per family; never a default route.
  const routesFor = (seg: Segment['name']): LabRoute[] => {
    if (!routed) return [];
    const other = seg === 'a' ? 'b' : 'a';
    return families.map((f) => ({ to: segmentCidr(other, f), via: segmentAddress(seg, f, GATEWAY_HOST) }));
  };
  const addressesOf = (seg: Segment['name'], host: number) => families.map((f) => `${segmentAddress(seg, f, host)}/${segmentPrefixLength(f)}`);

  const prefix = labNetnsPrefix(opts.name);
  const inA = routed ? Math.ceil(opts.nodes / 2) : opts.nodes;
  const nodes: LabHost[] = [];
  for (let i = 1; i <= opts.nodes; i++) {
    const seg: Segment['name'] = i <= inA ? 'a' : 'b';
    const host = FIRST_NODE_HOST + (seg === 'a' ? i - 1 : i - 1 - inA);
    const name = `node-${i}`;
    const addresses = addressesOf(seg, host);
    nodes.push({
      name,
      netns: `${prefix}${name}`,
      segment: seg,
      ip: addressIp(addresses[0]!),
      prefixLength: segmentPrefixLength(families[0]!),
      addresses,
      mtu: opts.nodeMtu?.[name] ?? opts.mtu,
      port: `p${i}`,
      routes: routesFor(seg),
    });
  }
  const operatorAddresses = addressesOf('a', OPERATOR_HOST);
  const operatorIps = operatorAddresses.map(addressIp);
  return {
    name: opts.name,
    dir: labDir(opts.name),
    topology: opts.topology,
    ipFamily,
    fabricNetns: `${prefix}fabric`,
    segments,
    operator: {
      name: 'operator',
      netns: `${prefix}op`,
      segment: 'a',
      ip: addressIp(operatorAddresses[0]!),
      prefixLength: segmentPrefixLength(families[0]!),
      addresses: operatorAddresses,
      mtu: opts.mtu,
      port: 'pop',
      routes: routesFor('a'),
    },
    nodes,
    cgroupName: `podnet-lab-${opts.name}`,
    ...(opts.api ? { api: { port: LAB_API_PORT, server: apiServerUrl(operatorIps[0]!, LAB_API_PORT), addresses: operatorIps } } : {}),
  };
}

/** https://192.0.2.2:6443, https://[2001:db8:0:a::2]:6443 */
export function apiServerUrl(ip: string, port: number): string {
  return `https://${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}

function checkMtu(field: string, mtu: number): void {
  if (!Number.isInteger(mtu) || mtu < 1280 || mtu > 9000) {
    throw new UserError(`${field}: expected an MTU from 1280 to 9000, got ${mtu}`);
  }
}
