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
import { isOnLink, routeDst } from '../facts/routes.js';
import { allocatePodCidrs } from './allocate.js';
import { cidrContainsCidr, cidrContainsIp, cidrsOverlap, compareCidr, hostAddress, isIp, networkOf, parseCidr } from '../net/cidr.js';
import { UserError } from '../util/errors.js';
import { familyOf, hostCidr, IPV4, IPV6, type IpFamily } from '../net/family.js';

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
  /** the network address of the node's pod CIDR, as a /32 on the device (source for host→remote pod) */
  address: string;
  mtu: number;
  peers: VxlanPeer[];
}

export interface FilePlan {
  path: string;
  content: string;
  mode: string;
  sha256: string;
}

export interface NodePlan {
  name: string;
  address: string;
  nodeIP: string;
  podCIDR: string;
  podCIDRSource: 'pinned' | 'existing' | 'allocated';
  gateway: string;
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
  iptables: { filter: string[]; nat: string[] };
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
  clusterCIDR: string;
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
  const octets = nodeIP.split('.').map((o) => Number(o).toString(16).padStart(2, '0'));
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
export function existingPodCidr(facts: NodeFacts, bridge: string): string | undefined {
  const mine = facts.cniConfFiles.find((f) => f.path.endsWith('/10-podnet.conflist'));
  if (mine) {
    const m = /"subnet"\s*:\s*"([^"]+)"/.exec(mine.text);
    if (m?.[1] && parseCidr(m[1])) return parseCidr(m[1])!.text;
  }
  const a = facts.addrs.find((x) => x.ifname === bridge && x.family === IPV4.inet);
  return a ? networkOf(a.local, a.prefixlen)?.text : undefined;
}

/**
 * The pod CIDR a node's podnet route gives a peer podnet could not read this run (unreachable, or no
 * usable IP), and whether it goes through the overlay: a direct route via the peer's IP, or an overlay
 * route via the VTEP whose neighbour entry carries the peer's MAC.
 */
function heldCidrFor(f: NodeFacts, peerIP: string | undefined, overlayDevice: string): { podCIDR: string; overlay: boolean } | undefined {
  if (!peerIP) return undefined;
  const ours = f.routes.filter((r) => r.protocol === String(ROUTE_PROTO) && parseCidr(r.dst));
  const direct = ours.find((r) => r.gateway === peerIP && r.dev !== overlayDevice);
  if (direct) return { podCIDR: parseCidr(direct.dst)!.text, overlay: false };
  const neigh = f.neigh.find((n) => n.dev === overlayDevice && n.lladdr === vtepMac(peerIP));
  const route = neigh && ours.find((r) => r.dev === overlayDevice && r.gateway === neigh.dst);
  return route ? { podCIDR: parseCidr(route.dst)!.text, overlay: true } : undefined;
}

