/**
 * The probe program (src/probe/echo.ts) run for real, but only inside network namespaces this test
 * creates with `unshare -n` (loopback, a veth whose far end drops what it gets, no route anywhere else):
 * the echo service, the batch client's TCP/UDP/ICMP/path-MTU probes, its reasons for failures and
 * timeouts, the retry, and switching into a second ("pod") namespace; and the same over IPv6 across a
 * router namespace (ICMPv6, packet too big, unreachable, the source address seen, both families served
 * by one process). Needs root (raw ICMP, unshare).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { ECHO_PY } from '../../src/probe/echo.js';

const root = process.getuid?.() === 0;

interface Out {
  id: number;
  ok: boolean;
  observed?: string;
  reason?: string;
  retried?: boolean;
}

describe('echo.py (in private network namespaces)', { skip: root ? false : 'needs root' }, () => {
  let dir: string;
  let results: Map<number, Out>;
  let client: string[];

  before(() => {
    dir = mkdtempSync(`${tmpdir()}/podnet-echo-`);
    writeFileSync(`${dir}/echo.py`, ECHO_PY);
    // id → probe; "pod" probes open their sockets in the second namespace, where only port 9001 listens.
    const probes = [
      { id: 1, ns: 'host', proto: 'tcp', host: '127.0.0.1', port: 9000 },
      { id: 2, ns: 'host', proto: 'udp', host: '127.0.0.1', port: 9000, size: 100 },
      { id: 3, ns: 'host', proto: 'icmp', host: '127.0.0.1' },
      { id: 4, ns: 'host', proto: 'mtu', host: '127.0.0.1', size: 1472 },
      { id: 5, ns: 'host', proto: 'mtu', host: '127.0.0.1', size: 1473 },
      { id: 6, ns: 'host', proto: 'tcp', host: '127.0.0.1', port: 9999 },
      { id: 7, ns: 'host', proto: 'udp', host: '127.0.0.1', port: 9999 },
      { id: 8, ns: 'host', proto: 'tcp', host: '10.99.0.2', port: 9000 },
      { id: 9, ns: 'host', proto: 'icmp', host: '10.99.0.2' },
      { id: 10, ns: 'host', proto: 'tcp', host: '203.0.113.1', port: 9000 },
      { id: 11, ns: 'pod', proto: 'tcp', host: '127.0.0.1', port: 9001 },
      { id: 12, ns: 'pod', proto: 'udp', host: '127.0.0.1', port: 9001 },
      { id: 13, ns: 'pod', proto: 'icmp', host: '127.0.0.1' },
      { id: 14, ns: 'host', proto: 'tcp', host: '127.0.0.1', port: 9001 },
      { id: 15, ns: 'pod', proto: 'tcp', host: '127.0.0.1', port: 9000 },
      // served from the node's namespace with its sockets in the pod's
      { id: 16, ns: 'pod', proto: 'tcp', host: '127.0.0.1', port: 9002 },
      { id: 17, ns: 'host', proto: 'tcp', host: '127.0.0.1', port: 9002 },
    ];
    writeFileSync(`${dir}/probes.json`, JSON.stringify(probes));
    const D = dir;
    // The "pod": its own netns, kept alive by a sleeping process, with an echo service on 9001.
    const script = `set -e
ip link set lo up mtu 1500
ip link add v0 type veth peer name v1; ip addr add 10.99.0.1/24 dev v0; ip link set v1 up; ip link set v0 up
ip neigh add 10.99.0.2 lladdr 02:00:00:00:00:99 dev v0
python3 -I -S ${D}/echo.py serve 9000 30 ${D}/host.pid > ${D}/host.ready
unshare -n sh -c 'ip link set lo up; python3 -I -S ${D}/echo.py serve 9001 30 ${D}/pod.pid > ${D}/pod.ready; exec sleep 30' &
keeper=$!
while [ ! -s ${D}/pod.ready ]; do sleep 0.05; done
python3 -I -S ${D}/echo.py serve 9002 30 ${D}/pod2.pid '' '' /proc/$keeper/ns/net > /dev/null
python3 -I -S ${D}/echo.py batch ${D}/probes.json 1 /proc/$keeper/ns/net
echo @@client
python3 -I -S ${D}/echo.py tcp 127.0.0.1 9000 1
python3 -I -S ${D}/echo.py udp 127.0.0.1 9999 1
kill $(cat ${D}/host.pid) $(cat ${D}/pod.pid) $(cat ${D}/pod2.pid) $keeper 2>/dev/null || true
`;
    const out = execFileSync('unshare', ['-n', 'sh', '-c', script], { encoding: 'utf8', timeout: 30_000 });
    const [batch, single] = out.split('@@client\n');
    results = new Map(batch!.trim().split('\n').map((l) => JSON.parse(l) as Out).map((r) => [r.id, r]));
    client = single!.trim().split('\n');
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  test('one JSON line per probe, in order', () => {
    assert.deepEqual([...results.keys()], Array.from({ length: 17 }, (_, i) => i + 1));
  });

  test('TCP and UDP report the source address the echo service saw', () => {
    assert.deepEqual(results.get(1), { id: 1, ok: true, observed: '127.0.0.1' });
    assert.deepEqual(results.get(2), { id: 2, ok: true, observed: '127.0.0.1' });
  });

  test('ICMP echo through the raw socket', () => {
    assert.deepEqual(results.get(3), { id: 3, ok: true });
  });

  test("path MTU: a don't-fragment packet that fits passes, one byte more fails with the reason", () => {
    assert.deepEqual(results.get(4), { id: 4, ok: true });
    assert.equal(results.get(5)!.ok, false);
    assert.match(results.get(5)!.reason!, /^EMSGSIZE/);
  });

  test('refused TCP and UDP fail at once with the errno', () => {
    assert.match(results.get(6)!.reason!, /^ECONNREFUSED/);
    assert.match(results.get(7)!.reason!, /^ECONNREFUSED/);
  });

  test('a silent destination times out (after the retry); no route fails at once', () => {
    assert.deepEqual(results.get(8), { id: 8, ok: false, reason: 'no answer within 1s' });
    assert.deepEqual(results.get(9), { id: 9, ok: false, reason: 'no answer within 1s' });
    assert.match(results.get(10)!.reason!, /^ENETUNREACH/);
  });

  test('"pod" probes run in the pod namespace, "host" probes in the node namespace', () => {
    assert.deepEqual(results.get(11), { id: 11, ok: true, observed: '127.0.0.1' });
    assert.deepEqual(results.get(12), { id: 12, ok: true, observed: '127.0.0.1' });
    assert.deepEqual(results.get(13), { id: 13, ok: true });
    assert.match(results.get(14)!.reason!, /^ECONNREFUSED/, 'port 9001 only listens in the pod');
    assert.match(results.get(15)!.reason!, /^ECONNREFUSED/, 'port 9000 only listens on the node');
    assert.deepEqual(results.get(16), { id: 16, ok: true, observed: '127.0.0.1' }, 'an echo service started on the node listens in the pod');
    assert.match(results.get(17)!.reason!, /^ECONNREFUSED/);
  });

  test('single-probe client mode', () => {
    assert.deepEqual(client, ['ok 127.0.0.1', 'fail ECONNREFUSED (Connection refused)']);
  });
});

describe('echo.py over IPv6 (in private network namespaces)', { skip: root ? false : 'needs root' }, () => {
  let dir: string;
  let results: Map<number, Out>;
  let client: string[];
  let natRule: boolean;

  before(() => {
    dir = mkdtempSync(`${tmpdir()}/podnet-echo6-`);
    writeFileSync(`${dir}/echo.py`, ECHO_PY);
    // A client namespace (the test's own `unshare -n`), a router R and a target B, each a namespace of
    // its own: A —(MTU 1500)— R —(MTU 1400)— B, both families, documentation addresses only. R has an
    // unreachable route, and (with ip6tables) rewrites the source of what goes to B's second address.
    const probes = [
      { id: 1, ns: 'host', proto: 'tcp', host: '2001:db8:b::2', port: 9000 },
      { id: 2, ns: 'host', proto: 'udp', host: '2001:db8:b::2', port: 9000, size: 100 },
      { id: 3, ns: 'host', proto: 'icmp', host: '2001:db8:b::2' },
      // the sizes are ICMPv6 payloads: 1352 + 8 + 40 = 1400 fits R→B, one byte more does not, and 1453 not even A's link
      { id: 4, ns: 'host', proto: 'mtu', host: '2001:db8:b::2', size: 1352 },
      { id: 5, ns: 'host', proto: 'mtu', host: '2001:db8:b::2', size: 1353 },
      { id: 6, ns: 'host', proto: 'mtu', host: '2001:db8:b::2', size: 1453 },
      { id: 7, ns: 'host', proto: 'tcp', host: '10.98.1.2', port: 9000 },
      { id: 8, ns: 'host', proto: 'udp', host: '2001:db8:b::2', port: 9999 },
      { id: 9, ns: 'host', proto: 'icmp', host: '2001:db8:dead::1' },
      { id: 10, ns: 'host', proto: 'tcp', host: '2001:db8:ee::1', port: 9000 },
      { id: 11, ns: 'pod', proto: 'tcp', host: '::1', port: 9000 },
      { id: 12, ns: 'pod', proto: 'icmp', host: '::1' },
      { id: 13, ns: 'host', proto: 'tcp', host: '2001:db8:b::3', port: 9000 },
      { id: 14, ns: 'host', proto: 'udp', host: '2001:db8:b::3', port: 9000 },
    ];
    writeFileSync(`${dir}/probes.json`, JSON.stringify(probes));
    const D = dir;
    // Every address is added without duplicate address detection (nodad, accept_dad=0): usable at once.
    // R and B answer every error (no ICMPv6 rate limit), so a failing probe's retry is answered too.
    const script = `set -e
sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
ip link set lo up
unshare -n sleep 30 & R=$!
unshare -n sleep 30 & B=$!
me=$(readlink /proc/self/ns/net)
while [ "$(readlink /proc/$R/ns/net)" = "$me" ] || [ "$(readlink /proc/$B/ns/net)" = "$me" ]; do sleep 0.02; done
inR="nsenter --net=/proc/$R/ns/net"; inB="nsenter --net=/proc/$B/ns/net"
$inR sh -c 'sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.all.forwarding=1 net.ipv4.ip_forward=1 net.ipv6.icmp.ratelimit=0; ip link set lo up'
$inB sh -c 'sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0 net.ipv6.icmp.ratelimit=0; ip link set lo up'
ip link add a0 type veth peer name r0 netns $R
$inR ip link add r1 mtu 1400 type veth peer name b0 mtu 1400 netns $B
ip addr add 10.98.0.1/24 dev a0; ip addr add 2001:db8:a::1/64 dev a0 nodad; ip link set a0 up
ip route add default via 10.98.0.2; ip -6 route add default via 2001:db8:a::2; ip -6 route add unreachable 2001:db8:ee::/64
$inR sh -c 'ip addr add 10.98.0.2/24 dev r0; ip addr add 2001:db8:a::2/64 dev r0 nodad; ip addr add 10.98.1.1/24 dev r1; ip addr add 2001:db8:b::1/64 dev r1 nodad; ip link set r0 up; ip link set r1 up; ip -6 route add unreachable 2001:db8:dead::/64'
$inB sh -c 'ip addr add 10.98.1.2/24 dev b0; ip addr add 2001:db8:b::2/64 dev b0 nodad; ip addr add 2001:db8:b::3/64 dev b0 nodad; ip link set b0 up; ip route add default via 10.98.1.1; ip -6 route add default via 2001:db8:b::1'
if command -v ip6tables >/dev/null 2>&1 && $inR ip6tables -t nat -A POSTROUTING -d 2001:db8:b::3 -j SNAT --to-source 2001:db8:b::1 2>/dev/null; then echo nat > ${D}/nat; fi
# the echo service of the "pod" B, its sockets in B
python3 -I -S ${D}/echo.py serve 9000 30 ${D}/b.pid '' '' /proc/$B/ns/net > /dev/null
# links just brought up lose the first packets (carrier, neighbour discovery): wait until both families get through
for h in 2001:db8:b::2 10.98.1.2; do
  i=0; until python3 -I -S ${D}/echo.py tcp $h 9000 0.2 | grep -q '^ok'; do i=$((i+1)); [ $i -lt 50 ] || exit 1; done
done
python3 -I -S ${D}/echo.py batch ${D}/probes.json 1 /proc/$B/ns/net
echo @@client
python3 -I -S ${D}/echo.py tcp 2001:db8:b::2 9000 1
python3 -I -S ${D}/echo.py udp 2001:db8:b::2 9999 1
kill $(cat ${D}/b.pid) $R $B 2>/dev/null || true
`;
    const out = execFileSync('unshare', ['-n', 'sh', '-c', script], { encoding: 'utf8', timeout: 30_000 });
    const [batch, single] = out.split('@@client\n');
    results = new Map(batch!.trim().split('\n').map((l) => JSON.parse(l) as Out).map((r) => [r.id, r]));
    client = single!.trim().split('\n');
    natRule = existsSync(`${dir}/nat`);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  test('one JSON line per probe, in order', () => {
    assert.deepEqual([...results.keys()], Array.from({ length: 14 }, (_, i) => i + 1));
  });

  test('TCP and UDP over IPv6 report the IPv6 source address the echo service saw (no ::ffff: form)', () => {
    assert.deepEqual(results.get(1), { id: 1, ok: true, observed: '2001:db8:a::1' });
    // B has two addresses: the answer leaves from the one asked, so the connected client takes it
    assert.deepEqual(results.get(2), { id: 2, ok: true, observed: '2001:db8:a::1' });
  });

  test('one echo service answers both families', () => {
    assert.deepEqual(results.get(7), { id: 7, ok: true, observed: '10.98.0.1' });
  });

  test('ICMPv6 echo through the raw socket, across a router', () => {
    assert.deepEqual(results.get(3), { id: 3, ok: true });
  });

  test("path MTU: a packet that fits passes; one byte more gets the router's packet too big as the reason; too big for the own link: EMSGSIZE", () => {
    assert.deepEqual(results.get(4), { id: 4, ok: true });
    assert.deepEqual(results.get(5), { id: 5, ok: false, reason: 'packet too big: 2001:db8:a::2 reports a next-hop MTU of 1400' });
    assert.match(results.get(6)!.reason!, /^EMSGSIZE/);
  });

  test('unreachable: refused UDP, an ICMPv6 destination unreachable from the router, no route here', () => {
    assert.match(results.get(8)!.reason!, /^ECONNREFUSED/);
    assert.deepEqual(results.get(9), { id: 9, ok: false, reason: 'destination unreachable (ICMPv6 code 0) from 2001:db8:a::2' });
    // an unreachable route of the sender's own: connect fails at once
    assert.match(results.get(10)!.reason!, /^EHOSTUNREACH/);
  });

  test('"pod" probes reach ::1 inside the pod namespace', () => {
    assert.deepEqual(results.get(11), { id: 11, ok: true, observed: '::1' });
    assert.deepEqual(results.get(12), { id: 12, ok: true });
  });

  test('NAT on the way is visible: the receiver reports the rewritten IPv6 source', (t) => {
    if (!natRule) return t.skip('no ip6tables nat table here');
    assert.deepEqual(results.get(13), { id: 13, ok: true, observed: '2001:db8:b::1' });
    assert.deepEqual(results.get(14), { id: 14, ok: true, observed: '2001:db8:b::1' });
  });

  test('single-probe client mode over IPv6', () => {
    assert.deepEqual(client, ['ok 2001:db8:a::1', 'fail ECONNREFUSED (Connection refused)']);
  });
});

describe("echo.py serve as the dead man's switch", () => {
  test('runs the teardown in its own place once the watched process is gone', async () => {
    const dir = mkdtempSync(`${tmpdir()}/podnet-watch-`);
    try {
      writeFileSync(`${dir}/echo.py`, ECHO_PY);
      writeFileSync(`${dir}/teardown.sh`, `echo "$$" > ${dir}/ran\n`);
      // in a namespace of its own: the echo service binds 0.0.0.0
      execFileSync('unshare', ['-n', 'sh', '-c', `ip link set lo up; sleep 0.5 & python3 -I -S ${dir}/echo.py serve 9100 30 ${dir}/echo.pid $! ${dir}/teardown.sh`]);
      const pid = readFileSync(`${dir}/echo.pid`, 'utf8').trim();
      const t0 = Date.now();
      while (!existsSync(`${dir}/ran`) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 100));
      // exec'd in place of the echo service: the teardown runs with the PID it must not kill
      assert.equal(readFileSync(`${dir}/ran`, 'utf8').trim(), pid);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('killed by the normal teardown, it runs nothing', async () => {
    const dir = mkdtempSync(`${tmpdir()}/podnet-watch-`);
    try {
      writeFileSync(`${dir}/echo.py`, ECHO_PY);
      writeFileSync(`${dir}/teardown.sh`, `touch ${dir}/ran\n`);
      execFileSync('unshare', ['-n', 'sh', '-c', `ip link set lo up; sleep 1 & python3 -I -S ${dir}/echo.py serve 9100 30 ${dir}/echo.pid $! ${dir}/teardown.sh; kill $(cat ${dir}/echo.pid)`]);
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(existsSync(`${dir}/ran`), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
