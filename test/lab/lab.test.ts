/**
 * The lab itself: real namespaces, real sshd, isolation between nodes and from the host, and a teardown
 * that leaves nothing behind — also after a crash.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execa } from 'execa';
import { podnet, parseJsonDoc, REPO } from '../helpers/cli.js';
import { startLab, type TestLab } from '../helpers/lab.js';
import { listNetns, pidsInNamespaces } from '../../src/lab/host.js';

async function hostLinks(): Promise<string[]> {
  const r = await execa('ip', ['-j', 'link', 'show']);
  return (JSON.parse(r.stdout) as { ifname: string }[]).map((l) => l.ifname).sort();
}

function leftovers(name: string): string[] {
  const found: string[] = [];
  const ns = listNetns().filter((n) => n.startsWith(`podnet-${name}-`));
  if (ns.length) found.push(`netns: ${ns.join(' ')}`);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(`/run/podnet/labs/${name}`));
  if (mounts.length) found.push(`mounts: ${mounts.length}`);
  if (existsSync(`/run/podnet/labs/${name}`)) found.push('lab directory');
  // Processes of this lab: every lab process runs in the lab's cgroup (other labs may be running).
  const sshd = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cgroup`, 'utf8').includes(`/podnet-lab-${name}\n`);
      } catch {
        return false;
      }
    });
  if (sshd.length) found.push(`processes: ${sshd.join(' ')}`);
  return found;
}

async function assertSshToEveryNode(lab: TestLab): Promise<void> {
  const results = await Promise.all(
    lab.plan.nodes.map((n) => lab.onOperator(['ssh', '-F', `${lab.plan.dir}/ssh_config`, n.name, 'hostname; ip -4 -o addr show dev eth0'])),
  );
  results.forEach((r, i) => {
    const n = lab.plan.nodes[i]!;
    assert.equal(r.exitCode, 0, `ssh to ${n.name}: ${r.stderr}`);
    const [host, addr] = r.stdout.split('\n');
    assert.equal(host, n.name);
    assert.match(addr ?? '', new RegExp(`inet ${n.ip.replace(/\./g, '\\.')}/24`));
  });
}

describe('lab: flat, 4 nodes', () => {
  let lab: TestLab;
  let linksBefore: string[];
  before(async () => {
    linksBefore = await hostLinks();
    lab = await startLab('tflat', ['--nodes', '4']);
  });
  after(() => lab?.down());

  it('reaches every node over ssh from the operator namespace, with host keys verified', async () => {
    await assertSshToEveryNode(lab);
  });

  it('refuses an unknown host key (StrictHostKeyChecking) instead of trusting it', async () => {
    const r = await lab.onOperator(['ssh', '-F', `${lab.plan.dir}/ssh_config`, '-o', 'UserKnownHostsFile=/dev/null', 'node-1', 'true']);
    assert.notEqual(r.exitCode, 0);
    assert.match(r.stderr, /host key/i);
  });

  it('keeps /etc/cni/net.d private to each node (and off the host)', async () => {
    const w = await lab.shOnNode('node-1', 'echo "{}" > /etc/cni/net.d/99-test.conflist && ls /etc/cni/net.d');
    assert.equal(w.exitCode, 0, w.stderr);
    assert.match(w.stdout, /99-test\.conflist/);
    const r = await lab.shOnNode('node-2', 'ls /etc/cni/net.d');
    assert.doesNotMatch(r.stdout, /99-test/);
    assert.equal(existsSync('/etc/cni/net.d/99-test.conflist'), false);
  });

  it('starts every node with CNI config and IPAM directories of its own, not the host\'s', async () => {
    // Through the /etc and /var overlays a node would see whatever the host has there (podman's conflist).
    for (const d of ['/etc/cni/net.d', '/var/lib/cni']) {
      const r = await lab.shOnNode('node-3', `awk '$5 == "${d}" { print $9 }' /proc/self/mountinfo; ls -A ${d}`);
      assert.equal(r.stdout.trim(), 'tmpfs', `${d} on node-3 is not a directory of its own, or not empty: ${r.stdout}`);
    }
  });

  it('keeps network namespaces created on a node private to it', async () => {
    const a = await lab.shOnNode('node-1', 'ip netns add pod-a && ip netns list');
    assert.equal(a.exitCode, 0, a.stderr);
    assert.match(a.stdout, /pod-a/);
    const b = await lab.shOnNode('node-2', 'ip netns list');
    assert.doesNotMatch(b.stdout, /pod-a/);
    assert.equal(listNetns().includes('pod-a'), false);
  });

  it('has no default route anywhere and no link into the host namespace', async () => {
    for (const ns of listNetns().filter((n) => n.startsWith('podnet-tflat-'))) {
      const r = await execa('ip', ['-n', ns, '-j', 'route', 'show', 'default']);
      assert.deepEqual(JSON.parse(r.stdout || '[]'), [], `${ns} has a default route`);
      const r6 = await execa('ip', ['-n', ns, '-6', '-j', 'route', 'show', 'default']);
      assert.deepEqual(JSON.parse(r6.stdout || '[]'), [], `${ns} has an IPv6 default route`);
    }
    // A veth or any other link into the host would show up as a new interface in the host namespace.
    assert.deepEqual(await hostLinks(), linksBefore, 'the host namespace gained or lost links');
    // And every veth end inside the lab has its peer in another lab namespace (a netnsid, never the host's).
    for (const ns of listNetns().filter((n) => n.startsWith('podnet-tflat-'))) {
      const links = JSON.parse((await execa('ip', ['-n', ns, '-j', 'link', 'show', 'type', 'veth'])).stdout || '[]') as { ifname: string; link_netnsid?: number }[];
      const ids = JSON.parse((await execa('ip', ['-n', ns, '-j', 'netns', 'list-id'])).stdout || '[]') as { nsid: number; name?: string }[];
      for (const l of links) {
        const peer = ids.find((i) => i.nsid === l.link_netnsid);
        assert.ok(peer?.name?.startsWith('podnet-tflat-'), `${ns}/${l.ifname} peers with ${peer?.name ?? 'a namespace outside the lab'}`);
      }
    }
  });

  it('lists the lab and its nodes, as a table and as JSON', async () => {
    const r = await podnet(['lab', 'status', '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    const doc = parseJsonDoc(r.stdout);
    assert.equal(doc.apiVersion, 'podnet/v1alpha1');
    assert.equal(doc.kind, 'LabList');
    const labs = doc.labs as { name: string; state: string; nodes: number }[];
    assert.deepEqual(labs.find((l) => l.name === 'tflat'), { name: 'tflat', state: 'up', topology: 'flat', nodes: 4, sshdRunning: 4, inventory: '/run/podnet/labs/tflat/inventory.yaml' });
    const one = await podnet(['lab', 'status', '--name', 'tflat']);
    assert.match(one.stdout, /node-4\s.*192\.0\.2\.14/);
  });

  it('refuses a lab name that is in use, with exit 2', async () => {
    const r = await podnet(['lab', 'up', '--name', 'tflat', '--nodes', '1']);
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /lab "tflat" already exists/);
    assert.match(r.stderr, /lab down --name tflat/);
  });

  it('lets labs with different names coexist, and removing one leaves the other alone', async () => {
    const other = await startLab('tother', ['--nodes', '2']);
    try {
      const r = await other.onOperator(['ssh', '-F', `${other.plan.dir}/ssh_config`, 'node-1', 'hostname']);
      assert.equal(r.stdout.trim(), 'node-1');
    } finally {
      await other.down();
    }
    assert.deepEqual(leftovers('tother'), []);
    await assertSshToEveryNode(lab);
  });

  it('works as a kubectl plugin through the real kubectl', { skip: !existsSync('/usr/bin/kubectl') && 'kubectl is not installed' }, async () => {
    const dir = mkdtempSync(`${tmpdir()}/podnet-kubectl-`);
    symlinkSync(`${REPO}bin/kubectl-podnet.js`, `${dir}/kubectl-podnet`);
    try {
      const env = { PATH: `${dir}:${process.env.PATH}`, NO_COLOR: '1' };
      const st = await execa('kubectl', ['podnet', 'lab', 'status'], { env, reject: false });
      assert.equal(st.exitCode, 0, st.stderr);
      assert.match(st.stdout, /tflat\s.*up\s.*flat\s.*4/);
      const help = await execa('kubectl', ['podnet', 'lab', 'up', '--help'], { env, reject: false });
      assert.match(help.stdout, /\$ kubectl podnet lab up/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tears down to nothing, and a second down is a no-op', async () => {
    await lab.down();
    assert.deepEqual(leftovers('tflat'), []);
    assert.deepEqual(await hostLinks(), linksBefore);
    const again = await podnet(['lab', 'down', '--name', 'tflat']);
    assert.equal(again.exitCode, 0);
    assert.match(again.stdout, /does not exist/);
  });
});

describe('lab: routed, 8 nodes', () => {
  let lab: TestLab;
  before(async () => {
    lab = await startLab('trouted', ['--nodes', '8', '--topology', 'routed', '--node-mtu', 'node-3=1400']);
  });
  after(() => lab?.down());

  it('puts half the nodes on each segment, reachable across the router', async () => {
    await assertSshToEveryNode(lab);
    assert.deepEqual(lab.plan.nodes.map((n) => n.segment), ['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b']);
    const r = await lab.onNode('node-1', ['ping', '-c1', '-W2', lab.plan.nodes[7]!.ip]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    // Not on-link: the path to a node on the other segment goes through the router.
    const g = await lab.onNode('node-1', ['ip', '-j', 'route', 'get', lab.plan.nodes[7]!.ip]);
    assert.equal((JSON.parse(g.stdout) as { gateway?: string }[])[0]?.gateway, '192.0.2.1');
  });

  it('applies the per-node uplink MTU knob', async () => {
    const r = await lab.onNode('node-3', ['cat', '/sys/class/net/eth0/mtu']);
    assert.equal(r.stdout.trim(), '1400');
    const r2 = await lab.onNode('node-2', ['cat', '/sys/class/net/eth0/mtu']);
    assert.equal(r2.stdout.trim(), '1500');
  });

  it('cleans up after a crash: processes killed, state file gone', async () => {
    const nets = new Set(
      listNetns()
        .filter((n) => n.startsWith('podnet-trouted-'))
        .map((n) => execa('stat', ['-L', '-c', '%i', `/run/netns/${n}`])),
    );
    const inodes = new Set((await Promise.all(nets)).map((r) => Number(r.stdout)));
    for (const pid of pidsInNamespaces(inodes, new Set())) process.kill(pid, 'SIGKILL');
    // a pod netns with a process in it, like a probe would leave behind when killed
    await lab.shOnNode('node-2', 'ip netns add leftover && (ip netns exec leftover sleep 600 >/dev/null 2>&1 &)');
    rmSync('/run/podnet/labs/trouted/lab.json');
    const st = await podnet(['lab', 'status', '--json']);
    const labs = parseJsonDoc(st.stdout).labs as { name: string; state: string }[];
    assert.equal(labs.find((l) => l.name === 'trouted')?.state, 'leftover');
    await lab.down();
    assert.deepEqual(leftovers('trouted'), []);
    const sleepers = await execa('pgrep', ['-f', 'sleep 600'], { reject: false });
    assert.equal(sleepers.stdout.trim(), '', 'a process started inside a node survived lab down');
  });
});

describe('lab: input errors', () => {
  it('rejects bad flags with exit 2 and one line naming the flag', async () => {
    for (const [args, re] of [
      [['--nodes', '0'], /--nodes: expected a whole number from 1 to 200/],
      [['--name', 'Bad_Name'], /--name: "Bad_Name" is not a valid lab name/],
      [['--topology', 'ring'], /--topology: "ring" is not a valid choice; expected one of: flat, routed/],
      [['--mtu', '100'], /--mtu: expected an MTU from 1280 to 9000/],
      [['--node-mtu', 'node-9=1400', '--nodes', '2'], /--node-mtu: no node "node-9"/],
    ] as const) {
      const r = await podnet(['lab', 'up', ...args]);
      assert.equal(r.exitCode, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('error')).length, 1);
    }
    assert.equal(listNetns().filter((n) => n.startsWith('podnet-lab-')).length, 0);
  });

  it('says that the lab needs root when run as another user', async () => {
    const r = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'node', `${REPO}bin/run.js`, 'lab', 'up', '--name', 'tnoroot'], { reject: false, env: { NO_COLOR: '1' } });
    assert.equal(r.exitCode, 2, r.stderr);
    assert.match(r.stderr, /needs root/);
  });
});
