/** The lab as data: addresses, segments, routes, names; and the preflight that names missing packages. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostIps, normalizeLabPlan, planLab, type LabPlan } from '../../src/lab/topology.js';
import { renderKnownHosts, renderLabInventory, renderLabUpScript, renderSshConfig, sshdConfig } from '../../src/lab/render.js';
import { checkIpv6, checkTools, findNode } from '../../src/lab/service.js';
import { parseInventory } from '../../src/inventory/load.js';
import { cidrContainsIp, normalizeIp } from '../../src/net/cidr.js';
import { UserError } from '../../src/util/errors.js';
import { spawnSync } from 'node:child_process';
import { parse as parseYaml } from 'yaml';

describe('lab plan', () => {
  it('puts a flat lab on one documentation /24 with no routes', () => {
    const p = planLab({ name: 'x', nodes: 3, topology: 'flat', mtu: 1500 });
    assert.deepEqual(p.nodes.map((n) => n.ip), ['192.0.2.11', '192.0.2.12', '192.0.2.13']);
    assert.ok(p.nodes.every((n) => n.routes.length === 0 && n.segment === 'a'));
    assert.equal(p.segments.length, 1);
    assert.equal(p.operator.ip, '192.0.2.2');
  });

  it('splits a routed lab over two segments with a route (never a default route) via the router', () => {
    const p = planLab({ name: 'x', nodes: 5, topology: 'routed', mtu: 1500, nodeMtu: { 'node-5': 1400 } });
    assert.deepEqual(p.nodes.map((n) => `${n.name} ${n.ip} ${n.mtu}`), ['node-1 192.0.2.11 1500', 'node-2 192.0.2.12 1500', 'node-3 192.0.2.13 1500', 'node-4 198.51.100.11 1500', 'node-5 198.51.100.12 1400']);
    assert.deepEqual(p.nodes[3]!.routes, [{ to: '192.0.2.0/24', via: '198.51.100.1' }]);
    for (const n of [...p.nodes, p.operator]) for (const r of n.routes) assert.notEqual(r.to, '0.0.0.0/0');
  });

  it('rejects bad names, sizes and MTUs with a UserError naming the flag', () => {
    for (const [opts, re] of [
      [{ name: 'A', nodes: 1 }, /--name/],
      [{ name: 'x', nodes: 0 }, /--nodes/],
      [{ name: 'x', nodes: 401, topology: 'routed' }, /--nodes: expected a whole number from 1 to 400/],
      [{ name: 'x', nodes: 2, mtu: 100 }, /--mtu/],
    ] as const) {
      assert.throws(() => planLab({ topology: 'flat', mtu: 1500, ...opts } as Parameters<typeof planLab>[0]), (e: unknown) => e instanceof UserError && re.test(e.message));
    }
  });

  it('renders an up script that sh accepts and an inventory podnet accepts', () => {
    const p = planLab({ name: 'x', nodes: 4, topology: 'routed', mtu: 1500 });
    const check = spawnSync('bash', ['-n'], { input: renderLabUpScript(p, '/sys/fs/cgroup/podnet-lab-x') });
    assert.equal(check.status, 0, String(check.stderr));
    const inv = parseInventory(renderLabInventory(p), 'lab', { checkFiles: false });
    assert.deepEqual(inv.nodes.map((n) => n.address), p.nodes.map((n) => n.ip));
  });
});

describe('lab plan: address families', () => {
  const ALL = (p: LabPlan) => [p.operator, ...p.nodes];

  it('defaults to IPv4, and an explicit ipv4 plans exactly the same lab', () => {
    for (const topology of ['flat', 'routed'] as const) {
      const p = planLab({ name: 'x', nodes: 5, topology, mtu: 1500 });
      assert.equal(p.ipFamily, 'ipv4');
      assert.deepEqual(planLab({ name: 'x', nodes: 5, topology, mtu: 1500, ipFamily: 'ipv4' }), p);
      for (const h of ALL(p)) assert.deepEqual(h.addresses, [`${h.ip}/24`]);
      assert.deepEqual(p.segments.map((s) => s.cidrs), p.segments.map((s) => [s.cidr]));
    }
  });

  it('puts an IPv6 flat lab on one documentation /64, host parts written like IPv4\'s, with no routes', () => {
    const p = planLab({ name: 'x', nodes: 3, topology: 'flat', mtu: 1500, ipFamily: 'ipv6' });
    assert.deepEqual(p.nodes.map((n) => n.ip), ['2001:db8:0:a::11', '2001:db8:0:a::12', '2001:db8:0:a::13']);
    assert.deepEqual(p.nodes.map((n) => n.addresses), [['2001:db8:0:a::11/64'], ['2001:db8:0:a::12/64'], ['2001:db8:0:a::13/64']]);
    assert.ok(p.nodes.every((n) => n.prefixLength === 64 && n.routes.length === 0 && n.segment === 'a'));
    assert.equal(p.operator.ip, '2001:db8:0:a::2');
    assert.deepEqual(p.segments.map((s) => [s.cidr, s.cidrs, s.gateway]), [['2001:db8:0:a::/64', ['2001:db8:0:a::/64'], undefined]]);
  });

  it('routes an IPv6 routed lab through the router\'s ::1 on each /64, never by a default route', () => {
    const p = planLab({ name: 'x', nodes: 4, topology: 'routed', mtu: 1500, ipFamily: 'ipv6' });
    assert.deepEqual(p.nodes.map((n) => `${n.segment} ${n.ip}`), ['a 2001:db8:0:a::11', 'a 2001:db8:0:a::12', 'b 2001:db8:0:b::11', 'b 2001:db8:0:b::12']);
    assert.deepEqual(p.segments.map((s) => [s.cidr, s.gateways]), [['2001:db8:0:a::/64', ['2001:db8:0:a::1']], ['2001:db8:0:b::/64', ['2001:db8:0:b::1']]]);
    assert.deepEqual(p.nodes[2]!.routes, [{ to: '2001:db8:0:a::/64', via: '2001:db8:0:b::1' }]);
    assert.deepEqual(p.operator.routes, [{ to: '2001:db8:0:b::/64', via: '2001:db8:0:a::1' }]);
    for (const h of ALL(p)) for (const r of h.routes) assert.ok(r.to !== '::/0' && r.to !== '0.0.0.0/0');
  });

  it('gives every host of a dual lab an IPv4 (primary) and an IPv6 address with the same host part, and routes for both', () => {
    const p = planLab({ name: 'x', nodes: 5, topology: 'routed', mtu: 1500, ipFamily: 'dual' });
    assert.deepEqual(p.nodes.map((n) => n.addresses), [
      ['192.0.2.11/24', '2001:db8:0:a::11/64'],
      ['192.0.2.12/24', '2001:db8:0:a::12/64'],
      ['192.0.2.13/24', '2001:db8:0:a::13/64'],
      ['198.51.100.11/24', '2001:db8:0:b::11/64'],
      ['198.51.100.12/24', '2001:db8:0:b::12/64'],
    ]);
    assert.deepEqual(p.operator.addresses, ['192.0.2.2/24', '2001:db8:0:a::2/64']);
    assert.ok(p.nodes.every((n) => n.ip === hostIps(n)[0] && n.prefixLength === 24));
    assert.deepEqual(p.segments.map((s) => [s.cidr, s.gateway, s.cidrs, s.gateways]), [
      ['192.0.2.0/24', '192.0.2.1', ['192.0.2.0/24', '2001:db8:0:a::/64'], ['192.0.2.1', '2001:db8:0:a::1']],
      ['198.51.100.0/24', '198.51.100.1', ['198.51.100.0/24', '2001:db8:0:b::/64'], ['198.51.100.1', '2001:db8:0:b::1']],
    ]);
    assert.deepEqual(p.nodes[4]!.routes, [
      { to: '192.0.2.0/24', via: '198.51.100.1' },
      { to: '2001:db8:0:a::/64', via: '2001:db8:0:b::1' },
    ]);
  });

  it('keeps every address in the documentation ranges, canonical, distinct, and in its segment\'s subnet', () => {
    for (const ipFamily of ['ipv4', 'ipv6', 'dual'] as const) {
      const p = planLab({ name: 'x', nodes: 400, topology: 'routed', mtu: 1500, ipFamily });
      const seen = new Set<string>();
      for (const h of ALL(p)) {
        const seg = p.segments.find((s) => s.name === h.segment)!;
        h.addresses.forEach((a, i) => {
          const ip = a.split('/')[0]!;
          assert.equal(normalizeIp(ip), ip, `${ip} is not written canonically`);
          assert.ok(cidrContainsIp(seg.cidrs[i]!, ip), `${ip} is outside ${seg.cidrs[i]}`);
          assert.ok(['192.0.2.0/24', '198.51.100.0/24', '2001:db8::/32'].some((d) => cidrContainsIp(d, ip)), `${ip} is not a documentation address`);
          assert.ok(!seen.has(ip), `${ip} twice`);
          seen.add(ip);
        });
      }
    }
  });

  it('rejects an unknown family with a UserError naming --ip-family', () => {
    assert.throws(
      () => planLab({ name: 'x', nodes: 2, topology: 'flat', mtu: 1500, ipFamily: 'ipv5' as never }),
      (e: unknown) => e instanceof UserError && /^--ip-family: "ipv5" is not a valid choice; expected one of: ipv4, ipv6, dual$/.test(e.message),
    );
  });

  it('reads the lab.json of a lab made before families as the IPv4 lab it is', () => {
    const p = planLab({ name: 'x', nodes: 3, topology: 'routed', mtu: 1500 });
    const old = JSON.parse(JSON.stringify(p)) as Record<string, unknown> & LabPlan;
    delete (old as Partial<LabPlan>).ipFamily;
    for (const h of [old.operator, ...old.nodes]) delete (h as Partial<typeof h>).addresses;
    for (const s of old.segments) {
      delete (s as Partial<typeof s>).cidrs;
      delete (s as Partial<typeof s>).gateways;
    }
    assert.deepEqual(normalizeLabPlan(old), JSON.parse(JSON.stringify(p)));
  });

  it('finds a node by name or by any of its addresses', () => {
    const p = planLab({ name: 'x', nodes: 3, topology: 'flat', mtu: 1500, ipFamily: 'dual' });
    assert.equal(findNode(p, '192.0.2.12').name, 'node-2');
    assert.equal(findNode(p, '2001:db8:0:a::12').name, 'node-2');
    assert.equal(findNode(p, '2001:DB8:0:A:0:0:0:13').name, 'node-3');
    assert.throws(() => findNode(p, '2001:db8:0:a::99'), UserError);
  });
});

describe('lab rendering: address families', () => {
  const keys = (p: LabPlan) => new Map(p.nodes.map((n) => [n.name, `ssh-ed25519 AAAA${n.name.replace('-', '')} comment\n`]));

  it('writes the IPv4 inventory, ssh_config and known_hosts it always wrote', () => {
    const p = planLab({ name: 'x', nodes: 2, topology: 'flat', mtu: 1500 });
    assert.equal(
      renderLabInventory(p),
      `# Inventory of lab "x" (flat, 2 nodes); written by podnet lab up.
# Use it from the lab's operator namespace: podnet lab exec --name x -- podnet up -i /run/podnet/labs/x/inventory.yaml
apiVersion: podnet/v1alpha1
kind: Inventory
cluster:
  podCIDR: 10.244.0.0/16
  nodeMaskSize: 24
  serviceCIDR: 10.96.0.0/12
ssh:
  user: root
nodes:
  - name: node-1
    address: 192.0.2.11
  - name: node-2
    address: 192.0.2.12
`,
    );
    assert.match(renderSshConfig(p), /^Host node-1 node-2 192\.0\.2\.\*$/m);
    assert.equal(renderKnownHosts(p, keys(p)), 'node-1,192.0.2.11 ssh-ed25519 AAAAnode1\nnode-2,192.0.2.12 ssh-ed25519 AAAAnode2\n');
    const script = renderLabUpScript(planLab({ name: 'x', nodes: 4, topology: 'routed', mtu: 1500 }), undefined);
    assert.doesNotMatch(script, /nodad|ipv6|2001:db8|mcast_snooping/);
    assert.match(script, /sysctl -qw net\.ipv4\.ip_forward=1\n/);
  });

  it('writes an IPv6 inventory the loader accepts: IPv6 pod and service networks, nodes by IPv6 address', () => {
    const p = planLab({ name: 'x', nodes: 2, topology: 'routed', mtu: 1500, ipFamily: 'ipv6' });
    const text = renderLabInventory(p);
    assert.equal(
      text,
      `# Inventory of lab "x" (routed, ipv6, 2 nodes); written by podnet lab up.
# Use it from the lab's operator namespace: podnet lab exec --name x -- podnet up -i /run/podnet/labs/x/inventory.yaml
apiVersion: podnet/v1alpha1
kind: Inventory
cluster:
  podCIDR: fd00:10:244::/56
  nodeMaskSize: 64
  serviceCIDR: fd00:10:96::/112
ssh:
  user: root
nodes:
  - name: node-1
    address: 2001:db8:0:a::11
  - name: node-2
    address: 2001:db8:0:b::11
`,
    );
    const inv = parseInventory(text, 'lab', { checkFiles: false });
    assert.deepEqual(inv.nodes.map((n) => n.address), ['2001:db8:0:a::11', '2001:db8:0:b::11']);
    assert.equal(inv.cluster.podCIDR, 'fd00:10:244::/56');
  });

  it('writes a dual inventory: both pod networks as a list (IPv4 first), each node by its IPv4 address with both IPs', () => {
    const p = planLab({ name: 'x', nodes: 3, topology: 'routed', mtu: 1500, ipFamily: 'dual' });
    const text = renderLabInventory(p);
    assert.match(text, /^# Inventory of lab "x" \(routed, dual, 3 nodes\)/);
    assert.match(text, /^ {2}podCIDR: \[10\.244\.0\.0\/16, fd00:10:244::\/56\]$/m);
    assert.match(text, /^ {4}ip: \[198\.51\.100\.11, 2001:db8:0:b::11\]$/m);
    // Read as YAML (the loader's support for lists is not this test's business): strings only, primary first.
    assert.deepEqual(parseYaml(text), {
      apiVersion: 'podnet/v1alpha1',
      kind: 'Inventory',
      cluster: { podCIDR: ['10.244.0.0/16', 'fd00:10:244::/56'], serviceCIDR: '10.96.0.0/12' },
      ssh: { user: 'root' },
      nodes: [
        { name: 'node-1', address: '192.0.2.11', ip: ['192.0.2.11', '2001:db8:0:a::11'] },
        { name: 'node-2', address: '192.0.2.12', ip: ['192.0.2.12', '2001:db8:0:a::12'] },
        { name: 'node-3', address: '198.51.100.11', ip: ['198.51.100.11', '2001:db8:0:b::11'] },
      ],
    });
  });

  it('renders up scripts with every IPv6 address free of DAD, forwarding on the router only, sshd on every address', () => {
    for (const ipFamily of ['ipv6', 'dual'] as const) {
      for (const topology of ['flat', 'routed'] as const) {
        const p = planLab({ name: 'x', nodes: 4, topology, mtu: 1500, ipFamily });
        const script = renderLabUpScript(p, '/sys/fs/cgroup/podnet-lab-x');
        const check = spawnSync('bash', ['-n'], { input: script });
        assert.equal(check.status, 0, String(check.stderr));
        const v6adds = script.split('\n').filter((l) => /^addr add [0-9a-f:]+:[0-9a-f:]*\//.test(l));
        assert.equal(v6adds.length, p.nodes.length + 1 + (topology === 'routed' ? 2 : 0), `${ipFamily} ${topology}`);
        assert.ok(v6adds.every((l) => l.endsWith(' nodad')), v6adds.join('\n'));
        assert.ok(!script.split('\n').some((l) => /^addr add [0-9.]+\//.test(l) && l.includes('nodad')));
        const sysctls = script.split('\n').filter((l) => l.includes('sysctl'));
        if (topology === 'flat') assert.deepEqual(sysctls, []);
        else {
          const want = ipFamily === 'dual' ? 'net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1' : 'net.ipv6.conf.all.forwarding=1';
          assert.deepEqual(sysctls, [`nsenter --net=/run/netns/podnet-x-fabric sysctl -qw ${want}`]);
        }
        for (const n of p.nodes) {
          const listen = sshdConfig(n).split('\n').filter((l) => l.startsWith('ListenAddress'));
          assert.deepEqual(listen, hostIps(n).map((ip) => `ListenAddress ${ip}`));
        }
      }
    }
  });

  it('lets ssh reach every node by its IPv6 address: ssh_config patterns and known_hosts names', () => {
    const p = planLab({ name: 'x', nodes: 3, topology: 'routed', mtu: 1500, ipFamily: 'dual' });
    const cfg = renderSshConfig(p);
    assert.match(cfg, /^Host node-1\n {2}HostName 192\.0\.2\.11$/m);
    assert.match(cfg, /^Host node-1 node-2 node-3 192\.0\.2\.\* 2001:db8:0:a::\* 198\.51\.100\.\* 2001:db8:0:b::\*$/m);
    assert.equal(
      renderKnownHosts(p, keys(p)),
      'node-1,192.0.2.11,2001:db8:0:a::11 ssh-ed25519 AAAAnode1\nnode-2,192.0.2.12,2001:db8:0:a::12 ssh-ed25519 AAAAnode2\nnode-3,198.51.100.11,2001:db8:0:b::11 ssh-ed25519 AAAAnode3\n',
    );
    const v6 = planLab({ name: 'x', nodes: 1, topology: 'flat', mtu: 1500, ipFamily: 'ipv6' });
    assert.match(renderSshConfig(v6), /^Host node-1\n {2}HostName 2001:db8:0:a::11$/m);
    assert.match(renderSshConfig(v6), /^Host node-1 2001:db8:0:a::\*$/m);
  });
});

describe('lab preflight', () => {
  it('refuses an IPv6 lab on a kernel without IPv6, or whose new namespaces start with it disabled', () => {
    const host = (values: Record<string, string>) => (path: string) => values[path];
    assert.throws(() => checkIpv6(host({})), (e: unknown) => e instanceof UserError && /no IPv6/.test(e.message));
    assert.throws(
      () => checkIpv6(host({ 'net/ipv6/conf/default/disable_ipv6': '1', 'net/core/devconf_inherit_init_net': '1' })),
      (e: unknown) => e instanceof UserError && /devconf_inherit_init_net/.test(e.message),
    );
    // By default (0) a new namespace starts from the kernel's defaults, whatever the host has.
    assert.doesNotThrow(() => checkIpv6(host({ 'net/ipv6/conf/default/disable_ipv6': '1', 'net/core/devconf_inherit_init_net': '0' })));
    assert.doesNotThrow(() => checkIpv6(host({ 'net/ipv6/conf/default/disable_ipv6': '0', 'net/core/devconf_inherit_init_net': '1' })));
  });

  it('names what is missing and the Debian packages that provide it', () => {
    const missing = new Set(['/usr/sbin/sshd', '/opt/cni/bin/portmap', '/usr/lib/cni/portmap']);
    assert.throws(
      () => checkTools((p) => !missing.has(p)),
      (e: unknown) => e instanceof UserError && e.message === 'missing sshd, CNI plugin portmap' && e.hint === 'install the Debian packages: apt-get install -y openssh-server containernetworking-plugins',
    );
    assert.doesNotThrow(() => checkTools(() => true));
  });
});
