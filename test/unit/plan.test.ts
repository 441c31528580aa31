/**
 * Unit tests for plan/desired.ts (allocation, route kinds, MTU, CNI version, refusals), plan/diff.ts
 * (converged facts → no change; each kind of drift → the expected change) and plan/files.ts.
 * NodeFacts are built by hand from EMPTY_FACTS; inventories come from parseInventory.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import type { NodeFacts, RouteFact } from '../../src/facts/parse.js';
import { parseInventory, type Inventory } from '../../src/inventory/load.js';
import { networkOf } from '../../src/net/cidr.js';
import {
  CONFLIST_PATH,
  JUMP_RULES,
  MODULES_FILE,
  RESTORE_SCRIPT,
  SYSCTL_FILE,
  UNIT_FILE,
  conflictingRoutes,
  existingPodCidr,
  isOnLink,
  lookupRoute,
  planCluster,
  planIptables,
  renderConflist,
  sha256,
  vtepMac,
  type ClusterPlan,
  type NodePlan,
  type PeerRoute,
} from '../../src/plan/desired.js';
import { describeChange, diffNode, type Change } from '../../src/plan/diff.js';
import { EMPTY_FACTS, UNIT_TEXT, renderRestoreScript, withFiles } from '../../src/render/files.js';
import { renderNodeScript } from '../../src/render/node-script.js';
import { UserError } from '../../src/util/errors.js';

// ---- builders -----------------------------------------------------------------------------------

const BIN = '/opt/cni/bin';
const ALL_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0'];

interface NodeOpts {
  ip: string;
  prefix?: number;
  dev?: string;
  mtu?: number;
  /** default gateway */
  gateway?: string;
  routes?: RouteFact[];
  plugins?: string[];
  /** supportedVersions per plugin name (default: all) */
  versions?: Record<string, string[]>;
  binDir?: string;
  systemd?: boolean;
  sshServerAddress?: string;
  conflistSubnet?: string;
  bridgeAddr?: string;
  modprobe?: boolean;
  sysctl?: Record<string, string>;
}

function route(dst: string, extra: Partial<RouteFact> = {}): RouteFact {
  return { dst, flags: [], ...extra };
}

function nodeFacts(o: NodeOpts): NodeFacts {
  const dev = o.dev ?? 'eth0';
  const prefix = o.prefix ?? 24;
  const binDir = o.binDir ?? BIN;
  const f: NodeFacts = structuredClone(EMPTY_FACTS);
  f.hostname = `host-${o.ip}`;
  f.kernel = '6.1.0-18-amd64';
  f.systemd = o.systemd ?? false;
  f.sshServerAddress = o.sshServerAddress;
  f.tools = { ip: '/usr/sbin/ip', ...(o.modprobe === false ? {} : { modprobe: '/usr/sbin/modprobe' }) };
  f.links = [
    { ifindex: 1, ifname: 'lo', mtu: 65536, flags: ['LOOPBACK', 'UP', 'LOWER_UP'] },
    { ifindex: 2, ifname: dev, mtu: o.mtu ?? 1500, flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], address: '52:54:00:00:00:01' },
  ];
  f.addrs = [
    { ifname: 'lo', family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' },
    { ifname: dev, family: 'inet', local: o.ip, prefixlen: prefix, scope: 'global' },
  ];
  f.routes = [route(networkOf(o.ip, prefix)!.text, { dev, protocol: 'kernel', scope: 'link', prefsrc: o.ip })];
  if (o.gateway) f.routes.push(route('default', { gateway: o.gateway, dev, protocol: 'dhcp' }));
  f.routes.push(...(o.routes ?? []));
  f.sysctl = { 'net.ipv4.ip_forward': '0', 'net.bridge.bridge-nf-call-iptables': '1', ...o.sysctl };
  f.cniBinDirs = [binDir];
  f.plugins = (o.plugins ?? ['bridge', 'host-local', 'loopback', 'portmap']).map((name) => ({ dir: binDir, name, supportedVersions: o.versions?.[name] ?? ALL_VERSIONS }));
  if (o.conflistSubnet) {
    f.cniConfFiles = [{ path: CONFLIST_PATH, name: '10-podnet.conflist', text: JSON.stringify({ name: 'podnet', plugins: [{ type: 'bridge', ipam: { ranges: [[{ subnet: o.conflistSubnet }]] } }] }, null, 2) }];
  }
  if (o.bridgeAddr) {
    const [local, len] = o.bridgeAddr.split('/');
    f.links.push({ ifindex: 3, ifname: 'cni0', mtu: 1500, flags: ['UP'], kind: 'bridge' });
    f.addrs.push({ ifname: 'cni0', family: 'inet', local: local!, prefixlen: Number(len), scope: 'global' });
  }
  return f;
}

interface InvNode {
  name: string;
  address: string;
  ip?: string | string[];
  podCIDR?: string | string[];
}

function inventory(nodes: InvNode[], cluster: Record<string, unknown> = {}): Inventory {
  return parseInventory(stringify({ cluster: { podCIDR: '10.244.0.0/16', ...cluster }, nodes }), 'test');
}

/** Three nodes: n1 and n2 share 192.0.2.0/24, n3 sits behind a router in 198.51.100.0/24. */
const N1 = { name: 'n1', address: '192.0.2.11' };
const N2 = { name: 'n2', address: '192.0.2.12' };
const N3 = { name: 'n3', address: '198.51.100.13' };
function f1(o: Partial<NodeOpts> = {}): NodeFacts {
  return nodeFacts({ ip: '192.0.2.11', gateway: '192.0.2.1', ...o });
}
function f2(o: Partial<NodeOpts> = {}): NodeFacts {
  return nodeFacts({ ip: '192.0.2.12', gateway: '192.0.2.1', ...o });
}
function f3(o: Partial<NodeOpts> = {}): NodeFacts {
  return nodeFacts({ ip: '198.51.100.13', gateway: '198.51.100.1', ...o });
}

function plan(inv: Inventory, facts: Record<string, NodeFacts>): ClusterPlan {
  return planCluster(inv, new Map(Object.entries(facts)));
}

function node(p: ClusterPlan, name: string): NodePlan {
  const n = p.nodes.find((x) => x.name === name);
  assert.ok(n, `no plan for ${name}; errors: ${JSON.stringify(p.errors)}`);
  return n;
}

function routesOf(n: NodePlan): string[] {
  return n.routes.map((r) => `${r.peer} ${r.podCIDR} ${r.kind} via ${r.via} dev ${r.dev}${r.onlink ? ' onlink' : ''}`);
}

function assertUserError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    assert.match(e.message, pattern);
    assert.ok(!/\n/.test(e.message), 'one line');
    return true;
  });
}

// ---- helpers of desired.ts ----------------------------------------------------------------------

describe('vtepMac', () => {
  const cases: [string, string][] = [
    ['192.0.2.11', '0e:70:c0:00:02:0b'],
    ['10.0.0.1', '0e:70:0a:00:00:01'],
    ['255.255.255.255', '0e:70:ff:ff:ff:ff'],
  ];
  for (const [ip, mac] of cases) {
    test(`${ip} → ${mac}`, () => {
      assert.equal(vtepMac(ip), mac);
      // locally administered, unicast
      assert.equal(parseInt(mac.slice(0, 2), 16) & 0b11, 0b10);
    });
  }
});

describe('lookupRoute / isOnLink', () => {
  const facts = nodeFacts({
    ip: '192.0.2.11',
    gateway: '192.0.2.1',
    routes: [
      route('10.0.0.0/8', { gateway: '192.0.2.254', dev: 'eth0' }),
      route('10.1.0.0/16', { dev: 'eth1', scope: 'link' }),
      route('10.1.2.3', { gateway: '192.0.2.9', dev: 'eth0' }),
      route('10.1.3.0/24', { type: 'blackhole' }),
      route('10.1.4.0/24', { type: 'unicast', dev: 'eth0' }),
    ],
  });
  const cases: { ip: string; dst?: string; onlinkEth0: boolean }[] = [
    { ip: '192.0.2.12', dst: '192.0.2.0/24', onlinkEth0: true },
    { ip: '8.8.8.8', dst: 'default', onlinkEth0: false },
    { ip: '10.9.9.9', dst: '10.0.0.0/8', onlinkEth0: false },
    { ip: '10.1.9.9', dst: '10.1.0.0/16', onlinkEth0: false },
    { ip: '10.1.2.3', dst: '10.1.2.3', onlinkEth0: false },
    { ip: '10.1.3.7', dst: '10.1.0.0/16', onlinkEth0: false },
    { ip: '10.1.4.7', dst: '10.1.4.0/24', onlinkEth0: true },
  ];
  for (const c of cases) {
    test(`${c.ip} → ${c.dst ?? 'none'}`, () => {
      assert.equal(lookupRoute(facts, c.ip)?.dst, c.dst);
      assert.equal(isOnLink(facts, c.ip, 'eth0'), c.onlinkEth0);
    });
  }
  test('no routes → undefined, not on-link', () => {
    assert.equal(lookupRoute(EMPTY_FACTS, '192.0.2.12'), undefined);
    assert.equal(isOnLink(EMPTY_FACTS, '192.0.2.12', 'eth0'), false);
  });
  test('on-link on another interface than the uplink is not on-link', () => {
    assert.equal(isOnLink(facts, '10.1.9.9', 'eth1'), true);
    assert.equal(isOnLink(facts, '10.1.9.9', 'eth0'), false);
  });
});

describe('existingPodCidr', () => {
  const cases: { name: string; facts: NodeFacts; expected: string | undefined }[] = [
    { name: 'nothing', facts: f1(), expected: undefined },
    { name: 'from the podnet conflist', facts: f1({ conflistSubnet: '10.244.7.0/24' }), expected: '10.244.7.0/24' },
    { name: 'conflist wins over the bridge address', facts: f1({ conflistSubnet: '10.244.7.0/24', bridgeAddr: '10.244.9.1/24' }), expected: '10.244.7.0/24' },
    { name: 'from the bridge address', facts: f1({ bridgeAddr: '10.244.9.1/24' }), expected: '10.244.9.0/24' },
    { name: 'non-canonical subnet in the conflist falls back to the bridge', facts: f1({ conflistSubnet: '10.244.7.5/24', bridgeAddr: '10.244.9.1/24' }), expected: '10.244.9.0/24' },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(existingPodCidr(c.facts, 'cni0'), c.expected));
  }
  test('another CNI\'s conflist is not podnet\'s', () => {
    const f = f1();
    f.cniConfFiles = [{ path: '/etc/cni/net.d/10-flannel.conflist', name: '10-flannel.conflist', text: '{"subnet": "10.244.3.0/24"}' }];
    assert.equal(existingPodCidr(f, 'cni0'), undefined);
  });
});

