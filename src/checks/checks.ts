/**
 * Static checks: facts of every node → findings. Pure functions, one per failure mode of
 * shared/docs/FAILURE-MODES.md that can be seen from a node, plus consistency across nodes. Each finding
 * names the node, what was seen (evidence) and what to do (fix).
 */
import type { LinkFact, NodeFacts } from '../facts/parse.js';
import { cidrContainsCidr, cidrContainsIp, cidrsOverlap } from '../net/cidr.js';
import { ROUTE_PROTO, VXLAN_OVERHEAD } from '../facts/marks.js';
import { lookupRoute, routeDst } from '../facts/routes.js';
import type { LiveConfig } from './live-config.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  id: string;
  node: string;
  severity: Severity;
  message: string;
  evidence: string;
  fix: string;
}

export interface NodeView {
  name: string;
  facts: NodeFacts;
  nodeIP?: string;
  uplink?: LinkFact;
  live?: LiveConfig;
  podCIDR?: string;
}

export interface CheckContext {
  clusterCIDR: string;
  serviceCIDR?: string;
  vxlanPort: number;
  nodes: NodeView[];
}

type Check = (n: NodeView, ctx: CheckContext) => Finding[];

const f = (id: string, node: string, severity: Severity, message: string, evidence: string, fix: string): Finding => ({ id, node, severity, message, evidence, fix });


/** Chains reachable from a built-in chain by -j jumps (one table). */
function reachableChains(rules: string[], from: string): Set<string> {
  const seen = new Set([from]);
  const queue = [from];
  while (queue.length) {
    const c = queue.shift()!;
    for (const r of rules) {
      if (!r.startsWith(`-A ${c} `)) continue;
      const m = / -j (\S+)/.exec(r);
      if (m?.[1] && /^[A-Z0-9_-]+$/.test(m[1]) && !['ACCEPT', 'DROP', 'REJECT', 'RETURN', 'MASQUERADE', 'SNAT', 'DNAT', 'MARK', 'LOG'].includes(m[1]) && !seen.has(m[1])) {
        seen.add(m[1]);
        queue.push(m[1]);
      }
    }
  }
  return seen;
}

function asCidr(v: string): string {
  return v.includes('/') ? v : `${v}/32`;
}

function ruleArg(rule: string, flag: string): { value: string; negated: boolean } | undefined {
  const m = new RegExp(`(!\\s+)?${flag} (\\S+)`).exec(rule);
  return m ? { value: m[2]!, negated: Boolean(m[1]) } : undefined;
}

const forwardDrop: Check = (n, ctx) => {
  const rules = n.facts.iptablesFilter;
  if (!rules.includes('-P FORWARD DROP')) return [];
  const chains = reachableChains(rules, 'FORWARD');
  const accepts = rules.some((r) => {
    const chain = r.split(' ')[1] ?? '';
    if (!chains.has(chain) || !/ -j ACCEPT\b/.test(r)) return false;
    const s = ruleArg(r, '-s');
    const d = ruleArg(r, '-d');
    const covers = (a?: { value: string; negated: boolean }) => a !== undefined && !a.negated && cidrsOverlap(asCidr(a.value), ctx.clusterCIDR);
    return (covers(s) || covers(d)) && !/ -m (conntrack|state)/.test(r);
  });
  if (accepts) return [];
  return [f('forward-drop', n.name, 'error', `FORWARD policy DROP and no ACCEPT for ${ctx.clusterCIDR}: cross-node pod traffic is dropped`, '-P FORWARD DROP; no rule accepting the cluster CIDR in FORWARD or the chains it jumps to', `accept the cluster CIDR: iptables -I FORWARD -s ${ctx.clusterCIDR} -j ACCEPT; iptables -I FORWARD -d ${ctx.clusterCIDR} -j ACCEPT (podnet up installs this)`)];
};

const ipForward: Check = (n) => {
  const v = n.facts.sysctl['net.ipv4.ip_forward'];
  return v === '1' ? [] : [f('ip-forward-off', n.name, 'error', 'IPv4 forwarding is off: pods cannot reach other nodes', `net.ipv4.ip_forward = ${v ?? 'unknown'}`, 'sysctl -w net.ipv4.ip_forward=1 and persist it in /etc/sysctl.d (podnet up does both)')];
};

