/**
 * Labs with an IPv6 underlay (`lab up --ip-family ipv6|dual`): every node answers SSH on its IPv6
 * address from the operator namespace, the router forwards IPv6 (and nothing else does), the inventory
 * names the families, the host namespace gains no link, address or route, and teardown leaves nothing.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { execa } from 'execa';
import { parse as parseYaml } from 'yaml';
import { podnet, parseJsonDoc } from '../helpers/cli.js';
import { startLab, type TestLab } from '../helpers/lab.js';
import { listNetns } from '../../src/lab/host.js';
import { hostIps } from '../../src/lab/topology.js';

/** The host namespace's links, addresses and routes of both families: the lab must change none of them. */
async function hostNetwork(): Promise<string> {
  const out: string[] = [];
  for (const args of [['link', 'show'], ['-4', 'addr', 'show'], ['-6', 'addr', 'show'], ['-4', 'route', 'show', 'table', 'all'], ['-6', 'route', 'show', 'table', 'all']]) {
    const r = await execa('ip', ['-o', ...args]);
    // Counters and lifetimes move by themselves; what is there is what counts.
    out.push(r.stdout.replace(/(valid_lft|preferred_lft) \S+/g, '').replace(/expires \S+/g, ''));
  }
  return out.join('\n');
}

function labNetns(name: string): string[] {
  return listNetns().filter((n) => n.startsWith(`podnet-${name}-`));
}

/** From the operator namespace, ssh to every node by its IPv6 address: the node's sshd saw that address. */
async function assertSshOverIpv6(lab: TestLab): Promise<void> {
  const operator6 = hostIps(lab.plan.operator).find((ip) => ip.includes(':'))!;
  const results = await Promise.all(
    lab.plan.nodes.map((n) => {
      const ip6 = hostIps(n).find((ip) => ip.includes(':'))!;
      return lab.onOperator(['ssh', '-F', `${lab.plan.dir}/ssh_config`, ip6, 'hostname; echo "$SSH_CONNECTION"; ip -6 -o addr show dev eth0 scope global']);
    }),
  );
  results.forEach((r, i) => {
    const n = lab.plan.nodes[i]!;
    const ip6 = hostIps(n).find((ip) => ip.includes(':'))!;
    assert.equal(r.exitCode, 0, `ssh to ${n.name} at ${ip6}: ${r.stderr}`);
    const [host, conn, addr] = r.stdout.split('\n');
    assert.equal(host, n.name);
    const [client, , server, port] = (conn ?? '').split(' ');
    assert.deepEqual([client, server, port], [operator6, ip6, '22'], `${n.name}: SSH_CONNECTION ${conn}`);
    // A usable address at once: not tentative (no DAD), and not a duplicate.
    assert.match(addr ?? '', new RegExp(`inet6 ${ip6}/64 scope global nodad`));
    assert.doesNotMatch(addr ?? '', /tentative|dadfailed/);
  });
}

async function assertNoDefaultRoute(name: string): Promise<void> {
  for (const ns of labNetns(name)) {
    for (const fam of ['-4', '-6']) {
      const r = await execa('ip', ['-n', ns, fam, '-j', 'route', 'show', 'default']);
      assert.deepEqual(JSON.parse(r.stdout || '[]'), [], `${ns} has a default route (${fam})`);
    }
  }
}

async function forwarding(ns: string): Promise<string> {
  const r = await execa('nsenter', [`--net=/run/netns/${ns}`, 'sysctl', '-n', 'net.ipv6.conf.all.forwarding']);
  return r.stdout.trim();
}

async function assertTornDown(lab: TestLab, name: string, before: string): Promise<void> {
  await lab.down();
  assert.deepEqual(labNetns(name), []);
  const ipNetns = await execa('ip', ['netns', 'list']);
  assert.doesNotMatch(ipNetns.stdout, new RegExp(`podnet-${name}-`));
  assert.equal(existsSync(`/run/podnet/labs/${name}`), false);
  assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(`/run/podnet/labs/${name}`), false);
  // Every process of a lab runs in the lab's cgroup (other labs may be running).
  const procs = readdirSync('/proc').filter((p) => {
    try {
      return /^\d+$/.test(p) && readFileSync(`/proc/${p}/cgroup`, 'utf8').includes(`/podnet-lab-${name}\n`);
    } catch {
      return false;
    }
  });
  assert.deepEqual(procs, [], `processes of lab ${name} survived lab down`);
  assert.equal(await hostNetwork(), before, 'the host namespace changed');
}

