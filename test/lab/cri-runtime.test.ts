/**
 * podnet probe next to a real container runtime: containerd (CRI) runs on a lab node and makes pods
 * through the node's podnet conflist, driven over the CRI as kubelet drives it. The probe must leave
 * those pods exactly as it found them: the node's mounts unchanged, and the runtime still able to stop
 * and remove a pod it made before the probe (its network namespace file unmounted and unlinked, no
 * "device or resource busy", so no pod stuck Terminating) and to make and remove new ones after it.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type TestLab } from '../helpers/lab.js';
import { nodeMounts, startCri, type CriPod, type CriRuntime } from '../helpers/cri.js';
import { cidrContainsIp } from '../../src/net/cidr.js';
import { sh } from '../../src/util/shell.js';

const NODE = 'node-1';

async function podCidr(lab: TestLab, node: string): Promise<string> {
  const r = await lab.onNode(node, ['cat', '/etc/cni/net.d/10-podnet.conflist']);
  assert.equal(r.exitCode, 0, `no podnet conflist on ${node}`);
  const list = JSON.parse(r.stdout) as { plugins: { ipam?: { ranges?: { subnet: string }[][] } }[] };
  const subnet = list.plugins.find((p) => p.ipam)?.ipam?.ranges?.[0]?.[0]?.subnet;
  assert.ok(subnet, `no host-local range in ${node}'s conflist: ${r.stdout}`);
  return subnet;
}

/** The pod's network as seen on the node: the address on eth0 inside the namespace the runtime pinned. */
async function addressInPodNetns(lab: TestLab, pod: CriPod): Promise<string> {
  const r = await lab.shOnNode(NODE, `nsenter --net=${sh(pod.netns)} ip -4 -o addr show dev eth0 | awk '{print $4}'`);
  return r.stdout.trim().split('/')[0] ?? '';
}

/** Mount lines that appeared and disappeared between two looks at a mount table. */
const mountChanges = (before: string[], after: string[]) => ({
  added: after.filter((l) => !before.includes(l)),
  removed: before.filter((l) => !after.includes(l)),
});

const settle = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (err: Error) => err.message);

/** What kubelet sees when it tears a pod down, and what is left of it on the node. */
async function teardown(lab: TestLab, cri: CriRuntime, pod: CriPod) {
  const stop = await settle(cri.stopPod(pod.id));
  const remove = await settle(cri.removePod(pod.id));
  const stillListed = (await cri.listPods()).includes(pod.id);
  const netnsFileLeft = (await lab.shOnNode(NODE, `test -e ${sh(pod.netns)}`)).exitCode === 0;
  return { stop, remove, stillListed, netnsFileLeft, netnsMounts: await nodeMounts(lab, NODE, '/run/netns') };
}

describe('probe next to a real container runtime (containerd CRI on a lab node)', () => {
  let lab: TestLab;
  let cri: CriRuntime;
  let cidr: string;
  before(async () => {
    lab = await startLab('tcri', ['--nodes', '2']);
    const up = await lab.podnet(['up', '-i', lab.inventory]);
    assert.equal(up.exitCode, 0, up.stderr);
    cidr = await podCidr(lab, NODE);
    cri = await startCri(lab, NODE);
  });
  after(async () => {
    try {
      await cri?.stop();
    } finally {
      await lab?.down();
    }
  });

  it('leaves a pod the runtime made before it: mounts unchanged, and the pod stops and is removed cleanly', async () => {
    const v = await cri.version();
    assert.equal(v.runtimeName, 'containerd');
    // The case under test: /run/netns is a plain directory of the node's private /run (as on a node
    // without systemd), where `ip netns add` would first bind-mount it onto itself.
    const netnsMountsWithoutPod = await nodeMounts(lab, NODE, '/run/netns');
    assert.deepEqual(netnsMountsWithoutPod, [], `${NODE} already has mounts under /run/netns`);

    const pod = await cri.runPod('made-before-probe');
    assert.equal(pod.state, 'SANDBOX_READY');
    assert.ok(cidrContainsIp(cidr, pod.ip), `pod IP ${pod.ip} is not in ${NODE}'s pod CIDR ${cidr}`);
    assert.equal(await addressInPodNetns(lab, pod), pod.ip, `the pod's netns ${pod.netns} does not hold its IP`);
    const mountsBefore = await nodeMounts(lab, NODE);
    assert.ok(
      (await nodeMounts(lab, NODE, '/run/netns')).length > netnsMountsWithoutPod.length,
      `the runtime pinned the pod's netns ${pod.netns} outside /run/netns: this test would prove nothing`,
    );

    const probe = await lab.podnet(['probe', '-i', lab.inventory]);
    assert.equal(probe.exitCode, 0, `probe failed next to the runtime's pod:\n${probe.stdout}\n${probe.stderr}`);
    const mountsAfter = await nodeMounts(lab, NODE);

    const gone = await teardown(lab, cri, pod);
    assert.deepEqual(
      { mountsChangedByProbe: mountChanges(mountsBefore, mountsAfter), ...gone },
      { mountsChangedByProbe: { added: [], removed: [] }, stop: 'ok', remove: 'ok', stillListed: false, netnsFileLeft: false, netnsMounts: netnsMountsWithoutPod },
      `the probe changed what the runtime relies on; containerd log:\n${await cri.log(15)}`,
    );
  });

  it('lets the runtime make and remove pods after it', async () => {
    const netnsMountsWithoutPod = await nodeMounts(lab, NODE, '/run/netns');
    const pod = await cri.runPod('made-after-probe');
    assert.equal(pod.state, 'SANDBOX_READY');
    assert.ok(cidrContainsIp(cidr, pod.ip), `pod IP ${pod.ip} is not in ${NODE}'s pod CIDR ${cidr}`);
    assert.equal(await addressInPodNetns(lab, pod), pod.ip);
    assert.deepEqual(
      await teardown(lab, cri, pod),
      { stop: 'ok', remove: 'ok', stillListed: false, netnsFileLeft: false, netnsMounts: netnsMountsWithoutPod },
      `containerd log:\n${await cri.log(15)}`,
    );
  });
});
