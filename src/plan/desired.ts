/**
 * Desired state per node, as plain serialisable data: pod CIDR, bridge, MTU, conflist, routes to every
 * peer (direct or overlay), VXLAN peers, sysctls, iptables rules and files. Computed from the inventory
 * and the facts read from every node; pure. How a route to one peer looks is the only thing the
 * host-gw and vxlan backends disagree on (see peerRoute).
 */
import { createHash } from 'node:crypto';
import type { Inventory, InventoryNode } from '../inventory/load.js';
import type { LinkFact, NodeFacts, RouteFact } from '../facts/parse.js';
import { LINK_ALIAS, PODNET_CONFLIST, PODNET_NETWORK, ROUTE_PROTO, RULE_COMMENT } from '../facts/marks.js';
import { isOnLink, routeDst, routesOf } from '../facts/routes.js';
import { allocatePodCidrs } from './allocate.js';
import { cidrContainsCidr, cidrContainsIp, cidrsOverlap, compareCidr, hostAddress, isIp, networkOf, normalizeIp, parseCidr, subnetIndex } from '../net/cidr.js';
import { UserError } from '../util/errors.js';
import { FAMILIES, familyByName, familyOf, hostCidr, IPV4, IPV6, type FamilyTable, type IpFamily } from '../net/family.js';

export const CONFLIST_PATH = `/etc/cni/net.d/${PODNET_CONFLIST}`;
export const CONFLIST_NAME = PODNET_NETWORK;
export const SYSCTL_FILE = '/etc/sysctl.d/90-podnet.conf';
export const MODULES_FILE = '/etc/modules-load.d/podnet.conf';
export const RESTORE_SCRIPT = '/etc/podnet/restore.sh';
export const UNIT_FILE = '/etc/systemd/system/podnet.service';
export const FORWARD_CHAIN = 'PODNET-FORWARD';
export const POSTROUTING_CHAIN = 'PODNET-POSTROUTING';
export { LINK_ALIAS, ROUTE_PROTO, RULE_COMMENT } from '../facts/marks.js';
export { isOnLink, lookupRoute } from '../facts/routes.js';
/** CNI spec versions podnet writes and drives, best first. */
export const CNI_VERSIONS = ['1.0.0', '0.4.0', '0.3.1'] as const;
export const REQUIRED_PLUGINS = ['bridge', 'host-local', 'portmap'] as const;

export type RouteKind = 'direct' | 'overlay';

export interface PeerRoute {
  peer: string;
  /** the family of the pod CIDR (and of the next hop) */
  family: IpFamily;
  podCIDR: string;
  kind: RouteKind;
  /** next hop: the peer's node IP (direct) or the peer's VTEP address (overlay) */
  via: string;
  dev: string;
  onlink: boolean;
}

export interface VxlanPeer {
  peer: string;
  /** the family of the VTEP address (the overlay carries every family over one underlay) */
  family: IpFamily;
  /** the peer's underlay address (the FDB entry's destination) */
  nodeIP: string;
  vtepAddress: string;
  mac: string;
}

export interface VxlanPlan {
  device: string;
  vni: number;
  port: number;
  local: string;
  uplink: string;
  mac: string;
  /** the network address of each of the node's pod CIDRs, as a host address on the device (source for host→remote pod) */
  addresses: string[];
  mtu: number;
  peers: VxlanPeer[];
}

export interface FilePlan {
  path: string;
  content: string;
  mode: string;
  sha256: string;
}

/** One IP family's pod network on a node: a dual-stack node has two, the primary first. */
export interface FamilyPlan {
  family: IpFamily;
  podCIDR: string;
  podCIDRSource: 'pinned' | 'existing' | 'allocated';
  /** the bridge's address in the pod CIDR, the pods' gateway */
  gateway: string;
  clusterCIDR: string;
  /** the node's own address of this family, if it has one (what direct routes of peers point at) */
  nodeIP?: string;
  /** iptables (IPv4) or ip6tables (IPv6) rules in `-S` form */
  iptables: { filter: string[]; nat: string[] };
}

export interface NodePlan {
  name: string;
  address: string;
  /** the underlay address peers reach this node on (the overlay's local end) */
  nodeIP: string;
  /** the primary family's pod CIDR, its source and gateway (as in families[0]) */
  podCIDR: string;
  podCIDRSource: 'pinned' | 'existing' | 'allocated';
  gateway: string;
  /** every family's pod network, the primary first */
  families: FamilyPlan[];
  bridge: string;
  uplink: string;
  uplinkMtu: number;
  mtu: number;
  cniVersion: string;
  cniBinDir: string;
  conflist: Record<string, unknown>;
  routes: PeerRoute[];
  vxlan?: VxlanPlan;
  /** the overlay device name, also when this node needs no overlay (so a stale one can be removed) */
  vxlanDevice: string;
  /**
   * Some node of the inventory could not be read this run: podnet's routes, VXLAN entries and overlay
   * device that no planned route claims may be that node's, so they are kept, never removed.
   */
  keepUnclaimed: boolean;
  sysctls: Record<string, string>;
  modules: string[];
  files: FilePlan[];
  persistence: 'systemd' | 'none';
  clusterCIDR: string;
}