const brNetfilter: Check = (n) => {
  const v = n.facts.sysctl['net.bridge.bridge-nf-call-iptables'];
  if (v === '1') return [];
  const drop = n.facts.iptablesFilter.includes('-P FORWARD DROP');
  return [f('br-netfilter', n.name, drop ? 'error' : 'warning', v === '-' || v === undefined ? 'br_netfilter is not loaded: bridged pod traffic bypasses iptables' : 'bridge-nf-call-iptables is 0: bridged pod traffic bypasses iptables', `net.bridge.bridge-nf-call-iptables = ${v ?? 'missing'}`, 'modprobe br_netfilter; sysctl -w net.bridge.bridge-nf-call-iptables=1 (podnet up does both)')];
};

const rpFilter: Check = (n) => {
  const s = n.facts.sysctl;
  const all = Number(s['net.ipv4.conf.all.rp_filter'] ?? 0);
  const out: Finding[] = [];
  for (const dev of [n.uplink?.ifname, ...n.facts.links.filter((l) => l.kind === 'vxlan').map((l) => l.ifname)]) {
    if (!dev) continue;
    const eff = Math.max(all, Number(s[`net.ipv4.conf.${dev}.rp_filter`] ?? 0));
    if (eff === 1) out.push(f('rp-filter', n.name, 'warning', `strict reverse-path filtering on ${dev}: asymmetric pod paths are dropped`, `effective rp_filter of ${dev} = max(all=${all}, ${dev}=${s[`net.ipv4.conf.${dev}.rp_filter`] ?? '?'}) = 1`, `sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.${dev}.rp_filter=2 (loose)`));
  }
  return out;
};

const mtu: Check = (n, ctx) => {
  const out: Finding[] = [];
  const podMtu = n.live?.bridge?.mtu;
  const vx = n.facts.links.find((l) => l.kind === 'vxlan' && l.vxlan?.port === ctx.vxlanPort);
  const up = n.uplink;
  if (up && vx && vx.mtu > up.mtu - VXLAN_OVERHEAD) {
    out.push(f('mtu', n.name, 'error', `VXLAN device ${vx.ifname} MTU ${vx.mtu} leaves no room for the ${VXLAN_OVERHEAD}-byte overhead on ${up.ifname} (MTU ${up.mtu})`, `${vx.ifname} mtu ${vx.mtu}, ${up.ifname} mtu ${up.mtu}`, `ip link set ${vx.ifname} mtu ${up.mtu - VXLAN_OVERHEAD}`));
  }
  const minUplink = Math.min(...ctx.nodes.map((x) => x.uplink?.mtu ?? 65535));
  const limit = Math.min(up?.mtu ?? 65535, minUplink) - (ctx.nodes.some((x) => x.facts.links.some((l) => l.kind === 'vxlan')) ? VXLAN_OVERHEAD : 0);
  if (podMtu !== undefined && podMtu > limit) {
    out.push(f('mtu', n.name, 'error', `pod MTU ${podMtu} is larger than the path allows (${limit}): large packets are dropped, small ones pass`, `conflist mtu ${podMtu}; uplink MTUs: ${ctx.nodes.map((x) => `${x.name}=${x.uplink?.mtu ?? '?'}`).join(' ')}`, `set the pod MTU to ${limit} (podnet up derives it from the smallest uplink) and recreate pods`));
  }
  if (up && up.mtu !== Math.max(...ctx.nodes.map((x) => x.uplink?.mtu ?? 0)) && up.mtu === minUplink) {
    out.push(f('mtu', n.name, 'warning', `uplink ${up.ifname} MTU ${up.mtu} is lower than on other nodes`, `uplink MTUs: ${ctx.nodes.map((x) => `${x.name}=${x.uplink?.mtu ?? '?'}`).join(' ')}`, 'give all nodes the same uplink MTU, or size the pod MTU for the smallest'));
  }
  return out;
};

const cidrOverlap: Check = (n, ctx) => {
  const out: Finding[] = [];
  const bridge = n.live?.bridge?.name ?? 'cni0';
  for (const a of n.facts.addrs) {
    if (a.family !== 'inet' || a.scope === 'host' || a.ifname === bridge || n.facts.links.find((l) => l.ifname === a.ifname)?.kind === 'vxlan') continue;
    if (cidrContainsIp(ctx.clusterCIDR, a.local)) out.push(f('cidr-overlap', n.name, 'error', `the cluster CIDR ${ctx.clusterCIDR} contains the node address ${a.local} (${a.ifname})`, `${a.ifname}: ${a.local}/${a.prefixlen}`, 'choose a cluster CIDR apart from the node network'));
  }
  if (ctx.serviceCIDR && cidrsOverlap(ctx.serviceCIDR, ctx.clusterCIDR)) {
    out.push(f('cidr-overlap', n.name, 'error', `the cluster CIDR ${ctx.clusterCIDR} overlaps the service CIDR ${ctx.serviceCIDR}`, `serviceCIDR ${ctx.serviceCIDR}`, 'choose disjoint pod and service CIDRs'));
  }
  return out;
};