describe('conflictingRoutes', () => {
  const cases: { name: string; r: RouteFact; conflict: boolean }[] = [
    { name: 'foreign route inside the cluster CIDR', r: route('10.244.3.0/24', { gateway: '192.0.2.50', dev: 'eth0' }), conflict: true },
    { name: 'foreign route around the cluster CIDR', r: route('10.0.0.0/8', { gateway: '192.0.2.254', dev: 'eth0' }), conflict: true },
    { name: 'foreign host route', r: route('10.244.3.4', { dev: 'tun0' }), conflict: true },
    { name: 'podnet route (proto 157)', r: route('10.244.3.0/24', { gateway: '192.0.2.12', dev: 'eth0', protocol: '157' }), conflict: false },
    { name: 'connected route of the bridge', r: route('10.244.0.0/24', { dev: 'cni0', protocol: 'kernel' }), conflict: false },
    { name: 'route on the overlay device', r: route('10.244.5.0/24', { dev: 'podnet.1' }), conflict: false },
    { name: 'default route', r: route('default', { gateway: '192.0.2.1', dev: 'eth0' }), conflict: false },
    { name: 'disjoint route', r: route('10.245.0.0/16', { gateway: '192.0.2.1', dev: 'eth0' }), conflict: false },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const f = f1({ routes: [c.r] });
      assert.deepEqual(conflictingRoutes(f, '10.244.0.0/16', 'cni0', 'podnet.1'), c.conflict ? [c.r] : []);
    });
  }
});

describe('renderConflist / planIptables', () => {
  test('conflist', () => {
    const c = renderConflist({ cniVersion: '1.0.0', bridge: 'cni0', mtu: 1450, ranges: [{ podCIDR: '10.244.1.0/24', gateway: '10.244.1.1', clusterCIDR: '10.244.0.0/16', egress: true }] });
    assert.deepEqual(c, {
      cniVersion: '1.0.0',
      name: 'podnet',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          mtu: 1450,
          ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.1.0/24', gateway: '10.244.1.1' }]], routes: [{ dst: '10.244.0.0/16' }, { dst: '0.0.0.0/0' }] },
        },
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      ],
    });
  });
  test('conflist without egress has no default route', () => {
    const c = renderConflist({ cniVersion: '0.4.0', bridge: 'br9', mtu: 1500, ranges: [{ podCIDR: '10.244.1.0/24', gateway: '10.244.1.1', clusterCIDR: '10.244.0.0/16', egress: false }] });
    const plugins = c.plugins as { ipam?: { routes: unknown } }[];
    assert.deepEqual(plugins[0]!.ipam!.routes, [{ dst: '10.244.0.0/16' }]);
  });
  test('iptables with masquerade', () => {
    assert.deepEqual(planIptables('10.244.0.0/16', '10.244.1.0/24', true), {
      filter: ['-A PODNET-FORWARD -s 10.244.0.0/16 -m comment --comment podnet -j ACCEPT', '-A PODNET-FORWARD -d 10.244.0.0/16 -m comment --comment podnet -j ACCEPT'],
      nat: ['-A PODNET-POSTROUTING -s 10.244.1.0/24 ! -d 10.244.0.0/16 -m comment --comment podnet -j MASQUERADE'],
    });
  });
  test('iptables without masquerade', () => {
    assert.deepEqual(planIptables('10.244.0.0/16', '10.244.1.0/24', false).nat, []);
  });
  test('jump rules', () => {
    assert.equal(JUMP_RULES.filter, '-A FORWARD -m comment --comment podnet -j PODNET-FORWARD');
    assert.equal(JUMP_RULES.nat, '-A POSTROUTING -m comment --comment podnet -j PODNET-POSTROUTING');
  });
});

// ---- planCluster ------------------------------------------------------------------------------------

describe('planCluster: allocation', () => {
  test('fresh nodes get subnets in inventory order, deterministically', () => {
    const inv = inventory([N1, N2, { name: 'n4', address: '192.0.2.14' }]);
    const facts = { n1: f1(), n2: f2(), n4: nodeFacts({ ip: '192.0.2.14', gateway: '192.0.2.1' }) };
    const a = plan(inv, facts);
    const b = plan(inv, facts);
    assert.deepEqual(a, b);
    assert.deepEqual(
      a.nodes.map((n) => [n.name, n.podCIDR, n.podCIDRSource, n.gateway]),
      [
        ['n1', '10.244.0.0/24', 'allocated', '10.244.0.1'],
        ['n2', '10.244.1.0/24', 'allocated', '10.244.1.1'],
        ['n4', '10.244.2.0/24', 'allocated', '10.244.2.1'],
      ],
    );
    assert.deepEqual(a.errors, []);
  });

  test('a node with an existing podnet conflist keeps its CIDR; others fill around it', () => {
    const inv = inventory([N1, N2, { name: 'n4', address: '192.0.2.14' }]);
    const p = plan(inv, { n1: f1(), n2: f2({ conflistSubnet: '10.244.0.0/24' }), n4: nodeFacts({ ip: '192.0.2.14', gateway: '192.0.2.1' }) });
    assert.deepEqual(
      p.nodes.map((n) => [n.name, n.podCIDR, n.podCIDRSource]),
      [
        ['n1', '10.244.1.0/24', 'allocated'],
        ['n2', '10.244.0.0/24', 'existing'],
        ['n4', '10.244.2.0/24', 'allocated'],
      ],
    );
  });

  test('stability: removing a node does not renumber the others once they are set up', () => {
    const before = plan(inventory([N1, N2]), { n1: f1(), n2: f2() });
    const cidr2 = node(before, 'n2').podCIDR;
    const after = plan(inventory([N2]), { n2: f2({ conflistSubnet: cidr2 }) });
    assert.equal(node(after, 'n2').podCIDR, cidr2);
    assert.equal(node(after, 'n2').podCIDRSource, 'existing');
  });

  test('a pinned podCIDR wins', () => {
    const p = plan(inventory([{ ...N1, podCIDR: '10.244.9.0/24' }, N2]), { n1: f1({ conflistSubnet: '10.244.0.0/24' }), n2: f2() });
    assert.deepEqual(
      p.nodes.map((n) => [n.name, n.podCIDR, n.podCIDRSource]),
      [
        ['n1', '10.244.9.0/24', 'pinned'],
        ['n2', '10.244.0.0/24', 'allocated'],
      ],
    );
  });

  test('existing CIDR read from the bridge address', () => {
    const p = plan(inventory([N1, N2]), { n1: f1(), n2: f2({ bridgeAddr: '10.244.4.1/24' }) });
    assert.equal(node(p, 'n2').podCIDR, '10.244.4.0/24');
    assert.equal(node(p, 'n2').podCIDRSource, 'existing');
  });
});

describe('planCluster: route kinds and MTU', () => {
  test('auto: direct for on-link peers, overlay for peers behind a gateway, MTU = min uplink − 50', () => {
    const p = plan(inventory([N1, N2, N3]), { n1: f1({ mtu: 9000 }), n2: f2({ mtu: 1500 }), n3: f3({ mtu: 1400 }) });
    assert.equal(p.mode, 'auto');
    assert.equal(p.mtu, 1350);
    assert.ok(p.nodes.every((n) => n.mtu === 1350));
    const n1 = node(p, 'n1');
    assert.deepEqual(routesOf(n1), ['n2 10.244.1.0/24 direct via 192.0.2.12 dev eth0', 'n3 10.244.2.0/24 overlay via 10.244.2.0 dev podnet.1 onlink']);
    assert.deepEqual(n1.vxlan, {
      device: 'podnet.1',
      vni: 1,
      port: 8472,
      local: '192.0.2.11',
      uplink: 'eth0',
      mac: '0e:70:c0:00:02:0b',
      addresses: ['10.244.0.0'],
      mtu: 8950,
      peers: [{ peer: 'n3', family: 'ipv4', nodeIP: '198.51.100.13', vtepAddress: '10.244.2.0', mac: '0e:70:c6:33:64:0d' }],
    });
    assert.equal(n1.uplinkMtu, 9000);
    const conflist = n1.conflist as { cniVersion: string; plugins: { mtu?: number }[] };
    assert.equal(conflist.plugins[0]!.mtu, 1350);
    assert.deepEqual(routesOf(node(p, 'n3')), ['n1 10.244.0.0/24 overlay via 10.244.0.0 dev podnet.1 onlink', 'n2 10.244.1.0/24 overlay via 10.244.1.0 dev podnet.1 onlink']);
    assert.equal(node(p, 'n3').vxlan?.peers.length, 2);
  });

  test('auto with all peers on-link: all direct, no overlay, MTU = min uplink', () => {
    const p = plan(inventory([N1, N2]), { n1: f1({ mtu: 1500 }), n2: f2({ mtu: 1450 }) });
    assert.equal(p.mtu, 1450);
    for (const n of p.nodes) {
      assert.ok(n.routes.every((r) => r.kind === 'direct' && !r.onlink && r.dev === 'eth0'));
      assert.equal(n.vxlan, undefined);
      assert.equal(n.vxlanDevice, 'podnet.1');
    }
  });

  test('cluster.mtu overrides the derived MTU', () => {
    const p = plan(inventory([N1, N3], { mtu: 1200 }), { n1: f1(), n3: f3() });
    assert.equal(p.mtu, 1200);
    assert.equal(node(p, 'n1').mtu, 1200);
  });

  test('a single node: no routes, MTU = its uplink', () => {
    const p = plan(inventory([N1]), { n1: f1({ mtu: 1492 }) });
    assert.deepEqual(node(p, 'n1').routes, []);
    assert.equal(p.mtu, 1492);
  });

  test('host-gw with all peers on-link: direct routes', () => {
    const p = plan(inventory([N1, N2], { mode: 'host-gw' }), { n1: f1(), n2: f2() });
    assert.deepEqual(routesOf(node(p, 'n1')), ['n2 10.244.1.0/24 direct via 192.0.2.12 dev eth0']);
  });

  test('host-gw with a peer behind a router → UserError naming cluster.mode', () => {
    assertUserError(() => plan(inventory([N1, N2, N3], { mode: 'host-gw' }), { n1: f1(), n2: f2(), n3: f3() }), /^cluster\.mode: host-gw .*n3 \(198\.51\.100\.13\)/);
  });

  test('vxlan: every route through the overlay, MTU − 50, custom device/vni/port', () => {
    const p = plan(inventory([N1, N2], { mode: 'vxlan', vxlan: { device: 'vx0', vni: 42, port: 4789 } }), { n1: f1(), n2: f2() });
    assert.equal(p.mtu, 1450);
    for (const n of p.nodes) {
      assert.ok(n.routes.every((r) => r.kind === 'overlay' && r.onlink && r.dev === 'vx0'));
      assert.equal(n.vxlan?.vni, 42);
      assert.equal(n.vxlan?.port, 4789);
      assert.equal(n.vxlan?.mtu, 1450);
    }
    assert.deepEqual(routesOf(node(p, 'n1')), ['n2 10.244.1.0/24 overlay via 10.244.1.0 dev vx0 onlink']);
  });
});