/** A node whose facts make a plan impossible (missing plugins, no uplink): reported per node, not fatal. */
export interface NodePlanError {
  name: string;
  step: 'plan';
  error: string;
  hint?: string;
}

export interface ClusterPlan {
  /** the primary family's cluster CIDR */
  clusterCIDR: string;
  /** every family's cluster CIDR, the primary first */
  clusterCIDRs: string[];
  mode: Inventory['cluster']['mode'];
  mtu: number;
  nodes: NodePlan[];
  errors: NodePlanError[];
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A stable, locally administered unicast MAC for a VTEP, derived from the node IP, so peers never go stale. */
export function vtepMac(nodeIP: string): string {
  // The IPv4 address itself; of an IPv6 one, 32 bits of its hash (its own last 32 bits repeat across
  // subnets: 2001:db8:a::11 and 2001:db8:b::11). planCluster refuses the rare clash.
  const v = familyOf(nodeIP) === IPV6 ? BigInt(`0x${sha256(normalizeIp(nodeIP) ?? nodeIP).slice(0, 8)}`) : subnetIndex('0.0.0.0/0', 32, `${nodeIP}/32`)!;
  const octets = [24n, 16n, 8n, 0n].map((s) => Number((v >> s) & 0xffn).toString(16).padStart(2, '0'));
  return ['0e', '70', ...octets].join(':');
}

/** The address peers route to: the inventory's ip, else the address sshd was reached on, else the SSH address. */
export function nodeIPOf(node: InventoryNode, facts: NodeFacts): string | undefined {
  if (node.ip) return node.ip;
  if (facts.sshServerAddress && isIp(facts.sshServerAddress)) return facts.sshServerAddress;
  if (isIp(node.address)) return node.address;
  return undefined;
}

/** What podnet installed before on this node: the pod CIDR of its conflist, or of its bridge address. */
export function existingPodCidr(facts: NodeFacts, bridge: string, family: FamilyTable = IPV4): string | undefined {
  const mine = facts.cniConfFiles.find((f) => f.path.endsWith('/10-podnet.conflist'));
  if (mine) {
    for (const m of mine.text.matchAll(/"subnet"\s*:\s*"([^"]+)"/g)) {
      const c = parseCidr(m[1]!);
      if (c && familyOf(c.text) === family) return c.text;
    }
  }
  const a = facts.addrs.find((x) => x.ifname === bridge && x.family === family.inet && x.scope === 'global');
  return a ? networkOf(a.local, a.prefixlen)?.text : undefined;
}

/**
 * A node's own address of one family: the inventory's, else its underlay address when that is of the
 * family, else the first usable global address of the family on the uplink (DAD done, not failed).
 */
export function familyIP(node: InventoryNode, facts: NodeFacts, underlay: string | undefined, uplink: string | undefined, family: FamilyTable): string | undefined {
  if (node.ips[family.name]) return node.ips[family.name];
  if (underlay && familyOf(underlay) === family) return underlay;
  // A stable one: not a privacy (temporary) or deprecated address, DAD done; a permanent one before one
  // with a lifetime; the lowest of those (the kernel lists the newest first, and that changes).
  const usable = facts.addrs.filter((a) => a.ifname === uplink && a.family === family.inet && a.scope === 'global' && !a.tentative && !a.dadfailed && !a.temporary && !a.deprecated);
  usable.sort((a, b) => Number(Boolean(a.dynamic)) - Number(Boolean(b.dynamic)) || compareCidr(hostCidr(a.local), hostCidr(b.local)));
  return usable[0]?.local;
}

/**
 * The pod CIDRs a node's podnet routes give a peer podnet could not read this run (unreachable, or no
 * usable IP), per family, and whether they go through the overlay: a direct route via one of the peer's
 * IPs, or an overlay route via a VTEP whose neighbour entry carries the peer's MAC.
 */
function heldCidrsFor(f: NodeFacts, peerIPs: string[], overlayDevice: string): Map<IpFamily, { podCIDR: string; overlay: boolean }> {
  const out = new Map<IpFamily, { podCIDR: string; overlay: boolean }>();
  if (!peerIPs.length) return out;
  for (const fam of FAMILIES) {
    const ours = routesOf(f, fam).filter((r) => r.protocol === String(ROUTE_PROTO) && parseCidr(r.dst));
    const direct = ours.find((r) => r.gateway !== undefined && peerIPs.includes(r.gateway) && r.dev !== overlayDevice);
    if (direct) {
      out.set(fam.name, { podCIDR: parseCidr(direct.dst)!.text, overlay: false });
      continue;
    }
    const macs = peerIPs.map(vtepMac);
    const route = ours.find((r) => r.dev === overlayDevice && f.neigh.some((n) => n.dev === overlayDevice && n.dst === r.gateway && macs.includes(n.lladdr ?? '')));
    if (route) out.set(fam.name, { podCIDR: parseCidr(route.dst)!.text, overlay: true });
  }
  return out;
}