const dupPodCidr: Check = (n, ctx) => {
  if (!n.podCIDR) return [];
  const others = ctx.nodes.filter((o) => o.name !== n.name && o.podCIDR && cidrsOverlap(o.podCIDR, n.podCIDR!));
  return others.length ? [f('dup-podcidr', n.name, 'error', `pod CIDR ${n.podCIDR} overlaps ${others.map((o) => `${o.name} (${o.podCIDR})`).join(', ')}: duplicate pod IPs`, `live conflist ${n.live?.file.name ?? '-'} subnet ${n.podCIDR}`, 'give every node its own pod CIDR (podnet plan allocates disjoint ones) and recreate the pods')] : [];
};

const peerRoutes: Check = (n, ctx) => {
  const out: Finding[] = [];
  for (const p of ctx.nodes) {
    if (p.name === n.name || !p.podCIDR || !p.nodeIP) continue;
    const exact = n.facts.routes.find((r) => routeDst(r) === p.podCIDR);
    const best = lookupRoute(n.facts, p.podCIDR.split('/')[0]!);
    const r = exact ?? best;
    const dst = r ? routeDst(r) : undefined;
    if (!r || dst === '0.0.0.0/0') {
      out.push(f('missing-route', n.name, 'error', `no route to ${p.name}'s pod CIDR ${p.podCIDR}`, `ip route get ${p.podCIDR.split('/')[0]} → ${r ? `default via ${r.gateway ?? '-'}` : 'unreachable'}`, `ip route add ${p.podCIDR} via ${p.nodeIP} (or through the overlay); podnet up programs all peer routes`));
      continue;
    }
    const viaVxlan = n.facts.links.find((l) => l.ifname === r.dev)?.kind === 'vxlan';
    if (viaVxlan) continue;
    // The node's own pod CIDR overlapping the peer's: dup-podcidr names that cause; no route finding.
    if (!r.gateway && n.podCIDR && r.dev === (n.live?.bridge?.name ?? 'cni0') && cidrsOverlap(n.podCIDR, p.podCIDR)) continue;
    if (r.gateway !== p.nodeIP) {
      const onlink = r.gateway ? lookupRoute(n.facts, r.gateway) : undefined;
      const evidence = `${dst} via ${r.gateway ?? '-'} dev ${r.dev ?? '-'} proto ${r.protocol ?? '-'}`;
      const goes = `goes via ${r.gateway ?? `dev ${r.dev}`}, not ${p.name}'s IP ${p.nodeIP}`;
      if (r.gateway && onlink?.gateway) {
        out.push(f('hostgw-l3', n.name, 'error', `route to ${p.name}'s pod CIDR ${p.podCIDR} ${goes}`, evidence, `ip route replace ${p.podCIDR} via ${p.nodeIP} — only when it is on-link; across a router use an overlay (podnet mode auto)`));
      } else if (r.protocol === String(ROUTE_PROTO)) {
        // podnet's own route, out of date: up replaces it.
        out.push(f('stale-route', n.name, 'error', `podnet's route to ${p.name}'s pod CIDR ${p.podCIDR} ${goes}`, evidence, 'podnet up replaces it'));
      } else {
        // Someone else's route: it exists, it is not missing, and podnet will not replace it.
        const del = `ip route del ${dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}`;
        out.push(f('foreign-route', n.name, 'error', `a route podnet did not create takes ${p.name}'s pod CIDR ${p.podCIDR}: it ${goes}`, evidence, `podnet never replaces routes it did not create: if nothing needs it, remove it on ${n.name} (${del}), then run podnet up`));
      }
    } else if (lookupRoute(n.facts, p.nodeIP)?.gateway) {
      out.push(f('hostgw-l3', n.name, 'error', `${p.name} (${p.nodeIP}) is not on-link, so a direct route to its pods cannot work`, `ip route get ${p.nodeIP} → via ${lookupRoute(n.facts, p.nodeIP)?.gateway}`, 'use an overlay for peers behind a router (podnet mode auto or vxlan)'));
    }
  }
  return out;
};

