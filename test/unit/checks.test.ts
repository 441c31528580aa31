/**
 * Unit tests for checks/checks.ts and checks/live-config.ts: a healthy two-node setup (direct routes, and
 * one over VXLAN) yields no finding; each scenario breaks one thing and must yield exactly the expected
 * finding ids. NodeViews are built by hand the way services/doctor.ts builds them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CHECKS, catalogue, runChecks, runUnit, type CheckContext, type CheckUnit, type Finding, type NodeView } from '../../src/checks/index.js';
import { readFileSync } from 'node:fs';
import { liveConfig, observedPodCidr } from '../../src/checks/live-config.js';
import type { ConfFile, NodeFacts, RouteFact } from '../../src/facts/parse.js';
import { parseNftTable } from '../../src/facts/nftables.js';
import { JUMP_RULES, planIptables, renderConflist, vtepMac } from '../../src/plan/desired.js';
import { EMPTY_FACTS } from '../../src/render/files.js';
import { kubeChecks } from '../../src/checks/kube.js';
import { IPV4, IPV6 } from '../../src/net/family.js';
import type { KubeNode, KubeNodeCondition } from '../../src/kube/nodes.js';
import { kubeNodeOf } from '../../src/kube/nodes.js';

const CLUSTER = '10.244.0.0/16';
const ALL_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0'];

interface Spec {
  name: string;
  ip: string;
  podCIDR: string;
  gateway: string;
}
const S1: Spec = { name: 'n1', ip: '192.0.2.11', podCIDR: '10.244.0.0/24', gateway: '10.244.0.1' };
const S2: Spec = { name: 'n2', ip: '192.0.2.12', podCIDR: '10.244.1.0/24', gateway: '10.244.1.1' };

function route(dst: string, extra: Partial<RouteFact> = {}): RouteFact {
  return { dst, flags: [], ...extra };
}

function conflistFile(o: { mtu: number; podCIDR: string; gateway: string; cniVersion?: string }): ConfFile {
  const c = renderConflist({ cniVersion: o.cniVersion ?? '1.0.0', bridge: 'cni0', mtu: o.mtu, ranges: [{ podCIDR: o.podCIDR, gateway: o.gateway, clusterCIDR: CLUSTER, egress: true }] });
  return { path: '/etc/cni/net.d/10-podnet.conflist', name: '10-podnet.conflist', text: `${JSON.stringify(c, null, 2)}\n` };
}

/** A node as podnet up leaves it: direct routes to `peers`, or routes through VXLAN when `vxlan`. */
function healthyFacts(me: Spec, peers: Spec[], opts: { vxlan?: boolean } = {}): NodeFacts {
  const f: NodeFacts = structuredClone(EMPTY_FACTS);
  const podMtu = opts.vxlan ? 1450 : 1500;
  f.hostname = me.name;
  f.kernel = '6.1.0-18-amd64';
  f.systemd = true;
  f.links = [
    { ifindex: 1, ifname: 'lo', mtu: 65536, flags: ['LOOPBACK', 'UP', 'LOWER_UP'] },
    { ifindex: 2, ifname: 'eth0', mtu: 1500, flags: ['BROADCAST', 'UP', 'LOWER_UP'], address: '52:54:00:00:00:01' },
    { ifindex: 3, ifname: 'cni0', mtu: podMtu, flags: ['BROADCAST', 'UP', 'LOWER_UP'], kind: 'bridge' },
  ];
  f.addrs = [
    { ifname: 'lo', family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' },
    { ifname: 'eth0', family: 'inet', local: me.ip, prefixlen: 24, scope: 'global' },
    { ifname: 'cni0', family: 'inet', local: me.gateway, prefixlen: 24, scope: 'global' },
  ];
  f.routes = [
    route('default', { gateway: '192.0.2.1', dev: 'eth0', protocol: 'dhcp' }),
    route('192.0.2.0/24', { dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: me.ip }),
    route(me.podCIDR, { dev: 'cni0', protocol: 'kernel', scope: 'link', prefsrc: me.gateway }),
  ];
  if (opts.vxlan) {
    f.links.push({ ifindex: 4, ifname: 'podnet.1', mtu: 1450, flags: ['BROADCAST', 'UP', 'LOWER_UP'], kind: 'vxlan', address: vtepMac(me.ip), alias: 'podnet', vxlan: { id: 1, port: 8472, local: me.ip, link: 'eth0', learning: false } });
    f.addrs.push({ ifname: 'podnet.1', family: 'inet', local: me.podCIDR.split('/')[0]!, prefixlen: 32, scope: 'global' });
    for (const p of peers) {
      const vtep = p.podCIDR.split('/')[0]!;
      f.routes.push(route(p.podCIDR, { gateway: vtep, dev: 'podnet.1', protocol: '157', flags: ['onlink'] }));
      f.fdb.push({ mac: vtepMac(p.ip), dev: 'podnet.1', dst: p.ip });
      f.neigh.push({ dst: vtep, dev: 'podnet.1', lladdr: vtepMac(p.ip) });
    }
  } else {
    for (const p of peers) f.routes.push(route(p.podCIDR, { gateway: p.ip, dev: 'eth0', protocol: '157' }));
  }
  f.sysctl = {
    'net.ipv4.ip_forward': '1',
    'net.bridge.bridge-nf-call-iptables': '1',
    'net.ipv4.conf.all.rp_filter': '0',
    'net.ipv4.conf.default.rp_filter': '0',
    'net.ipv4.conf.eth0.rp_filter': '0',
    'net.netfilter.nf_conntrack_max': '262144',
    'net.netfilter.nf_conntrack_count': '120',
  };
  const ipt = planIptables(CLUSTER, me.podCIDR, true);
  f.iptablesFilter = ['-P INPUT ACCEPT', '-P FORWARD ACCEPT', '-P OUTPUT ACCEPT', '-N PODNET-FORWARD', JUMP_RULES.filter, ...ipt.filter];
  f.iptablesNat = ['-P PREROUTING ACCEPT', '-P INPUT ACCEPT', '-P OUTPUT ACCEPT', '-P POSTROUTING ACCEPT', '-N PODNET-POSTROUTING', JUMP_RULES.nat, ...ipt.nat];
  f.iptablesBackends = { legacy: 0, nft: 5 };
  f.cniConfFiles = [conflistFile({ mtu: podMtu, podCIDR: me.podCIDR, gateway: me.gateway })];
  f.cniBinDirs = ['/opt/cni/bin'];
  f.plugins = ['bridge', 'host-local', 'loopback', 'portmap'].map((name) => ({ dir: '/opt/cni/bin', name, supportedVersions: ALL_VERSIONS }));
  return f;
}

/** A NodeView the way services/doctor.ts builds one. */
function view(name: string, facts: NodeFacts, nodeIP: string | undefined): NodeView {
  const a = nodeIP ? facts.addrs.find((x) => x.local === nodeIP) : undefined;
  const live = liveConfig(facts);
  return { name, facts, nodeIP, uplink: a ? facts.links.find((l) => l.ifname === a.ifname) : undefined, live, podCIDR: observedPodCidr(facts, live) };
}


/** Make a node's live config dual-stack (a second host-local range set in fd00:10:244::/56) with IPv6 forwarding on. */
function dualStack(f: NodeFacts, mtu?: number): void {
  const c = JSON.parse(f.cniConfFiles[0]!.text) as { plugins: { type: string; mtu?: number; ipam?: { ranges: { subnet: string }[][] } }[] };
  const br = c.plugins.find((p) => p.type === 'bridge')!;
  const idx = f.hostname === 'n1' ? 0 : 1;
  br.ipam!.ranges.push([{ subnet: `fd00:10:244:${idx}::/64` }]);
  if (mtu !== undefined) br.mtu = mtu;
  f.cniConfFiles[0] = { ...f.cniConfFiles[0]!, text: `${JSON.stringify(c)}\n` };
  f.sysctl['net.ipv6.conf.all.forwarding'] = '1';
  f.sysctl['net.bridge.bridge-nf-call-ip6tables'] = '1';
}

type Mutate = (f1: NodeFacts, f2: NodeFacts) => void;

function setup(mutate: Mutate = () => {}, opts: { vxlan?: boolean; serviceCIDR?: string; cluster?: string } = {}): CheckContext {
  const f1 = healthyFacts(S1, [S2], opts);
  const f2 = healthyFacts(S2, [S1], opts);
  mutate(f1, f2);
  return { family: IPV4, clusterCIDR: opts.cluster ?? CLUSTER, serviceCIDR: opts.serviceCIDR, vxlanPort: 8472, nodes: [view('n1', f1, S1.ip), view('n2', f2, S2.ip)] };
}

function ids(findings: Finding[]): string[] {
  return findings.map((x) => `${x.node}:${x.id}`).sort();
}

function only(findings: Finding[], id: string): Finding {
  const hits = findings.filter((x) => x.id === id);
  assert.equal(hits.length, 1, `expected one ${id}: ${JSON.stringify(findings)}`);
  return hits[0]!;
}

describe('healthy setups', () => {
  for (const vxlan of [false, true]) {
    test(`two nodes, ${vxlan ? 'VXLAN' : 'direct routes'} → no findings`, () => {
      const ctx = setup(undefined, { vxlan });
      assert.equal(ctx.nodes[0]!.podCIDR, S1.podCIDR);
      assert.equal(ctx.nodes[1]!.live?.bridge?.mtu, vxlan ? 1450 : 1500);
      assert.deepEqual(runChecks(ctx), []);
    });
  }

  test('healthy with a service CIDR apart from the cluster CIDR', () => {
    assert.deepEqual(runChecks(setup(undefined, { serviceCIDR: '10.96.0.0/12' })), []);
  });

  test('every finding has all its fields filled', () => {
    const ctx = setup((f1) => {
      f1.sysctl['net.ipv4.ip_forward'] = '0';
    });
    for (const x of runChecks(ctx)) {
      for (const k of ['id', 'node', 'severity', 'message', 'evidence', 'fix'] as const) assert.ok(x[k], `${x.id}.${k}`);
    }
  });

  test('the catalogue: every unit declares its ids, no id is declared twice, every id is in docs/FAILURE-MODES.md', () => {
    const ids = (CHECKS as readonly CheckUnit[]).flatMap((u) => Object.keys(u.findings));
    assert.equal(new Set(ids).size, ids.length, 'an id declared by two units');
    assert.ok(ids.length >= 40, `${ids.length} ids`);
    const doc = readFileSync(new URL('../../docs/FAILURE-MODES.md', import.meta.url), 'utf8');
    const rows = new Set([...doc.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]!));
    for (const c of catalogue()) assert.ok(rows.has(c.id), `${c.id} has no row in docs/FAILURE-MODES.md`);
    for (const r of rows) assert.ok(catalogue().some((c) => c.id === r), `docs/FAILURE-MODES.md has a row for ${r}, which no check emits`);
  });
});

