/**
 * Desired (NodePlan) vs observed (NodeFacts) → the list of changes that converge the node. Pure. The same
 * list serves `up` (apply it), `up --dry-run` (print it) and `status` (drift = a non-empty list). An
 * empty list means the node is converged and `up` does not touch it.
 */
import type { NodeFacts } from '../facts/parse.js';
import { droppingPath, podPaths, rulesOf, type PodPath } from '../facts/iptables.js';
import { PROBE_POD_PREFIX } from '../facts/marks.js';
import {
  CONFLIST_NAME,
  FORWARD_CHAIN,
  JUMP_RULES,
  LINK_ALIAS,
  POSTROUTING_CHAIN,
  ROUTE_PROTO,
  type FilePlan,
  type NodePlan,
  type PeerRoute,
} from './desired.js';
import { FAMILIES, familyByName, familyOf, IPV4, type FamilyTable, type IpFamily } from '../net/family.js';

export type Change =
  | { kind: 'sysctl'; key: string; from?: string; to: string }
  | { kind: 'module'; name: string }
  | { kind: 'bridge-create'; bridge: string; mtu: number }
  | { kind: 'bridge-set'; bridge: string; mtu: number; from: string }
  | { kind: 'bridge-adopt'; bridge: string }
  | { kind: 'bridge-addr-add'; bridge: string; address: string }
  | { kind: 'bridge-addr-del'; bridge: string; address: string }
  | { kind: 'vxlan-create'; device: string; vni: number; port: number; local: string; uplink: string; mac: string; mtu: number; addresses: string[]; recreate: boolean }
  | { kind: 'vxlan-delete'; device: string }
  | { kind: 'fdb-set'; device: string; mac: string; dst: string }
  | { kind: 'fdb-del'; device: string; mac: string; dst: string }
  | { kind: 'neigh-set'; device: string; address: string; mac: string }
  | { kind: 'neigh-del'; device: string; address: string }
  | { kind: 'route-set'; route: PeerRoute; from?: string }
  | { kind: 'route-del'; dst: string; desc: string }
  | { kind: 'iptables'; family: IpFamily; table: 'filter' | 'nat'; chain: string; jump: string; rules: string[]; reason: string; moveFirst?: boolean }
  | { kind: 'iptables-remove'; family: IpFamily; table: 'filter' | 'nat'; chain: string; jump: string }
  | { kind: 'ipam-release'; dir: string; reservations: { ip: string; owner: string }[] }
  | { kind: 'file-write'; file: FilePlan; exists: boolean }
  | { kind: 'file-remove'; path: string }
  | { kind: 'unit-enable' };