/** podnet's routes and VXLAN entries on a node that no planned route or peer claims. */
function unclaimedState(f: NodeFacts, routes: PeerRoute[], peers: VxlanPeer[], overlayDevice: string, takenByReadable: (cidr: string) => boolean): { routes: PeerRoute[]; vxlanPeers: VxlanPeer[] } {
  const out = { routes: [] as PeerRoute[], vxlanPeers: [] as VxlanPeer[] };
  for (const r of f.routes) {
    const dst = parseCidr(r.dst)?.text;
    if (r.protocol !== String(ROUTE_PROTO) || !dst || !r.gateway || routes.some((x) => x.podCIDR === dst) || takenByReadable(dst)) continue;
    out.routes.push({ peer: '(not read this run)', family: (familyOf(dst) ?? IPV4).name, podCIDR: dst, kind: r.dev === overlayDevice ? 'overlay' : 'direct', via: r.gateway, dev: r.dev ?? '', onlink: r.flags.includes('onlink') });
  }
  for (const e of f.fdb) {
    if (e.dev !== overlayDevice || !e.dst || peers.some((p) => p.nodeIP === e.dst)) continue;
    const n = f.neigh.find((x) => x.dev === overlayDevice && x.lladdr === e.mac);
    if (n && out.routes.some((r) => r.kind === 'overlay' && r.via === n.dst)) out.vxlanPeers.push({ peer: '(not read this run)', nodeIP: e.dst, vtepAddress: n.dst, mac: e.mac });
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
  return facts.routes.filter((r) => {
    if (r.protocol === String(ROUTE_PROTO)) return false;
    if (r.dev === bridge || r.dev === vxlanDevice) return false;
    const dst = routeDst(r);
    if (dst === IPV4.anyRoute) return false;
    return cidrsOverlap(dst, clusterCIDR);
  });
}

export interface FactsByNode {
  get(name: string): NodeFacts | undefined;
}

/** How a link reads in a message: "the loopback device", "a veth device holding 10.0.0.1/24", "a network interface". */
function describeLink(l: LinkFact, facts: NodeFacts): string {
  const held = facts.addrs.filter((a) => a.ifname === l.ifname && a.family === IPV4.inet).map((a) => `${a.local}/${a.prefixlen}`);
  const what = l.flags.includes('LOOPBACK') ? 'the loopback device' : l.kind ? `a ${l.kind} device` : 'a network interface';
  return held.length ? `${what} holding ${held.join(', ')}` : what;
}

/**
 * Whether a bridge podnet did not mark may be adopted: it holds pod addresses of this cluster and nothing
 * else, and only veths (pods) are attached — what the bridge plugin makes from podnet's conflist, or an
 * earlier podnet. Anything else (no address, a foreign address, a physical port) is someone else's.
 */
export function adoptableBridge(facts: NodeFacts, bridge: string, clusterCIDR: string): boolean {
  const held = facts.addrs.filter((a) => a.ifname === bridge && a.family === IPV4.inet);
  if (held.length === 0 || !held.every((a) => cidrContainsIp(clusterCIDR, a.local))) return false;
  // Global IPv6 addresses are someone else's configuration too.
  if (facts.addrs.some((a) => a.ifname === bridge && a.family === IPV6.inet && a.scope === 'global')) return false;
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
    if (br && br.alias !== LINK_ALIAS && !adoptableBridge(f, c.bridge, c.podCIDR)) {
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
function checkInputAgainstFacts(inv: Inventory, facts: FactsByNode, nodeIPs: Map<string, string>, allocations: { name: string; podCIDR: string }[]): Map<string, { error: string; hint: string }> {
  const c = inv.cluster;
  const conflicts = new Map<string, { error: string; hint: string }>();
  inv.nodes.forEach((n, i) => {
    const f = facts.get(n.name);
    if (!f) return;
    const ip = nodeIPs.get(n.name);
    if (ip && cidrContainsIp(c.podCIDR, ip)) {
      throw new UserError(`cluster.podCIDR: ${c.podCIDR} contains the IP ${ip} of node ${n.name} (nodes[${i}]); expected a pod CIDR apart from the node network`);
    }
    for (const r of conflictingRoutes(f, c.podCIDR, c.bridge, c.vxlan.device)) {
      // It takes a pod CIDR when it is as specific or more (a wider route loses to podnet's own).
      const owner = allocations.find((a) => cidrContainsCidr(a.podCIDR, routeDst(r)));
      if (!owner) {
        throw new UserError(`cluster.podCIDR: ${c.podCIDR} overlaps the route "${routeText(r)}" on node ${n.name} (nodes[${i}]); expected a pod CIDR no existing route uses`);
      }
      if (conflicts.has(n.name)) continue;
      const whose = owner.name === n.name ? `this node's own pod CIDR ${owner.podCIDR}` : `the pod CIDR ${owner.podCIDR} of ${owner.name}`;
      conflicts.set(n.name, {
        error: `the route "${routeText(r)}"${r.protocol ? ` (proto ${r.protocol})` : ''} was not created by podnet and takes ${whose}; podnet never replaces routes it did not create`,
        hint: `if nothing needs it, remove it on ${n.name}: ip route del ${routeText(r)}; then run podnet up again`,
      });
    }
    for (const a of f.addrs) {
      if (a.family !== IPV4.inet || a.ifname === c.bridge || a.ifname === c.vxlan.device || a.scope === 'host') continue;
      if (cidrContainsIp(c.podCIDR, a.local)) {
        throw new UserError(`cluster.podCIDR: ${c.podCIDR} contains address ${a.local} of ${a.ifname} on node ${n.name} (nodes[${i}]); expected a pod CIDR apart from the node network`);
      }
    }
  });
  return conflicts;
}

export function planCluster(inv: Inventory, facts: FactsByNode): ClusterPlan {
  const c = inv.cluster;
  if (familyOf(c.podCIDR) !== IPV4) {
    // The inventory and CIDR layer are family-agnostic; planning, rendering and checks are IPv4 for now.
    throw new UserError(`cluster.podCIDR: ${c.podCIDR} is IPv6; podnet plans IPv4 pod networks for now, expected an IPv4 CIDR such as 10.244.0.0/16`);
  }
  const errors: NodePlanError[] = [];
  const nodeIPs = new Map<string, string>();
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
    nodeIPs.set(n.name, ip);
    uplinks.set(n.name, up);
  }
  checkInterfaces(inv, facts);

  // Nodes not read this run keep their place: what the readable nodes hold for them stays as it is, and
  // their pod CIDR (as those routes show it) is not handed to anyone else.
  const absent = inv.nodes.filter((n) => !nodeIPs.has(n.name));
  const ready = inv.nodes.filter((n) => nodeIPs.has(n.name));
  const held = new Map<string, { podCIDR: string; overlay: boolean }>();
  for (const p of absent) {
    for (const n of ready) {
      const h = heldCidrFor(facts.get(n.name)!, p.ip ?? (isIp(p.address) ? p.address : undefined), c.vxlan.device);
      if (h) {
        held.set(p.name, h);
        break;
      }
    }
  }

  const allocations = allocatePodCidrs(
    c.podCIDR,
    c.nodeMaskSize,
    inv.nodes.map((n) => {
      const f = facts.get(n.name);
      return { name: n.name, pinned: n.podCIDR, existing: f ? existingPodCidr(f, c.bridge) : held.get(n.name)?.podCIDR };
    }),
  );
  const podCidrOf = new Map(allocations.map((a) => [a.name, a]));
  const routeConflicts = checkInputAgainstFacts(inv, facts, nodeIPs, allocations);

  // Route kinds first: the MTU depends on whether any overlay is in use.
  const kinds = new Map<string, RouteKind>();
  for (const n of ready) {
    const f = facts.get(n.name)!;
    for (const p of ready) {
      if (p.name === n.name) continue;
      const onlink = isOnLink(f, nodeIPs.get(p.name)!, uplinks.get(n.name)!.ifname);
      let kind: RouteKind;
      if (c.mode === 'vxlan') kind = 'overlay';
      else if (c.mode === 'host-gw') {
        if (!onlink) {
          throw new UserError(
            `cluster.mode: host-gw needs every peer on-link, but ${p.name} (${nodeIPs.get(p.name)}) is behind a router as seen from ${n.name}; expected mode auto or vxlan`,
          );
        }
        kind = 'direct';
      } else kind = onlink ? 'direct' : 'overlay';
      kinds.set(`${n.name}>${p.name}`, kind);
    }
  }
  const anyOverlay = [...kinds.values()].includes('overlay') || [...held.values()].some((h) => h.overlay);
  const minUplink = Math.min(...[...uplinks.values()].map((u) => u.mtu), 65535);
  // The overlay's cost depends on the family that carries it: the node IPs'.
  const overlayOverhead = Math.max(IPV4.vxlanOverhead, ...[...nodeIPs.values()].map((ip) => (familyOf(ip) ?? IPV4).vxlanOverhead));
  let mtu = c.mtu ?? (uplinks.size ? minUplink - (anyOverlay ? overlayOverhead : 0) : 1500);
  if (c.mtu === undefined && absent.length) {
    // An unread node's uplink is unknown: never raise the pod MTU past what the nodes use now.
    const now = ready.map((n) => /"mtu"\s*:\s*(\d+)/.exec(facts.get(n.name)!.cniConfFiles.find((x) => x.path === CONFLIST_PATH)?.text ?? '')?.[1]).filter(Boolean).map(Number);
    if (now.length) mtu = Math.min(mtu, ...now);
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
    const alloc = podCidrOf.get(n.name)!;
    const ip = nodeIPs.get(n.name)!;
    const uplink = uplinks.get(n.name)!;
    const peers = ready.filter((p) => p.name !== n.name);
    const vxlanPeers: VxlanPeer[] = [];
    const routes: PeerRoute[] = peers.map((p) => {
      const kind = kinds.get(`${n.name}>${p.name}`)!;
      const peerCidr = podCidrOf.get(p.name)!.podCIDR;
      const peerIP = nodeIPs.get(p.name)!;
      const family = (familyOf(peerCidr) ?? IPV4).name;
      if (kind === 'direct') return { peer: p.name, family, podCIDR: peerCidr, kind, via: peerIP, dev: uplink.ifname, onlink: false };
      const vtepAddress = hostAddress(peerCidr, 0);
      vxlanPeers.push({ peer: p.name, nodeIP: peerIP, vtepAddress, mac: vtepMac(peerIP) });
      return { peer: p.name, family, podCIDR: peerCidr, kind, via: vtepAddress, dev: c.vxlan.device, onlink: true } as PeerRoute;
    });
    if (absent.length) {
      // What the node has that no readable peer claims may be an unread node's: kept exactly as it is
      // (unless a readable node now has that CIDR: its route wins).
      const kept = unclaimedState(f, routes, vxlanPeers, c.vxlan.device, (cidr) => ready.some((r) => cidrsOverlap(podCidrOf.get(r.name)!.podCIDR, cidr)));
      routes.push(...kept.routes);
      vxlanPeers.push(...kept.vxlanPeers);
    }
    // In address order, whether a peer was read this run or kept as it was: the files render the same.
    routes.sort((a, b) => compareCidr(a.podCIDR, b.podCIDR));
    vxlanPeers.sort((a, b) => compareCidr(hostCidr(a.vtepAddress), hostCidr(b.vtepAddress)));
    const vxlan: VxlanPlan | undefined = vxlanPeers.length
      ? {
          device: c.vxlan.device,
          vni: c.vxlan.vni,
          port: c.vxlan.port,
          local: ip,
          uplink: uplink.ifname,
          mac: vtepMac(ip),
          address: hostAddress(alloc.podCIDR, 0),
          mtu: uplink.mtu - (familyOf(ip) ?? IPV4).vxlanOverhead,
          peers: vxlanPeers,
        }
      : undefined;
    const gateway = hostAddress(alloc.podCIDR, 1);
    const conflist = renderConflist({ cniVersion, bridge: c.bridge, mtu, podCIDR: alloc.podCIDR, gateway, clusterCIDR: c.podCIDR, egress: c.masquerade });
    const sysctls: Record<string, string> = { [IPV4.forwarding]: '1' };
    const brNetfilter = f.sysctl[IPV4.bridgeNf] !== undefined && f.sysctl[IPV4.bridgeNf] !== '-';
    if (brNetfilter || f.tools.modprobe) sysctls[IPV4.bridgeNf] = '1';
    const iptables = planIptables(c.podCIDR, alloc.podCIDR, c.masquerade);
    const persistence = f.systemd ? 'systemd' : 'none';
    const plan: NodePlan = {
      name: n.name,
      address: n.address,
      nodeIP: ip,
      podCIDR: alloc.podCIDR,
      podCIDRSource: alloc.source,
      gateway,
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
      keepUnclaimed: absent.length > 0,
      sysctls,
      modules: sysctls[IPV4.bridgeNf] ? ['br_netfilter'] : [],
      iptables,
      files: [],
      persistence,
      clusterCIDR: c.podCIDR,
    };
    nodes.push(plan);
  }
  return { clusterCIDR: c.podCIDR, mode: c.mode, mtu, nodes, errors };
}

export function renderConflist(o: { cniVersion: string; bridge: string; mtu: number; podCIDR: string; gateway: string; clusterCIDR: string; egress: boolean }): Record<string, unknown> {
  const routes: { dst: string }[] = [{ dst: o.clusterCIDR }];
  if (o.egress) routes.push({ dst: (familyOf(o.podCIDR) ?? IPV4).anyRoute });
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
        ipam: { type: 'host-local', ranges: [[{ subnet: o.podCIDR, gateway: o.gateway }]], routes },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

/** iptables rules in `iptables -S` form, so they compare as text with what a node reports. */
export function planIptables(clusterCIDR: string, podCIDR: string, masquerade: boolean): { filter: string[]; nat: string[] } {
  const tag = `-m comment --comment ${RULE_COMMENT}`;
  return {
    filter: [
      `-A ${FORWARD_CHAIN} -s ${clusterCIDR} ${tag} -j ACCEPT`,
      `-A ${FORWARD_CHAIN} -d ${clusterCIDR} ${tag} -j ACCEPT`,
    ],
    nat: masquerade ? [`-A ${POSTROUTING_CHAIN} -s ${podCIDR} ! -d ${clusterCIDR} ${tag} -j MASQUERADE`] : [],
  };
}

export const JUMP_RULES = {
  filter: `-A FORWARD -m comment --comment ${RULE_COMMENT} -j ${FORWARD_CHAIN}`,
  nat: `-A POSTROUTING -m comment --comment ${RULE_COMMENT} -j ${POSTROUTING_CHAIN}`,
} as const;