describe('lab: ipv6, flat, 3 nodes', () => {
  let lab: TestLab;
  let hostBefore: string;
  before(async () => {
    hostBefore = await hostNetwork();
    lab = await startLab('tfam6', ['--nodes', '3', '--ip-family', 'ipv6']);
  });
  after(() => lab?.down());

  it('reaches every node over ssh on its IPv6 address from the operator namespace', async () => {
    await assertSshOverIpv6(lab);
    // by name too: the ssh_config's HostName is the IPv6 address
    const r = await lab.onOperator(['ssh', '-F', `${lab.plan.dir}/ssh_config`, 'node-2', 'echo "$SSH_CONNECTION"']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout.trim().split(' ')[2], '2001:db8:0:a::12');
  });

  it('has no IPv4 underlay, no default route, and no forwarding anywhere', async () => {
    const r = await lab.onNode('node-1', ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    assert.equal(r.stdout.trim(), '');
    await assertNoDefaultRoute('tfam6');
    for (const ns of labNetns('tfam6')) assert.equal(await forwarding(ns), '0', ns);
  });

  it('writes an IPv6 inventory', async () => {
    const inv = parseYaml(readFileSync(lab.inventory, 'utf8')) as { cluster: { podCIDR: unknown }; nodes: { name: string; address: string; ip?: unknown }[] };
    assert.equal(inv.cluster.podCIDR, 'fd00:10:244::/56');
    assert.deepEqual(inv.nodes, [
      { name: 'node-1', address: '2001:db8:0:a::11' },
      { name: 'node-2', address: '2001:db8:0:a::12' },
      { name: 'node-3', address: '2001:db8:0:a::13' },
    ]);
  });

  it('shows the family in lab status', async () => {
    const r = await podnet(['lab', 'status', '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    const labs = parseJsonDoc(r.stdout).labs as { name: string; ipFamily?: string; state: string }[];
    assert.deepEqual(labs.find((l) => l.name === 'tfam6'), { name: 'tfam6', state: 'up', topology: 'flat', ipFamily: 'ipv6', nodes: 3, sshdRunning: 3, inventory: '/run/podnet/labs/tfam6/inventory.yaml' });
    const one = await podnet(['lab', 'status', '--name', 'tfam6']);
    assert.match(one.stdout, /^lab "tfam6" \(flat, ipv6\); operator 2001:db8:0:a::2 in podnet-tfam6-op$/m);
    assert.match(one.stdout, /node-3\s.*2001:db8:0:a::13/);
  });

  it('tears down to nothing and leaves the host namespace as it was', async () => {
    await assertTornDown(lab, 'tfam6', hostBefore);
  });
});

describe('lab: dual, routed, 3 nodes', () => {
  let lab: TestLab;
  let hostBefore: string;
  before(async () => {
    hostBefore = await hostNetwork();
    lab = await startLab('tfamd', ['--nodes', '3', '--topology', 'routed', '--ip-family', 'dual']);
  });
  after(() => lab?.down());

  it('reaches every node over ssh on its IPv6 address, across the router, and on its IPv4 one', async () => {
    assert.deepEqual(lab.plan.nodes.map((n) => `${n.segment} ${hostIps(n).join(' ')}`), [
      'a 192.0.2.11 2001:db8:0:a::11',
      'a 192.0.2.12 2001:db8:0:a::12',
      'b 198.51.100.11 2001:db8:0:b::11',
    ]);
    await assertSshOverIpv6(lab);
    const r = await lab.onOperator(['ssh', '-F', `${lab.plan.dir}/ssh_config`, 'node-3', 'echo "$SSH_CONNECTION"']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout.trim().split(' ')[2], '198.51.100.11');
  });

  it('routes IPv6 between the segments through the router, which alone forwards', async () => {
    const ping = await lab.onNode('node-1', ['ping', '-6', '-c1', '-W2', '2001:db8:0:b::11']);
    assert.equal(ping.exitCode, 0, ping.stdout + ping.stderr);
    const g = await lab.onNode('node-1', ['ip', '-6', '-j', 'route', 'get', '2001:db8:0:b::11']);
    assert.equal((JSON.parse(g.stdout) as { gateway?: string }[])[0]?.gateway, '2001:db8:0:a::1');
    for (const ns of labNetns('tfamd')) assert.equal(await forwarding(ns), ns === 'podnet-tfamd-fabric' ? '1' : '0', ns);
    await assertNoDefaultRoute('tfamd');
  });

  it('writes a dual inventory: both pod networks, each node by IPv4 with both IPs', async () => {
    const inv = parseYaml(readFileSync(lab.inventory, 'utf8')) as { cluster: { podCIDR: unknown }; nodes: unknown[] };
    assert.deepEqual(inv.cluster.podCIDR, ['10.244.0.0/16', 'fd00:10:244::/56']);
    assert.deepEqual(inv.nodes, [
      { name: 'node-1', address: '192.0.2.11', ip: ['192.0.2.11', '2001:db8:0:a::11'] },
      { name: 'node-2', address: '192.0.2.12', ip: ['192.0.2.12', '2001:db8:0:a::12'] },
      { name: 'node-3', address: '198.51.100.11', ip: ['198.51.100.11', '2001:db8:0:b::11'] },
    ]);
  });

  it('shows the family and both addresses in lab status', async () => {
    const r = await podnet(['lab', 'status', '--name', 'tfamd', '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    const info = parseJsonDoc(r.stdout).lab as { ipFamily: string; operator: { ips: string[] }; nodes: { name: string; ip: string; ips: string[] }[] };
    assert.equal(info.ipFamily, 'dual');
    assert.deepEqual(info.operator.ips, ['192.0.2.2', '2001:db8:0:a::2']);
    assert.deepEqual(info.nodes.map((n) => [n.ip, ...n.ips]), [
      ['192.0.2.11', '192.0.2.11', '2001:db8:0:a::11'],
      ['192.0.2.12', '192.0.2.12', '2001:db8:0:a::12'],
      ['198.51.100.11', '198.51.100.11', '2001:db8:0:b::11'],
    ]);
    const t = await podnet(['lab', 'status', '--name', 'tfamd']);
    assert.match(t.stdout, /node-3\s.*198\.51\.100\.11\s.*2001:db8:0:b::11\s.*\sb\s/);
  });

  it('tears down to nothing and leaves the host namespace as it was', async () => {
    await assertTornDown(lab, 'tfamd', hostBefore);
  });
});

describe('lab: --ip-family input', () => {
  it('rejects an unknown family with exit 2, naming the flag and the choices, before anything is built', async () => {
    const r = await podnet(['lab', 'up', '--name', 'tfamx', '--ip-family', 'ipv5']);
    assert.equal(r.exitCode, 2, r.stderr);
    assert.match(r.stderr, /--ip-family: "ipv5" is not a valid choice; expected one of: ipv4, ipv6, dual/);
    assert.deepEqual(labNetns('tfamx'), []);
  });
});