export function describeChange(c: Change): string {
  switch (c.kind) {
    case 'sysctl':
      return `sysctl ${c.key}: ${c.from ?? 'unset'} → ${c.to}`;
    case 'module':
      return `load kernel module ${c.name}`;
    case 'bridge-create':
      return `create bridge ${c.bridge} (mtu ${c.mtu})`;
    case 'bridge-set':
      return `bridge ${c.bridge}: ${c.from} → mtu ${c.mtu}, up`;
    case 'bridge-adopt':
      return `adopt bridge ${c.bridge} (it holds only pod addresses of the cluster CIDR): mark it as podnet's`;
    case 'bridge-addr-add':
      return `bridge ${c.bridge}: add address ${c.address}`;
    case 'bridge-addr-del':
      return `bridge ${c.bridge}: remove stale address ${c.address}`;
    case 'vxlan-create':
      return `${c.recreate ? 'recreate' : 'create'} VXLAN ${c.device} (vni ${c.vni}, port ${c.port}, local ${c.local}, mtu ${c.mtu})`;
    case 'vxlan-delete':
      return `delete VXLAN ${c.device} (no peer needs the overlay)`;
    case 'fdb-set':
      return `fdb ${c.mac} dev ${c.device} dst ${c.dst}`;
    case 'fdb-del':
      return `remove fdb ${c.mac} dst ${c.dst}`;
    case 'neigh-set':
      return `neighbour ${c.address} lladdr ${c.mac} dev ${c.device}`;
    case 'neigh-del':
      return `remove neighbour ${c.address} dev ${c.device}`;
    case 'route-set':
      return `route ${c.route.podCIDR} via ${c.route.via} dev ${c.route.dev} (${c.route.kind}, ${c.route.peer})${c.from ? ` was: ${c.from}` : ''}`;
    case 'route-del':
      return `remove route ${c.desc}`;
    case 'iptables':
      return `${familyByName(c.family).iptables} -t ${c.table} ${c.chain}: ${c.reason}`;
    case 'iptables-remove':
      return `${familyByName(c.family).iptables} -t ${c.table}: remove chain ${c.chain} and its jump (the cluster has no ${c.family === 'ipv6' ? 'IPv6' : 'IPv4'} pod network any more)`;
    case 'ipam-release':
      return `release ${c.reservations.length} IPAM reservation(s) of podnet probe pods that are gone (${c.reservations.map((r) => r.ip).slice(0, 4).join(', ')}${c.reservations.length > 4 ? ', …' : ''})`;
    case 'file-write':
      return `${c.exists ? 'update' : 'write'} ${c.file.path}`;
    case 'file-remove':
      return `remove ${c.path}`;
    case 'unit-enable':
      return 'systemctl enable podnet.service';
  }
}

function routeKey(dst: string, via: string | undefined, dev: string | undefined): string {
  return `${dst} via ${via ?? '-'} dev ${dev ?? '-'}`;
}