/** podnet's routes and VXLAN entries on a node that no planned route or peer claims. */
function unclaimedState(f: NodeFacts, routes: PeerRoute[], peers: VxlanPeer[], overlayDevice: string, takenByReadable: (cidr: string) => boolean): { routes: PeerRoute[]; vxlanPeers: VxlanPeer[] } {
  const out = { routes: [] as PeerRoute[], vxlanPeers: [] as VxlanPeer[] };
  for (const r of [...f.routes, ...f.routes6]) {
    const dst = parseCidr(r.dst)?.text;
    if (r.protocol !== String(ROUTE_PROTO) || !dst || !r.gateway || routes.some((x) => x.podCIDR === dst) || takenByReadable(dst)) continue;
    out.routes.push({ peer: '(not read this run)', family: (familyOf(dst) ?? IPV4).name, podCIDR: dst, kind: r.dev === overlayDevice ? 'overlay' : 'direct', via: r.gateway, dev: r.dev ?? '', onlink: r.flags.includes('onlink') });
  }
  for (const e of f.fdb) {
    if (e.dev !== overlayDevice || !e.dst || peers.some((p) => p.nodeIP === e.dst)) continue;
    for (const n of f.neigh.filter((x) => x.dev === overlayDevice && x.lladdr === e.mac)) {
      if (out.routes.some((r) => r.kind === 'overlay' && r.via === n.dst)) out.vxlanPeers.push({ peer: '(not read this run)', family: (familyOf(n.dst) ?? IPV4).name, nodeIP: e.dst, vtepAddress: n.dst, mac: e.mac });
    }
  }
  return out;
}

function uplinkOf(facts: NodeFacts, nodeIP: string): { ifname: string; mtu: number } | undefined {
  const a = facts.addrs.find((x) => x.local === nodeIP);
  const l = a && facts.links.find((x) => x.ifname === a.ifname);
  return l ? { ifname: l.ifname, mtu: l.mtu } : undefined;
}

function chooseCniVersion(facts: NodeFacts, binDir: string): string | undefined {
  const sets = REQUIRED_PLUGINS.map((p) => facts.plugins.find((x) => x.dir === binDir && x.name === p)?.supportedVersions ?? []);
  return CNI_VERSIONS.find((v) => sets.every((s) => s.includes(v)));
}

function chooseBinDir(inv: Inventory, facts: NodeFacts): string | undefined {
  if (inv.cluster.cniBinDir) return inv.cluster.cniBinDir;
  return facts.cniBinDirs.find((d) => REQUIRED_PLUGINS.every((p) => facts.plugins.some((x) => x.dir === d && x.name === p)));
}

/**
 * Routes in the node's main table that podnet does not own and that overlap the cluster CIDR: podnet
 * would shadow or fight them. The bridge's own connected routes are podnet's business, not conflicts.
 */
export function conflictingRoutes(facts: NodeFacts, clusterCIDR: string, bridge: string, vxlanDevice: string): RouteFact[] {
  const family = familyOf(clusterCIDR) ?? IPV4;
  return routesOf(facts, family).filter((r) => {
    if (r.protocol === String(ROUTE_PROTO)) return false;
    if (r.dev === bridge || r.dev === vxlanDevice) return false;
    const dst = routeDst(r, family);
    if (dst === family.anyRoute || !parseCidr(dst)) return false;
    return cidrsOverlap(dst, clusterCIDR);
  });
}

export interface FactsByNode {
  get(name: string): NodeFacts | undefined;
}

/** How a link reads in a message: "the loopback device", "a veth device holding 10.0.0.1/24", "a network interface". */
function describeLink(l: LinkFact, facts: NodeFacts): string {
  const held = facts.addrs.filter((a) => a.ifname === l.ifname && (a.family === IPV4.inet || a.scope === 'global')).map((a) => `${a.local}/${a.prefixlen}`);
  const what = l.flags.includes('LOOPBACK') ? 'the loopback device' : l.kind ? `a ${l.kind} device` : 'a network interface';
  return held.length ? `${what} holding ${held.join(', ')}` : what;
}

/**
 * Whether a bridge podnet did not mark may be adopted: it holds pod addresses of this cluster and nothing
 * else, and only veths (pods) are attached — what the bridge plugin makes from podnet's conflist, or an
 * earlier podnet. Anything else (no address, a foreign address, a physical port) is someone else's.
 */
export function adoptableBridge(facts: NodeFacts, bridge: string, clusterCIDRs: string[]): boolean {
  // Its IPv4 and global IPv6 addresses (link-local ones are the kernel's): all pod gateways of the cluster.
  const held = facts.addrs.filter((a) => a.ifname === bridge && (a.family === IPV4.inet || a.scope === 'global'));
  if (held.length === 0 || !held.every((a) => clusterCIDRs.some((c) => cidrContainsIp(c, a.local)))) return false;
  // Another CNI configured on the node (flannel's cni0 with 10.244.x.1 looks just like podnet's) owns it.
  if (foreignConfs(facts).length) return false;
  return facts.links.filter((l) => l.master === bridge).every((l) => l.kind === 'veth');
}

/** CNI config files on the node other than podnet's own. */
function foreignConfs(facts: NodeFacts): string[] {
  return facts.cniConfFiles.filter((f) => f.path !== CONFLIST_PATH && /\.(conflist|conf|json)$/.test(f.name)).map((f) => f.name);
}