const ownCidrRoute: Check = (n) => {
  if (!n.podCIDR) return [];
  const bridge = n.live?.bridge?.name ?? 'cni0';
  const r = n.facts.routes.find((x) => routeDst(x) === n.podCIDR);
  if (!r) {
    return n.facts.links.some((l) => l.ifname === bridge)
      ? [f('own-cidr-route', n.name, 'error', `no route for the node's own pod CIDR ${n.podCIDR} on ${bridge}`, `bridge ${bridge} has no address in ${n.podCIDR}`, `ip addr add ${n.live?.bridge?.gateway ?? 'GATEWAY'}/${n.podCIDR.split('/')[1]} dev ${bridge}`)]
      : [];
  }
  if (r.dev === bridge && !r.gateway) return [];
  return [f('own-cidr-route', n.name, 'error', `the route for the node's own pod CIDR ${n.podCIDR} does not point at ${bridge}: local pods are unreachable`, `${r.dst} via ${r.gateway ?? '-'} dev ${r.dev ?? '-'} proto ${r.protocol ?? '-'}`, `ip route del ${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}; the bridge address provides the right route`)];
};

const wrongIface: Check = (n, ctx) => {
  if (!n.nodeIP || !n.uplink) return [];
  const out: Finding[] = [];
  for (const p of ctx.nodes) {
    if (p.name === n.name || !p.nodeIP) continue;
    const r = lookupRoute(n.facts, p.nodeIP);
    if (r && r.dev !== n.uplink.ifname) {
      out.push(f('wrong-iface', n.name, 'warning', `traffic to ${p.name} (${p.nodeIP}) leaves through ${r.dev}, not ${n.uplink.ifname} which holds the node IP ${n.nodeIP}`, `ip route get ${p.nodeIP} → dev ${r.dev}${r.prefsrc ? ` src ${r.prefsrc}` : ''}`, 'set nodes[].ip to the address on the interface peers are reached through'));
      break;
    }
  }
  return out;
};

const vxlanBlocked: Check = (n, ctx) => {
  if (!n.facts.links.some((l) => l.kind === 'vxlan')) return [];
  const bad = n.facts.iptablesFilter.filter((r) => /^-A INPUT /.test(r) && / -p udp/.test(r) && new RegExp(`--dport ${ctx.vxlanPort}\\b`).test(r) && / -j (DROP|REJECT)/.test(r));
  return bad.length ? [f('vxlan-blocked', n.name, 'error', `UDP ${ctx.vxlanPort} (VXLAN) is blocked: overlay traffic from peers is dropped`, bad.join('; '), `iptables -D ${bad[0]!.slice(3)}; allow UDP ${ctx.vxlanPort} from the other nodes`)] : [];
};