export function diffNode(plan: NodePlan, f: NodeFacts): Change[] {
  const out: Change[] = [];

  for (const [key, to] of Object.entries(plan.sysctls)) {
    // (the facts name keys with dots; an interface name with a dot is planned in the slash form)
    const from = f.sysctl[key.replace(/\//g, '.')];
    if (from === '-' && key.startsWith('net.bridge.') && !out.some((c) => c.kind === 'module')) out.push({ kind: 'module', name: 'br_netfilter' });
    if (from !== to) out.push({ kind: 'sysctl', key, from: from === '-' ? undefined : from, to });
  }

  const br = f.links.find((l) => l.ifname === plan.bridge);
  if (!br) out.push({ kind: 'bridge-create', bridge: plan.bridge, mtu: plan.mtu });
  else {
    // Planning refused a bridge that is neither marked nor adoptable; this one is podnet's to mark.
    if (br.alias !== LINK_ALIAS) out.push({ kind: 'bridge-adopt', bridge: plan.bridge });
    const ports = f.links.filter((l) => l.master === plan.bridge).length;
    // With ports attached the bridge MTU follows its ports; only a port-less bridge is podnet's to set.
    const mtuWrong = ports === 0 && br.mtu !== plan.mtu;
    const down = !br.flags.includes('UP');
    if (mtuWrong || down) out.push({ kind: 'bridge-set', bridge: plan.bridge, mtu: plan.mtu, from: `${down ? 'down' : 'up'}, mtu ${br.mtu}` });
  }
  // The pods' gateway of every family; IPv6 link-local addresses are the kernel's.
  const want = plan.families.map((x) => `${x.gateway}/${x.podCIDR.split('/')[1]}`);
  const have = f.addrs.filter((a) => a.ifname === plan.bridge && (a.family === IPV4.inet || a.scope === 'global')).map((a) => `${a.local}/${a.prefixlen}`);
  for (const a of have) if (!want.includes(a)) out.push({ kind: 'bridge-addr-del', bridge: plan.bridge, address: a });
  for (const w of want) if (!have.includes(w)) out.push({ kind: 'bridge-addr-add', bridge: plan.bridge, address: w });

  const vx = plan.vxlan;
  const vxDevice = f.links.find((l) => l.ifname === (vx?.device ?? ''));
  if (vx) {
    const ok =
      vxDevice?.kind === 'vxlan' &&
      vxDevice.vxlan?.id === vx.vni &&
      vxDevice.vxlan?.port === vx.port &&
      vxDevice.vxlan?.local === vx.local &&
      vxDevice.vxlan?.learning === false &&
      vxDevice.address === vx.mac &&
      vxDevice.mtu === vx.mtu &&
      vxDevice.flags.includes('UP') &&
      vx.addresses.every((x) => f.addrs.some((a) => a.ifname === vx.device && a.local === x && a.prefixlen === (familyOf(x) ?? IPV4).hostPrefix));
    if (!ok) {
      out.push({ kind: 'vxlan-create', device: vx.device, vni: vx.vni, port: vx.port, local: vx.local, uplink: vx.uplink, mac: vx.mac, mtu: vx.mtu, addresses: vx.addresses, recreate: Boolean(vxDevice) });
    }
    // A recreated device starts with empty FDB and neighbour tables. One FDB entry per peer, one
    // neighbour entry per peer and family.
    const fdb = ok ? f.fdb.filter((e) => e.dev === vx.device && e.dst) : [];
    const neigh = ok ? f.neigh.filter((n) => n.dev === vx.device) : [];
    const fdbSet = new Set<string>();
    for (const p of vx.peers) {
      if (!fdb.some((e) => e.mac === p.mac && e.dst === p.nodeIP) && !fdbSet.has(`${p.mac} ${p.nodeIP}`)) {
        fdbSet.add(`${p.mac} ${p.nodeIP}`);
        out.push({ kind: 'fdb-set', device: vx.device, mac: p.mac, dst: p.nodeIP });
      }
      if (!neigh.some((n) => n.dst === p.vtepAddress && n.lladdr === p.mac)) out.push({ kind: 'neigh-set', device: vx.device, address: p.vtepAddress, mac: p.mac });
    }
    if (!plan.keepUnclaimed) {
      for (const e of fdb) if (!vx.peers.some((p) => p.mac === e.mac && p.nodeIP === e.dst)) out.push({ kind: 'fdb-del', device: vx.device, mac: e.mac, dst: e.dst! });
      for (const n of neigh) if (!vx.peers.some((p) => p.vtepAddress === n.dst)) out.push({ kind: 'neigh-del', device: vx.device, address: n.dst });
    }
  } else if (!plan.keepUnclaimed && f.links.some((l) => l.ifname === plan.vxlanDevice && l.kind === 'vxlan' && l.alias === LINK_ALIAS)) {
    // Only a device podnet marked as its own is removed.
    out.push({ kind: 'vxlan-delete', device: plan.vxlanDevice });
  }

  const proto = String(ROUTE_PROTO);
  const ours = [...f.routes, ...f.routes6].filter((r) => r.protocol === proto);
  for (const r of plan.routes) {
    const match = ours.find((o) => o.dst === r.podCIDR);
    const ok = match && match.gateway === r.via && match.dev === r.dev && (!r.onlink || match.flags.includes('onlink'));
    if (!ok) out.push({ kind: 'route-set', route: r, from: match ? routeKey(match.dst, match.gateway, match.dev) : undefined });
  }
  if (!plan.keepUnclaimed) for (const o of ours) if (!plan.routes.some((r) => r.podCIDR === o.dst)) out.push({ kind: 'route-del', dst: o.dst, desc: routeKey(o.dst, o.gateway, o.dev) });

  const paths = podPaths(plan.bridge, plan.uplink, plan.vxlan ? [plan.vxlan.device] : []);
  for (const x of plan.families) {
    const fam = familyByName(x.family);
    out.push(...diffIptables(fam, 'filter', FORWARD_CHAIN, JUMP_RULES.filter, x.iptables.filter, rulesOf(f, fam, 'filter'), { cidr: x.clusterCIDR, paths }));
    out.push(...diffIptables(fam, 'nat', POSTROUTING_CHAIN, JUMP_RULES.nat, x.iptables.nat, rulesOf(f, fam, 'nat')));
  }
  // A family the cluster no longer has (dual-stack turned IPv4-only): podnet's chains of it go.
  for (const fam of FAMILIES.filter((x) => !plan.families.some((y) => y.family === x.name))) {
    for (const [table, chain, jump] of [['filter', FORWARD_CHAIN, JUMP_RULES.filter], ['nat', POSTROUTING_CHAIN, JUMP_RULES.nat]] as const) {
      const rules = rulesOf(f, fam, table);
      if (rules.includes(`-N ${chain}`) || rules.includes(jump)) out.push({ kind: 'iptables-remove', family: fam.name, table, chain, jump });
    }
  }

  for (const file of plan.files) {
    const observed = file.path.startsWith(f.cniConfDir + '/') ? f.cniConfFiles.find((c) => c.path === file.path)?.text : undefined;
    const exists = observed !== undefined || f.files[file.path] !== undefined;
    const same = observed !== undefined ? observed === file.content : f.files[file.path] === file.sha256;
    if (!same) out.push({ kind: 'file-write', file, exists });
  }
  for (const path of Object.keys(f.files)) if (!plan.files.some((x) => x.path === path)) out.push({ kind: 'file-remove', path });
  if (plan.persistence === 'systemd' && out.some((c) => c.kind === 'file-write' && c.file.path.endsWith('.service'))) out.push({ kind: 'unit-enable' });

  // Addresses host-local still holds for podnet's own probe pods that are gone (a probe killed before its
  // teardown, a node rebooted mid-probe): podnet made them, so podnet releases them.
  const leaked = (f.ipam.networks[CONFLIST_NAME] ?? []).filter((r) => r.owner.startsWith(PROBE_POD_PREFIX) && !f.ipam.probeRuns.includes(r.owner.slice(PROBE_POD_PREFIX.length)));
  if (leaked.length) out.push({ kind: 'ipam-release', dir: `${f.ipam.dataDir}/${CONFLIST_NAME}`, reservations: leaked.map((r) => ({ ip: r.ip, owner: r.owner })) });
  return out;
}

function diffIptables(family: FamilyTable, table: 'filter' | 'nat', chain: string, jump: string, want: string[], observed: string[], pods?: { cidr: string; paths: PodPath[] }): Change[] {
  const have = observed.filter((l) => l.startsWith(`-A ${chain} `));
  const jumps = observed.filter((l) => l === jump).length;
  const chainExists = observed.includes(`-N ${chain}`);
  const reasons: string[] = [];
  if (!chainExists) reasons.push(`create chain ${chain}`);
  if (jumps === 0) reasons.push(`add jump from ${jump.split(' ')[1]}`);
  if (jumps > 1) reasons.push(`remove ${jumps - 1} duplicate jump(s)`);
  if (have.join('\n') !== want.join('\n')) reasons.push(`set ${want.length} rule(s)${have.length ? ` (had ${have.length})` : ''}`);
  // A rule above podnet's jump that drops every pod flow (a firewall's REJECT, a stale CNI chain) wins over
  // podnet's ACCEPTs: the jump goes back to the top, where podnet put it.
  const at = observed.indexOf(jump);
  const builtin = jump.split(' ')[1]!;
  const blocker = pods && at >= 0 ? droppingPath(observed.filter((l, i) => !l.startsWith(`-A ${builtin} `) || i < at), builtin, pods.cidr, pods.paths) : undefined;
  const moveFirst = blocker !== undefined;
  if (moveFirst) reasons.push(`move the jump above "${blocker.rule}", which drops pod traffic`);
  return reasons.length ? [{ kind: 'iptables', family: family.name, table, chain, jump, rules: want, reason: reasons.join('; '), ...(moveFirst ? { moveFirst } : {}) }] : [];
}
