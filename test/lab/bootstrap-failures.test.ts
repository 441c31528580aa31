/**
 * How up behaves when things go wrong: bad input (exit 2, nothing changed anywhere, no shell injection),
 * a node that is down or whose command fails (the others converge, exit 3, a re-run heals), unknown host
 * keys, and a non-root user with sudo.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { killSshd, startLab, type TestLab } from '../helpers/lab.js';

interface UpNode {
  node: string;
  result: string;
  state?: string;
  step?: string;
  error?: string;
  hint?: string;
}

async function writeInventory(lab: TestLab, name: string, text: string): Promise<string> {
  const path = `${lab.plan.dir}/${name}`;
  const r = await lab.onOperator(['sh', '-c', `cat > ${path}`], text);
  assert.equal(r.exitCode, 0);
  return path;
}

function baseInventory(lab: TestLab): string {
  return readFileSync(lab.inventory, 'utf8');
}

/** No podnet state on any node: nothing was changed. */
async function assertUntouched(lab: TestLab): Promise<void> {
  for (const n of lab.plan.nodes) {
    const r = await lab.shOnNode(n.name, 'ip link show cni0 2>/dev/null; ip route show proto 157; ls /etc/cni/net.d /etc/podnet 2>/dev/null; iptables -S | grep PODNET');
    assert.equal(r.stdout.replace('/etc/cni/net.d:', '').trim(), '', `${n.name} was changed:\n${r.stdout}`);
  }
}