interface Scenario {
  name: string;
  mutate: Mutate;
  vxlan?: boolean;
  serviceCIDR?: string;
  /** the cluster CIDR (default CLUSTER) */
  cluster?: string;
  /** node:id, sorted */
  expected: string[];
  check?: (findings: Finding[]) => void;
}

const ACCEPT_S = `-A PODNET-FORWARD -s ${CLUSTER} -m comment --comment podnet -j ACCEPT`;

const scenarios: Scenario[] = [
  // forward-drop
  {
    name: 'forward-drop: policy DROP without any accept',
    mutate: (f1) => {
      f1.iptablesFilter = ['-P INPUT ACCEPT', '-P FORWARD DROP', '-P OUTPUT ACCEPT'];
    },
    expected: ['n1:forward-drop'],
    check: (x) => assert.equal(only(x, 'forward-drop').severity, 'error'),
  },
  {
    name: 'forward-drop: NOT when PODNET-FORWARD accepting the cluster CIDR is jumped to from FORWARD',
    mutate: (f1) => {
      f1.iptablesFilter = f1.iptablesFilter.map((l) => (l === '-P FORWARD ACCEPT' ? '-P FORWARD DROP' : l));
    },
    expected: [],
  },
  {
    name: 'forward-drop: NOT when FORWARD itself accepts -d of the cluster CIDR',
    mutate: (f1) => {
      f1.iptablesFilter = ['-P FORWARD DROP', `-A FORWARD -d ${CLUSTER} -j ACCEPT`];
    },
    expected: [],
  },
  {
    name: 'forward-drop: NOT through a chain of chains (FORWARD → A → B accepts)',
    mutate: (f1) => {
      f1.iptablesFilter = ['-P FORWARD DROP', '-N A', '-N B', '-A FORWARD -j A', '-A A -j B', '-A B -s 10.244.0.0/16 -j ACCEPT'];
    },
    expected: [],
  },
  {
    name: 'forward-drop: the accepting chain exists but nothing jumps to it',
    mutate: (f1) => {
      f1.iptablesFilter = ['-P FORWARD DROP', '-N PODNET-FORWARD', ACCEPT_S];
    },
    expected: ['n1:forward-drop'],
  },
  {
    name: 'forward-drop: only conntrack RELATED,ESTABLISHED accepted',
    mutate: (f1) => {
      f1.iptablesFilter = ['-P FORWARD DROP', `-A FORWARD -d ${CLUSTER} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`];
    },
    expected: ['n1:forward-drop'],
  },
  {
    name: 'forward-drop: a negated match does not count as accepting the cluster',
    mutate: (f1) => {
      f1.iptablesFilter = ['-P FORWARD DROP', `-A FORWARD ! -s ${CLUSTER} -j ACCEPT`];
    },
    expected: ['n1:forward-drop'],
  },
  {
    name: 'forward-drop with br_netfilter missing: br-netfilter becomes an error',
    mutate: (f1) => {
      f1.iptablesFilter = ['-P FORWARD DROP'];
      f1.sysctl['net.bridge.bridge-nf-call-iptables'] = '-';
    },
    expected: ['n1:br-netfilter', 'n1:forward-drop'],
    check: (x) => assert.equal(only(x, 'br-netfilter').severity, 'error'),
  },
  // ip-forward-off
  {
    name: 'ip-forward-off',
    mutate: (f1) => {
      f1.sysctl['net.ipv4.ip_forward'] = '0';
    },
    expected: ['n1:ip-forward-off'],
    check: (x) => assert.match(only(x, 'ip-forward-off').evidence, /= 0$/),
  },
  {
    name: 'ip-forward-off: value unknown',
    mutate: (f1) => {
      delete f1.sysctl['net.ipv4.ip_forward'];
    },
    expected: ['n1:ip-forward-off'],
    check: (x) => assert.match(only(x, 'ip-forward-off').evidence, /unknown/),
  },
  // br-netfilter
  {
    name: 'br-netfilter: module not loaded (warning while FORWARD accepts)',
    mutate: (f1) => {
      f1.sysctl['net.bridge.bridge-nf-call-iptables'] = '-';
    },
    expected: ['n1:br-netfilter'],
    check: (x) => {
      const b = only(x, 'br-netfilter');
      assert.equal(b.severity, 'warning');
      assert.match(b.message, /not loaded/);
    },
  },
  {
    name: 'br-netfilter: loaded but 0',
    mutate: (f1) => {
      f1.sysctl['net.bridge.bridge-nf-call-iptables'] = '0';
    },
    expected: ['n1:br-netfilter'],
    check: (x) => assert.match(only(x, 'br-netfilter').message, /is 0/),
  },
  // rp-filter
  {
    name: 'rp-filter: strict on all',
    mutate: (f1) => {
      f1.sysctl['net.ipv4.conf.all.rp_filter'] = '1';
    },
    expected: ['n1:rp-filter'],
  },
  {
    name: 'rp-filter: strict on the uplink only',
    mutate: (_f1, f2) => {
      f2.sysctl['net.ipv4.conf.eth0.rp_filter'] = '1';
    },
    expected: ['n2:rp-filter'],
  },
  {
    name: 'rp-filter: loose on all wins over strict on the device (max)',
    mutate: (f1) => {
      f1.sysctl['net.ipv4.conf.all.rp_filter'] = '2';
      f1.sysctl['net.ipv4.conf.eth0.rp_filter'] = '1';
    },
    expected: [],
  },
  {
    name: 'rp-filter: strict on all → uplink and VXLAN device both reported',
    vxlan: true,
    mutate: (f1) => {
      f1.sysctl['net.ipv4.conf.all.rp_filter'] = '1';
    },
    expected: ['n1:rp-filter', 'n1:rp-filter'],
  },
  // mtu
  {
    name: 'mtu: VXLAN device as large as the uplink',
    vxlan: true,
    mutate: (f1) => {
      f1.links.find((l) => l.ifname === 'podnet.1')!.mtu = 1500;
    },
    expected: ['n1:mtu'],
    check: (x) => assert.match(only(x, 'mtu').message, /VXLAN device podnet\.1 MTU 1500/),
  },
  {
    name: 'mtu: pod MTU 1500 while the cluster uses VXLAN',
    vxlan: true,
    mutate: (f1) => {
      f1.cniConfFiles = [conflistFile({ mtu: 1500, podCIDR: S1.podCIDR, gateway: S1.gateway })];
    },
    expected: ['n1:mtu'],
    check: (x) => assert.match(only(x, 'mtu').message, /pod MTU 1500 is larger than the path allows \(1450\)/),
  },
  {
    name: 'mtu: a peer\'s smaller uplink limits the pod MTU; the small uplink is a warning',
    mutate: (_f1, f2) => {
      f2.links.find((l) => l.ifname === 'eth0')!.mtu = 1400;
      f2.cniConfFiles = [conflistFile({ mtu: 1400, podCIDR: S2.podCIDR, gateway: S2.gateway })];
    },
    expected: ['n1:mtu', 'n2:mtu'],
    check: (x) => {
      const n1 = x.find((y) => y.node === 'n1')!;
      const n2 = x.find((y) => y.node === 'n2')!;
      assert.equal(n1.severity, 'error');
      assert.match(n1.message, /pod MTU 1500 .*\(1400\)/);
      assert.equal(n2.severity, 'warning');
      assert.match(n2.message, /lower than on other nodes/);
    },
  },
  // cidr-overlap
  {
    name: 'cidr-overlap: a node address inside the cluster CIDR',
    mutate: (f1) => {
      f1.addrs.push({ ifname: 'eth1', family: 'inet', local: '10.244.99.5', prefixlen: 24, scope: 'global' });
    },
    expected: ['n1:cidr-overlap'],
    check: (x) => assert.match(only(x, 'cidr-overlap').evidence, /eth1: 10\.244\.99\.5\/24/),
  },
  {
    name: 'cidr-overlap: the service CIDR overlaps the cluster CIDR (every node)',
    serviceCIDR: '10.244.128.0/17',
    mutate: () => {},
    expected: ['n1:cidr-overlap', 'n2:cidr-overlap'],
  },
  // dup-podcidr
  {
    name: 'dup-podcidr: both nodes use the same pod CIDR',
    mutate: (_f1, f2) => {
      f2.cniConfFiles = [conflistFile({ mtu: 1500, podCIDR: S1.podCIDR, gateway: S1.gateway })];
      f2.addrs.find((a) => a.ifname === 'cni0')!.local = S1.gateway;
      f2.routes = f2.routes.map((r) => (r.dst === S2.podCIDR ? { ...r, dst: S1.podCIDR } : r));
    },
    // n1's route to n2's pod CIDR (10.244.0.0/24) is its own bridge route: n2 sees the same from its side
    // Only dup-podcidr: the route is the node's own bridge route, not a missing or foreign one.
    expected: ['n1:dup-podcidr', 'n2:dup-podcidr'],
  },
  // missing-route
  {
    name: 'missing-route: no route to the peer\'s pod CIDR (only the default route)',
    mutate: (f1) => {
      f1.routes = f1.routes.filter((r) => r.dst !== S2.podCIDR);
    },
    expected: ['n1:missing-route'],
    check: (x) => assert.match(only(x, 'missing-route').evidence, /default via 192\.0\.2\.1/),
  },
  {
    name: 'missing-route: no route at all, not even a default',
    mutate: (f1) => {
      f1.routes = f1.routes.filter((r) => r.dst !== S2.podCIDR && r.dst !== 'default');
    },
    expected: ['n1:missing-route'],
    check: (x) => assert.match(only(x, 'missing-route').evidence, /unreachable/),
  },
  // stale-route / foreign-route: a route exists but goes elsewhere; who made it decides the fix
  {
    name: 'stale-route: podnet\'s route points at the wrong on-link next hop',
    mutate: (f1) => {
      f1.routes.find((r) => r.dst === S2.podCIDR)!.gateway = '192.0.2.99';
    },
    expected: ['n1:stale-route'],
    check: (x) => {
      assert.match(only(x, 'stale-route').message, /^podnet's route to n2's pod CIDR 10\.244\.1\.0\/24 goes via 192\.0\.2\.99, not n2's IP 192\.0\.2\.12$/);
      assert.equal(only(x, 'stale-route').fix, 'podnet up replaces it');
    },
  },
  {
    name: 'foreign-route: a route podnet did not create takes the peer\'s pod CIDR',
    mutate: (f1) => {
      const r = f1.routes.find((x) => x.dst === S2.podCIDR)!;
      Object.assign(r, { gateway: '192.0.2.99', protocol: 'static' });
    },
    expected: ['n1:foreign-route'],
    check: (x) => {
      const g = only(x, 'foreign-route');
      assert.match(g.message, /^a route podnet did not create takes n2's pod CIDR 10\.244\.1\.0\/24: it goes via 192\.0\.2\.99/);
      assert.match(g.fix, /podnet never replaces routes it did not create: if nothing needs it, remove it on n1 \(ip route del 10\.244\.1\.0\/24 via 192\.0\.2\.99 dev eth0\), then run podnet up/);
    },
  },
  // hostgw-l3
  {
    name: 'hostgw-l3: the route goes via a next hop that is itself behind a router',
    mutate: (f1) => {
      f1.routes.find((r) => r.dst === S2.podCIDR)!.gateway = '203.0.113.5';
    },
    expected: ['n1:hostgw-l3'],
  },
  {
    name: 'hostgw-l3: a direct route to a peer that is not on-link',
    mutate: (f1) => {
      // n1 no longer has the /24 connected route: the peer is reached through the default gateway
      f1.routes = f1.routes.filter((r) => r.dst !== '192.0.2.0/24');
      f1.routes.push(route('192.0.2.11', { dev: 'eth0', scope: 'link' }), route('192.0.2.1', { dev: 'eth0', scope: 'link' }));
    },
    expected: ['n1:hostgw-l3'],
    check: (x) => assert.match(only(x, 'hostgw-l3').message, /not on-link/),
  },
  // own-cidr-route
  {
    name: 'own-cidr-route: the bridge lost its address (no route for the own pod CIDR)',
    mutate: (f1) => {
      f1.addrs = f1.addrs.filter((a) => a.ifname !== 'cni0');
      f1.routes = f1.routes.filter((r) => r.dst !== S1.podCIDR);
    },
    expected: ['n1:own-cidr-route'],
    check: (x) => assert.match(only(x, 'own-cidr-route').fix, /ip addr add 10\.244\.0\.1\/24 dev cni0/),
  },
  {
    name: 'own-cidr-route: the own pod CIDR is routed away from the bridge',
    mutate: (f1) => {
      f1.routes = f1.routes.filter((r) => r.dst !== S1.podCIDR);
      f1.routes.push(route(S1.podCIDR, { gateway: '192.0.2.50', dev: 'eth0', protocol: 'static' }));
    },
    expected: ['n1:own-cidr-route'],
  },
  {
    name: 'own-cidr-route: NOT when the bridge does not exist yet (no pod ever started)',
    mutate: (f1) => {
      f1.links = f1.links.filter((l) => l.ifname !== 'cni0');
      f1.addrs = f1.addrs.filter((a) => a.ifname !== 'cni0');
      f1.routes = f1.routes.filter((r) => r.dst !== S1.podCIDR);
    },
    expected: [],
  },
  // wrong-iface
  {
    name: 'wrong-iface: traffic to the peer leaves through another interface',
    mutate: (f1) => {
      f1.links.push({ ifindex: 9, ifname: 'eth1', mtu: 1500, flags: ['UP'] });
      f1.routes.push(route('192.0.2.12', { dev: 'eth1', scope: 'link' }));
    },
    expected: ['n1:wrong-iface'],
    check: (x) => assert.equal(only(x, 'wrong-iface').severity, 'warning'),
  },
  // vxlan-blocked
  {
    name: 'vxlan-blocked: INPUT drops UDP 8472',
    vxlan: true,
    mutate: (_f1, f2) => {
      f2.iptablesFilter.push('-A INPUT -p udp -m udp --dport 8472 -j DROP');
    },
    expected: ['n2:vxlan-blocked'],
  },
  {
    name: 'vxlan-blocked: NOT for another port, nor without a VXLAN device',
    mutate: (f1, f2) => {
      f1.iptablesFilter.push('-A INPUT -p udp -m udp --dport 8472 -j REJECT');
      f2.iptablesFilter.push('-A INPUT -p udp -m udp --dport 84720 -j DROP');
    },
    expected: [],
  },
  // no-cni-config / no-hostport / plugin-missing / cni-version
  {
    name: 'no-cni-config: empty conf dir',
    mutate: (f1) => {
      f1.cniConfFiles = [];
    },
    expected: ['n1:no-cni-config'],
  },
  {
    name: 'cni-config-invalid: the live config is not JSON',
    mutate: (f1) => {
      f1.cniConfFiles[0]!.text = '{ "cniVersion": ';
    },
    expected: ['n1:cni-config-invalid'],
  },
  {
    name: 'no-hostport: conflist without portmap',
    mutate: (f1) => {
      const c = JSON.parse(f1.cniConfFiles[0]!.text) as { plugins: { type: string }[] };
      c.plugins = c.plugins.filter((p) => p.type !== 'portmap');
      f1.cniConfFiles[0]!.text = JSON.stringify(c);
    },
    expected: ['n1:no-hostport'],
  },
  {
    name: 'no-hostport: portmap without the portMappings capability',
    mutate: (f1) => {
      f1.cniConfFiles[0]!.text = f1.cniConfFiles[0]!.text.replace('"portMappings": true', '"portMappings": false');
    },
    expected: ['n1:no-hostport'],
  },
  {
    name: 'plugin-missing: portmap binary absent',
    mutate: (f1) => {
      f1.plugins = f1.plugins.filter((p) => p.name !== 'portmap');
    },
    expected: ['n1:plugin-missing'],
    check: (x) => assert.match(only(x, 'plugin-missing').message, /plugin portmap named in 10-podnet\.conflist/),
  },
  {
    name: 'plugin-missing: the IPAM plugin counts too',
    mutate: (f1) => {
      f1.plugins = f1.plugins.filter((p) => p.name !== 'host-local');
    },
    expected: ['n1:plugin-missing'],
    check: (x) => assert.match(only(x, 'plugin-missing').message, /host-local/),
  },
  {
    name: 'cni-version: the plugins do not support the config\'s cniVersion',
    mutate: (f1) => {
      for (const p of f1.plugins) p.supportedVersions = ['0.3.0', '0.3.1', '0.4.0'];
    },
    expected: ['n1:cni-version'],
    check: (x) => assert.match(only(x, 'cni-version').fix, /set cniVersion to 0\.4\.0/),
  },
  {
    name: 'cni-version: NOT when the plugin\'s versions are unknown',
    mutate: (f1) => {
      for (const p of f1.plugins) p.supportedVersions = undefined;
    },
    expected: [],
  },
  // pod-nat
  {
    name: 'pod-nat: the bridge plugin masquerades (ipMasq: true)',
    mutate: (f1) => {
      f1.cniConfFiles[0]!.text = f1.cniConfFiles[0]!.text.replace('"ipMasq": false', '"ipMasq": true');
    },
    expected: ['n1:pod-nat'],
    check: (x) => assert.match(only(x, 'pod-nat').evidence, /"ipMasq": true/),
  },
  {
    name: 'pod-nat: a broad MASQUERADE in POSTROUTING',
    mutate: (f1) => {
      f1.iptablesNat.push('-A POSTROUTING -j MASQUERADE');
    },
    expected: ['n1:pod-nat'],
  },
  {
    name: 'pod-nat: MASQUERADE of the cluster source in a chain jumped to from POSTROUTING',
    mutate: (f1) => {
      f1.iptablesNat.push('-N OTHER', '-A POSTROUTING -j OTHER', `-A OTHER -s ${CLUSTER} -j MASQUERADE`);
    },
    expected: ['n1:pod-nat'],
  },
  {
    name: 'pod-nat: a SNAT to the cluster destination',
    mutate: (f1) => {
      f1.iptablesNat.push(`-A POSTROUTING -d 10.244.1.0/24 -j SNAT --to-source 192.0.2.11`);
    },
    expected: ['n1:pod-nat'],
  },
  {
    name: 'pod-nat: NOT for -s 10.244.1.0/24 ! -d 10.244.0.0/16 -j MASQUERADE',
    mutate: (f1) => {
      f1.iptablesNat.push('-A POSTROUTING -s 10.244.1.0/24 ! -d 10.244.0.0/16 -j MASQUERADE');
    },
    expected: [],
  },
  {
    name: 'pod-nat: NOT for portmap\'s -m mark masquerade',
    mutate: (f1) => {
      f1.iptablesNat.push(
        '-N CNI-HOSTPORT-MASQ',
        '-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ',
        '-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE',
      );
    },
    expected: [],
  },
  {
    name: 'pod-nat: NOT for an outgoing-interface masquerade (-o eth0)',
    mutate: (f1) => {
      f1.iptablesNat.push('-A POSTROUTING -o eth0 -j MASQUERADE');
    },
    expected: [],
  },
  {
    name: 'pod-nat: NOT in a chain nothing jumps to',
    mutate: (f1) => {
      f1.iptablesNat.push('-N ORPHAN', '-A ORPHAN -j MASQUERADE');
    },
    expected: [],
  },
  {
    name: 'pod-nat: NOT for another network\'s source',
    mutate: (f1) => {
      f1.iptablesNat.push('-A POSTROUTING -s 172.17.0.0/16 -j MASQUERADE');
    },
    expected: [],
  },
  // conntrack-full
  {
    name: 'conntrack-full: 95% used',
    mutate: (f1) => {
      f1.sysctl['net.netfilter.nf_conntrack_count'] = '249000';
    },
    expected: ['n1:conntrack-full'],
    check: (x) => assert.match(only(x, 'conntrack-full').fix, /nf_conntrack_max=524288/),
  },
  {
    name: 'conntrack-full: NOT when conntrack is not loaded',
    mutate: (f1) => {
      f1.sysctl['net.netfilter.nf_conntrack_count'] = '-';
      f1.sysctl['net.netfilter.nf_conntrack_max'] = '-';
    },
    expected: [],
  },
  // iptables-split
  {
    name: 'iptables-split: rules in both backends',
    mutate: (f1) => {
      f1.iptablesBackends = { legacy: 3, nft: 12 };
    },
    expected: ['n1:iptables-split'],
  },
  // vtep-mac
  {
    name: 'vtep-mac: the FDB has a stale MAC for the peer',
    vxlan: true,
    mutate: (f1) => {
      f1.fdb = [{ mac: 'aa:bb:cc:dd:ee:ff', dev: 'podnet.1', dst: S2.ip }];
    },
    expected: ['n1:vtep-mac'],
    check: (x) => assert.match(only(x, 'vtep-mac').message, new RegExp(`VTEP MAC is ${vtepMac(S2.ip)}, this node has aa:bb:cc:dd:ee:ff`)),
  },
  {
    name: 'vtep-mac: NOT when the right MAC is also present, nor for the all-zero entry without dst',
    vxlan: true,
    mutate: (f1) => {
      f1.fdb.push({ mac: 'aa:bb:cc:dd:ee:ff', dev: 'podnet.1', dst: S2.ip }, { mac: '00:00:00:00:00:00', dev: 'podnet.1' });
    },
    expected: [],
  },
  // old-kernel-vxlan-csum
  {
    name: 'old-kernel-vxlan-csum: 4.19 with VXLAN',
    vxlan: true,
    mutate: (f1) => {
      f1.kernel = '4.19.0-26-amd64';
    },
    expected: ['n1:old-kernel-vxlan-csum'],
  },
  {
    name: 'old-kernel-vxlan-csum: 5.6 with VXLAN; NOT 5.7',
    vxlan: true,
    mutate: (f1, f2) => {
      f1.kernel = '5.6.19';
      f2.kernel = '5.7.0';
    },
    expected: ['n1:old-kernel-vxlan-csum'],
  },
  {
    name: 'old-kernel-vxlan-csum: NOT without VXLAN',
    mutate: (f1) => {
      f1.kernel = '4.19.0-26-amd64';
    },
    expected: [],
  },
  // nm-managed
  {
    name: 'nm-managed: NetworkManager holds the bridge and a pod veth',
    mutate: (f1) => {
      f1.links.push({ ifindex: 9, ifname: 'veth1a2b', mtu: 1500, flags: ['UP'], kind: 'veth' });
      f1.bridgePorts = [{ ifname: 'veth1a2b', master: 'cni0' }];
      f1.netmgr = { networkManager: { eth0: 'connected', cni0: 'connected (externally)', veth1a2b: 'connected (externally)', lo: 'unmanaged' } };
    },
    expected: ['n1:nm-managed'],
    check: (x) => {
      const f = only(x, 'nm-managed');
      assert.match(f.message, /NetworkManager .*\(cni0, veth1a2b\)/);
      assert.match(f.fix, /unmanaged-devices=interface-name:cni0;interface-name:veth\*/);
      assert.doesNotMatch(f.evidence, /eth0 connected,|lo /, 'links outside the pod network are NetworkManager\'s business');
    },
  },
  {
    name: 'nm-managed: NOT when the pod links are unmanaged (or NetworkManager only has the uplink)',
    vxlan: true,
    mutate: (f1, f2) => {
      f1.netmgr = { networkManager: { eth0: 'connected', cni0: 'unmanaged', 'podnet.1': 'unmanaged' } };
      f2.netmgr = { networkManager: { eth0: 'connected' } };
    },
    expected: [],
  },
  {
    name: 'nm-managed: NetworkManager holds the VXLAN device',
    vxlan: true,
    mutate: (f1) => {
      f1.netmgr = { networkManager: { 'podnet.1': 'connected (externally)', cni0: 'unmanaged' } };
    },
    expected: ['n1:nm-managed'],
  },
  {
    name: 'nm-managed: systemd-networkd with ManageForeignRoutes left at its default (yes)',
    mutate: (f1, f2) => {
      f1.netmgr = { networkd: {} };
      f2.netmgr = { networkd: { manageForeignRoutes: 'yes' } };
    },
    expected: ['n1:nm-managed', 'n2:nm-managed'],
    check: (x) => assert.match(x[0]!.fix, /ManageForeignRoutes=no/),
  },
  {
    name: 'nm-managed: NOT with ManageForeignRoutes=no',
    mutate: (f1, f2) => {
      f1.netmgr = { networkd: { manageForeignRoutes: 'no' } };
      f2.netmgr = { networkd: { manageForeignRoutes: 'false' } };
    },
    expected: [],
  },
  // --- researched failure modes (docs/FAILURE-MODES.md) ---
  {
    name: 'forward-reject: RHEL\'s default REJECT in FORWARD before podnet\'s jump',
    mutate: (f1) => {
      f1.iptablesFilter.splice(4, 0, '-A FORWARD -j REJECT --reject-with icmp-host-prohibited');
    },
    expected: ['n1:forward-reject'],
    check: (x) => assert.match(only(x, 'forward-reject').evidence, /icmp-host-prohibited/),
  },
  {
    name: 'forward-reject: NOT after podnet\'s ACCEPT, nor for state/mark/other-interface rules',
    mutate: (f1) => {
      f1.iptablesFilter.push('-A FORWARD -j REJECT --reject-with icmp-host-prohibited');
      f1.iptablesFilter.splice(4, 0, '-A FORWARD -m conntrack --ctstate INVALID -j DROP', '-A FORWARD -o docker0 -j DROP', '-A FORWARD -m mark --mark 0x1 -j DROP', '-A FORWARD ! -s 10.0.0.0/8 -j DROP');
    },
    expected: [],
  },
  {
    name: 'forward-reject: through a jumped-to chain (a leftover CNI chain ending in DROP)',
    mutate: (f1) => {
      f1.iptablesFilter.splice(3, 0, '-N cali-FORWARD', '-A FORWARD -j cali-FORWARD', '-A cali-FORWARD -j DROP');
    },
    expected: ['n1:forward-reject'],
  },
  {
    name: 'nft-forward-drop: a native nftables forward chain with policy drop',
    mutate: (f1) => {
      f1.nftTables = [parseNftTable('inet', 'fw', 'table inet fw {\n\tchain fwd {\n\t\ttype filter hook forward priority filter; policy drop;\n\t\tct state established,related accept\n\t\tiifname "lo" accept\n\t}\n}')];
    },
    expected: ['n1:nft-forward-drop'],
  },
  {
    name: "nft-forward-drop: firewalld's policy accept chain ending in reject, with jumps to zone chains that do not accept pods",
    mutate: (f1) => {
      f1.nftTables = [parseNftTable('inet', 'firewalld', 'table inet firewalld {\n\tchain filter_FORWARD {\n\t\ttype filter hook forward priority filter + 10; policy accept;\n\t\tct state { established, related } accept\n\t\tct status dnat accept\n\t\tiifname "lo" accept\n\t\tjump filter_FORWARD_ZONES\n\t\tct state { invalid } drop\n\t\treject with icmpx admin-prohibited\n\t}\n\tchain filter_FORWARD_ZONES {\n\t\tiifname "eth0" goto filter_FWD_public\n\t\tgoto filter_FWD_public\n\t}\n\tchain filter_FWD_public {\n\t\tjump filter_FWD_public_allow\n\t}\n\tchain filter_FWD_public_allow {\n\t}\n}')];
    },
    expected: ['n1:nft-forward-drop'],
    check: (x) => assert.match(only(x, 'nft-forward-drop').message, /reject with icmpx admin-prohibited/),
  },
  {
    name: 'nft-forward-drop: NOT when the chain (or a chain it jumps to) accepts the cluster CIDR or the bridge, nor for iptables-nft-only tables',
    mutate: (f1, f2) => {
      f1.nftTables = [parseNftTable('inet', 'fw', 'table inet fw {\n\tchain fwd {\n\t\ttype filter hook forward priority filter; policy drop;\n\t\tjump trusted\n\t\tip saddr { 10.0.0.0/8 } counter packets 3 bytes 180 accept\n\t\tip daddr 10.244.0.0/16 accept\n\t}\n\tchain trusted {\n\t\tiifname "cni0" accept\n\t\toifname "cni0" accept\n\t}\n}')];
      f2.nftTables = [parseNftTable('inet', 'fw', 'table inet fw {\n\tchain fwd {\n\t\ttype filter hook forward priority filter; policy accept;\n\t\ttcp dport 22 drop\n\t}\n}')];
    },
    expected: [],
  },
  {
    name: 'blackhole-route: a leftover Calico blackhole inside a peer\'s pod CIDR',
    mutate: (f1) => {
      f1.routes.push(route('10.244.1.0/26', { type: 'blackhole', protocol: 'bird', flags: [] }));
    },
    expected: ['n1:blackhole-route'],
    check: (x) => assert.match(only(x, 'blackhole-route').message, /n2's pods/),
  },
  {
    name: 'blackhole-route: an exact blackhole for the peer CIDR is not called a foreign route',
    mutate: (f1) => {
      f1.routes = f1.routes.filter((r) => r.dst !== S2.podCIDR);
      f1.routes.push(route(S2.podCIDR, { type: 'unreachable' }));
    },
    expected: ['n1:blackhole-route'],
  },
  {
    name: 'policy-route: a rule before main sends pod traffic to a table that routes it elsewhere',
    mutate: (f1) => {
      f1.rules = [
        { priority: 0, table: 'local', selectors: [] },
        { priority: 5270, table: '52', selectors: [] },
        { priority: 32766, table: 'main', selectors: [] },
      ];
      f1.routeTables = { '52': [route('default', { dev: 'tailscale0' })] };
    },
    expected: ['n1:policy-route', 'n1:policy-route'],
  },
  {
    name: 'policy-route: NOT for fwmark rules, nor tables without a route for pods, nor rules after main',
    mutate: (f1) => {
      f1.rules = [
        { priority: 0, table: 'local', selectors: [] },
        { priority: 5210, table: 'main', selectors: ['fwmark', 'fwmask'] },
        { priority: 5270, table: '52', selectors: [] },
        { priority: 32766, table: 'main', selectors: [] },
        { priority: 32767, table: '99', selectors: [] },
      ];
      f1.routeTables = { '52': [route('100.64.0.0/10', { dev: 'tailscale0' })], '99': [route('default', { dev: 'eth0' })] };
    },
    expected: [],
  },
  {
    name: 'bridge-down: the bridge is set down (and no own-cidr-route finding for the route it lost)',
    mutate: (f1) => {
      f1.links.find((l) => l.ifname === 'cni0')!.flags = ['BROADCAST', 'MULTICAST'];
      f1.routes = f1.routes.filter((r) => r.dst !== S1.podCIDR);
    },
    expected: ['n1:bridge-down'],
  },
  // --- healthy neighbours the researched checks must leave alone (review findings) ---
  {
    name: 'no false positive: anti-hairpin hardening on the uplink (-i eth0 -o eth0 DROP) is on no pod path',
    mutate: (f1) => {
      f1.iptablesFilter.splice(4, 0, '-A FORWARD -i eth0 -o eth0 -j DROP');
    },
    expected: [],
  },
  {
    name: 'forward-reject: a goto chain that ends returns from its caller (the REJECT after it applies)',
    mutate: (f1) => {
      f1.iptablesFilter.splice(3, 0, '-N G', '-N H', '-A FORWARD -j H', '-A H -g G', '-A H -j ACCEPT', '-A FORWARD -j REJECT');
    },
    expected: ['n1:forward-reject'],
  },
  {
    name: 'no false positive: Multus first (it delegates to the cluster network), a CNI device routes go through, a wide unreachable sink, a throw route',
    mutate: (f1, f2) => {
      f1.cniConfFiles.unshift({ path: '/etc/cni/net.d/00-multus.conf', name: '00-multus.conf', text: '{"cniVersion":"0.3.1","name":"multus-cni-network","type":"multus","kubeconfig":"/etc/cni/net.d/multus.d/multus.kubeconfig","delegates":[{"cniVersion":"0.3.1","name":"podnet","plugins":[]}]}' });
      f1.routes.push(route('10.0.0.0/8', { type: 'unreachable' }));
      f1.plugins.push({ dir: '/opt/cni/bin', name: 'multus', supportedVersions: ALL_VERSIONS });
      f2.links.push({ ifindex: 9, ifname: 'kube-bridge', mtu: 1500, flags: ['UP'], kind: 'bridge' });
      f2.routes.push(route('10.99.0.0/24', { dev: 'kube-bridge', protocol: 'kernel', scope: 'link' }));
      f2.rules = [{ priority: 0, table: 'local', selectors: [] }, { priority: 100, table: '7', selectors: [] }, { priority: 32766, table: 'main', selectors: [] }];
      f2.routeTables = { '7': [route('10.244.0.0/16', { type: 'throw' })] };
    },
    expected: [],
  },
  // --- IPv6 on a dual-stack bridge network (another CNI's, or podnet's to come) ---
  {
    name: 'dual-stack healthy: no finding',
    mutate: (f1) => dualStack(f1),
    expected: [],
  },
  {
    name: 'ip6-forward-off and br-netfilter-ip6: IPv6 pods with IPv6 forwarding off and bridged IPv6 bypassing ip6tables',
    mutate: (f1) => {
      dualStack(f1);
      f1.sysctl['net.ipv6.conf.all.forwarding'] = '0';
      f1.sysctl['net.bridge.bridge-nf-call-ip6tables'] = '0';
    },
    expected: ['n1:br-netfilter-ip6', 'n1:ip6-forward-off'],
  },
  {
    name: 'dad-failed: the bridge\'s IPv6 gateway failed duplicate address detection (tentative is a warning)',
    mutate: (f1, f2) => {
      dualStack(f1);
      f1.addrs.push({ ifname: 'cni0', family: 'inet6', local: 'fd00:10:244::1', prefixlen: 64, scope: 'global', dadfailed: true, tentative: true });
      dualStack(f2);
      f2.addrs.push({ ifname: 'cni0', family: 'inet6', local: 'fd00:10:244:1::1', prefixlen: 64, scope: 'global', tentative: true });
    },
    expected: ['n1:dad-failed', 'n2:dad-failed'],
    check: (x) => assert.deepEqual(x.map((f) => f.severity), ['error', 'warning']),
  },
  {
    name: 'ra-default-route: forwarding on and accept_ra 1 on the uplink (accept_ra 2 is fine)',
    mutate: (f1, f2) => {
      for (const f of [f1, f2]) {
        dualStack(f);
        f.routes6.push(route('default', { gateway: 'fe80::1', dev: 'eth0', protocol: 'ra' }));
      }
      f1.sysctl['net.ipv6.conf.eth0.accept_ra'] = '1';
      f2.sysctl['net.ipv6.conf.eth0.accept_ra'] = '2';
    },
    expected: ['n1:ra-default-route'],
    check: (x) => assert.equal(only(x, 'ra-default-route').severity, 'error'),
  },
  {
    name: 'ipv6-mtu: a pod MTU below 1280 with IPv6 pods',
    mutate: (f1) => dualStack(f1, 1200),
    expected: ['n1:ipv6-mtu'],
  },
  {
    name: 'nd-dropped: ip6tables FORWARD DROP with cluster-CIDR accepts only (an ND accept, or all ICMPv6, is fine)',
    mutate: (f1, f2) => {
      for (const f of [f1, f2]) {
        dualStack(f);
        f.ip6tablesFilter = ['-P INPUT ACCEPT', '-P FORWARD DROP', '-P OUTPUT ACCEPT', '-A FORWARD -s fd00:10:244::/56 -j ACCEPT', '-A FORWARD -d fd00:10:244::/56 -j ACCEPT'];
      }
      f2.ip6tablesFilter.push('-A FORWARD -p ipv6-icmp -j ACCEPT');
    },
    expected: ['n1:nd-dropped'],
  },
  {
    name: 'nd-dropped: not when bridged IPv6 bypasses ip6tables, nor for an accept of the two ND types',
    mutate: (f1, f2) => {
      for (const f of [f1, f2]) {
        dualStack(f);
        f.ip6tablesFilter = ['-P FORWARD DROP', '-N PODNET-FORWARD', '-A FORWARD -j PODNET-FORWARD', '-A PODNET-FORWARD -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT', '-A PODNET-FORWARD -p ipv6-icmp -m icmp6 --icmpv6-type 136 -j ACCEPT'];
      }
      f1.sysctl['net.bridge.bridge-nf-call-ip6tables'] = '0';
      f1.ip6tablesFilter = ['-P FORWARD DROP'];
    },
    expected: ['n1:br-netfilter-ip6'],
  },
  {
    name: 'icmp6-ptb-dropped: a rule dropping all ICMPv6 in INPUT, or packet-too-big in FORWARD (other types are fine)',
    mutate: (f1, f2) => {
      dualStack(f1);
      dualStack(f2);
      f1.ip6tablesFilter = ['-P INPUT ACCEPT', '-A INPUT -p ipv6-icmp -j DROP'];
      f2.ip6tablesFilter = ['-P FORWARD ACCEPT', '-N FW', '-A FORWARD -j FW', '-A FW -p ipv6-icmp -m icmp6 --icmpv6-type 2 -j REJECT', '-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j DROP'];
    },
    expected: ['n1:icmp6-ptb-dropped', 'n2:icmp6-ptb-dropped'],
  },
  {
    name: 'node-mask: pod CIDRs (/24) more than 16 bits longer than the cluster CIDR (/7)',
    mutate: () => {},
    cluster: '10.0.0.0/7',
    // (podnet's masquerade rule spares only 10.244.0.0/16: traffic to the rest of that cluster CIDR is masqueraded)
    expected: ['n1:node-mask', 'n1:pod-nat', 'n2:node-mask', 'n2:pod-nat'],
  },
  {
    name: 'no IPv6 finding on an IPv4-only network, whatever its IPv6 settings',
    mutate: (f1) => {
      f1.sysctl['net.ipv6.conf.all.forwarding'] = '0';
      f1.routes6.push(route('default', { gateway: 'fe80::1', dev: 'eth0', protocol: 'ra' }));
    },
    expected: [],
  },
  {
    name: 'bridge-mismatch: the bridge kept the gateway of an old pod CIDR',
    mutate: (f1) => {
      f1.addrs = f1.addrs.map((a) => (a.ifname === 'cni0' ? { ...a, local: '10.244.7.1' } : a));
    },
    expected: ['n1:bridge-mismatch'],
  },
  {
    name: 'cni-config-kind: podnet\'s list renamed to .conf',
    mutate: (f1) => {
      f1.cniConfFiles[0] = { ...f1.cniConfFiles[0]!, name: '10-podnet.conf', path: '/etc/cni/net.d/10-podnet.conf' };
    },
    expected: ['n1:cni-config-kind'],
  },
  {
    name: 'cni-config-shadowed: a leftover flannel config sorts first',
    mutate: (f1) => {
      f1.cniConfFiles.unshift({ path: '/etc/cni/net.d/05-flannel.conflist', name: '05-flannel.conflist', text: '{"cniVersion":"0.3.1","name":"cbr0","plugins":[{"type":"flannel","delegate":{"isDefaultGateway":true}},{"type":"portmap","capabilities":{"portMappings":true}}]}' });
    },
    expected: ['n1:cni-config-shadowed', 'n1:plugin-missing'],
    check: (x) => assert.match(only(x, 'cni-config-shadowed').message, /05-flannel\.conflist \(flannel\) sorts before 10-podnet\.conflist/),
  },
  {
    name: 'cni-config-leftover: a Calico config after podnet\'s',
    mutate: (f1) => {
      f1.cniConfFiles.push({ path: '/etc/cni/net.d/20-calico.conflist', name: '20-calico.conflist', text: '{"name":"k8s-pod-network","plugins":[{"type":"calico","ipam":{"type":"calico-ipam"}}]}' });
    },
    expected: ['n1:cni-config-leftover'],
  },
  {
    name: 'plugin-broken: bridge not executable, portmap does not run',
    mutate: (f1) => {
      f1.plugins = f1.plugins.map((p) => (p.name === 'bridge' ? { dir: p.dir, name: p.name, broken: 'noexec' as const } : p.name === 'portmap' ? { dir: p.dir, name: p.name, broken: 'noversion' as const } : p));
    },
    expected: ['n1:plugin-broken', 'n1:plugin-broken'],
  },
  {
    name: 'runtime-cni-dirs: containerd looks for plugins and configs elsewhere',
    mutate: (f1) => {
      // The facts script looks into the dirs the runtime names too.
      f1.cniBinDirs.push('/usr/local/bin');
      f1.runtimeCni = [{ runtime: 'containerd', file: '/etc/containerd/config.toml', binDirs: ['/usr/local/bin'], binDirLine: 'bin_dir = "/usr/local/bin"', confDir: '/etc/k8s/cni', confDirLine: 'conf_dir = "/etc/k8s/cni"' }];
    },
    expected: ['n1:runtime-cni-dirs', 'n1:runtime-cni-dirs'],
  },
  {
    name: 'loopback-missing: containerd installed, no loopback in /opt/cni/bin; NOT with use_internal_loopback',
    mutate: (f1, f2) => {
      f1.plugins = f1.plugins.filter((p) => p.name !== 'loopback');
      f1.runtimeCni = [{ runtime: 'containerd', file: '' }];
      f2.plugins = f2.plugins.filter((p) => p.name !== 'loopback');
      f2.runtimeCni = [{ runtime: 'containerd', file: '/etc/containerd/config.toml', internalLoopback: true }];
    },
    expected: ['n1:loopback-missing'],
  },
  {
    name: 'ipam-exhausted + ipam-leak: every address reserved, most before the last boot',
    mutate: (f1) => {
      const res = Array.from({ length: 253 }, (_, i) => ({ ip: `10.244.0.${i + 2}`, mtime: i < 200 ? 1000 : 5000, owner: 'a'.repeat(64) }));
      f1.ipam = { dataDir: '/var/lib/cni/networks', bootTime: 2000, networks: { podnet: res }, probeRuns: [] };
    },
    expected: ['n1:ipam-exhausted', 'n1:ipam-leak'],
    check: (x) => assert.match(only(x, 'ipam-exhausted').message, /all 253 addresses of 10\.244\.0\.0\/24/),
  },
  {
    name: 'ipam-leak: a gone probe pod\'s reservation (a running probe\'s is not)',
    mutate: (f1) => {
      f1.ipam = { dataDir: '/var/lib/cni/networks', bootTime: 1000, networks: { podnet: [{ ip: '10.244.0.7', mtime: 5000, owner: 'pnp-dead01' }, { ip: '10.244.0.8', mtime: 5000, owner: 'pnp-live02' }] }, probeRuns: ['live02'] };
    },
    expected: ['n1:ipam-leak'],
    check: (x) => assert.match(only(x, 'ipam-leak').fix, /podnet up releases them/),
  },
  {
    name: 'stale-hostport: a DNAT chain to an address no reservation holds',
    mutate: (f1) => {
      f1.ipam = { dataDir: '/var/lib/cni/networks', networks: { podnet: [{ ip: '10.244.0.5', mtime: 1, owner: 'b'.repeat(64) }] }, probeRuns: [] };
      f1.iptablesNat.push('-N CNI-HOSTPORT-DNAT', '-N CNI-DN-1', '-N CNI-DN-2', '-A CNI-DN-1 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.244.0.9:80', '-A CNI-DN-2 -p tcp -m tcp --dport 9090 -j DNAT --to-destination 10.244.0.5:80');
    },
    expected: ['n1:stale-hostport'],
    check: (x) => assert.match(only(x, 'stale-hostport').message, /hostPort 8080\/tcp still forwards to 10\.244\.0\.9/),
  },
  {
    name: 'leftover-links: flannel.1 and cilium_host left behind (error: an address in the cluster CIDR)',
    mutate: (f1) => {
      f1.links.push({ ifindex: 9, ifname: 'flannel.1', mtu: 1450, flags: ['UP'], kind: 'vxlan', vxlan: { id: 1, port: 8472 } }, { ifindex: 10, ifname: 'cilium_host', mtu: 1500, flags: ['UP'], kind: 'veth' });
      f1.addrs.push({ ifname: 'flannel.1', family: 'inet', local: '10.244.9.0', prefixlen: 32, scope: 'global' });
    },
    expected: ['n1:leftover-links', 'n1:leftover-links'],
    check: (x) => assert.deepEqual(x.filter((f) => f.id === 'leftover-links').map((f) => f.severity).sort(), ['error', 'warning']),
  },
  {
    name: 'stale-cni-cache: cached results of a network no config defines',
    mutate: (f1) => {
      f1.cniCache = [`cbr0-${'c'.repeat(64)}-eth0`, `podnet-${'d'.repeat(64)}-eth0`];
    },
    expected: ['n1:stale-cni-cache'],
  },
  {
    name: 'sysctl-reverts: a later file sets ip_forward back to 0',
    mutate: (f1) => {
      const settings = [
        { file: '/etc/sysctl.d/90-podnet.conf', key: 'net.ipv4.ip_forward', value: '1' },
        { file: '/etc/sysctl.d/99-cis.conf', key: 'net.ipv4.ip_forward', value: '0' },
        { file: '/usr/lib/sysctl.d/99-cis.conf', key: 'net.ipv4.ip_forward', value: '1' },
      ];
      f1.sysctlFiles = { files: settings.map((x) => x.file), settings };
    },
    expected: ['n1:sysctl-reverts'],
    check: (x) => assert.match(only(x, 'sysctl-reverts').message, /99-cis\.conf sets net\.ipv4\.ip_forward = 0 after 90-podnet\.conf/),
  },
  {
    name: 'sysctl-reverts: IPv6 forwarding set back at boot, on a node whose pods get IPv6 (not on an IPv4-only one)',
    mutate: (f1, f2) => {
      dualStack(f1);
      const settings = [{ file: '/etc/sysctl.d/99-cis.conf', key: 'net.ipv6.conf.all.forwarding', value: '0' }];
      f1.sysctlFiles = { files: settings.map((x) => x.file), settings };
      f2.sysctlFiles = { files: settings.map((x) => x.file), settings };
    },
    expected: ['n1:sysctl-reverts'],
    check: (x) => assert.match(only(x, 'sysctl-reverts').message, /99-cis\.conf sets net\.ipv6\.conf\.all\.forwarding = 0/),
  },
  {
    name: 'sysctl-reverts: NOT when /etc/sysctl.conf (applied last) sets it back to 1',
    mutate: (f1) => {
      const settings = [
        { file: '/etc/sysctl.d/99-cis.conf', key: 'net.ipv4.ip_forward', value: '0' },
        { file: '/etc/sysctl.conf', key: 'net.ipv4.ip_forward', value: '1' },
      ];
      f1.sysctlFiles = { files: settings.map((x) => x.file), settings };
    },
    expected: [],
  },
  {
    name: "sysctl-reverts: NOT when an /etc/sysctl.d file of the same name masks the vendor's (even one that sets nothing)",
    mutate: (f1) => {
      f1.sysctlFiles = { files: ['/etc/sysctl.d/90-podnet.conf', '/etc/sysctl.d/99-vendor.conf', '/usr/lib/sysctl.d/99-vendor.conf'], settings: [{ file: '/etc/sysctl.d/90-podnet.conf', key: 'net.ipv4.ip_forward', value: '1' }, { file: '/usr/lib/sysctl.d/99-vendor.conf', key: 'net.ipv4.ip_forward', value: '0' }] };
    },
    expected: [],
  },
];

describe('runChecks: one scenario per finding', () => {
  for (const s of scenarios) {
    test(s.name, () => {
      const findings = runChecks(setup(s.mutate, { vxlan: s.vxlan, serviceCIDR: s.serviceCIDR, cluster: s.cluster }));
      assert.deepEqual(ids(findings), s.expected, JSON.stringify(findings, null, 2));
      s.check?.(findings);
    });
  }

  test('every finding id documented here is covered by a scenario', () => {
    const covered = new Set(scenarios.flatMap((s) => s.expected.map((e) => e.split(':')[1])));
    const others = new Set(['unreachable', 'facts-failed', 'kube-node-missing', 'kube-node-unknown', 'kube-podcidr', 'kube-network-unavailable', 'kube-node-notready-cni', 'kube-api']);
    for (const { id } of catalogue()) if (!others.has(id)) assert.ok(covered.has(id), `no scenario for ${id}`);
  });

  test('each check reads only the facts it declares (needs)', () => {
    for (const unit of CHECKS as readonly CheckUnit[]) {
      for (const sc of scenarios) {
        const ctx = setup(sc.mutate, { vxlan: sc.vxlan, serviceCIDR: sc.serviceCIDR });
        const guarded = {
          ...ctx,
          nodes: ctx.nodes.map((v) => ({
            ...v,
            facts: new Proxy(v.facts, {
              get(t, k) {
                if (typeof k === 'string' && !unit.needs.includes(k as keyof NodeFacts)) throw new Error(`${Object.keys(unit.findings).join('/')} reads facts.${k} without declaring it`);
                return Reflect.get(t, k);
              },
            }),
          })),
        };
        for (const n of guarded.nodes) runUnit(unit, n, guarded);
      }
    }
  });
});

describe('pod-nat: negated matches', () => {
  test('NOT for masquerading traffic from outside the cluster into pods (! -s cluster -d cluster)', () => {
    const findings = runChecks(
      setup((f1) => {
        f1.iptablesNat.push(`-A POSTROUTING ! -s ${CLUSTER} -d ${CLUSTER} -j MASQUERADE`);
      }),
    );
    assert.deepEqual(ids(findings), []);
  });

  test('masquerading everything not bound for the node\'s own pod CIDR hits cross-node pod traffic', () => {
    const findings = runChecks(
      setup((f1) => {
        f1.iptablesNat.push(`-A POSTROUTING -s ${S1.podCIDR} ! -d ${S1.podCIDR} -j MASQUERADE`);
      }),
    );
    assert.deepEqual(ids(findings), ['n1:pod-nat']);
  });
});

describe('liveConfig / observedPodCidr', () => {
  function facts(files: ConfFile[], extra: (f: NodeFacts) => void = () => {}): NodeFacts {
    const f: NodeFacts = structuredClone(EMPTY_FACTS);
    f.cniConfFiles = files;
    extra(f);
    return f;
  }
  const file = (name: string, text: string): ConfFile => ({ path: `/etc/cni/net.d/${name}`, name, text });

  test('no config', () => {
    assert.equal(liveConfig(facts([])), undefined);
    assert.equal(liveConfig(facts([file('README', 'x'), file('10-x.conflist.bak', '{}')])), undefined);
  });

  test('the first file in name order is the live one (files are sorted by the parser)', () => {
    const live = liveConfig(facts([file('05-other.conf', '{"cniVersion":"0.3.1","type":"ptp"}'), file('10-podnet.conflist', '{"plugins":[]}')]))!;
    assert.equal(live.file.name, '05-other.conf');
    assert.equal(live.isList, false);
    assert.deepEqual(live.plugins, [{ cniVersion: '0.3.1', type: 'ptp' }]);
    assert.equal(live.bridge, undefined);
    assert.equal(live.portmap, false);
  });

  test('podnet conflist', () => {
    const c = conflistFile({ mtu: 1450, podCIDR: '10.244.3.0/24', gateway: '10.244.3.1', cniVersion: '0.4.0' });
    const live = liveConfig(facts([c]))!;
    assert.equal(live.isList, true);
    assert.equal(live.cniVersion, '0.4.0');
    assert.equal(live.portmap, true);
    assert.deepEqual(live.bridge, { name: 'cni0', ipMasq: false, mtu: 1450, isGateway: true, ipamType: 'host-local', subnet: '10.244.3.0/24', gateway: '10.244.3.1', subnets: ['10.244.3.0/24'], ranges: [{ subnet: '10.244.3.0/24', gateway: '10.244.3.1' }] });
    assert.equal(observedPodCidr(facts([c]), live), '10.244.3.0/24');
  });

  test('old-style ipam.subnet, non-canonical, gateway derived, default bridge name', () => {
    const live = liveConfig(facts([file('10-mynet.conf', '{"cniVersion":"0.3.1","name":"mynet","type":"bridge","ipMasq":true,"ipam":{"type":"host-local","subnet":"10.22.7.9/24"}}')]))!;
    assert.deepEqual(live.bridge, { name: 'cni0', ipMasq: true, mtu: undefined, isGateway: false, ipamType: 'host-local', subnet: '10.22.7.0/24', gateway: '10.22.7.1', subnets: ['10.22.7.0/24'], ranges: [{ subnet: '10.22.7.0/24', gateway: '10.22.7.1' }] });
  });

  test('a .json or .conf file with "plugins" cannot be loaded (libcni reads lists only from .conflist)', () => {
    for (const name of ['10-x.json', '10-x.conf']) {
      const live = liveConfig(facts([file(name, '{"name":"x","plugins":[{"type":"bridge","bridge":"br1"}]}')]))!;
      assert.equal(live.isList, false);
      assert.match(live.kindError ?? '', /reads lists only from \.conflist/);
      assert.equal(live.bridge, undefined);
    }
  });

  test('a .conflist without "plugins" cannot be loaded', () => {
    const live = liveConfig(facts([file('10-x.conflist', '{"name":"x","type":"bridge"}')]))!;
    assert.match(live.kindError ?? '', /needs a "plugins" list/);
  });

  test('invalid JSON → parseError', () => {
    const live = liveConfig(facts([file('10-x.conflist', '{')]))!;
    assert.ok(live.parseError);
    assert.deepEqual(live.plugins, []);
  });

  test('observedPodCidr falls back to the bridge address', () => {
    const f = facts([file('10-x.conflist', '{"plugins":[{"type":"bridge","bridge":"br1","ipam":{"type":"dhcp"}}]}')], (x) => {
      x.addrs.push({ ifname: 'br1', family: 'inet', local: '10.9.8.1', prefixlen: 24, scope: 'global' }, { ifname: 'cni0', family: 'inet', local: '10.7.7.1', prefixlen: 24, scope: 'global' });
    });
    assert.equal(observedPodCidr(f, liveConfig(f)), '10.9.8.0/24');
    assert.equal(observedPodCidr(f, undefined), '10.7.7.0/24');
    assert.equal(observedPodCidr(EMPTY_FACTS, undefined), undefined);
  });
});

describe('kubeChecks: the Kubernetes API against the nodes', () => {
  const k = (name: string, podCIDRs: string[], ip?: string): KubeNode => ({ name, podCIDRs, internalIPs: ip ? [ip] : [] });
  const run = (kube: KubeNode[], names = ['n1', 'n2']) => {
    const ctx = setup();
    return kubeChecks(names, ctx.nodes, kube, CLUSTER);
  };

  test('agreement: no findings (matched by name, or by InternalIP under another name; IPv6 ranges ignored)', () => {
    assert.deepEqual(run([k('n1', [S1.podCIDR, 'fd00:10:244::/64']), k('worker-b', [S2.podCIDR], S2.ip)]), []);
  });
  test('a Node without spec.podCIDR (no allocation by the controller manager) is fine', () => {
    assert.deepEqual(run([k('n1', []), k('n2', [])]), []);
  });
  test('the API assigned another range than the node uses: error naming both, fix pins the API value', () => {
    const f = run([k('n1', [S1.podCIDR]), k('n2', ['10.244.9.0/24'])]);
    assert.deepEqual(ids(f), ['n2:kube-podcidr']);
    assert.equal(f[0]!.severity, 'error');
    assert.match(f[0]!.message, /10\.244\.9\.0\/24 .* hands out 10\.244\.1\.0\/24/);
    assert.match(f[0]!.fix, /podCIDR: 10\.244\.9\.0\/24/);
  });
  test('an API range outside the cluster CIDR is a warning of its own', () => {
    const f = run([k('n1', [S1.podCIDR]), k('n2', ['10.99.1.0/24'])]);
    assert.deepEqual(f.map((x) => `${x.node}:${x.id}:${x.severity}`).sort(), ['n2:kube-podcidr:error', 'n2:kube-podcidr:warning']);
  });
  test('a machine the API does not know, and a Node the inventory does not list', () => {
    const f = run([k('n1', [S1.podCIDR]), k('stranger', [], '192.0.2.77')]);
    assert.deepEqual(ids(f), ['n2:kube-node-missing', 'stranger:kube-node-unknown']);
    assert.match(f.find((x) => x.id === 'kube-node-unknown')!.evidence, /InternalIP 192\.0\.2\.77/);
  });
  const cond = (type: string, status: string, reason?: string, message?: string): KubeNodeCondition => ({ type, status, ...(reason ? { reason } : {}), ...(message ? { message } : {}), lastTransitionTime: '2026-01-02T03:04:05Z' });
  const withConds = (name: string, podCIDR: string, ...conditions: KubeNodeCondition[]): KubeNode => ({ ...k(name, [podCIDR]), conditions });
  const ready = cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status');

  test('NetworkUnavailable=True: an error naming the reason, the taint, and podnet up as the fix; False or absent is fine', () => {
    const f = run([withConds('n1', S1.podCIDR, ready, cond('NetworkUnavailable', 'False', 'PodnetIsUp')), withConds('n2', S2.podCIDR, ready, cond('NetworkUnavailable', 'True', 'NoRouteCreated', 'Node created without a route'))]);
    assert.deepEqual(ids(f), ['n2:kube-network-unavailable']);
    assert.equal(f[0]!.severity, 'error');
    assert.match(f[0]!.message, /NetworkUnavailable=True \(NoRouteCreated: Node created without a route\)/);
    assert.match(f[0]!.message, /node\.kubernetes\.io\/network-unavailable:NoSchedule/);
    assert.match(f[0]!.evidence, /^Node n2 condition NetworkUnavailable=True reason NoRouteCreated: "Node created without a route" \(since 2026-01-02T03:04:05Z\)$/);
    assert.match(f[0]!.fix, /podnet up/);
    assert.match(f[0]!.fix, /reason NoRouteCreated/);
    assert.deepEqual(run([withConds('n1', S1.podCIDR, ready), withConds('n2', S2.podCIDR)]), []);
  });

  test('NotReady because the runtime has no CNI config (containerd, CRI-O and dockershim wording): error with the message as evidence', () => {
    const messages = [
      'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
      'runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:docker: network plugin is not ready: cni config uninitialized',
      'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: No CNI configuration file in /etc/cni/net.d/. Has your network provider started?',
    ];
    for (const m of messages) {
      const f = run([withConds('n1', S1.podCIDR, ready), withConds('n2', S2.podCIDR, cond('Ready', 'False', 'KubeletNotReady', m))]);
      assert.deepEqual(ids(f), ['n2:kube-node-notready-cni'], m);
      assert.equal(f[0]!.severity, 'error');
      assert.ok(f[0]!.evidence.includes(JSON.stringify(m)), f[0]!.evidence);
    }
    // Unknown with the same words counts; NotReady for another reason is not this finding
    assert.deepEqual(ids(run([withConds('n2', S2.podCIDR, cond('Ready', 'Unknown', 'NodeStatusUnknown', messages[0]))], ['n2'])), ['n2:kube-node-notready-cni']);
    assert.deepEqual(run([withConds('n2', S2.podCIDR, cond('Ready', 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.'))], ['n2']), []);
    assert.deepEqual(run([withConds('n2', S2.podCIDR, cond('Ready', 'False', 'KubeletNotReady', 'PLEG is not healthy: pleg was last seen active 3m0s ago'))], ['n2']), []);
  });

  test('NotReady for CNI while the node has a live config: the runtime has not loaded it; without one: podnet up', () => {
    const notReady = cond('Ready', 'False', 'KubeletNotReady', 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized');
    const ctx = setup();
    const has = kubeChecks(['n2'], ctx.nodes, [withConds('n2', S2.podCIDR, notReady)], CLUSTER);
    assert.match(has[0]!.message, /although the node has \S+\.conflist now/);
    assert.match(has[0]!.fix, /restart the container runtime/);
    const none = kubeChecks(['n2'], [], [withConds('n2', S2.podCIDR, notReady)], CLUSTER);
    assert.deepEqual(ids(none), ['n2:kube-node-notready-cni']);
    assert.match(none[0]!.fix, /run podnet up .*podnet doctor's other findings for n2/);
  });

  test('both conditions on one Node: both findings', () => {
    const f = run([withConds('n2', S2.podCIDR, cond('Ready', 'False', 'KubeletNotReady', 'container runtime network not ready: NetworkReady=false'), cond('NetworkUnavailable', 'True', 'CalicoIsDown'))], ['n2']);
    assert.deepEqual(ids(f), ['n2:kube-network-unavailable', 'n2:kube-node-notready-cni']);
  });

  test('a Node object is read with its conditions', () => {
    const node = {
      metadata: { name: 'n1' },
      spec: { podCIDR: '10.244.0.0/24' },
      status: {
        addresses: [{ type: 'InternalIP', address: '192.0.2.11' }, { type: 'Hostname', address: 'n1' }],
        conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'm', lastTransitionTime: new Date('2026-01-02T03:04:05.000Z') }, { type: 'NetworkUnavailable', status: 'False' }],
      },
    };
    assert.deepEqual(kubeNodeOf(node), {
      name: 'n1',
      podCIDRs: ['10.244.0.0/24'],
      internalIPs: ['192.0.2.11'],
      conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'm', lastTransitionTime: '2026-01-02T03:04:05Z' }, { type: 'NetworkUnavailable', status: 'False' }],
    });
  });

  test('an unreachable node (no facts) is still matched, and not compared', () => {
    const ctx = setup();
    assert.deepEqual(kubeChecks(['n1', 'n2', 'n3'], ctx.nodes, [k('n1', [S1.podCIDR]), k('n2', [S2.podCIDR]), k('n3', ['10.244.5.0/24'])], CLUSTER), []);
  });
});

describe('runChecks: per-family checks on a dual-stack cluster', () => {
  /** The IPv4 context of setup() and its IPv6 twin: each node's IPv6 pod CIDR and address as its byFamily view. */
  function dualContexts(mutate: Mutate): CheckContext[] {
    const ctx = setup((f1, f2) => {
      dualStack(f1);
      dualStack(f2);
      f1.addrs.push({ ifname: 'eth0', family: 'inet6', local: '2001:db8::11', prefixlen: 64, scope: 'global' }, { ifname: 'cni0', family: 'inet6', local: 'fd00:10:244::1', prefixlen: 64, scope: 'global' });
      f2.addrs.push({ ifname: 'eth0', family: 'inet6', local: '2001:db8::12', prefixlen: 64, scope: 'global' }, { ifname: 'cni0', family: 'inet6', local: 'fd00:10:244:1::1', prefixlen: 64, scope: 'global' });
      for (const [f, peer, via] of [[f1, 'fd00:10:244:1::/64', '2001:db8::12'], [f2, 'fd00:10:244::/64', '2001:db8::11']] as const) {
        f.routes6.push(route('2001:db8::/64', { dev: 'eth0', protocol: 'kernel' }), route(peer, { gateway: via, dev: 'eth0', protocol: '157' }));
        f.routes6.push(route(peer === 'fd00:10:244:1::/64' ? 'fd00:10:244::/64' : 'fd00:10:244:1::/64', { dev: 'cni0', protocol: 'kernel' }));
        f.ip6tablesFilter = ['-P FORWARD ACCEPT'];
      }
      mutate(f1, f2);
    });
    const v6 = { n1: { nodeIP: '2001:db8::11', podCIDR: 'fd00:10:244::/64' }, n2: { nodeIP: '2001:db8::12', podCIDR: 'fd00:10:244:1::/64' } } as const;
    const nodes = ctx.nodes.map((n) => ({ ...n, byFamily: { ipv4: { nodeIP: n.nodeIP, podCIDR: n.podCIDR }, ipv6: v6[n.name as 'n1' | 'n2'] } }));
    const families = [IPV4, IPV6];
    return [
      { ...ctx, families, nodes },
      { ...ctx, family: IPV6, families, clusterCIDR: 'fd00:10:244::/56', serviceCIDR: undefined, nodes },
    ];
  }
  const tagged = (x: Finding[]) => x.map((f) => `${f.node}:${f.id}${f.family ? `:${f.family}` : ''}`).sort();

  test('healthy in both families: no finding', () => {
    assert.deepEqual(tagged(runChecks(dualContexts(() => {}))), []);
  });

  test('an IPv6 route gone, an ip6tables FORWARD drop, an IPv6 stale hostPort: each named with its family, IPv4 untouched', () => {
    const x = runChecks(
      dualContexts((f1, f2) => {
        f1.routes6 = f1.routes6.filter((r) => r.dst !== 'fd00:10:244:1::/64');
        f2.ip6tablesFilter = ['-P FORWARD DROP'];
        f2.ipam = { dataDir: '/var/lib/cni/networks', networks: { podnet: [] }, probeRuns: [] };
        f2.ip6tablesNat = ['-N CNI-HOSTPORT-DNAT', '-N CNI-DN-1', '-A CNI-DN-1 -p tcp -m tcp --dport 8080 -j DNAT --to-destination [fd00:10:244:1::9]:80'];
      }),
    );
    assert.deepEqual(tagged(x), ['n1:missing-route:ipv6', 'n2:forward-drop:ipv6', 'n2:nd-dropped', 'n2:stale-hostport:ipv6']);
    assert.match(x.find((f) => f.id === 'forward-drop')!.fix, /^accept the cluster CIDR: ip6tables -I FORWARD -s fd00:10:244::\/56 -j ACCEPT/);
    assert.match(x.find((f) => f.id === 'stale-hostport')!.message, /still forwards to fd00:10:244:1::9/);
  });

  test('a native nftables forward chain that accepts only the IPv4 cluster CIDR drops IPv6 pod traffic (ip6 saddr would have passed it)', () => {
    const table = (accept: string) => parseNftTable('inet', 'fw', `table inet fw {\n\tchain fwd {\n\t\ttype filter hook forward priority filter; policy drop;\n\t\t${accept}\n\t}\n}`);
    const x = runChecks(
      dualContexts((f1, f2) => {
        f1.nftTables = [table('ip saddr 10.244.0.0/16 accept\n\t\tip daddr 10.244.0.0/16 accept')];
        f2.nftTables = [table('ip saddr 10.244.0.0/16 accept\n\t\tip daddr 10.244.0.0/16 accept\n\t\tip6 saddr fd00:10:244::/56 accept\n\t\tip6 daddr fd00:10:244::/56 accept')];
      }),
    );
    assert.deepEqual(tagged(x), ['n1:nft-forward-drop:ipv6']);
    assert.match(x[0]!.fix, /nft insert rule inet fw fwd ip6 saddr fd00:10:244::\/56 accept/);
  });
});