const cniConfig: Check = (n) => {
  const out: Finding[] = [];
  const live = n.live;
  if (!live) return [f('no-cni-config', n.name, 'error', 'no CNI config in the conf dir: pods cannot start', `${n.facts.cniConfDir} has no .conflist/.conf/.json`, 'write a conflist (podnet up writes 10-podnet.conflist)')];
  if (live.parseError) return [f('cni-config-invalid', n.name, 'error', `the live CNI config ${live.file.name} is not valid JSON`, live.parseError, 'fix or remove the file')];
  if (!live.portmap) {
    out.push(f('no-hostport', n.name, 'error', `hostPorts do not work: the live config ${live.file.name} has no portmap plugin with the portMappings capability`, live.isList ? `plugins: ${live.plugins.map((p) => String(p.type)).join(', ')}` : `${live.file.name} is a single-plugin .conf`, 'add {"type":"portmap","capabilities":{"portMappings":true}} to a .conflist (podnet up writes one)'));
  }
  const bin = n.facts.cniBinDirs;
  const types = live.plugins.flatMap((p) => [String(p.type), ...(p.ipam && typeof p.ipam === 'object' ? [String((p.ipam as Record<string, unknown>).type)] : [])]).filter((t) => t && t !== 'undefined');
  const missing = types.filter((t) => !n.facts.plugins.some((p) => p.name === t));
  if (missing.length) {
    out.push(f('plugin-missing', n.name, 'error', `CNI plugin${missing.length > 1 ? 's' : ''} ${missing.join(', ')} named in ${live.file.name} not found: sandbox creation fails`, `bin dirs: ${bin.join(', ') || 'none found'}`, 'install the CNI plugins (Debian: containernetworking-plugins) into the runtime\'s bin dir'));
  }
  if (live.cniVersion) {
    const unsupported = [...new Set(types)].filter((t) => {
      const p = n.facts.plugins.find((x) => x.name === t);
      return p?.supportedVersions && !p.supportedVersions.includes(live.cniVersion!);
    });
    if (unsupported.length) {
      const sv = n.facts.plugins.find((x) => x.name === unsupported[0])?.supportedVersions ?? [];
      out.push(f('cni-version', n.name, 'error', `cniVersion ${live.cniVersion} in ${live.file.name} is not supported by ${unsupported.join(', ')}: "incompatible CNI versions"`, `${unsupported[0]} supports ${sv.join(', ')}`, `set cniVersion to ${sv[sv.length - 1] ?? 'a supported version'} (podnet up picks the highest the plugins support)`));
    }
  }
  if (live.bridge) {
    const br = n.facts.links.find((l) => l.ifname === live.bridge!.name);
    const a = n.facts.addrs.filter((x) => x.ifname === live.bridge!.name && x.family === 'inet');
    if (br && live.bridge.gateway && a.length && !a.some((x) => x.local === live.bridge!.gateway)) {
      out.push(f('bridge-mismatch', n.name, 'error', `bridge ${live.bridge.name} has ${a.map((x) => `${x.local}/${x.prefixlen}`).join(', ')}, but the live config's gateway is ${live.bridge.gateway}`, `${live.file.name}: subnet ${live.bridge.subnet ?? '?'}`, 'remove the stale bridge address (podnet up repairs it)'));
    }
    if (live.bridge.ipMasq) {
      out.push(f('pod-nat', n.name, 'error', `the bridge plugin masquerades (ipMasq: true): traffic to pods outside ${live.bridge.subnet ?? 'the node subnet'} leaves with the node IP`, `${live.file.name}: "ipMasq": true`, 'set "ipMasq": false and masquerade only traffic leaving the cluster CIDR'));
    }
  }
  return out;
};

const podNat: Check = (n, ctx) => {
  const rules = n.facts.iptablesNat;
  const chains = reachableChains(rules, 'POSTROUTING');
  const out: Finding[] = [];
  for (const r of rules) {
    const chain = r.split(' ')[1] ?? '';
    if (!chains.has(chain) || !/ -j (MASQUERADE|SNAT)\b/.test(r) || / -m mark | --mark /.test(r) || /^-A CNI-/.test(r)) continue;
    const s = ruleArg(r, '-s');
    const d = ruleArg(r, '-d');
    // "! -s X" / "! -d X" spares pods only when X holds the whole cluster CIDR.
    const hits = (a: { value: string; negated: boolean } | undefined) =>
      !a || (a.negated ? !cidrContainsCidr(asCidr(a.value), ctx.clusterCIDR) : cidrsOverlap(asCidr(a.value), ctx.clusterCIDR));
    const srcHitsPods = hits(s);
    const dstHitsPods = hits(d);
    if (srcHitsPods && dstHitsPods && !/ -o /.test(r)) {
      out.push(f('pod-nat', n.name, 'error', 'a masquerade rule applies to pod→pod traffic: receivers see the node IP instead of the pod IP', r, `exclude the cluster CIDR (! -d ${ctx.clusterCIDR}) or remove the rule: iptables -t nat -D ${r.slice(3)}`));
    }
  }
  return out;
};

const conntrack: Check = (n) => {
  const c = Number(n.facts.sysctl['net.netfilter.nf_conntrack_count']);
  const m = Number(n.facts.sysctl['net.netfilter.nf_conntrack_max']);
  return m > 0 && c / m > 0.9 ? [f('conntrack-full', n.name, 'warning', 'the conntrack table is nearly full: new connections get dropped at random', `nf_conntrack_count ${c} of nf_conntrack_max ${m}`, `sysctl -w net.netfilter.nf_conntrack_max=${m * 2}`)] : [];
};

const iptablesSplit: Check = (n) => {
  const b = n.facts.iptablesBackends;
  return (b.legacy ?? 0) > 0 && (b.nft ?? 0) > 0 ? [f('iptables-split', n.name, 'warning', 'rules exist in both the legacy and the nft iptables backends: one set may be ignored', `iptables-legacy-save: ${b.legacy} rules, iptables-nft-save: ${b.nft} rules`, 'use one backend (update-alternatives --set iptables …) and clear the other')] : [];
};