describe('planCluster: per-node facts', () => {
  test('missing plugins → a plan error for that node, not a throw; peers still route to it', () => {
    const p = plan(inventory([N1, N2]), { n1: f1(), n2: f2({ plugins: ['bridge', 'loopback'] }) });
    assert.deepEqual(p.nodes.map((n) => n.name), ['n1']);
    assert.equal(p.errors.length, 1);
    assert.equal(p.errors[0]!.name, 'n2');
    assert.equal(p.errors[0]!.step, 'plan');
    assert.match(p.errors[0]!.error, /host-local, portmap missing/);
    assert.ok(p.errors[0]!.hint);
    assert.deepEqual(routesOf(node(p, 'n1')), ['n2 10.244.1.0/24 direct via 192.0.2.12 dev eth0']);
  });

  test('no plugins at all', () => {
    const p = plan(inventory([N1]), { n1: f1({ plugins: [] }) });
    assert.deepEqual(p.nodes, []);
    assert.match(p.errors[0]!.error, /CNI plugins bridge, host-local, portmap missing/);
  });

  test('node without facts (unreachable) is skipped, no error from the planner', () => {
    const p = plan(inventory([N1, N2]), { n1: f1() });
    assert.deepEqual(p.nodes.map((n) => n.name), ['n1']);
    assert.deepEqual(p.errors, []);
    assert.deepEqual(node(p, 'n1').routes, []);
  });

  test('some of the cluster\'s nodes (-l/--node): podnet\'s routes to the others are kept, never allocated to the picked ones', () => {
    // n1 has podnet's route to a Node this run does not read (10.244.7.0/24 via 192.0.2.17)
    const other = route('10.244.7.0/24', { gateway: '192.0.2.17', dev: 'eth0', protocol: '157' });
    const inv = inventory([N1, N2]);
    const full = plan(inv, { n1: f1({ routes: [other] }), n2: f2() });
    assert.ok(diffNode(node(full, 'n1'), f1({ routes: [other] })).some((c) => c.kind === 'route-del' && c.dst === '10.244.7.0/24'), 'the whole cluster: a route to no node goes');
    const partial = plan({ ...inv, partial: true }, { n1: f1({ routes: [other] }), n2: f2() });
    assert.ok(!diffNode(node(partial, 'n1'), f1({ routes: [other] })).some((c) => c.kind === 'route-del'), 'a part of it: the route to the others stays');
    assert.ok(routesOf(node(partial, 'n1')).some((r) => r.includes('10.244.7.0/24')));
    assert.ok(partial.nodes.every((n) => n.families[0]!.podCIDR !== '10.244.7.0/24'));
  });

  test('hostname address without ip nor SSH server address → error "cannot tell the node IP"', () => {
    const p = plan(inventory([{ name: 'n1', address: 'node-1.example.com' }]), { n1: f1() });
    assert.deepEqual(p.nodes, []);
    assert.match(p.errors[0]!.error, /cannot tell the node IP/);
  });

  test('hostname address: the node IP comes from the SSH server address', () => {
    const p = plan(inventory([{ name: 'n1', address: 'node-1.example.com' }]), { n1: f1({ sshServerAddress: '192.0.2.11' }) });
    assert.equal(node(p, 'n1').nodeIP, '192.0.2.11');
  });

  test('node IP not on any interface → error', () => {
    const p = plan(inventory([{ ...N1, ip: '192.0.2.99' }]), { n1: f1() });
    assert.match(p.errors[0]!.error, /no interface on n1 holds its node IP 192\.0\.2\.99/);
  });

  describe('cniVersion: the highest podnet version all required plugins support', () => {
    const cases: { name: string; versions: Record<string, string[]>; expected?: string }[] = [
      { name: 'all support 1.0.0', versions: {}, expected: '1.0.0' },
      { name: 'portmap lacks 1.0.0', versions: { portmap: ['0.3.1', '0.4.0'] }, expected: '0.4.0' },
      { name: 'only 0.3.1 in common', versions: { bridge: ['0.3.0', '0.3.1', '1.0.0'], 'host-local': ['0.3.1', '0.4.0'] }, expected: '0.3.1' },
      { name: 'loopback does not matter', versions: { loopback: ['0.1.0'] }, expected: '1.0.0' },
      { name: 'nothing in common → plan error', versions: { bridge: ['0.3.1'], portmap: ['1.0.0'] } },
      { name: 'unknown versions (VERSION not answered) → plan error', versions: { 'host-local': [] } },
    ];
    for (const c of cases) {
      test(c.name, () => {
        const p = plan(inventory([N1]), { n1: f1({ versions: c.versions }) });
        if (c.expected) {
          assert.equal(node(p, 'n1').cniVersion, c.expected);
          assert.equal((node(p, 'n1').conflist as { cniVersion: string }).cniVersion, c.expected);
        } else {
          assert.deepEqual(p.nodes, []);
          assert.match(p.errors[0]!.error, /support none of the versions/);
        }
      });
    }
  });

  test('bin dir: the first dir holding all required plugins; cluster.cniBinDir wins', () => {
    const f = f1();
    f.cniBinDirs = ['/usr/lib/cni', BIN];
    f.plugins = [{ dir: '/usr/lib/cni', name: 'bridge', supportedVersions: ALL_VERSIONS }, ...f.plugins];
    assert.equal(node(plan(inventory([N1]), { n1: f }), 'n1').cniBinDir, BIN);
    const p = plan(inventory([N1], { cniBinDir: '/usr/lib/cni' }), { n1: f });
    assert.match(p.errors[0]!.error, /host-local, portmap missing in \/usr\/lib\/cni/);
  });

  test('sysctls, modules, persistence', () => {
    const p = plan(inventory([N1, N2]), { n1: f1({ systemd: true }), n2: f2({ modprobe: false, sysctl: { 'net.bridge.bridge-nf-call-iptables': '-' } }) });
    assert.deepEqual(node(p, 'n1').sysctls, { 'net.ipv4.ip_forward': '1', 'net.bridge.bridge-nf-call-iptables': '1' });
    assert.deepEqual(node(p, 'n1').modules, ['br_netfilter']);
    assert.equal(node(p, 'n1').persistence, 'systemd');
    assert.deepEqual(node(p, 'n2').sysctls, { 'net.ipv4.ip_forward': '1' });
    assert.deepEqual(node(p, 'n2').modules, []);
    assert.equal(node(p, 'n2').persistence, 'none');
  });

  test('masquerade: false → no nat rules and no default route in the conflist', () => {
    const n1 = node(plan(inventory([N1], { masquerade: false }), { n1: f1() }), 'n1');
    assert.deepEqual(n1.families[0]!.iptables.nat, []);
    assert.equal(JSON.stringify(n1.conflist).includes('0.0.0.0/0'), false);
  });
});

describe('planCluster: refusals', () => {
  test('a cluster CIDR overlapping an existing foreign route → UserError', () => {
    const facts = { n1: f1(), n2: f2({ routes: [route('10.244.0.0/20', { gateway: '192.0.2.77', dev: 'eth0', protocol: 'static' })] }) };
    assertUserError(() => plan(inventory([N1, N2]), facts), /^cluster\.podCIDR: 10\.244\.0\.0\/16 overlaps the route "10\.244\.0\.0\/20 via 192\.0\.2\.77 dev eth0" on node n2 \(nodes\[1\]\)/);
  });

  test('a foreign route on a peer\'s pod CIDR: that node is not planned, with the route, whose CIDR and the fix; the others are', () => {
    const facts = { n1: f1(), n2: f2({ routes: [route('10.244.0.0/24', { gateway: '192.0.2.77', dev: 'eth0', protocol: 'static' })] }) };
    const p = plan(inventory([N1, N2]), facts);
    assert.deepEqual(p.nodes.map((n) => n.name), ['n1']);
    assert.deepEqual(p.errors, [
      {
        name: 'n2',
        step: 'plan',
        error: 'the route "10.244.0.0/24 via 192.0.2.77 dev eth0" (proto static) was not created by podnet and takes the pod CIDR 10.244.0.0/24 of n1; podnet never replaces routes it did not create',
        hint: 'if nothing needs it, remove it on n2: ip route del 10.244.0.0/24 via 192.0.2.77 dev eth0; then run podnet up again',
      },
    ]);
  });

  test('podnet\'s own routes and the bridge route are not conflicts', () => {
    const facts = {
      n1: f1({ routes: [route('10.244.1.0/24', { gateway: '192.0.2.12', dev: 'eth0', protocol: '157' }), route('10.244.0.0/24', { dev: 'cni0', protocol: 'kernel' })] }),
      n2: f2(),
    };
    assert.equal(plan(inventory([N1, N2]), facts).nodes.length, 2);
  });

  test('an interface address inside the cluster CIDR → UserError', () => {
    const f = f1();
    f.addrs.push({ ifname: 'eth1', family: 'inet', local: '10.244.200.5', prefixlen: 32, scope: 'global' });
    assertUserError(() => plan(inventory([N1]), { n1: f }), /^cluster\.podCIDR: .*contains address 10\.244\.200\.5 of eth1 on node n1/);
  });

  test('the SSH-derived node IP inside the cluster CIDR → UserError', () => {
    const f = nodeFacts({ ip: '10.244.0.5', prefix: 8, sshServerAddress: '10.244.0.5' });
    assertUserError(() => plan(inventory([{ name: 'n1', address: 'node-1.example.com' }]), { n1: f }), /^cluster\.podCIDR: .*contains the IP 10\.244\.0\.5 of node n1/);
  });
});