/**
 * The interfaces podnet would create, change and later delete must be its own: a bridge or VXLAN device
 * of that name that podnet did not make (a physical NIC, lo, another CNI's bridge) is refused before
 * any node is touched, naming the field to change. Runs before the CIDR checks, so the error names
 * the field at fault and not cluster.podCIDR.
 */
function checkInterfaces(inv: Inventory, facts: FactsByNode): void {
  const c = inv.cluster;
  inv.nodes.forEach((n, i) => {
    const f = facts.get(n.name);
    if (!f) return;
    const where = `on node ${n.name} (nodes[${i}])`;
    const br = f.links.find((l) => l.ifname === c.bridge);
    if (br && br.kind !== 'bridge') {
      throw new UserError(
        `cluster.bridge: ${c.bridge} ${where} is ${describeLink(br, f)}, not a bridge podnet made; expected the name of podnet's own bridge, such as cni0 (a name no interface uses)`,
        'podnet creates, renumbers and deletes the interface named by cluster.bridge: name one that no other interface on the nodes uses',
      );
    }
    if (br && br.alias !== LINK_ALIAS && !adoptableBridge(f, c.bridge, c.networks.map((x) => x.podCIDR))) {
      throw new UserError(
        `cluster.bridge: bridge ${c.bridge} ${where} was not created by podnet (${describeLink(br, f).replace(/^a bridge device/, 'it is a bridge')}${f.links.some((l) => l.master === c.bridge && l.kind !== 'veth') ? ' with non-pod ports' : ''}${foreignConfs(f).length ? `; the node has another CNI config: ${foreignConfs(f).join(', ')}` : ''}); podnet never changes or deletes a bridge that is not its own`,
        `set cluster.bridge to a name no interface uses, or, if nothing uses that bridge, remove it on ${n.name}: ip link del ${c.bridge}`,
      );
    }
    const vx = f.links.find((l) => l.ifname === c.vxlan.device);
    if (vx && !(vx.kind === 'vxlan' && vx.alias === LINK_ALIAS)) {
      throw new UserError(
        `cluster.vxlan.device: ${c.vxlan.device} ${where} is ${describeLink(vx, f)} that podnet did not create; expected the name of podnet's own overlay device, such as podnet.1 (a name no interface uses)`,
        'podnet creates, recreates and deletes the device named by cluster.vxlan.device: name one that no other interface on the nodes uses',
      );
    }
  });
}

function routeText(r: RouteFact): string {
  return `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}`;
}

/**
 * Checks that need facts. Bad input is refused before any node is touched (exit 2). A foreign route on a
 * pod CIDR that is (or is about to be) a node's is not the inventory's fault but that node's state: it is
 * returned per node (the node is not planned; the others are) with the route, whose CIDR it takes and the
 * command that removes it — podnet never replaces routes it did not create.
 */
function checkInputAgainstFacts(inv: Inventory, facts: FactsByNode, nodeIPs: Map<string, string[]>, allocations: Map<IpFamily, { name: string; podCIDR: string }[]>): Map<string, { error: string; hint: string }> {
  const c = inv.cluster;
  const conflicts = new Map<string, { error: string; hint: string }>();
  const field = (k: number) => (c.networks.length > 1 ? `cluster.podCIDR[${k}]` : 'cluster.podCIDR');
  inv.nodes.forEach((n, i) => {
    const f = facts.get(n.name);
    if (!f) return;
    c.networks.forEach((net, k) => {
      for (const ip of nodeIPs.get(n.name) ?? []) {
        if (cidrContainsIp(net.podCIDR, ip)) {
          throw new UserError(`${field(k)}: ${net.podCIDR} contains the IP ${ip} of node ${n.name} (nodes[${i}]); expected a pod CIDR apart from the node network`);
        }
      }
      for (const r of conflictingRoutes(f, net.podCIDR, c.bridge, c.vxlan.device)) {
        // It takes a pod CIDR when it is as specific or more (a wider route loses to podnet's own).
        const owner = allocations.get(net.family)!.find((a) => cidrContainsCidr(a.podCIDR, routeDst(r, familyByName(net.family))));
        if (!owner) {
          throw new UserError(`${field(k)}: ${net.podCIDR} overlaps the route "${routeText(r)}" on node ${n.name} (nodes[${i}]); expected a pod CIDR no existing route uses`);
        }
        if (conflicts.has(n.name)) continue;
        const whose = owner.name === n.name ? `this node's own pod CIDR ${owner.podCIDR}` : `the pod CIDR ${owner.podCIDR} of ${owner.name}`;
        conflicts.set(n.name, {
          error: `the route "${routeText(r)}"${r.protocol ? ` (proto ${r.protocol})` : ''} was not created by podnet and takes ${whose}; podnet never replaces routes it did not create`,
          hint: `if nothing needs it, remove it on ${n.name}: ip ${familyByName(net.family).ipFlag} route del ${routeText(r)}; then run podnet up again`.replace(' -4 route', ' route'),
        });
      }
      const inet = familyByName(net.family).inet;
      for (const a of f.addrs) {
        if (a.family !== inet || a.ifname === c.bridge || a.ifname === c.vxlan.device || a.scope === 'host' || a.scope === 'link') continue;
        if (cidrContainsIp(net.podCIDR, a.local)) {
          throw new UserError(`${field(k)}: ${net.podCIDR} contains address ${a.local} of ${a.ifname} on node ${n.name} (nodes[${i}]); expected a pod CIDR apart from the node network`);
        }
      }
    });
  });
  return conflicts;
}