const vtepMac: Check = (n, ctx) => {
  const out: Finding[] = [];
  for (const e of n.facts.fdb) {
    if (!e.dst) continue;
    const peer = ctx.nodes.find((p) => p.nodeIP === e.dst);
    const dev = peer?.facts.links.find((l) => l.kind === 'vxlan' && l.ifname === e.dev);
    if (peer && dev && dev.address && !n.facts.fdb.some((x) => x.dst === e.dst && x.mac === dev.address)) {
      out.push(f('vtep-mac', n.name, 'error', `stale VXLAN entry for ${peer.name}: its VTEP MAC is ${dev.address}, this node has ${e.mac}`, `bridge fdb: ${e.mac} dev ${e.dev} dst ${e.dst}`, `bridge fdb replace ${dev.address} dev ${e.dev} dst ${e.dst}; ip neigh replace … lladdr ${dev.address} (podnet uses stable MACs and up fixes it)`));
    }
  }
  return out;
};

const oldKernel: Check = (n) => {
  const m = /^(\d+)\.(\d+)/.exec(n.facts.kernel);
  if (!m || !n.facts.links.some((l) => l.kind === 'vxlan')) return [];
  const older = Number(m[1]) < 5 || (Number(m[1]) === 5 && Number(m[2]) < 7);
  return older ? [f('old-kernel-vxlan-csum', n.name, 'warning', `kernel ${n.facts.kernel} has the VXLAN checksum offload bug: ~63 s stalls to Services`, `kernel ${n.facts.kernel}, VXLAN in use`, 'ethtool -K <vxlan dev> tx-checksum-ip-generic off, or upgrade to ≥ 5.7')] : [];
};

/** NetworkManager or systemd-networkd touching CNI links and routes (they take addresses, routes vanish). */
const netManagers: Check = (n) => {
  const out: Finding[] = [];
  const { networkManager: nm, networkd } = n.facts.netmgr;
  if (nm) {
    const bridge = n.live?.bridge?.name;
    const ours = (dev: string) =>
      dev === bridge || n.facts.links.some((l) => l.ifname === dev && l.kind === 'vxlan') || n.facts.bridgePorts.some((p) => p.ifname === dev && p.master !== undefined && p.master === bridge);
    const managed = Object.entries(nm).filter(([dev, state]) => ours(dev) && !state.startsWith('unmanaged'));
    if (managed.length) {
      out.push(f('nm-managed', n.name, 'warning', `NetworkManager has the pod network's links in hand (${managed.map(([d]) => d).slice(0, 3).join(', ')}${managed.length > 3 ? ', …' : ''}): it can take the bridge's address or its routes away`, `nmcli device: ${managed.map(([d, st]) => `${d} ${st}`).slice(0, 5).join(', ')}`, `mark them unmanaged: printf '[keyfile]\\nunmanaged-devices=interface-name:${bridge ?? 'cni0'};interface-name:veth*;interface-name:podnet.*\\n' > /etc/NetworkManager/conf.d/99-podnet.conf && nmcli general reload`));
    }
  }
  if (networkd && !['no', 'false', '0', 'off'].includes(networkd.manageForeignRoutes ?? 'yes')) {
    out.push(f('nm-managed', n.name, 'warning', 'systemd-networkd removes routes it did not configure when it starts or reconfigures a link: the routes to peers\' pod CIDRs can vanish', `systemd-networkd is active; ManageForeignRoutes=${networkd.manageForeignRoutes ?? 'yes (default)'}`, "mkdir -p /etc/systemd/networkd.conf.d && printf '[Network]\\nManageForeignRoutes=no\\n' > /etc/systemd/networkd.conf.d/podnet.conf && systemctl restart systemd-networkd, then podnet up"));
  }
  return out;
};

export const CHECKS: Check[] = [ipForward, forwardDrop, brNetfilter, rpFilter, mtu, cidrOverlap, dupPodCidr, peerRoutes, ownCidrRoute, wrongIface, vxlanBlocked, cniConfig, podNat, conntrack, iptablesSplit, vtepMac, oldKernel, netManagers];

export function runChecks(ctx: CheckContext): Finding[] {
  return ctx.nodes.flatMap((n) => CHECKS.flatMap((c) => c(n, ctx)));
}