describe('planCluster: interfaces podnet does not own are refused before anything else', () => {
  const withLink = (f: NodeFacts, link: Partial<NodeFacts['links'][number]> & { ifname: string }, addrs: string[] = []): NodeFacts => {
    f.links.push({ ifindex: 40 + f.links.length, mtu: 1500, flags: ['UP'], ...link });
    for (const a of addrs) f.addrs.push({ ifname: link.ifname, family: 'inet', local: a.split('/')[0]!, prefixlen: Number(a.split('/')[1]), scope: 'global' });
    return f;
  };
  const cases: { name: string; cluster: Record<string, unknown>; facts: () => NodeFacts; error: RegExp }[] = [
    { name: 'bridge: eth0 (the uplink, with podnet state present)', cluster: { bridge: 'eth0' }, facts: () => f1({ conflistSubnet: '10.244.0.0/24' }), error: /^cluster\.bridge: eth0 on node n1 \(nodes\[0\]\) is a network interface holding 192\.0\.2\.11\/24, not a bridge podnet made; expected/ },
    { name: 'bridge: lo', cluster: { bridge: 'lo' }, facts: () => f1(), error: /^cluster\.bridge: lo on node n1 \(nodes\[0\]\) is the loopback device holding 127\.0\.0\.1\/8, not a bridge/ },
    { name: 'bridge: a veth', cluster: { bridge: 'veth0' }, facts: () => withLink(f1(), { ifname: 'veth0', kind: 'veth' }), error: /^cluster\.bridge: veth0 on node n1 \(nodes\[0\]\) is a veth device, not a bridge/ },
    { name: 'a foreign bridge named cni0 with its own address', cluster: {}, facts: () => withLink(f1(), { ifname: 'cni0', kind: 'bridge' }, ['172.31.9.1/24']), error: /^cluster\.bridge: bridge cni0 on node n1 \(nodes\[0\]\) was not created by podnet \(it is a bridge holding 172\.31\.9\.1\/24\); podnet never changes or deletes a bridge that is not its own$/ },
    { name: 'a foreign bridge without addresses', cluster: {}, facts: () => withLink(f1(), { ifname: 'cni0', kind: 'bridge' }), error: /^cluster\.bridge: bridge cni0 on node n1 \(nodes\[0\]\) was not created by podnet/ },
    { name: 'a pod-looking bridge with a physical port', cluster: {}, facts: () => withLink(withLink(f1(), { ifname: 'cni0', kind: 'bridge' }, ['10.244.0.1/24']), { ifname: 'eth1', master: 'cni0' }), error: /was not created by podnet \(it is a bridge holding 10\.244\.0\.1\/24 with non-pod ports\)/ },
    { name: 'vxlan.device: eth0', cluster: { vxlan: { device: 'eth0' } }, facts: () => f1(), error: /^cluster\.vxlan\.device: eth0 on node n1 \(nodes\[0\]\) is a network interface holding 192\.0\.2\.11\/24 that podnet did not create; expected/ },
    { name: 'vxlan.device: another CNI\'s VXLAN', cluster: { vxlan: { device: 'flannel.1' } }, facts: () => withLink(f1(), { ifname: 'flannel.1', kind: 'vxlan' }), error: /^cluster\.vxlan\.device: flannel\.1 on node n1 \(nodes\[0\]\) is a vxlan device that podnet did not create/ },
  ];
  for (const c of cases) {
    test(c.name, () => assertUserError(() => plan(inventory([N1, N2], c.cluster), { n1: c.facts(), n2: f2() }), c.error));
  }

  test('an unmarked bridge holding only pod addresses of the cluster, with only veths, is adopted (and said)', () => {
    const f = withLink(withLink(f1(), { ifname: 'cni0', kind: 'bridge' }, ['10.244.0.1/24']), { ifname: 'veth9', kind: 'veth', master: 'cni0' });
    const p = plan(inventory([N1, N2]), { n1: f, n2: f2() });
    const changes = diffNode(withFiles(node(p, 'n1')), f);
    assert.deepEqual(changes.filter((c) => c.kind === 'bridge-adopt'), [{ kind: 'bridge-adopt', bridge: 'cni0' }]);
    assert.match(describeChange({ kind: 'bridge-adopt', bridge: 'cni0' }), /^adopt bridge cni0 /);
  });

  test('an unmarked pod-looking bridge is not adopted when another CNI is configured on the node (flannel\'s cni0)', () => {
    const f = withLink(withLink(f1(), { ifname: 'cni0', kind: 'bridge' }, ['10.244.0.1/24']), { ifname: 'veth9', kind: 'veth', master: 'cni0' });
    f.cniConfFiles = [{ path: '/etc/cni/net.d/10-flannel.conflist', name: '10-flannel.conflist', text: '{"name":"cbr0","plugins":[{"type":"flannel"}]}' }];
    assertUserError(() => plan(inventory([N1, N2]), { n1: f, n2: f2() }), /^cluster\.bridge: bridge cni0 on node n1 \(nodes\[0\]\) was not created by podnet \(it is a bridge holding 10\.244\.0\.1\/24; the node has another CNI config: 10-flannel\.conflist\)/);
  });

  test('podnet\'s own bridge (marked) is never refused, whatever it holds', () => {
    const f = withLink(f1(), { ifname: 'cni0', kind: 'bridge', alias: 'podnet' }, ['172.31.9.1/24']);
    const changes = diffNode(withFiles(node(plan(inventory([N1, N2]), { n1: f, n2: f2() }), 'n1')), f);
    assert.ok(changes.some((c) => c.kind === 'bridge-addr-del' && c.address === '172.31.9.1/24'));
    assert.ok(!changes.some((c) => c.kind === 'bridge-adopt'));
  });
});