/**
 * The sysctls a node needs: forwarding and (where br_netfilter is there or can be loaded) the bridge
 * netfilter switch of every family; for IPv6, an uplink whose default route the kernel learns from
 * router advertisements keeps learning it once forwarding is on (accept_ra 2), or the route expires.
 */
function planSysctls(f: NodeFacts, families: readonly FamilyTable[], uplink: string): Record<string, string> {
  const sysctls: Record<string, string> = {};
  // accept_ra first: writing forwarding=1 (even over 1) makes the kernel drop the router-advertised
  // routes of every interface whose accept_ra is not 2 yet, at once. The uplink and every interface a
  // default route was advertised on: 1, the kernel learns routes from RAs and stops once forwarding is on;
  // 2, kept (so also on a later run, whether or not a router has advertised since); 0, a network manager
  // learns them in user space, and forwarding does not matter to it. An interface name with a dot
  // (eth0.100) is written in sysctl's slash form.
  if (families.includes(IPV6)) {
    const devs = new Set([uplink, ...f.routes6.filter((r) => r.dst === 'default' && r.protocol === 'ra' && r.dev).map((r) => r.dev!)]);
    for (const dev of devs) {
      const seen = f.sysctl[`net.ipv6.conf.${dev}.accept_ra`];
      if (seen === '1' || seen === '2') sysctls[dev.includes('.') ? `net/ipv6/conf/${dev}/accept_ra` : `net.ipv6.conf.${dev}.accept_ra`] = '2';
    }
  }
  for (const fam of families) sysctls[fam.forwarding] = '1';
  for (const fam of families) {
    const present = f.sysctl[fam.bridgeNf] !== undefined && f.sysctl[fam.bridgeNf] !== '-';
    if (present || f.tools.modprobe) sysctls[fam.bridgeNf] = '1';
  }
  return sysctls;
}

