/**
 * Unit tests for lab/neigh.ts: when the lab raises the host's neighbour-table limits, by how much, and
 * that the last lab down puts back exactly what was there (and leaves a value somebody else set alone).
 * The host is a fake: no sysctl is touched.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { neighNeed, neighTarget, releaseNeighbours, reserveNeighbours, type NeighIo, type NeighState } from '../../src/lab/neigh.js';

function fakeHost(values = { gc_thresh2: 512, gc_thresh3: 1024 }) {
  const sysctl = { ...values };
  let state: NeighState | undefined;
  const writes: string[] = [];
  const io: NeighIo = {
    read: (k) => sysctl[k],
    write: (k, v) => {
      // the kernel refuses gc_thresh2 > gc_thresh3 in no version, but podnet keeps the order anyway
      writes.push(`${k}=${v}`);
      sysctl[k] = v;
      assert.ok(sysctl.gc_thresh2 <= sysctl.gc_thresh3, `thresh2 ${sysctl.gc_thresh2} > thresh3 ${sysctl.gc_thresh3}`);
    },
    loadState: () => (state ? (JSON.parse(JSON.stringify(state)) as NeighState) : undefined),
    saveState: (s) => (state = s ? (JSON.parse(JSON.stringify(s)) as NeighState) : undefined),
  };
  return { io, sysctl, writes, state: () => state };
}

describe('neighNeed / neighTarget', () => {
  test('a full mesh plus a handful per node', () => {
    assert.equal(neighNeed(3), 9 + 48);
    assert.equal(neighNeed(32), 1024 + 512);
  });
  test('labs up to 16 nodes leave the default host alone; 32 nodes raise both limits by the need', () => {
    const host = { gc_thresh2: 512, gc_thresh3: 1024 };
    assert.equal(neighTarget(host, { a: neighNeed(16) }), undefined);
    assert.equal(neighTarget(host, { a: neighNeed(3), b: neighNeed(8) }), undefined);
    assert.deepEqual(neighTarget(host, { a: neighNeed(32) }), { gc_thresh2: 2048, gc_thresh3: 2560 });
    assert.deepEqual(neighTarget(host, { a: neighNeed(16), b: neighNeed(16) }), { gc_thresh2: 1536, gc_thresh3: 2048 });
  });
  test('a host that already allows more is not raised for a small need', () => {
    assert.equal(neighTarget({ gc_thresh2: 8192, gc_thresh3: 16384 }, { a: neighNeed(32) }), undefined);
  });
});

describe('reserve / release', () => {
  test('small lab: nothing written, still remembered', () => {
    const h = fakeHost();
    assert.deepEqual(reserveNeighbours('small', 3, h.io), []);
    assert.deepEqual(h.writes, []);
    assert.deepEqual(h.state()?.labs, { small: 57 });
    assert.deepEqual(releaseNeighbours('small', h.io), []);
    assert.equal(h.state(), undefined);
  });

  test('big lab raises (thresh3 first), down restores (thresh2 first), record removed', () => {
    const h = fakeHost();
    const up = reserveNeighbours('big', 32, h.io);
    assert.deepEqual(up, [
      { key: 'net.ipv4.neigh.default.gc_thresh3', from: 1024, to: 2560 },
      { key: 'net.ipv4.neigh.default.gc_thresh2', from: 512, to: 2048 },
    ]);
    const down = releaseNeighbours('big', h.io);
    assert.deepEqual(down, [
      { key: 'net.ipv4.neigh.default.gc_thresh2', from: 2048, to: 512 },
      { key: 'net.ipv4.neigh.default.gc_thresh3', from: 2560, to: 1024 },
    ]);
    assert.deepEqual(h.sysctl, { gc_thresh2: 512, gc_thresh3: 1024 });
    assert.equal(h.state(), undefined);
  });

  test('two labs: the limits follow the total, the originals come back only with the last', () => {
    const h = fakeHost();
    reserveNeighbours('a', 32, h.io);
    reserveNeighbours('b', 16, h.io);
    assert.deepEqual(h.sysctl, { gc_thresh2: 512 + 1536 + 512, gc_thresh3: 1024 + 1536 + 512 });
    releaseNeighbours('a', h.io);
    // 16 nodes alone fit in the host's own limits again
    assert.deepEqual(h.sysctl, { gc_thresh2: 512, gc_thresh3: 1024 });
    assert.deepEqual(h.state()?.labs, { b: 512 });
    releaseNeighbours('b', h.io);
    assert.equal(h.state(), undefined);
  });

  test('a value changed by somebody else while the lab ran is left alone', () => {
    const h = fakeHost();
    reserveNeighbours('big', 32, h.io);
    h.sysctl.gc_thresh3 = 9999;
    const down = releaseNeighbours('big', h.io);
    assert.deepEqual(down, [{ key: 'net.ipv4.neigh.default.gc_thresh2', from: 2048, to: 512 }]);
    assert.equal(h.sysctl.gc_thresh3, 9999);
  });

  test('releasing a lab that was never recorded changes nothing', () => {
    const h = fakeHost();
    assert.deepEqual(releaseNeighbours('ghost', h.io), []);
    reserveNeighbours('big', 32, h.io);
    assert.deepEqual(releaseNeighbours('ghost', h.io), []);
    assert.equal(h.sysctl.gc_thresh3, 2560);
  });

  test('re-reserving the same lab does not count it twice', () => {
    const h = fakeHost();
    reserveNeighbours('big', 32, h.io);
    reserveNeighbours('big', 32, h.io);
    assert.equal(h.sysctl.gc_thresh3, 2560);
  });
});