describe('planCluster: IPv6', () => {
  // The inventory accepts an IPv6 cluster.podCIDR (with nodeMaskSize 64 by default), so the planner must
  // either refuse it up front or produce a plan made of valid values.
  test('an IPv6 cluster is refused with a UserError or planned with valid values', () => {
    const inv = inventory([{ name: 'n1', address: '2001:db8::11' }, { name: 'n2', address: '2001:db8::12' }], { podCIDR: 'fd00:10:244::/56' });
    const v6 = (ip: string): NodeFacts => {
      const f = nodeFacts({ ip, prefix: 64 });
      f.addrs = f.addrs.map((a) => (a.local === ip ? { ...a, family: 'inet6' as const } : a));
      f.routes6 = f.routes;
      f.routes = [];
      return f;
    };
    let p: ClusterPlan;
    try {
      p = plan(inv, { n1: v6('2001:db8::11'), n2: v6('2001:db8::12') });
    } catch (e) {
      assert.ok(e instanceof UserError, String(e));
      return;
    }
    for (const n of p.nodes) {
      for (const mac of [n.vxlan?.mac, ...(n.vxlan?.peers ?? []).map((x) => x.mac)]) {
        if (mac !== undefined) assert.match(mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      }
      assert.doesNotMatch(JSON.stringify(n.conflist), /0\.0\.0\.0\/0/);
      assert.deepEqual(n.routes.map((r) => r.kind), ['direct'], 'peers on the same /64 are on-link');
    }
  });
});

describe('planCluster: dual-stack', () => {
  /** A node with an IPv6 address beside its IPv4 one on the uplink (and the on-link IPv6 route). */
  function dual(f: NodeFacts, ip6: string, extra: RouteFact[] = []): NodeFacts {
    f.addrs.push({ ifname: 'eth0', family: 'inet6', local: ip6, prefixlen: 64, scope: 'global' }, { ifname: 'eth0', family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' });
    f.routes6 = [route(`${networkOf(ip6, 64)!.text}`, { dev: 'eth0', protocol: 'kernel' }), ...extra];
    f.sysctl['net.ipv6.conf.all.forwarding'] = '0';
    f.sysctl['net.bridge.bridge-nf-call-ip6tables'] = '1';
    return f;
  }
  const inv = (cluster: Record<string, unknown> = {}) => inventory([N1, N2, N3], { podCIDR: ['10.244.0.0/16', 'fd00:10:244::/56'], ...cluster });
  const facts = () => ({ n1: dual(f1(), '2001:db8:a::11'), n2: dual(f2(), '2001:db8:a::12'), n3: dual(f3(), '2001:db8:b::13') });

  test('one pod CIDR and gateway per family; routes per family: direct to the peer\'s IPv6 address on-link, else the overlay', () => {
    const p = plan(inv(), facts());
    assert.deepEqual(p.clusterCIDRs, ['10.244.0.0/16', 'fd00:10:244::/56']);
    const n1 = node(p, 'n1');
    assert.deepEqual(n1.families.map((x) => [x.family, x.podCIDR, x.gateway, x.nodeIP]), [
      ['ipv4', '10.244.0.0/24', '10.244.0.1', '192.0.2.11'],
      ['ipv6', 'fd00:10:244::/64', 'fd00:10:244::1', '2001:db8:a::11'],
    ]);
    assert.deepEqual(routesOf(n1), [
      'n2 10.244.1.0/24 direct via 192.0.2.12 dev eth0',
      'n3 10.244.2.0/24 overlay via 10.244.2.0 dev podnet.1 onlink',
      'n2 fd00:10:244:1::/64 direct via 2001:db8:a::12 dev eth0',
      'n3 fd00:10:244:2::/64 overlay via fd00:10:244:2:: dev podnet.1 onlink',
    ]);
    assert.deepEqual(n1.routes.map((r) => r.family), ['ipv4', 'ipv4', 'ipv6', 'ipv6']);
    // One overlay over the IPv4 underlay carries both families: a VTEP address and a neighbour per family, one FDB peer.
    assert.deepEqual(n1.vxlan?.addresses, ['10.244.0.0', 'fd00:10:244::']);
    assert.deepEqual(n1.vxlan?.peers.map((x) => [x.family, x.vtepAddress, x.nodeIP]), [['ipv4', '10.244.2.0', '198.51.100.13'], ['ipv6', 'fd00:10:244:2::', '198.51.100.13']]);
    assert.equal(p.mtu, 1450);
    const ipam = (n1.conflist.plugins as { ipam?: { ranges: unknown; routes: unknown } }[])[0]!.ipam!;
    assert.deepEqual(ipam.ranges, [[{ subnet: '10.244.0.0/24', gateway: '10.244.0.1' }], [{ subnet: 'fd00:10:244::/64', gateway: 'fd00:10:244::1' }]]);
    assert.deepEqual(ipam.routes, [{ dst: '10.244.0.0/16' }, { dst: 'fd00:10:244::/56' }, { dst: '0.0.0.0/0' }, { dst: '::/0' }]);
    assert.equal(n1.sysctls['net.ipv6.conf.all.forwarding'], '1');
    assert.equal(n1.sysctls['net.bridge.bridge-nf-call-ip6tables'], '1');
    // ip6tables: the cluster CIDR both ways and neighbour discovery; no IPv6 masquerade unless asked.
    assert.deepEqual(n1.families[1]!.iptables, {
      filter: [
        '-A PODNET-FORWARD -s fd00:10:244::/56 -m comment --comment podnet -j ACCEPT',
        '-A PODNET-FORWARD -d fd00:10:244::/56 -m comment --comment podnet -j ACCEPT',
        '-A PODNET-FORWARD -p ipv6-icmp -m icmp6 --icmpv6-type 135 -m comment --comment podnet -j ACCEPT',
        '-A PODNET-FORWARD -p ipv6-icmp -m icmp6 --icmpv6-type 136 -m comment --comment podnet -j ACCEPT',
      ],
      nat: [],
    });
    assert.deepEqual(node(plan(inv({ masquerade: true }), facts()), 'n1').families[1]!.iptables.nat, ['-A PODNET-POSTROUTING -s fd00:10:244::/64 ! -d fd00:10:244::/56 -m comment --comment podnet -j MASQUERADE']);
  });

  test('one underlay family carries the overlay for every node, whatever family a node is listed by', () => {
    const mixed = inventory([N1, N2, { ...N3, ip: ['2001:db8:b::13'] }], { podCIDR: ['10.244.0.0/16', 'fd00:10:244::/56'] });
    const p = plan(mixed, facts());
    const n1 = node(p, 'n1');
    const n3 = node(p, 'n3');
    assert.equal(n3.vxlan?.local, '198.51.100.13');
    const peer = n1.vxlan!.peers.find((x) => x.peer === 'n3')!;
    assert.equal(peer.nodeIP, '198.51.100.13');
    assert.equal(peer.mac, n3.vxlan!.mac);
    assert.equal(n3.vxlan!.peers.find((x) => x.peer === 'n1')!.mac, n1.vxlan!.mac);
  });

  test("the node's IPv6 address: a stable one (no privacy, deprecated or tentative address; permanent before dynamic; the lowest)", () => {
    const f = facts();
    f.n2.addrs = f.n2.addrs.filter((a) => a.local !== '2001:db8:a::12');
    f.n2.addrs.unshift(
      { ifname: 'eth0', family: 'inet6', local: '2001:db8:a::99', prefixlen: 64, scope: 'global', temporary: true, dynamic: true },
      { ifname: 'eth0', family: 'inet6', local: '2001:db8:a::50', prefixlen: 64, scope: 'global', dynamic: true },
      { ifname: 'eth0', family: 'inet6', local: '2001:db8:a::40', prefixlen: 64, scope: 'global', deprecated: true },
      { ifname: 'eth0', family: 'inet6', local: '2001:db8:a::30', prefixlen: 64, scope: 'global', tentative: true },
      { ifname: 'eth0', family: 'inet6', local: '2001:db8:a::20', prefixlen: 64, scope: 'global' },
      { ifname: 'eth0', family: 'inet6', local: '2001:db8:a::12', prefixlen: 64, scope: 'global' },
    );
    assert.equal(node(plan(inv(), f), 'n2').families[1]!.nodeIP, '2001:db8:a::12');
    f.n2.addrs = f.n2.addrs.filter((a) => !['2001:db8:a::12', '2001:db8:a::20'].includes(a.local));
    assert.equal(node(plan(inv(), f), 'n2').families[1]!.nodeIP, '2001:db8:a::50');
  });

  test("a node not read this run keeps its IPv6 pod CIDR although the inventory does not spell its IPv6 address", () => {
    const N3f = { name: 'n3', address: '192.0.2.13' };
    const N4 = { name: 'n4', address: '192.0.2.14' };
    const f = facts();
    // n3 is down; n1 and n2 route its CIDRs directly (n3's IPv6 address was found on n3, not written).
    for (const x of [f.n1, f.n2]) {
      x.routes.push(route('10.244.2.0/24', { gateway: '192.0.2.13', dev: 'eth0', protocol: '157' }));
      x.routes6.push(route('fd00:10:244:2::/64', { gateway: '2001:db8:a::13', dev: 'eth0', protocol: '157' }));
    }
    const p = plan(inventory([N1, N2, N4, N3f], { podCIDR: ['10.244.0.0/16', 'fd00:10:244::/56'] }), { n1: f.n1, n2: f.n2, n4: dual(nodeFacts({ ip: '192.0.2.14', gateway: '192.0.2.1' }), '2001:db8:a::14') });
    assert.deepEqual(node(p, 'n4').families.map((x) => x.podCIDR), ['10.244.3.0/24', 'fd00:10:244:3::/64']);
    assert.ok(node(p, 'n1').routes.some((r) => r.podCIDR === 'fd00:10:244:2::/64' && r.via === '2001:db8:a::13'), 'the route to n3 is kept');
  });

  test('a node with IPv6 switched off is not planned for a dual-stack cluster (named, with the fix)', () => {
    const f = facts();
    f.n2.sysctl['net.ipv6.conf.all.disable_ipv6'] = '1';
    const p = plan(inv(), f);
    assert.deepEqual(p.errors.map((e) => `${e.name}: ${e.error}`), ['n2: IPv6 is switched off on n2 (net.ipv6.conf.all.disable_ipv6 = 1): its bridge cannot hold an IPv6 gateway']);
  });

  test('a peer without an IPv6 address is reached over the overlay for IPv6 (direct for IPv4)', () => {
    const f = facts();
    f.n2 = f2();
    const n1 = node(plan(inv(), f), 'n1');
    assert.deepEqual(n1.routes.filter((r) => r.peer === 'n2').map((r) => `${r.family} ${r.kind}`), ['ipv4 direct', 'ipv6 overlay']);
    assert.equal(node(plan(inv(), f), 'n2').families[1]!.nodeIP, undefined);
  });

  test('host-gw needs every peer on-link in every family', () => {
    const f = facts();
    f.n2 = f2();
    assertUserError(() => plan(inventory([N1, N2], { podCIDR: ['10.244.0.0/16', 'fd00:10:244::/56'], mode: 'host-gw' }), { n1: f.n1, n2: f.n2 }), /^cluster\.mode: host-gw needs every peer on-link, but n2 has no IPv6 address; expected mode auto or vxlan$/);
  });

  test('an IPv6 underlay costs 70 bytes of overlay; an IPv6-only cluster plans IPv6 only', () => {
    const v6 = (ip: string, gw?: string): NodeFacts => {
      const f = nodeFacts({ ip: '192.0.2.250' });
      f.addrs = [{ ifname: 'eth0', family: 'inet6', local: ip, prefixlen: 64, scope: 'global' }];
      f.routes = [];
      f.routes6 = [route(networkOf(ip, 64)!.text, { dev: 'eth0', protocol: 'kernel' }), ...(gw ? [route('default', { gateway: gw, dev: 'eth0' })] : [])];
      return f;
    };
    const p = plan(inventory([{ name: 'a', address: '2001:db8:a::11' }, { name: 'b', address: '2001:db8:b::12' }], { podCIDR: 'fd00:10:244::/56' }), { a: v6('2001:db8:a::11', '2001:db8:a::1'), b: v6('2001:db8:b::12', '2001:db8:b::1') });
    assert.equal(p.mtu, 1430);
    const a = node(p, 'a');
    assert.deepEqual(a.families.map((x) => x.family), ['ipv6']);
    assert.deepEqual(routesOf(a), ['b fd00:10:244:1::/64 overlay via fd00:10:244:1:: dev podnet.1 onlink']);
    assert.equal(a.vxlan?.local, '2001:db8:a::11');
    assert.equal(a.vxlan?.mtu, 1430);
    assert.equal(a.vxlan?.peers[0]?.mac, vtepMac('2001:db8:b::12'));
    // Hashed: the same host part in two subnets gives two MACs.
    assert.notEqual(vtepMac('2001:db8:a::11'), vtepMac('2001:db8:b::11'));
    assert.equal(vtepMac('2001:db8:b::12'), vtepMac('2001:DB8:b:0::12'));
    assert.match(vtepMac('2001:db8:b::12'), /^0e:70(:[0-9a-f]{2}){4}$/);
    assert.equal(a.sysctls['net.ipv4.ip_forward'], undefined);
    assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(a.conflist)).plugins[0].ipam.ranges), ['0']);
  });

  test('a pod MTU below 1280 is refused for IPv6 pods', () => {
    const f = facts();
    for (const x of Object.values(f)) x.links[1]!.mtu = 1300;
    assertUserError(() => plan(inv(), f), /^cluster\.podCIDR: the pods' MTU would be 1250 \(the smallest uplink MTU 1300 less the overlay's 50 bytes\), below IPv6's minimum of 1280/);
  });

  test("the RA-learned default route survives forwarding: accept_ra 2 where the kernel learns it, nothing where a manager does", () => {
    const f = facts();
    f.n1.routes6.push(route('default', { gateway: 'fe80::1', dev: 'eth0', protocol: 'ra' }));
    f.n1.sysctl['net.ipv6.conf.eth0.accept_ra'] = '1';
    f.n2.routes6.push(route('default', { gateway: 'fe80::1', dev: 'eth0', protocol: 'ra' }));
    f.n2.sysctl['net.ipv6.conf.eth0.accept_ra'] = '0';
    f.n3.routes6.push(route('default', { gateway: 'fe80::1', dev: 'eth0.100', protocol: 'ra' }));
    f.n3.sysctl['net.ipv6.conf.eth0.100.accept_ra'] = '1';
    const p = plan(inv(), f);
    assert.equal(node(p, 'n1').sysctls['net.ipv6.conf.eth0.accept_ra'], '2');
    // Before forwarding: writing forwarding=1 drops the RA routes of interfaces not yet at 2.
    assert.deepEqual(Object.keys(node(p, 'n1').sysctls).slice(0, 2), ['net.ipv6.conf.eth0.accept_ra', 'net.ipv4.ip_forward']);
    // A VLAN interface's name has a dot: sysctl's slash form, compared with the facts' dotted key.
    assert.equal(node(p, 'n3').sysctls['net/ipv6/conf/eth0.100/accept_ra'], '2');
    const n3 = withFiles(node(p, 'n3'));
    const done = converged(n3, f.n3);
    done.sysctl['net.ipv6.conf.eth0.100.accept_ra'] = '2';
    assert.deepEqual(diffNode(n3, done).map(describeChange), []);
    assert.equal(node(p, 'n2').sysctls['net.ipv6.conf.eth0.accept_ra'], undefined);
    // Once kept, still planned: the next run changes nothing.
    f.n1.sysctl['net.ipv6.conf.eth0.accept_ra'] = '2';
    assert.equal(node(plan(inv(), f), 'n1').sysctls['net.ipv6.conf.eth0.accept_ra'], '2');
    // IPv4-only clusters never touch it.
    assert.equal(node(plan(inventory([N1, N2]), { n1: f.n1, n2: f.n2 }), 'n1').sysctls['net.ipv6.conf.eth0.accept_ra'], undefined);
  });

  test('a dual-stack node planned IPv4-only: its IPv6 gateway, routes and ip6tables chains go', () => {
    const n1 = withFiles(node(plan(inv(), facts()), 'n1'));
    const f = converged(n1, facts().n1);
    const v4 = withFiles(node(plan(inventory([N1, N2, N3]), { n1: f, n2: f2(), n3: f3() }), 'n1'));
    const changes = diffNode(v4, f);
    assert.deepEqual(changes.filter((c) => c.kind === 'iptables-remove').map(describeChange), [
      'ip6tables -t filter: remove chain PODNET-FORWARD and its jump (the cluster has no IPv6 pod network any more)',
      'ip6tables -t nat: remove chain PODNET-POSTROUTING and its jump (the cluster has no IPv6 pod network any more)',
    ]);
    assert.ok(changes.some((c) => c.kind === 'bridge-addr-del' && c.address === 'fd00:10:244::1/64'));
    assert.ok(changes.some((c) => c.kind === 'route-del' && c.dst === 'fd00:10:244:1::/64'));
    const script = renderNodeScript(changes);
    assert.match(script, /^while ip6tables -w 5 -t filter -D FORWARD -m comment --comment podnet -j PODNET-FORWARD 2>\/dev\/null; do :; done$/m);
    assert.match(script, /^if ip6tables -w 5 -t nat -S PODNET-POSTROUTING >\/dev\/null 2>&1; then ip6tables -w 5 -t nat -F PODNET-POSTROUTING && ip6tables -w 5 -t nat -X PODNET-POSTROUTING \|\| fail; fi$/m);
    // and once they are gone, nothing more
    const done = structuredClone(f);
    done.ip6tablesFilter = ['-P FORWARD ACCEPT'];
    done.ip6tablesNat = [];
    assert.ok(!diffNode(v4, done).some((c) => c.kind === 'iptables-remove'));
  });

  test('converged dual-stack facts: no change; each family drifts on its own', () => {
    const p = plan(inv(), facts());
    const n1 = withFiles(node(p, 'n1'));
    const f = converged(n1, facts().n1);
    assert.deepEqual(diffNode(n1, f).map(describeChange), []);
    const drift = structuredClone(f);
    drift.routes6 = drift.routes6.filter((r) => r.dst !== 'fd00:10:244:1::/64');
    drift.ip6tablesFilter = drift.ip6tablesFilter.filter((r) => !r.includes('icmpv6-type 135'));
    drift.addrs = drift.addrs.filter((a) => a.local !== 'fd00:10:244::1');
    assert.deepEqual(diffNode(n1, drift).map(describeChange), [
      'bridge cni0: add address fd00:10:244::1/64',
      'route fd00:10:244:1::/64 via 2001:db8:a::12 dev eth0 (direct, n2)',
      'ip6tables -t filter PODNET-FORWARD: set 4 rule(s) (had 3)',
    ]);
  });
});

