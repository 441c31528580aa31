/**
 * The researched failure modes of docs/FAILURE-MODES.md, each injected on one node of a bootstrapped flat
 * lab the way it happens in the field (a distribution's REJECT rule, firewalld's nftables chain, a CNI's
 * leftovers, a leaked IPAM range, a runtime configured elsewhere …). For each: doctor names it on that
 * node with the expected severity; the probe fails exactly the cells the mode can affect (or none, for
 * modes that bite later or only a real runtime) and every failed cell is explained by that finding; then
 * `up` heals what podnet owns, or the test undoes what podnet must not touch, and the finding is gone.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, type TestLab } from '../helpers/lab.js';
import { assertClean, assertNoProbeLeftovers, doctor, exercise, involves, probe, type Cell, type Fault } from '../helpers/diagnose.js';

const CELLS = 84;
const crossNode = (a: string, b: string) => (c: Cell) => c.src !== c.dst && [c.src, c.dst].every((n) => n === a || n === b);
const through = (node: string) => (c: Cell) => involves(node)(c) && c.check !== 'localhost';
const IPAM = '/var/lib/cni/networks/podnet';

const FAULTS: Fault[] = [
  {
    name: "RHEL's iptables-services REJECT at the top of FORWARD (up moves its jump above it)",
    node: 'node-2',
    inject: 'iptables -I FORWARD 1 -m comment --comment podnet-test -j REJECT --reject-with icmp-host-prohibited',
    finding: 'forward-reject',
    severity: 'error',
    mustFail: ['pod-tcp node-1→node-2', 'pod-tcp node-2→node-3', 'host-pod-tcp node-1→node-2', 'hostport-tcp-pod node-3→node-2'],
    scope: through('node-2'),
    explainsAll: true,
    heals: true,
    after: 'iptables -D FORWARD -m comment --comment podnet-test -j REJECT --reject-with icmp-host-prohibited',
  },
  {
    name: "firewalld's native nftables forward chain with policy drop",
    node: 'node-2',
    // firewalld's run dir tells podnet that something manages native nftables rules here.
    inject: "mkdir -p /run/firewalld && nft add table inet podnettest && nft add chain inet podnettest forward_filter '{ type filter hook forward priority 0; policy drop; }'",
    finding: 'nft-forward-drop',
    severity: 'error',
    mustFail: ['pod-tcp node-1→node-2', 'pod-udp node-2→node-3', 'host-pod-tcp node-3→node-2'],
    scope: through('node-2'),
    explainsAll: true,
    heals: false,
    undo: 'nft delete table inet podnettest; rmdir /run/firewalld',
  },
  {
    name: "Calico's blackhole routes for its address blocks, left behind",
    node: 'node-1',
    inject: 'ip route add blackhole 10.244.2.0/25 proto 12 && ip route add blackhole 10.244.2.128/25 proto 12',
    finding: 'blackhole-route',
    severity: 'error',
    mustFail: ['pod-tcp node-1→node-3', 'pod-tcp node-3→node-1', 'host-pod-tcp node-1→node-3'],
    scope: crossNode('node-1', 'node-3'),
    explainsAll: true,
    heals: false,
    undo: 'ip route del blackhole 10.244.2.0/25; ip route del blackhole 10.244.2.128/25',
  },
  {
    name: 'a policy-routing rule (a VPN client) sends pod traffic to another table',
    node: 'node-1',
    inject: 'ip route add unreachable 10.244.2.0/24 table 100 && ip rule add to 10.244.2.0/24 lookup 100 pref 100',
    finding: 'policy-route',
    severity: 'error',
    mustFail: ['pod-tcp node-1→node-3', 'pod-udp node-3→node-1', 'host-pod-tcp node-1→node-3'],
    scope: crossNode('node-1', 'node-3'),
    explainsAll: true,
    heals: false,
    undo: 'ip rule del pref 100; ip route flush table 100',
  },
  {
    name: 'the bridge set down (the bridge plugin brings it up for the next pod; up does too)',
    node: 'node-2',
    inject: 'ip link set cni0 down',
    finding: 'bridge-down',
    severity: 'error',
    mustFail: [],
    scope: () => false,
    heals: true,
    probeFails: false,
  },
  {
    name: 'the conflist renamed to .conf (libcni reads a list only from .conflist)',
    node: 'node-2',
    inject: 'mv /etc/cni/net.d/10-podnet.conflist /etc/cni/net.d/10-podnet.conf',
    finding: 'cni-config-kind',
    severity: 'error',
    mustFail: ['pod-tcp node-1→node-2', 'hostport-udp-host node-3→node-2', 'localhost node-2→node-2'],
    scope: involves('node-2'),
    explainsAll: true,
    undo: 'rm -f /etc/cni/net.d/10-podnet.conf',
    heals: true,
  },
  {
    name: "a previous CNI's config (flannel) sorting before podnet's",
    node: 'node-2',
    inject: `printf '%s\\n' '{"cniVersion":"0.3.1","name":"cbr0","plugins":[{"type":"flannel","delegate":{"hairpinMode":true,"isDefaultGateway":true}},{"type":"portmap","capabilities":{"portMappings":true}}]}' > /etc/cni/net.d/05-flannel.conflist`,
    finding: 'cni-config-shadowed',
    severity: 'error',
    mustFail: ['pod-tcp node-3→node-2', 'host-pod-tcp node-1→node-2', 'localhost node-2→node-2'],
    scope: involves('node-2'),
    explainsAll: true,
    heals: false,
    undo: 'rm -f /etc/cni/net.d/05-flannel.conflist',
  },
  {
    name: "Calico's config left after podnet's (unused until that file goes)",
    node: 'node-3',
    inject: `printf '%s\\n' '{"name":"k8s-pod-network","cniVersion":"0.3.1","plugins":[{"type":"calico","ipam":{"type":"calico-ipam"}},{"type":"portmap","capabilities":{"portMappings":true}}]}' > /etc/cni/net.d/20-calico.conflist`,
    finding: 'cni-config-leftover',
    severity: 'warning',
    mustFail: [],
    scope: () => false,
    heals: false,
    probeFails: false,
    undo: 'rm -f /etc/cni/net.d/20-calico.conflist',
  },
  {
    name: 'a plugin binary that does not run (a download of the wrong architecture)',
    node: 'node-2',
    inject: "cp -p /usr/lib/cni/portmap /root/portmap.bak && printf '\\177ELF\\002\\001\\001\\000' > /usr/lib/cni/portmap",
    finding: 'plugin-broken',
    severity: 'error',
    mustFail: ['pod-tcp node-1→node-2', 'localhost node-2→node-2'],
    scope: involves('node-2'),
    explainsAll: true,
    heals: false,
    undo: 'cp -p /root/portmap.bak /usr/lib/cni/portmap && rm -f /root/portmap.bak',
  },
  {
    name: "containerd's own config looking for plugins elsewhere",
    node: 'node-2',
    inject: `mkdir -p /etc/containerd && { [ ! -f /etc/containerd/config.toml ] || cp -p /etc/containerd/config.toml /root/ctd.bak; } && printf 'version = 2\\n[plugins."io.containerd.grpc.v1.cri".cni]\\n  bin_dir = "/opt/cni/bin"\\n  conf_dir = "/etc/cni/net.d"\\n' > /etc/containerd/config.toml`,
    finding: 'runtime-cni-dirs',
    severity: 'error',
    mustFail: [],
    scope: () => false,
    heals: false,
    probeFails: false,
    undo: 'if [ -f /root/ctd.bak ]; then mv /root/ctd.bak /etc/containerd/config.toml; else rm -f /etc/containerd/config.toml; fi',
  },
  {
    name: "no loopback plugin where containerd looks (every sandbox would fail; podnet's own pods do not use it)",
    node: 'node-3',
    inject: `mkdir -p /etc/containerd && { [ ! -f /etc/containerd/config.toml ] || cp -p /etc/containerd/config.toml /root/ctd.bak; } && printf 'version = 2\\n[plugins."io.containerd.grpc.v1.cri".cni]\\n  bin_dir = "/usr/lib/cni"\\n  conf_dir = "/etc/cni/net.d"\\n' > /etc/containerd/config.toml && mv /usr/lib/cni/loopback /root/loopback.bak`,
    finding: 'loopback-missing',
    severity: 'error',
    mustFail: [],
    scope: () => false,
    heals: false,
    probeFails: false,
    undo: 'mv /root/loopback.bak /usr/lib/cni/loopback; if [ -f /root/ctd.bak ]; then mv /root/ctd.bak /etc/containerd/config.toml; else rm -f /etc/containerd/config.toml; fi',
  },
  {
    name: "host-local's range full of reservations leaked before the last boot",
    node: 'node-2',
    inject: `mkdir -p ${IPAM} && for i in $(seq 2 254); do printf '%064d\\r\\neth0' "$i" > ${IPAM}/10.244.1.$i; done && touch -d 2001-01-01 ${IPAM}/10.244.1.*`,
    finding: 'ipam-exhausted',
    severity: 'error',
    mustFail: ['pod-tcp node-1→node-2', 'hostport-tcp-host node-3→node-2', 'localhost node-2→node-2'],
    scope: involves('node-2'),
    explainsAll: true,
    heals: false,
    undo: `rm -f ${IPAM}/10.244.1.*`,
  },
  {
    name: 'a reservation of a probe pod that is gone (up releases it)',
    node: 'node-3',
    inject: `mkdir -p ${IPAM} && printf 'pnp-0dead0\\r\\neth0' > ${IPAM}/10.244.2.250`,
    finding: 'ipam-leak',
    severity: 'warning',
    mustFail: [],
    scope: () => false,
    heals: true,
    probeFails: false,
  },
  {
    name: "a stale hostPort DNAT chain of a pod that is gone, ahead of the new pod's",
    node: 'node-2',
    inject: [
      'iptables -t nat -N CNI-HOSTPORT-DNAT 2>/dev/null || true',
      'iptables -t nat -C PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT 2>/dev/null || iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT',
      'iptables -t nat -C OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT 2>/dev/null || iptables -t nat -A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT',
      'iptables -t nat -N CNI-DN-podnettest',
      'iptables -t nat -A CNI-DN-podnettest -p tcp -m tcp --dport 31999 -j DNAT --to-destination 10.244.1.250:8080',
      'iptables -t nat -A CNI-HOSTPORT-DNAT -p tcp -m comment --comment podnet-test -m multiport --dports 31999 -j CNI-DN-podnettest',
    ].join(' && '),
    finding: 'stale-hostport',
    severity: 'error',
    probeArgs: ['--host-port', '31999'],
    mustFail: ['hostport-tcp-pod node-1→node-2', 'hostport-tcp-host node-3→node-2', 'hostport-tcp-host node-2→node-2'],
    scope: (c) => c.check.startsWith('hostport-tcp') && c.dst === 'node-2',
    explainsAll: true,
    heals: false,
    undo: 'iptables -t nat -D CNI-HOSTPORT-DNAT -p tcp -m comment --comment podnet-test -m multiport --dports 31999 -j CNI-DN-podnettest; iptables -t nat -F CNI-DN-podnettest; iptables -t nat -X CNI-DN-podnettest',
  },
  {
    name: "interfaces a previous CNI left (flannel's VXLAN device, Cilium's host device)",
    node: 'node-3',
    inject: 'ip link add flannel.1 type vxlan id 1 dstport 8472 nolearning && ip link add cilium_host type veth peer name cilium_net',
    finding: 'leftover-links',
    severity: 'warning',
    mustFail: [],
    scope: () => false,
    heals: false,
    probeFails: false,
    undo: 'ip link del flannel.1; ip link del cilium_host',
  },
  {
    name: "libcni's cached results of a network no config defines",
    node: 'node-1',
    inject: `mkdir -p /var/lib/cni/results && printf '{"kind":"cniCacheV1","networkName":"cbr0"}' > /var/lib/cni/results/cbr0-$(printf '%064d' 7)-eth0`,
    finding: 'stale-cni-cache',
    severity: 'warning',
    mustFail: [],
    scope: () => false,
    heals: false,
    probeFails: false,
    undo: 'rm -f /var/lib/cni/results/cbr0-*',
  },
  {
    name: 'a hardening sysctl file that turns forwarding off at the next boot',
    node: 'node-2',
    inject: "printf 'net.ipv4.ip_forward = 0\\n' > /etc/sysctl.d/99-zz-hardening.conf",
    finding: 'sysctl-reverts',
    severity: 'warning',
    mustFail: [],
    scope: () => false,
    heals: false,
    probeFails: false,
    undo: 'rm -f /etc/sysctl.d/99-zz-hardening.conf',
  },
];

describe('failure modes: flat lab of 3 nodes', () => {
  let lab: TestLab;
  before(async () => {
    lab = await startLab('tfm', ['--nodes', '3']);
    const up = await lab.podnet(['up', '-i', lab.inventory]);
    assert.equal(up.exitCode, 0, up.stderr);
    await assertClean(lab, CELLS);
  });
  after(async () => {
    await lab?.down();
  });

  // The modes the probe feels, one at a time: exactly which cells fail, each explained.
  for (const fault of FAULTS.filter((f) => f.probeFails !== false)) {
    it(`${fault.finding}: ${fault.name}`, async () => {
      await exercise(lab, fault, CELLS);
      await assertNoProbeLeftovers(lab);
    });
  }

  // The modes that bite later or only a real runtime: no probe cell may fail, so they share one doctor,
  // one probe and one up (each on its own node, each finding asserted on that node).
  const quiet = FAULTS.filter((f) => f.probeFails === false);
  it(`all at once, none failing a probe cell: ${quiet.map((f) => f.finding).join(', ')}`, async () => {
    for (const f of quiet) {
      const inj = await lab.shOnNode(f.node, f.inject);
      assert.equal(inj.exitCode, 0, `${f.finding} inject: ${inj.stderr}`);
    }
    const d = await doctor(lab);
    for (const f of quiet) {
      const found = d.findings.filter((x) => x.id === f.finding && x.node === f.node);
      assert.ok(found.length, `doctor: no ${f.finding} on ${f.node}: ${JSON.stringify(d.findings.map((x) => `${x.node}:${x.id}`))}`);
      assert.ok(found.every((x) => x.severity === f.severity), `${f.finding} severity: ${JSON.stringify(found)}`);
    }
    const p = await probe(lab);
    assert.deepEqual(p.results.filter((r) => r.status === 'fail').map((r) => `${r.check} ${r.src}→${r.dst}: ${r.reason}`), []);
    assert.equal(p.exitCode, 0);
    for (const f of quiet) if (f.undo) await lab.shOnNode(f.node, f.undo);
    const up = await lab.podnet(['up', '-i', lab.inventory]);
    assert.equal(up.exitCode, 0, up.stderr);
    const again = await doctor(lab);
    assert.deepEqual(again.findings.filter((x) => quiet.some((f) => f.finding === x.id)).map((x) => `${x.node}: ${x.id}: ${x.message}`), [], 'healed or undone');
    const st = await lab.podnet(['status', '-i', lab.inventory]);
    assert.equal(st.exitCode, 0, st.stdout);
    await assertNoProbeLeftovers(lab);
  });

  it('IPv6 on a dual-stack config: forwarding off and a gateway stuck tentative are named (through the real facts)', async () => {
    const conf = '/etc/cni/net.d/10-podnet.conflist';
    const inject = [
      `python3 -c 'import json;p="${conf}";c=json.load(open(p));b=[x for x in c["plugins"] if x["type"]=="bridge"][0];b["ipam"]["ranges"].append([{"subnet":"fd00:10:244:1::/64"}]);json.dump(c,open(p,"w"))'`,
      'sysctl -n net.ipv6.conf.all.forwarding > /root/fwd6.bak && sysctl -qw net.ipv6.conf.all.forwarding=0',
      // A bridge without ports has no carrier: duplicate address detection never finishes.
      'ip -6 addr add fd00:10:244:1::1/64 dev cni0',
    ].join(' && ');
    const inj = await lab.shOnNode('node-2', inject);
    assert.equal(inj.exitCode, 0, inj.stderr);
    try {
      const d = await doctor(lab);
      const v6 = d.findings.filter((f) => ['ip6-forward-off', 'dad-failed', 'br-netfilter-ip6', 'ra-default-route', 'ipv6-mtu'].includes(f.id));
      assert.deepEqual(v6.map((f) => `${f.node}:${f.id}:${f.severity}`).sort(), ['node-2:dad-failed:warning', 'node-2:ip6-forward-off:error']);
    } finally {
      await lab.shOnNode('node-2', 'ip -6 addr del fd00:10:244:1::1/64 dev cni0; sysctl -qw net.ipv6.conf.all.forwarding="$(cat /root/fwd6.bak)"; rm -f /root/fwd6.bak');
      const up = await lab.podnet(['up', '-i', lab.inventory]);
      assert.equal(up.exitCode, 0, up.stderr);
    }
    const again = await doctor(lab);
    assert.deepEqual(again.findings.filter((f) => f.severity === 'error').map((f) => `${f.node}:${f.id}`), []);
  });

  it('doctor --list-checks prints the catalogue without an inventory', async () => {
    const r = await lab.podnet(['doctor', '--list-checks', '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    const ids = (JSON.parse(r.stdout) as { checks: { id: string }[] }).checks.map((c) => c.id);
    for (const f of FAULTS) assert.ok(ids.includes(f.finding), f.finding);
  });
});
