/**
 * The probe program (src/probe/echo.ts) run for real, but only inside network namespaces this test
 * creates with `unshare -n` (loopback, a veth whose far end drops what it gets, no route anywhere else):
 * the echo service, the batch client's TCP/UDP/ICMP/path-MTU probes, its reasons for failures and
 * timeouts, the retry, and switching into a second ("pod") namespace. Needs root (raw ICMP, unshare).
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