// ---- diffNode -------------------------------------------------------------------------------------

/** Facts of a node on which `p` has been applied exactly, over `base`. */
function converged(p: NodePlan, base: NodeFacts): NodeFacts {
  const f = structuredClone(base);
  f.sysctl = { ...f.sysctl, ...p.sysctls };
  f.links.push({ ifindex: 10, ifname: p.bridge, mtu: p.mtu, flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], kind: 'bridge', address: '8a:00:00:00:00:01', alias: 'podnet' });
  for (const x of p.families) f.addrs.push({ ifname: p.bridge, family: x.family === 'ipv6' ? 'inet6' : 'inet', local: x.gateway, prefixlen: Number(x.podCIDR.split('/')[1]), scope: 'global' });
  if (p.vxlan) {
    const v = p.vxlan;
    f.links.push({ ifindex: 11, ifname: v.device, mtu: v.mtu, flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], kind: 'vxlan', address: v.mac, alias: 'podnet', vxlan: { id: v.vni, port: v.port, local: v.local, link: v.uplink, learning: false } });
    for (const a of v.addresses) f.addrs.push({ ifname: v.device, family: a.includes(':') ? 'inet6' : 'inet', local: a, prefixlen: a.includes(':') ? 128 : 32, scope: 'global' });
    for (const peer of v.peers) {
      if (!f.fdb.some((e) => e.mac === peer.mac && e.dst === peer.nodeIP)) f.fdb.push({ mac: peer.mac, dev: v.device, dst: peer.nodeIP });
      f.neigh.push({ dst: peer.vtepAddress, dev: v.device, lladdr: peer.mac });
    }
    // the kernel's own all-zero entry without dst is not podnet's
    f.fdb.push({ mac: '00:00:00:00:00:00', dev: v.device });
  }
  for (const x of p.families) (x.family === 'ipv6' ? f.routes6 : f.routes).push(route(x.podCIDR, { dev: p.bridge, protocol: 'kernel', scope: 'link', prefsrc: x.gateway }));
  for (const r of p.routes) (r.family === 'ipv6' ? f.routes6 : f.routes).push(route(r.podCIDR, { gateway: r.via, dev: r.dev, protocol: '157', flags: r.onlink ? ['onlink'] : [] }));
  for (const x of p.families) {
    const filter = ['-P INPUT ACCEPT', '-P FORWARD DROP', '-P OUTPUT ACCEPT', '-N PODNET-FORWARD', JUMP_RULES.filter, '-A FORWARD -j DOCKER-USER', ...x.iptables.filter];
    const nat = ['-P PREROUTING ACCEPT', '-P POSTROUTING ACCEPT', '-N PODNET-POSTROUTING', JUMP_RULES.nat, ...x.iptables.nat];
    if (x.family === 'ipv6') [f.ip6tablesFilter, f.ip6tablesNat] = [filter, nat];
    else [f.iptablesFilter, f.iptablesNat] = [filter, nat];
  }
  for (const file of p.files) {
    if (file.path.startsWith(`${f.cniConfDir}/`)) f.cniConfFiles.push({ path: file.path, name: file.path.split('/').pop()!, text: file.content });
    else f.files[file.path] = sha256(file.content);
  }
  return f;
}

function kinds(changes: Change[]): string[] {
  return changes.map((c) => c.kind);
}

