/** The failure modes injected on a flat 3-node lab (test/lab/diagnose.test.ts over SSH, kube-access.test.ts through the API). */
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { labExecArgv, labExecEnv } from '../../src/lab/service.js';
import { involves, target, type Fault } from './diagnose.js';
import type { TestLab } from './lab.js';

export const FLAT_FAULTS: Fault[] = [
  {
    name: 'FORWARD DROP on one node',
    node: 'node-2',
    inject: 'iptables -P FORWARD DROP; iptables -D FORWARD -m comment --comment podnet -j PODNET-FORWARD',
    finding: 'forward-drop',
    mustFail: ['pod-tcp node-1→node-2', 'pod-tcp node-2→node-1', 'host-pod-tcp node-1→node-2'],
    scope: involves('node-2'),
    heals: true,
  },
  {
    name: 'a missing peer route',
    node: 'node-1',
    inject: 'ip route del 10.244.2.0/24',
    finding: 'missing-route',
    mustFail: ['pod-tcp node-1→node-3', 'pod-tcp node-3→node-1', 'host-pod-tcp node-1→node-3'],
    scope: (c) => c.src !== c.dst && [c.src, c.dst].every((n) => n === 'node-1' || n === 'node-3'),
    heals: true,
  },
  {
    name: 'a lower MTU on one node uplink',
    node: 'node-3',
    inject: 'ip link set eth0 mtu 1400',
    finding: 'mtu',
    mustFail: ['pod-mtu node-1→node-3', 'pod-mtu node-3→node-2'],
    scope: (c) => c.check === 'pod-mtu' && c.src !== c.dst && involves('node-3')(c),
    heals: true,
  },
  {
    name: 'portmap missing from the conflist',
    node: 'node-2',
    inject: `python3 -c 'import json;p="/etc/cni/net.d/10-podnet.conflist";c=json.load(open(p));c["plugins"]=[x for x in c["plugins"] if x["type"]!="portmap"];json.dump(c,open(p,"w"))'`,
    finding: 'no-hostport',
    mustFail: ['hostport-tcp-pod node-1→node-2', 'hostport-udp-host node-3→node-2'],
    scope: (c) => c.check.startsWith('hostport') && c.dst === 'node-2',
    heals: true,
  },
  {
    name: 'a cniVersion the plugins do not support',
    node: 'node-1',
    inject: `sed -i 's/"cniVersion": "[^"]*"/"cniVersion": "9.9.9"/' /etc/cni/net.d/10-podnet.conflist`,
    finding: 'cni-version',
    mustFail: ['pod-tcp node-1→node-2', 'pod-tcp node-2→node-1', 'localhost node-1→node-1'],
    scope: involves('node-1'),
    heals: true,
  },
  {
    name: 'overlapping pod CIDRs on two nodes',
    node: 'node-2',
    inject: `sed -i 's#10.244.1.0/24#10.244.0.0/24#; s#10.244.1.1#10.244.0.1#' /etc/cni/net.d/10-podnet.conflist; ip addr flush dev cni0; ip addr add 10.244.0.1/24 dev cni0`,
    finding: 'dup-podcidr',
    mustFail: ['pod-tcp node-3→node-2'],
    scope: (c) => involves('node-2')(c) || involves('node-1')(c),
    heals: true,
  },
  {
    name: 'IPv4 forwarding off on one node',
    node: 'node-3',
    inject: 'sysctl -qw net.ipv4.ip_forward=0',
    finding: 'ip-forward-off',
    mustFail: [],
    scope: involves('node-3'),
    heals: true,
    // The bridge plugin (isGateway) switches forwarding back on when the probe pod is created, exactly as
    // it would for the next real pod: only the doctor can see this one.
    probeFails: false,
  },
  {
    name: 'pod→pod NAT by a POSTROUTING masquerade',
    node: 'node-2',
    inject: 'iptables -t nat -I POSTROUTING 1 -s 10.244.0.0/16 -o eth0 -j MASQUERADE; iptables -t nat -I POSTROUTING 1 -s 10.244.0.0/16 -d 10.244.0.0/16 -j MASQUERADE',
    finding: 'pod-nat',
    mustFail: ['pod-tcp node-2→node-1', 'pod-udp node-2→node-3'],
    scope: involves('node-2'),
    heals: false,
    undo: 'iptables -t nat -D POSTROUTING -s 10.244.0.0/16 -o eth0 -j MASQUERADE; iptables -t nat -D POSTROUTING -s 10.244.0.0/16 -d 10.244.0.0/16 -j MASQUERADE',
  },
];

/**
 * Start `podnet probe` (the lab's target: SSH or the API) in the operator namespace with node-3 dropping forwarded packets (so the probes to
 * it wait for their timeouts) and resolve once the probing phase has begun: an interrupt then lands mid-run.
 */
export async function probeUntilProbing(lab: TestLab) {
  const [file, ...args] = labExecArgv(lab.plan, { kind: 'operator' }, ['podnet', 'probe', ...target(lab)]);
  const rule = '-m comment --comment podnet-test-drop -j DROP';
  await lab.shOnNode('node-3', `iptables -I FORWARD 1 ${rule}`);
  const child = execa(file!, args, { env: labExecEnv(), reject: false });
  let seen = '';
  await new Promise<void>((resolve) => {
    child.stderr!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (/probing \(/.test(seen)) resolve();
    });
    setTimeout(resolve, 15_000);
  });
  assert.match(seen, /probing \(/);
  return { child, stderr: () => seen, undo: async () => void (await lab.shOnNode('node-3', `iptables -D FORWARD ${rule}`)) };
}