export function planCluster(inv: Inventory, facts: FactsByNode): ClusterPlan {
  const c = inv.cluster;
  const fams = c.networks.map((n) => familyByName(n.family));
  const errors: NodePlanError[] = [];
  const underlay = new Map<string, string>();
  const uplinks = new Map<string, { ifname: string; mtu: number }>();
  for (const n of inv.nodes) {
    const f = facts.get(n.name);
    if (!f) continue;
    const ip = nodeIPOf(n, f);
    if (!ip) {
      errors.push({ name: n.name, step: 'plan', error: 'cannot tell the node IP', hint: `set nodes[].ip for ${n.name} in the inventory` });
      continue;
    }
    const up = uplinkOf(f, ip);
    if (!up) {
      errors.push({ name: n.name, step: 'plan', error: `no interface on ${n.name} holds its node IP ${ip}`, hint: `set nodes[].ip for ${n.name} to an address the node has` });
      continue;
    }
    underlay.set(n.name, ip);
    uplinks.set(n.name, up);
  }
  checkInterfaces(inv, facts);

  // Each readable node's own address per family (direct routes of that family point at it).
  const famIPs = new Map<string, Partial<Record<IpFamily, string>>>();
  for (const [name, ip] of underlay) {
    const n = inv.nodes.find((x) => x.name === name)!;
    const ips: Partial<Record<IpFamily, string>> = {};
    for (const fam of FAMILIES) {
      const a = familyIP(n, facts.get(name)!, ip, uplinks.get(name)!.ifname, fam);
      if (a) ips[fam.name] = a;
    }
    famIPs.set(name, ips);
  }
  const allIPs = new Map([...famIPs].map(([name, ips]) => [name, [...new Set(Object.values(ips))]]));
  // One underlay family carries the overlay for the whole cluster (a VTEP talks to peers of its own family
  // only): the first node's, when every node has an address of it, else the other one every node has.
  const firstFam = familyOf(underlay.values().next().value ?? '') ?? IPV4;
  const overlayFam = [firstFam, ...FAMILIES.filter((x) => x !== firstFam)].find((fam) => [...famIPs.values()].every((ips) => ips[fam.name]));
  // Two VTEPs with one MAC would take each other's overlay traffic (IPv6 MACs are hashed: a clash is rare).
  const macs = new Map<string, string>();
  for (const [name, ips] of famIPs) {
    const ip = overlayFam ? ips[overlayFam.name] : undefined;
    if (!ip) continue;
    const other = macs.get(vtepMac(ip));
    if (other) throw new UserError(`nodes: the node IPs of ${other} and ${name} give one VXLAN MAC address (${vtepMac(ip)}); expected node IPs that differ in their hash: give one of them another address, or list its IPv4 address first in nodes[].ip`);
    macs.set(vtepMac(ip), name);
  }

  // Nodes not read this run keep their place: what the readable nodes hold for them stays as it is, and
  // their pod CIDRs (as those routes show them) are not handed to anyone else.
  const absent = inv.nodes.filter((n) => !underlay.has(n.name));
  // Nodes of the cluster beyond this run's (picked with -l/--node) are peers too, unread as an unreachable one is.
  const partial = absent.length > 0 || inv.partial === true;
  const ready = inv.nodes.filter((n) => underlay.has(n.name));
  const held = new Map<string, Map<IpFamily, { podCIDR: string; overlay: boolean }>>();
  for (const p of absent) {
    const ips = [...new Set([...Object.values(p.ips), ...(isIp(p.address) ? [p.address] : [])])];
    // Each family from whichever readable node routes it (one may have lost a route the other kept).
    const mine = new Map<IpFamily, { podCIDR: string; overlay: boolean }>();
    for (const n of ready) for (const [fam, h] of heldCidrsFor(facts.get(n.name)!, ips, c.vxlan.device)) if (!mine.has(fam)) mine.set(fam, h);
    if (mine.size) held.set(p.name, mine);
  }
  // podnet's routes on readable nodes that no readable node's own CIDR explains may be an unread node's,
  // even one whose address the inventory does not spell (an IPv6 address found on the node): no new node
  // gets those CIDRs.
  const routedByUs = (fam: FamilyTable) => (partial ? ready.flatMap((n) => routesOf(facts.get(n.name)!, fam).filter((r) => r.protocol === String(ROUTE_PROTO)).map((r) => r.dst)) : []);

  const allocations = new Map<IpFamily, ReturnType<typeof allocatePodCidrs>>();
  for (const net of c.networks) {
    const fam = familyByName(net.family);
    allocations.set(
      net.family,
      allocatePodCidrs(
        net.podCIDR,
        net.nodeMaskSize,
        inv.nodes.map((n) => {
          const f = facts.get(n.name);
          return { name: n.name, pinned: n.podCIDRs[net.family], existing: f ? existingPodCidr(f, c.bridge, fam) : held.get(n.name)?.get(net.family)?.podCIDR };
        }),
        routedByUs(fam),
      ),
    );
  }
  const podCidrOf = (name: string, family: IpFamily) => allocations.get(family)!.find((a) => a.name === name)!;
  const routeConflicts = checkInputAgainstFacts(inv, facts, allIPs, allocations);

  // Route kinds first: the MTU depends on whether any overlay is in use. Per family: direct when the
  // peer's address of that family is on-link, else the overlay (which carries every family).
  const kinds = new Map<string, RouteKind>();
  for (const n of ready) {
    const f = facts.get(n.name)!;
    for (const p of ready) {
      if (p.name === n.name) continue;
      for (const fam of fams) {
        const peerIP = famIPs.get(p.name)![fam.name];
        const onlink = peerIP !== undefined && famIPs.get(n.name)![fam.name] !== undefined && isOnLink(f, peerIP, uplinks.get(n.name)!.ifname);
        let kind: RouteKind;
        if (c.mode === 'vxlan') kind = 'overlay';
        else if (c.mode === 'host-gw') {
          if (!onlink) {
            const why = peerIP === undefined ? `has no ${fam.name === 'ipv6' ? 'IPv6' : 'IPv4'} address` : famIPs.get(n.name)![fam.name] === undefined ? `cannot be reached directly by ${n.name}, which has no ${fam.name === 'ipv6' ? 'IPv6' : 'IPv4'} address` : `(${peerIP}) is behind a router as seen from ${n.name}`;
            throw new UserError(`cluster.mode: host-gw needs every peer on-link, but ${p.name} ${why}; expected mode auto or vxlan`);
          }
          kind = 'direct';
        } else kind = onlink ? 'direct' : 'overlay';
        kinds.set(`${n.name}>${p.name}>${fam.name}`, kind);
      }
    }
  }
  const anyOverlay = [...kinds.values()].includes('overlay') || [...held.values()].some((h) => [...h.values()].some((x) => x.overlay));
  const minUplink = Math.min(...[...uplinks.values()].map((u) => u.mtu), 65535);
  // The overlay's cost depends on the family that carries it.
  const overlayOverhead = (overlayFam ?? firstFam).vxlanOverhead;
  let mtu = c.mtu ?? (uplinks.size ? minUplink - (anyOverlay ? overlayOverhead : 0) : 1500);
  if (c.mtu === undefined && partial) {
    // An unread node's uplink is unknown: never raise the pod MTU past what the nodes use now.
    const now = ready.map((n) => /"mtu"\s*:\s*(\d+)/.exec(facts.get(n.name)!.cniConfFiles.find((x) => x.path === CONFLIST_PATH)?.text ?? '')?.[1]).filter(Boolean).map(Number);
    if (now.length) mtu = Math.min(mtu, ...now);
  }
  if (fams.includes(IPV6) && mtu < IPV6.minMtu) {
    throw new UserError(`cluster.podCIDR: the pods' MTU would be ${mtu}${anyOverlay ? ` (the smallest uplink MTU ${minUplink} less the overlay's ${overlayOverhead} bytes)` : ''}, below IPv6's minimum of ${IPV6.minMtu}; expected uplinks with an MTU of at least ${IPV6.minMtu + (anyOverlay ? overlayOverhead : 0)}, or an IPv4-only cluster.podCIDR`);
  }

  const nodes: NodePlan[] = [];
  for (const n of ready) {
    const f = facts.get(n.name)!;
    const taken = routeConflicts.get(n.name);
    if (taken) {
      errors.push({ name: n.name, step: 'plan', error: taken.error, hint: taken.hint });
      continue;
    }
    const binDir = chooseBinDir(inv, f);
    const missing = REQUIRED_PLUGINS.filter((p) => !f.plugins.some((x) => x.dir === (binDir ?? '') && x.name === p));
    if (!binDir || missing.length) {
      const where = binDir ?? (f.cniBinDirs.join(', ') || '/opt/cni/bin or /usr/lib/cni');
      errors.push({ name: n.name, step: 'plan', error: `CNI plugin${missing.length === 1 ? '' : 's'} ${(missing.length ? missing : REQUIRED_PLUGINS).join(', ')} missing in ${where}`, hint: 'install the CNI plugins (Debian: apt-get install containernetworking-plugins) or set cluster.cniBinDir' });
      continue;
    }
    const cniVersion = chooseCniVersion(f, binDir);
    if (!cniVersion) {
      errors.push({ name: n.name, step: 'plan', error: `the CNI plugins in ${binDir} support none of the versions ${CNI_VERSIONS.join(', ')}`, hint: 'upgrade the CNI plugins' });
      continue;
    }
    if (fams.includes(IPV6) && ['all', 'default'].some((k) => f.sysctl[`net.ipv6.conf.${k}.disable_ipv6`] === '1')) {
      const k = f.sysctl['net.ipv6.conf.all.disable_ipv6'] === '1' ? 'all' : 'default';
      errors.push({ name: n.name, step: 'plan', error: `IPv6 is switched off on ${n.name} (net.ipv6.conf.${k}.disable_ipv6 = 1): its bridge cannot hold an IPv6 gateway`, hint: `turn IPv6 on (sysctl -w net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0, and drop the setting or the ipv6.disable=1 boot option that switched it off), or list an IPv4 cluster.podCIDR only` });
      continue;
    }
    const uplink = uplinks.get(n.name)!;
    // This node's end of the overlay: its address of the overlay family, on the interface that holds it.
    const local = overlayFam ? famIPs.get(n.name)![overlayFam.name] : undefined;
    const vtepUplink = (local && uplinkOf(f, local)) || uplink;
    const peers = ready.filter((p) => p.name !== n.name);
    const vxlanPeers: VxlanPeer[] = [];
    const routes: PeerRoute[] = [];
    let overlayGap: string | undefined;
    for (const p of peers) {
      for (const fam of fams) {
        const kind = kinds.get(`${n.name}>${p.name}>${fam.name}`)!;
        const peerCidr = podCidrOf(p.name, fam.name).podCIDR;
        if (kind === 'direct') {
          routes.push({ peer: p.name, family: fam.name, podCIDR: peerCidr, kind, via: famIPs.get(p.name)![fam.name]!, dev: uplink.ifname, onlink: false });
          continue;
        }
        // The overlay's far end is the peer's address of the overlay family.
        const peerUnderlay = overlayFam ? famIPs.get(p.name)![overlayFam.name] : undefined;
        if (!peerUnderlay || !local) {
          overlayGap ??= `${p.name} must be reached through the overlay, but no IP family has an address on every node to carry it (${[...famIPs].map(([name, ips]) => `${name}: ${Object.values(ips).join(', ') || '-'}`).join('; ')})`;
          continue;
        }
        const vtepAddress = hostAddress(peerCidr, 0);
        vxlanPeers.push({ peer: p.name, family: fam.name, nodeIP: peerUnderlay, vtepAddress, mac: vtepMac(peerUnderlay) });
        routes.push({ peer: p.name, family: fam.name, podCIDR: peerCidr, kind, via: vtepAddress, dev: c.vxlan.device, onlink: true });
      }
    }
    if (overlayGap) {
      errors.push({ name: n.name, step: 'plan', error: overlayGap, hint: 'give every node an address of one family the overlay can run over (nodes[].ip lists one per family)' });
      continue;
    }
    if (partial) {
      // What the node has that no readable peer claims may be an unread node's: kept exactly as it is
      // (unless a readable node now has that CIDR: its route wins).
      const kept = unclaimedState(f, routes, vxlanPeers, c.vxlan.device, (cidr) => ready.some((r) => fams.some((fam) => cidrsOverlap(podCidrOf(r.name, fam.name).podCIDR, cidr))));
      routes.push(...kept.routes);
      vxlanPeers.push(...kept.vxlanPeers);
    }
    // In address order (IPv4 first), whether a peer was read this run or kept as it was: the files render the same.
    routes.sort((a, b) => compareCidr(a.podCIDR, b.podCIDR));
    vxlanPeers.sort((a, b) => compareCidr(hostCidr(a.vtepAddress), hostCidr(b.vtepAddress)));
    const families: FamilyPlan[] = c.networks.map((net) => {
      const alloc = podCidrOf(n.name, net.family);
      const fp: FamilyPlan = {
        family: net.family,
        podCIDR: alloc.podCIDR,
        podCIDRSource: alloc.source,
        gateway: hostAddress(alloc.podCIDR, 1),
        clusterCIDR: net.podCIDR,
        iptables: planIptables(net.podCIDR, alloc.podCIDR, net.masquerade),
      };
      const own = famIPs.get(n.name)![net.family];
      if (own) fp.nodeIP = own;
      return fp;
    });
    const vxlan: VxlanPlan | undefined = vxlanPeers.length
      ? {
          device: c.vxlan.device,
          vni: c.vxlan.vni,
          port: c.vxlan.port,
          local: local!,
          uplink: vtepUplink.ifname,
          mac: vtepMac(local!),
          addresses: families.map((x) => hostAddress(x.podCIDR, 0)),
          mtu: vtepUplink.mtu - overlayFam!.vxlanOverhead,
          peers: vxlanPeers,
        }
      : undefined;
    const primary = families[0]!;
    const conflist = renderConflist({ cniVersion, bridge: c.bridge, mtu, ranges: families.map((x) => ({ podCIDR: x.podCIDR, gateway: x.gateway, clusterCIDR: x.clusterCIDR, egress: c.networks.find((net) => net.family === x.family)!.masquerade || x.family === 'ipv6' })) });
    const sysctls = planSysctls(f, fams, uplink.ifname);
    const persistence = f.systemd ? 'systemd' : 'none';
    const plan: NodePlan = {
      name: n.name,
      address: n.address,
      nodeIP: underlay.get(n.name)!,
      podCIDR: primary.podCIDR,
      podCIDRSource: primary.podCIDRSource,
      gateway: primary.gateway,
      families,
      bridge: c.bridge,
      uplink: uplink.ifname,
      uplinkMtu: uplink.mtu,
      mtu,
      cniVersion,
      cniBinDir: binDir,
      conflist,
      routes,
      vxlan,
      vxlanDevice: c.vxlan.device,
      keepUnclaimed: partial,
      sysctls,
      modules: fams.some((fam) => sysctls[fam.bridgeNf]) ? ['br_netfilter'] : [],
      files: [],
      persistence,
      clusterCIDR: c.podCIDR,
    };
    nodes.push(plan);
  }
  return { clusterCIDR: c.podCIDR, clusterCIDRs: c.networks.map((x) => x.podCIDR), mode: c.mode, mtu, nodes, errors };
}

/**
 * The conflist: the bridge plugin with host-local IPAM (one range set per family, so every pod gets one
 * address of each) and portmap. Each family's routes: its cluster CIDR, and the default route where pod
 * traffic may leave the cluster (IPv4 only when masqueraded, as pods' private addresses need it; IPv6
 * always, as pods reach services and routed prefixes without NAT).
 */
export function renderConflist(o: { cniVersion: string; bridge: string; mtu: number; ranges: { podCIDR: string; gateway: string; clusterCIDR: string; egress: boolean }[] }): Record<string, unknown> {
  const routes: { dst: string }[] = [];
  for (const r of o.ranges) routes.push({ dst: r.clusterCIDR });
  for (const r of o.ranges) if (r.egress) routes.push({ dst: (familyOf(r.podCIDR) ?? IPV4).anyRoute });
  return {
    cniVersion: o.cniVersion,
    name: CONFLIST_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge: o.bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        mtu: o.mtu,
        ipam: { type: 'host-local', ranges: o.ranges.map((r) => [{ subnet: r.podCIDR, gateway: r.gateway }]), routes },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

/**
 * iptables (ip6tables) rules in `-S` form, so they compare as text with what a node reports. IPv6 also
 * lets neighbour discovery through: pods on one bridge solicit each other from link-local to multicast
 * addresses, which no cluster-CIDR rule matches, and a FORWARD policy of DROP would eat it once
 * br_netfilter hands bridged frames to ip6tables.
 */
export function planIptables(clusterCIDR: string, podCIDR: string, masquerade: boolean): { filter: string[]; nat: string[] } {
  const tag = `-m comment --comment ${RULE_COMMENT}`;
  const nd = familyOf(clusterCIDR) === IPV6 ? [135, 136].map((t) => `-A ${FORWARD_CHAIN} -p ipv6-icmp -m icmp6 --icmpv6-type ${t} ${tag} -j ACCEPT`) : [];
  return {
    filter: [
      `-A ${FORWARD_CHAIN} -s ${clusterCIDR} ${tag} -j ACCEPT`,
      `-A ${FORWARD_CHAIN} -d ${clusterCIDR} ${tag} -j ACCEPT`,
      ...nd,
    ],
    nat: masquerade ? [`-A ${POSTROUTING_CHAIN} -s ${podCIDR} ! -d ${clusterCIDR} ${tag} -j MASQUERADE`] : [],
  };
}

export const JUMP_RULES = {
  filter: `-A FORWARD -m comment --comment ${RULE_COMMENT} -j ${FORWARD_CHAIN}`,
  nat: `-A POSTROUTING -m comment --comment ${RULE_COMMENT} -j ${POSTROUTING_CHAIN}`,
} as const;