describe('diffNode', () => {
  const inv = inventory([N1, N2, N3]);
  const base = { n1: f1({ systemd: true }), n2: f2(), n3: f3() };
  const cp = plan(inv, base);
  const n1 = withFiles(node(cp, 'n1'));
  const n2 = withFiles(node(cp, 'n2'));

  test('the n1 plan has a direct and an overlay route and a unit file (preconditions)', () => {
    assert.deepEqual(n1.routes.map((r) => r.kind), ['direct', 'overlay']);
    assert.ok(n1.vxlan);
    assert.ok(n1.files.some((x) => x.path === UNIT_FILE));
  });

  for (const [name, p] of [['n1 (overlay, systemd)', n1], ['n2 (overlay, no systemd)', n2]] as const) {
    test(`${name}: converged facts → no change`, () => {
      assert.deepEqual(diffNode(p, converged(p, base[p.name as 'n1' | 'n2'])), []);
    });
  }

  test('all-direct node converged → no change', () => {
    const p = withFiles(node(plan(inventory([N1, N2]), { n1: f1(), n2: f2() }), 'n1'));
    assert.equal(p.vxlan, undefined);
    assert.deepEqual(diffNode(p, converged(p, f1())), []);
  });

  test('a fresh node → every kind of setup change, in order', () => {
    assert.deepEqual(kinds(diffNode(n1, base.n1)), [
      'sysctl',
      'bridge-create',
      'bridge-addr-add',
      'vxlan-create',
      'fdb-set',
      'neigh-set',
      'route-set',
      'route-set',
      'iptables',
      'iptables',
      'file-write',
      'file-write',
      'file-write',
      'file-write',
      'file-write',
      'unit-enable',
    ]);
    const vx = diffNode(n1, base.n1).find((c) => c.kind === 'vxlan-create');
    assert.equal(vx?.kind === 'vxlan-create' && vx.recreate, false);
  });

  const drift: { name: string; mutate: (f: NodeFacts) => void; expected: (c: Change[]) => void }[] = [
    {
      name: 'missing route → route-set without from',
      mutate: (f) => {
        f.routes = f.routes.filter((r) => r.dst !== '10.244.1.0/24');
      },
      expected: (c) => {
        assert.deepEqual(kinds(c), ['route-set']);
        const ch = c[0] as Extract<Change, { kind: 'route-set' }>;
        assert.equal(ch.route.podCIDR, '10.244.1.0/24');
        assert.equal(ch.from, undefined);
      },
    },
    {
      name: 'wrong next hop → route-set with from',
      mutate: (f) => {
        f.routes.find((r) => r.dst === '10.244.1.0/24')!.gateway = '192.0.2.99';
      },
      expected: (c) => {
        assert.deepEqual(kinds(c), ['route-set']);
        assert.equal((c[0] as Extract<Change, { kind: 'route-set' }>).from, '10.244.1.0/24 via 192.0.2.99 dev eth0');
      },
    },
    {
      name: 'wrong device → route-set',
      mutate: (f) => {
        f.routes.find((r) => r.dst === '10.244.1.0/24')!.dev = 'eth1';
      },
      expected: (c) => assert.deepEqual(kinds(c), ['route-set']),
    },
    {
      name: 'overlay route without onlink → route-set',
      mutate: (f) => {
        f.routes.find((r) => r.dst === '10.244.2.0/24')!.flags = [];
      },
      expected: (c) => assert.deepEqual(kinds(c), ['route-set']),
    },
    {
      name: 'a foreign route to a peer CIDR does not count as podnet\'s',
      mutate: (f) => {
        f.routes.find((r) => r.dst === '10.244.1.0/24')!.protocol = 'static';
      },
      expected: (c) => {
        assert.deepEqual(kinds(c), ['route-set']);
        assert.equal((c[0] as Extract<Change, { kind: 'route-set' }>).from, undefined);
      },
    },
    {
      name: 'extra podnet route → route-del',
      mutate: (f) => {
        f.routes.push(route('10.244.77.0/24', { gateway: '192.0.2.77', dev: 'eth0', protocol: '157' }));
        f.routes.push(route('10.99.0.0/24', { gateway: '192.0.2.78', dev: 'eth0', protocol: 'static' }));
      },
      expected: (c) => assert.deepEqual(c, [{ kind: 'route-del', dst: '10.244.77.0/24', desc: '10.244.77.0/24 via 192.0.2.77 dev eth0' }]),
    },
    {
      name: 'stale bridge address → bridge-addr-del',
      mutate: (f) => {
        f.addrs.push({ ifname: 'cni0', family: 'inet', local: '10.244.50.1', prefixlen: 24, scope: 'global' });
      },
      expected: (c) => assert.deepEqual(c, [{ kind: 'bridge-addr-del', bridge: 'cni0', address: '10.244.50.1/24' }]),
    },
    {
      name: 'wrong bridge address → del + add',
      mutate: (f) => {
        f.addrs.find((a) => a.ifname === 'cni0')!.local = '10.244.0.2';
      },
      expected: (c) =>
        assert.deepEqual(c, [
          { kind: 'bridge-addr-del', bridge: 'cni0', address: '10.244.0.2/24' },
          { kind: 'bridge-addr-add', bridge: 'cni0', address: '10.244.0.1/24' },
        ]),
    },
    {
      name: 'bridge down → bridge-set',
      mutate: (f) => {
        f.links.find((l) => l.ifname === 'cni0')!.flags = ['BROADCAST'];
      },
      expected: (c) => assert.deepEqual(c, [{ kind: 'bridge-set', bridge: 'cni0', mtu: n1.mtu, from: `down, mtu ${n1.mtu}` }]),
    },
    {
      name: 'bridge MTU differs (no ports attached) → bridge-set',
      mutate: (f) => {
        f.links.find((l) => l.ifname === 'cni0')!.mtu = 1500;
      },
      expected: (c) => assert.deepEqual(kinds(c), ['bridge-set']),
    },
    {
      name: 'sysctl ip_forward off → sysctl',
      mutate: (f) => {
        f.sysctl['net.ipv4.ip_forward'] = '0';
      },
      expected: (c) => assert.deepEqual(c, [{ kind: 'sysctl', key: 'net.ipv4.ip_forward', from: '0', to: '1' }]),
    },
    {
      name: 'br_netfilter not loaded → module + sysctl from unset',
      mutate: (f) => {
        f.sysctl['net.bridge.bridge-nf-call-iptables'] = '-';
      },
      expected: (c) =>
        assert.deepEqual(c, [
          { kind: 'module', name: 'br_netfilter' },
          { kind: 'sysctl', key: 'net.bridge.bridge-nf-call-iptables', from: undefined, to: '1' },
        ]),
    },
    {
      name: 'iptables rules changed → one iptables change with all wanted rules',
      mutate: (f) => {
        f.iptablesFilter = f.iptablesFilter.filter((l) => !l.startsWith('-A PODNET-FORWARD -d'));
      },
      expected: (c) => assert.deepEqual(c, [{ kind: 'iptables', family: 'ipv4', table: 'filter', chain: 'PODNET-FORWARD', jump: JUMP_RULES.filter, rules: n1.families[0]!.iptables.filter, reason: 'set 2 rule(s) (had 1)' }]),
    },
    {
      name: 'iptables rules reordered → iptables change',
      mutate: (f) => {
        const rules = f.iptablesFilter.filter((l) => l.startsWith('-A PODNET-FORWARD'));
        f.iptablesFilter = [...f.iptablesFilter.filter((l) => !l.startsWith('-A PODNET-FORWARD')), ...rules.reverse()];
      },
      expected: (c) => assert.deepEqual(kinds(c), ['iptables']),
    },
    {
      name: 'nat chain and jump missing → create chain, add jump',
      mutate: (f) => {
        f.iptablesNat = ['-P POSTROUTING ACCEPT'];
      },
      expected: (c) => {
        assert.deepEqual(kinds(c), ['iptables']);
        const ch = c[0] as Extract<Change, { kind: 'iptables' }>;
        assert.equal(ch.table, 'nat');
        assert.equal(ch.reason, 'create chain PODNET-POSTROUTING; add jump from POSTROUTING; set 1 rule(s)');
      },
    },
    {
      name: 'duplicate jump → remove duplicates',
      mutate: (f) => {
        f.iptablesFilter.push(JUMP_RULES.filter, JUMP_RULES.filter);
      },
      expected: (c) => assert.equal((c[0] as Extract<Change, { kind: 'iptables' }>).reason, 'remove 2 duplicate jump(s)'),
    },
    {
      name: 'conflist content differs → file-write (exists)',
      mutate: (f) => {
        f.cniConfFiles[0]!.text = f.cniConfFiles[0]!.text.replace('"mtu": 1450', '"mtu": 1500');
      },
      expected: (c) => {
        assert.deepEqual(kinds(c), ['file-write']);
        const ch = c[0] as Extract<Change, { kind: 'file-write' }>;
        assert.equal(ch.file.path, CONFLIST_PATH);
        assert.equal(ch.exists, true);
      },
    },
    {
      name: 'restore script hash differs → file-write (exists)',
      mutate: (f) => {
        f.files[RESTORE_SCRIPT] = '0'.repeat(64);
      },
      expected: (c) => {
        assert.deepEqual(kinds(c), ['file-write']);
        assert.equal((c[0] as Extract<Change, { kind: 'file-write' }>).file.path, RESTORE_SCRIPT);
      },
    },
    {
      name: 'unit file missing → file-write (new) + unit-enable',
      mutate: (f) => {
        delete f.files[UNIT_FILE];
      },
      expected: (c) => {
        assert.deepEqual(kinds(c), ['file-write', 'unit-enable']);
        assert.equal((c[0] as Extract<Change, { kind: 'file-write' }>).exists, false);
      },
    },
    {
      name: 'a podnet file the plan no longer has → file-remove',
      mutate: (f) => {
        f.files['/etc/modules-load.d/podnet.conf.old'] = 'a'.repeat(64);
      },
      expected: (c) => assert.deepEqual(c, [{ kind: 'file-remove', path: '/etc/modules-load.d/podnet.conf.old' }]),
    },
    {
      name: 'vxlan device with wrong vni → vxlan-create recreate, and its fdb/neigh re-added',
      mutate: (f) => {
        f.links.find((l) => l.ifname === 'podnet.1')!.vxlan!.id = 2;
      },
      expected: (c) => {
        assert.deepEqual(kinds(c), ['vxlan-create', 'fdb-set', 'neigh-set']);
        const ch = c[0] as Extract<Change, { kind: 'vxlan-create' }>;
        assert.equal(ch.recreate, true);
        assert.equal(ch.vni, 1);
      },
    },
    {
      name: 'vxlan device learning → recreate',
      mutate: (f) => {
        f.links.find((l) => l.ifname === 'podnet.1')!.vxlan!.learning = true;
      },
      expected: (c) => assert.deepEqual(kinds(c), ['vxlan-create', 'fdb-set', 'neigh-set']),
    },
    {
      name: 'vxlan device lost its address → recreate',
      mutate: (f) => {
        f.addrs = f.addrs.filter((a) => a.ifname !== 'podnet.1');
      },
      expected: (c) => assert.deepEqual(kinds(c), ['vxlan-create', 'fdb-set', 'neigh-set']),
    },
    {
      name: 'vxlan device missing → create (not recreate)',
      mutate: (f) => {
        f.links = f.links.filter((l) => l.ifname !== 'podnet.1');
      },
      expected: (c) => {
        assert.deepEqual(kinds(c), ['vxlan-create', 'fdb-set', 'neigh-set']);
        assert.equal((c[0] as Extract<Change, { kind: 'vxlan-create' }>).recreate, false);
      },
    },
    {
      name: 'stale fdb entry → fdb-del',
      mutate: (f) => {
        f.fdb.push({ mac: '0e:70:c6:33:64:63', dev: 'podnet.1', dst: '198.51.100.99' });
      },
      expected: (c) => assert.deepEqual(c, [{ kind: 'fdb-del', device: 'podnet.1', mac: '0e:70:c6:33:64:63', dst: '198.51.100.99' }]),
    },
    {
      name: 'fdb entry with a wrong MAC → fdb-set + fdb-del',
      mutate: (f) => {
        f.fdb.find((e) => e.dst === '198.51.100.13')!.mac = 'aa:bb:cc:dd:ee:ff';
      },
      expected: (c) =>
        assert.deepEqual(c, [
          { kind: 'fdb-set', device: 'podnet.1', mac: '0e:70:c6:33:64:0d', dst: '198.51.100.13' },
          { kind: 'fdb-del', device: 'podnet.1', mac: 'aa:bb:cc:dd:ee:ff', dst: '198.51.100.13' },
        ]),
    },
    {
      name: 'stale neighbour → neigh-del',
      mutate: (f) => {
        f.neigh.push({ dst: '10.244.99.0', dev: 'podnet.1', lladdr: '0e:70:00:00:00:01' });
      },
      expected: (c) => assert.deepEqual(c, [{ kind: 'neigh-del', device: 'podnet.1', address: '10.244.99.0' }]),
    },
  ];
  for (const d of drift) {
    test(`drift: ${d.name}`, () => {
      const f = converged(n1, base.n1);
      d.mutate(f);
      d.expected(diffNode(n1, f));
    });
  }

  test('bridge with ports attached: its MTU is left alone', () => {
    const f = converged(n1, base.n1);
    f.links.find((l) => l.ifname === 'cni0')!.mtu = 1500;
    f.links.push({ ifindex: 20, ifname: 'veth1', mtu: 1500, flags: ['UP'], master: 'cni0', kind: 'veth' });
    assert.deepEqual(diffNode(n1, f), []);
  });

  test('podnet\'s vxlan device no longer needed → vxlan-delete; a foreign one is left alone', () => {
    const direct = withFiles(node(plan(inventory([N1, N2]), { n1: f1(), n2: f2() }), 'n1'));
    const f = converged(direct, f1());
    f.links.push({ ifindex: 11, ifname: 'podnet.1', mtu: 1450, flags: ['UP'], kind: 'vxlan', alias: 'podnet' });
    assert.deepEqual(diffNode(direct, f), [{ kind: 'vxlan-delete', device: 'podnet.1' }]);
    f.links[f.links.length - 1]!.alias = undefined;
    assert.deepEqual(diffNode(direct, f), []);
  });
});

