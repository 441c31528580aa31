/**
 * The lab as pure data: which namespaces, links, addresses and routes a lab of N nodes has. Rendering
 * (lab/render.ts) turns this into scripts; nothing here touches the machine.
 *
 * Underlay addresses come from the documentation ranges only (RFC 5737), so a lab can never collide
 * with or leak into a real network.
 */
import { UserError } from '../util/errors.js';

export type Topology = 'flat' | 'routed';

export const LAB_ROOT = '/run/podnet/labs';
export const LAB_NAME_PATTERN = /^[a-z][a-z0-9]{0,9}$/;
export const MAX_NODES_PER_SEGMENT = 200;
const FIRST_NODE_HOST = 11;

export interface Segment {
  name: 'a' | 'b';
  bridge: string;
  /** the /24 of the segment, e.g. 192.0.2.0/24 */
  cidr: string;
  /** the router's address on the segment (routed topology only) */
  gateway?: string;
}

export interface LabRoute {
  to: string;
  via: string;
}

export interface LabHost {
  name: string;
  netns: string;
  segment: Segment['name'];
  ip: string;
  prefixLength: number;
  mtu: number;
  /** the fabric-side veth end */
  port: string;
  routes: LabRoute[];
}

export interface LabPlan {
  name: string;
  dir: string;
  topology: Topology;
  fabricNetns: string;
  segments: Segment[];
  operator: LabHost;
  nodes: LabHost[];
  cgroupName: string;
}

export interface LabOptions {
  name: string;
  nodes: number;
  topology: Topology;
  mtu: number;
  /** per-node uplink MTU overrides, by node name */
  nodeMtu?: Record<string, number>;
}

const SEGMENTS: Record<Segment['name'], { bridge: string; prefix: string }> = {
  a: { bridge: 'br-a', prefix: '192.0.2' },
  b: { bridge: 'br-b', prefix: '198.51.100' },
};

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
  const segments: Segment[] = (routed ? (['a', 'b'] as const) : (['a'] as const)).map((s) => ({
    name: s,
    bridge: SEGMENTS[s].bridge,
    cidr: `${SEGMENTS[s].prefix}.0/24`,
    gateway: routed ? `${SEGMENTS[s].prefix}.1` : undefined,
  }));
  const routesFor = (seg: Segment['name']): LabRoute[] => {
    if (!routed) return [];
    const other = seg === 'a' ? 'b' : 'a';
    return [{ to: `${SEGMENTS[other].prefix}.0/24`, via: `${SEGMENTS[seg].prefix}.1` }];
  };

  const prefix = labNetnsPrefix(opts.name);
  const inA = routed ? Math.ceil(opts.nodes / 2) : opts.nodes;
  const nodes: LabHost[] = [];
  for (let i = 1; i <= opts.nodes; i++) {
    const seg: Segment['name'] = i <= inA ? 'a' : 'b';
    const host = FIRST_NODE_HOST + (seg === 'a' ? i - 1 : i - 1 - inA);
    const name = `node-${i}`;
    nodes.push({
      name,
      netns: `${prefix}${name}`,
      segment: seg,
      ip: `${SEGMENTS[seg].prefix}.${host}`,
      prefixLength: 24,
      mtu: opts.nodeMtu?.[name] ?? opts.mtu,
      port: `p${i}`,
      routes: routesFor(seg),
    });
  }
  return {
    name: opts.name,
    dir: labDir(opts.name),
    topology: opts.topology,
    fabricNetns: `${prefix}fabric`,
    segments,
    operator: {
      name: 'operator',
      netns: `${prefix}op`,
      segment: 'a',
      ip: `${SEGMENTS.a.prefix}.2`,
      prefixLength: 24,
      mtu: opts.mtu,
      port: 'pop',
      routes: routesFor('a'),
    },
    nodes,
    cgroupName: `podnet-lab-${opts.name}`,
  };
}

function checkMtu(field: string, mtu: number): void {
  if (!Number.isInteger(mtu) || mtu < 1280 || mtu > 9000) {
    throw new UserError(`${field}: expected an MTU from 1280 to 9000, got ${mtu}`);
  }
}