describe('bootstrap: bad input is refused before any node is touched', () => {
  let lab: TestLab;
  before(async () => {
    lab = await startLab('tbad', ['--nodes', '3']);
    // An existing foreign route inside the cluster CIDR on one node, for the after-facts check.
    await lab.onNode('node-2', ['ip', 'route', 'add', '10.250.7.0/24', 'via', '192.0.2.13', 'proto', 'static']);
  });
  after(async () => {
    await lab?.down();
  });

  const base = (lab: TestLab) => baseInventory(lab);
  const cases: [string, (inv: string) => string, RegExp][] = [
    ['invalid CIDR', (i) => i.replace('podCIDR: 10.244.0.0/16', 'podCIDR: 10.244.0.0/33'), /^error: cluster\.podCIDR: "10\.244\.0\.0\/33" is not a valid CIDR/m],
    ['cluster CIDR too small', (i) => i.replace('podCIDR: 10.244.0.0/16', 'podCIDR: 10.244.0.0/23'), /cluster\.podCIDR: .*3 nodes/],
    // (around the lab's documentation-range node addresses: refused as a special-purpose range first)
    ['cluster CIDR overlapping node addresses', (i) => i.replace('podCIDR: 10.244.0.0/16', 'podCIDR: 192.0.0.0/8').replace('nodeMaskSize: 24', 'nodeMaskSize: 16'), /^error: cluster\.podCIDR: 192\.0\.0\.0\/8 overlaps 192\.0\.0\.0\/24/m],
    ['cluster CIDR overlapping the service CIDR', (i) => i.replace('serviceCIDR: 10.96.0.0/12', 'serviceCIDR: 10.244.128.0/17'), /serviceCIDR.*overlap|overlap.*serviceCIDR/i],
    ['cluster CIDR overlapping a route on a node', (i) => i.replace('podCIDR: 10.244.0.0/16', 'podCIDR: 10.250.0.0/16'), /cluster\.podCIDR: 10\.250\.0\.0\/16 overlaps the route "10\.250\.7\.0\/24 via 192\.0\.2\.13 dev eth0" on node node-2/],
    ['duplicate node names', (i) => i.replace('name: node-2', 'name: node-1'), /nodes\[1\]\.name: duplicate node name "node-1"/],
    ['duplicate addresses', (i) => i.replace('address: 192.0.2.12', 'address: 192.0.2.11'), /nodes\[1\]\.address: duplicate/],
    ['duplicate pinned CIDRs', (i) => i.replace('address: 192.0.2.11', 'address: 192.0.2.11\n    podCIDR: 10.244.5.0/24').replace('address: 192.0.2.12', 'address: 192.0.2.12\n    podCIDR: 10.244.5.0/24'), /podCIDR.*10\.244\.5\.0\/24/],
    ['pinned CIDR outside the cluster', (i) => i.replace('address: 192.0.2.11', 'address: 192.0.2.11\n    podCIDR: 10.99.5.0/24'), /nodes\[0\]\.podCIDR: .*outside|nodes\[0\]\.podCIDR: .*not inside|nodes\[0\]\.podCIDR.*10\.244\.0\.0\/16/],
    ['pinned CIDR of the wrong size', (i) => i.replace('address: 192.0.2.11', 'address: 192.0.2.11\n    podCIDR: 10.244.4.0/25'), /nodes\[0\]\.podCIDR: .*\/24/],
    ['bad node name', (i) => i.replace('name: node-1', 'name: Node_1'), /nodes\[0\]\.name: "Node_1"/],
    ['bad bridge name', (i) => i.replace('cluster:', 'cluster:\n  bridge: "cni0; reboot"'), /cluster\.bridge: "cni0; reboot" is not a valid interface name/],
    ['unknown key', (i) => i.replace('cluster:', 'cluster:\n  podCidr: 10.1.0.0/16'), /unknown key "podCidr" in cluster/],
    ['malformed YAML', (i) => i.replace('nodes:', 'nodes: [\n'), /malformed YAML/],
    ['shell in an address', (i) => i.replace('address: 192.0.2.13', 'address: "$(touch /tmp/podnet-pwned)"'), /nodes\[2\]\.address: .*\$\(touch/],
    ['shell in an ssh option', (i) => i.replace('  user: root', '  user: root\n  options: ["ProxyCommand=sh -c \'touch /tmp/podnet-pwned\'"]'), /ssh\.options\[0\]/],
    ['shell in the CNI bin dir', (i) => i.replace('cluster:', 'cluster:\n  cniBinDir: "/opt/cni/bin`touch /tmp/podnet-pwned`"'), /cluster\.cniBinDir/],
  ];

  for (const [what, edit, re] of cases) {
    it(`refuses ${what} with exit 2 and one line`, async () => {
      const inv = await writeInventory(lab, 'bad.yaml', edit(base(lab)));
      const r = await lab.podnet(['up', '-i', inv]);
      assert.equal(r.exitCode, 2, `${what}: exit ${r.exitCode}\n${r.stderr}`);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
      assert.equal(errors.length, 1, r.stderr);
      assert.match(r.stderr, re);
      assert.equal(r.stdout, '');
    });
  }

  it('changed nothing on any node, and no injected command ran', async () => {
    await assertUntouched(lab);
    assert.equal(existsSync('/tmp/podnet-pwned'), false);
    for (const n of lab.plan.nodes) assert.notEqual((await lab.onNode(n.name, ['test', '-e', '/tmp/podnet-pwned'])).exitCode, 0);
  });

  it('gives a JSON error document with --json', async () => {
    const inv = await writeInventory(lab, 'bad.yaml', base(lab).replace('name: node-1', 'name: Node_1'));
    const r = await lab.podnet(['up', '-i', inv, '--json']);
    assert.equal(r.exitCode, 2);
    const doc = JSON.parse(r.stdout) as { kind: string; error: { message: string; exitCode: number } };
    assert.equal(doc.kind, 'Error');
    assert.equal(doc.error.exitCode, 2);
  });
});

describe('bootstrap: partial failure, host keys, sudo', () => {
  let lab: TestLab;
  before(async () => {
    lab = await startLab('tfail', ['--nodes', '3']);
  });
  after(async () => {
    await lab?.down();
  });

  it('an unreachable node is reported; the others converge; exit 3; a re-run converges all', async () => {
    killSshd(lab, 'node-3');
    const r = await lab.podnet(['up', '-i', lab.inventory, '--json']);
    assert.equal(r.exitCode, 3, r.stderr);
    const nodes = (JSON.parse(r.stdout) as { nodes: UpNode[] }).nodes;
    assert.deepEqual(nodes.map((n) => n.result), ['changed', 'changed', 'failed']);
    assert.equal(nodes[2]!.step, 'facts');
    assert.match(nodes[2]!.error!, /node-3: cannot reach 192\.0\.2\.13/);
    assert.match(r.stderr, /1 of 3 node\(s\) failed: node-3/);
    // sshd back, and the plan must keep node-1 and node-2 where they are
    const s = await lab.onNode('node-3', ['/usr/sbin/sshd', '-f', '/etc/ssh/podnet-lab/sshd_config']);
    assert.equal(s.exitCode, 0, s.stderr);
    const again = await lab.podnet(['up', '-i', lab.inventory, '--json']);
    assert.equal(again.exitCode, 0, again.stderr);
    assert.deepEqual((JSON.parse(again.stdout) as { nodes: UpNode[] }).nodes.map((n) => n.result), ['changed', 'changed', 'changed']);
    assert.equal((await lab.podnet(['status', '-i', lab.inventory])).exitCode, 0);
  });

  it('a command failing on one node names the node and the step; the others are unaffected', async () => {
    await lab.podnet(['down', '-i', lab.inventory]);
    // /etc/cni/net.d is read-only on node-2 (it is a mount of its own there): writing the conflist must fail.
    assert.equal((await lab.shOnNode('node-2', 'mount -o remount,ro /etc/cni/net.d')).exitCode, 0);
    const r = await lab.podnet(['up', '-i', lab.inventory, '--json']);
    assert.equal(r.exitCode, 3);
    const nodes = (JSON.parse(r.stdout) as { nodes: UpNode[] }).nodes;
    assert.deepEqual(nodes.map((n) => n.result), ['changed', 'failed', 'changed']);
    assert.equal(nodes[1]!.step, 'files');
    assert.match(nodes[1]!.error!, /net\.d/);
    await lab.shOnNode('node-2', 'mount -o remount,rw /etc/cni/net.d');
    const again = await lab.podnet(['up', '-i', lab.inventory, '--json']);
    assert.equal(again.exitCode, 0, again.stdout);
  });

  /** podnet's arguments for the lab with its ssh_config edited (the operator's own ssh_config is used as is). */
  async function withSshConfig(name: string, edit: (config: string) => string): Promise<string[]> {
    const config = await writeInventory(lab, `${name}.ssh_config`, edit(readFileSync(`${lab.plan.dir}/ssh_config`, 'utf8')));
    return ['-i', lab.inventory, '--ssh-config', config];
  }

  it('an unknown host key fails with what to do; --accept-new-host-keys accepts it', async () => {
    const inv = await withSshConfig('newkeys', (c) => c.replace(/UserKnownHostsFile .*/, `UserKnownHostsFile ${lab.plan.dir}/empty_known_hosts`));
    const r = await lab.podnet(['status', ...inv, '--json']);
    assert.equal(r.exitCode, 3);
    const nodes = (JSON.parse(r.stdout) as { nodes: UpNode[] }).nodes;
    assert.ok(nodes.every((n) => n.state === 'failed' && /host key for 192\.0\.2\.1\d is not known/.test(n.error!)), JSON.stringify(nodes));
    assert.match(nodes[0]!.hint!, /--accept-new-host-keys/);
    const ok = await lab.podnet(['status', ...inv, '--accept-new-host-keys']);
    assert.equal(ok.exitCode, 0, ok.stderr);
  });

  it('a changed host key is refused with the ssh-keygen -R hint', async () => {
    const kh = `${lab.plan.dir}/changed_known_hosts`;
    const other = readFileSync(`${lab.plan.dir}/known_hosts`, 'utf8').split('\n')[1]!.split(' ').slice(1).join(' ');
    await lab.onOperator(['sh', '-c', `echo "192.0.2.11 ${other}" > ${kh}`]);
    // Even when the user's own ssh_config turns host-key checking off: podnet's command line wins.
    const inv = await withSshConfig('changed', (c) => c.replace(/UserKnownHostsFile .*/, `UserKnownHostsFile ${kh}`).replace(/StrictHostKeyChecking .*/, 'StrictHostKeyChecking no'));
    const state = 'ip -br addr | sort; ip route; ls -la --time-style=full-iso /etc/podnet /etc/cni/net.d 2>/dev/null';
    const before = (await lab.shOnNode('node-1', state)).stdout;
    for (const cmd of ['status', 'up']) {
      const r = await lab.podnet([cmd, ...inv, '--accept-new-host-keys', '--json']);
      assert.equal(r.exitCode, 3, r.stderr);
      const n1 = (JSON.parse(r.stdout) as { nodes: UpNode[] }).nodes[0]!;
      assert.match(n1.error!, /host key for 192\.0\.2\.11 changed/);
      assert.match(n1.hint!, /ssh-keygen -R 192\.0\.2\.11/);
    }
    assert.equal((await lab.shOnNode('node-1', state)).stdout, before, 'up changed node-1 despite its changed host key');
  });

  it('--accept-new-host-keys is refused (exit 2) when the ssh_config keeps known hosts in /dev/null', async () => {
    // /dev/null first: ssh records new keys in the first file only, so a second real file does not help.
    const inv = await withSshConfig('forgetful', (c) => c.replace(/UserKnownHostsFile .*/, `UserKnownHostsFile /dev/null ${lab.plan.dir}/known_hosts`));
    const r = await lab.podnet(['up', ...inv, '--accept-new-host-keys']);
    assert.equal(r.exitCode, 2, r.stderr);
    assert.match(r.stderr, /^error: --accept-new-host-keys: the ssh settings of node-1 keep known hosts first in \/dev\/null, where ssh records new keys, so every host key would count as new/m);
  });

  it('an ssh option that would run a local program is refused before anything runs, even for plan', async () => {
    const marker = `${lab.plan.dir}/proxy-ran`;
    const inv = await writeInventory(lab, 'proxy.yaml', baseInventory(lab).replace('  user: root', `  user: root\n  options: ["ProxyCommand=touch${marker}"]`));
    const r = await lab.podnet(['plan', '-i', inv]);
    assert.equal(r.exitCode, 2, r.stderr);
    assert.match(r.stderr, /^error: ssh\.options\[0\]: "ProxyCommand=touch.*": ProxyCommand can run programs on this machine/m);
    assert.equal(existsSync(marker), false, 'the ProxyCommand ran');
  });

  it('works as a non-root user through sudo -n; a sudo password prompt is an error, not a hang', async () => {
    for (const n of lab.plan.nodes) {
      const r = await lab.shOnNode(
        n.name,
        `id podnet >/dev/null 2>&1 || useradd -m -s /bin/sh podnet; usermod -p '*' podnet; mkdir -p /etc/sudoers.d
mkdir -p /home/podnet/.ssh && cp /etc/ssh/podnet-lab/authorized_keys /home/podnet/.ssh/authorized_keys && chown -R podnet /home/podnet/.ssh
${n.name === 'node-3' ? 'rm -f /etc/sudoers.d/podnet' : "echo 'podnet ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/podnet && chmod 440 /etc/sudoers.d/podnet"}`,
      );
      assert.equal(r.exitCode, 0, r.stderr);
    }
    await lab.podnet(['down', '-i', lab.inventory]);
    const inv = await writeInventory(lab, 'sudo.yaml', baseInventory(lab).replace('  user: root', '  user: podnet\n  sudo: true'));
    const t0 = Date.now();
    const r = await lab.podnet(['up', '-i', inv, '--json']);
    assert.ok(Date.now() - t0 < 30_000, 'sudo prompt hung');
    assert.equal(r.exitCode, 3, r.stderr);
    const nodes = (JSON.parse(r.stdout) as { nodes: UpNode[] }).nodes;
    assert.deepEqual(nodes.map((n) => n.result), ['changed', 'changed', 'failed'], JSON.stringify(nodes));
    assert.match(nodes[2]!.error!, /sudo asks podnet for a password/);
    assert.match(nodes[2]!.hint!, /NOPASSWD/);
    const conf = await lab.onNode('node-1', ['stat', '-c', '%U', '/etc/cni/net.d/10-podnet.conflist']);
    assert.equal(conf.stdout.trim(), 'root');
  });
});