describe('describeChange', () => {
  const r: PeerRoute = { peer: 'n2', family: 'ipv4', podCIDR: '10.244.1.0/24', kind: 'direct', via: '192.0.2.12', dev: 'eth0', onlink: false };
  const file = { path: CONFLIST_PATH, content: '{}\n', mode: '0644', sha256: sha256('{}\n') };
  const cases: [Change, string][] = [
    [{ kind: 'sysctl', key: 'net.ipv4.ip_forward', from: '0', to: '1' }, 'sysctl net.ipv4.ip_forward: 0 → 1'],
    [{ kind: 'sysctl', key: 'net.bridge.bridge-nf-call-iptables', to: '1' }, 'sysctl net.bridge.bridge-nf-call-iptables: unset → 1'],
    [{ kind: 'module', name: 'br_netfilter' }, 'load kernel module br_netfilter'],
    [{ kind: 'bridge-create', bridge: 'cni0', mtu: 1450 }, 'create bridge cni0 (mtu 1450)'],
    [{ kind: 'bridge-set', bridge: 'cni0', mtu: 1450, from: 'down, mtu 1500' }, 'bridge cni0: down, mtu 1500 → mtu 1450, up'],
    [{ kind: 'bridge-addr-add', bridge: 'cni0', address: '10.244.0.1/24' }, 'bridge cni0: add address 10.244.0.1/24'],
    [{ kind: 'bridge-addr-del', bridge: 'cni0', address: '10.244.9.1/24' }, 'bridge cni0: remove stale address 10.244.9.1/24'],
    [
      { kind: 'vxlan-create', device: 'podnet.1', vni: 1, port: 8472, local: '192.0.2.11', uplink: 'eth0', mac: '0e:70:c0:00:02:0b', mtu: 1450, addresses: ['10.244.0.0'], recreate: false },
      'create VXLAN podnet.1 (vni 1, port 8472, local 192.0.2.11, mtu 1450)',
    ],
    [
      { kind: 'vxlan-create', device: 'podnet.1', vni: 1, port: 8472, local: '192.0.2.11', uplink: 'eth0', mac: '0e:70:c0:00:02:0b', mtu: 1450, addresses: ['10.244.0.0'], recreate: true },
      'recreate VXLAN podnet.1 (vni 1, port 8472, local 192.0.2.11, mtu 1450)',
    ],
    [{ kind: 'vxlan-delete', device: 'podnet.1' }, 'delete VXLAN podnet.1 (no peer needs the overlay)'],
    [{ kind: 'fdb-set', device: 'podnet.1', mac: '0e:70:c0:00:02:0c', dst: '192.0.2.12' }, 'fdb 0e:70:c0:00:02:0c dev podnet.1 dst 192.0.2.12'],
    [{ kind: 'fdb-del', device: 'podnet.1', mac: '0e:70:c0:00:02:0c', dst: '192.0.2.12' }, 'remove fdb 0e:70:c0:00:02:0c dst 192.0.2.12'],
    [{ kind: 'neigh-set', device: 'podnet.1', address: '10.244.1.0', mac: '0e:70:c0:00:02:0c' }, 'neighbour 10.244.1.0 lladdr 0e:70:c0:00:02:0c dev podnet.1'],
    [{ kind: 'neigh-del', device: 'podnet.1', address: '10.244.1.0' }, 'remove neighbour 10.244.1.0 dev podnet.1'],
    [{ kind: 'route-set', route: r }, 'route 10.244.1.0/24 via 192.0.2.12 dev eth0 (direct, n2)'],
    [{ kind: 'route-set', route: r, from: '10.244.1.0/24 via 192.0.2.99 dev eth0' }, 'route 10.244.1.0/24 via 192.0.2.12 dev eth0 (direct, n2) was: 10.244.1.0/24 via 192.0.2.99 dev eth0'],
    [{ kind: 'route-del', dst: '10.244.7.0/24', desc: '10.244.7.0/24 via 192.0.2.7 dev eth0' }, 'remove route 10.244.7.0/24 via 192.0.2.7 dev eth0'],
    [{ kind: 'iptables', family: 'ipv4', table: 'nat', chain: 'PODNET-POSTROUTING', jump: JUMP_RULES.nat, rules: [], reason: 'create chain PODNET-POSTROUTING' }, 'iptables -t nat PODNET-POSTROUTING: create chain PODNET-POSTROUTING'],
    [{ kind: 'file-write', file, exists: false }, `write ${CONFLIST_PATH}`],
    [{ kind: 'file-write', file, exists: true }, `update ${CONFLIST_PATH}`],
    [{ kind: 'file-remove', path: SYSCTL_FILE }, `remove ${SYSCTL_FILE}`],
    [{ kind: 'unit-enable' }, 'systemctl enable podnet.service'],
  ];
  for (const [c, expected] of cases) {
    test(`${c.kind}: ${expected}`, () => assert.equal(describeChange(c), expected));
  }
});

// ---- files.ts -------------------------------------------------------------------------------------

describe('withFiles / renderRestoreScript', () => {
  const cp = plan(inventory([N1, N2, N3]), { n1: f1({ systemd: true }), n2: f2({ modprobe: false, sysctl: { 'net.bridge.bridge-nf-call-iptables': '-' } }), n3: f3() });

  test('files of a systemd node with br_netfilter', () => {
    const p = withFiles(node(cp, 'n1'));
    assert.deepEqual(p.files.map((x) => [x.path, x.mode]), [
      [CONFLIST_PATH, '0644'],
      [SYSCTL_FILE, '0644'],
      [RESTORE_SCRIPT, '0755'],
      [MODULES_FILE, '0644'],
      [UNIT_FILE, '0644'],
    ]);
    for (const x of p.files) assert.equal(x.sha256, sha256(x.content));
    assert.equal(p.files[0]!.content, `${JSON.stringify(p.conflist, null, 2)}\n`);
    assert.match(p.files[1]!.content, /^net\.ipv4\.ip_forward = 1$/m);
    assert.match(p.files[1]!.content, /^net\.bridge\.bridge-nf-call-iptables = 1$/m);
    assert.equal(p.files[3]!.content.trim().split('\n').pop(), 'br_netfilter');
    assert.equal(p.files[4]!.content, UNIT_TEXT);
  });

  test('files of a node without systemd nor br_netfilter', () => {
    const p = withFiles(node(cp, 'n2'));
    assert.deepEqual(p.files.map((x) => x.path), [CONFLIST_PATH, SYSCTL_FILE, RESTORE_SCRIPT]);
  });

  test('withFiles does not mutate its input', () => {
    const p = node(cp, 'n1');
    withFiles(p);
    assert.deepEqual(p.files, []);
  });

  test('the restore script is the full state against an empty node, without file writes, valid sh', () => {
    const p = node(cp, 'n1');
    const s = renderRestoreScript(p);
    assert.ok(s.startsWith('#!/bin/sh\n# podnet: restores the pod network of node n1 (10.244.0.0/24)'));
    const r = spawnSync('sh', ['-n'], { input: s, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(s, /step files/);
    assert.doesNotMatch(s, /systemctl/);
    assert.match(s, /route replace 10\.244\.1\.0\/24 via 192\.0\.2\.12 dev eth0 proto 157/);
    assert.match(s, /route replace 10\.244\.2\.0\/24 via 10\.244\.2\.0 dev podnet\.1 onlink proto 157/);
    assert.match(s, /type vxlan id 1 local 192\.0\.2\.11 dev eth0 dstport 8472 nolearning/);
    assert.match(s, /iptables-restore -w 5 --noflush/);
    assert.match(s, /sysctl -qw net\.ipv4\.ip_forward=1/);
    assert.equal(s, renderRestoreScript(p), 'deterministic');
  });

  test('EMPTY_FACTS is empty', () => {
    assert.deepEqual(EMPTY_FACTS.links, []);
    assert.deepEqual(EMPTY_FACTS.routes, []);
    assert.deepEqual(EMPTY_FACTS.files, {});
    assert.equal(EMPTY_FACTS.cniConfDir, '/etc/cni/net.d');
  });
});
