/**
 * Unit tests for probe/plan.ts: the probe matrix as data. Full mesh, ring sampling (every node a source
 * and a target equally often), localhost only on the diagonal, and which IP families get a matrix.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { familiesToProbe, PROBE_CHECKS, probeCells, probePairs, type ProbeCheck, type ProbePair } from '../../src/probe/plan.js';

function names(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `node-${i + 1}`);
}

function key(p: ProbePair): string {
  return `${p.src}>${p.dst}`;
}

function tally(pairs: ProbePair[], side: 'src' | 'dst'): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of pairs) m.set(p[side], (m.get(p[side]) ?? 0) + 1);
  return m;
}

const CHECK_IDS = Object.keys(PROBE_CHECKS) as ProbeCheck[];

describe('PROBE_CHECKS', () => {
  test('ids and shape', () => {
    assert.deepEqual(CHECK_IDS, ['pod-tcp', 'pod-udp', 'pod-icmp', 'pod-mtu', 'host-pod-tcp', 'hostport-tcp-pod', 'hostport-udp-pod', 'hostport-tcp-host', 'hostport-udp-host', 'localhost']);
    for (const id of CHECK_IDS) {
      const c = PROBE_CHECKS[id];
      assert.ok(c.label.length > 0, id);
      assert.ok(['pod', 'host'].includes(c.from), id);
      assert.ok(['pod', 'hostport', 'localhost'].includes(c.to), id);
      assert.ok(['tcp', 'udp', 'icmp', 'mtu'].includes(c.proto), id);
      assert.ok(['fail', 'warn', 'none'].includes(c.nat), id);
    }
  });
  test('only pod→pod TCP/UDP fail on NAT; host→pod warns', () => {
    assert.deepEqual(CHECK_IDS.filter((id) => PROBE_CHECKS[id].nat === 'fail'), ['pod-tcp', 'pod-udp']);
    assert.deepEqual(CHECK_IDS.filter((id) => PROBE_CHECKS[id].nat === 'warn'), ['host-pod-tcp']);
  });
});

describe('probePairs: full mesh', () => {
  for (const n of [0, 1, 2, 3, 5, 8]) {
    test(`${n} nodes → ${n * n} ordered pairs, each exactly once`, () => {
      const nodes = names(n);
      const pairs = probePairs(nodes);
      assert.equal(pairs.length, n * n);
      assert.equal(new Set(pairs.map(key)).size, n * n);
      for (const a of nodes) for (const b of nodes) assert.ok(pairs.some((p) => p.src === a && p.dst === b), `${a}>${b}`);
    });
  }

  test('order: by source in input order, self first, then the ring', () => {
    assert.deepEqual(probePairs(['a', 'b', 'c']).map(key), ['a>a', 'a>b', 'a>c', 'b>b', 'b>c', 'b>a', 'c>c', 'c>a', 'c>b']);
  });
});

describe('probePairs: sampling', () => {
  const cases: { n: number; k: number }[] = [
    { n: 3, k: 1 },
    { n: 5, k: 1 },
    { n: 5, k: 2 },
    { n: 8, k: 3 },
    { n: 10, k: 4 },
    { n: 2, k: 1 },
  ];
  for (const { n, k } of cases) {
    test(`n=${n} K=${k}: every node ${k + 1}× as source and ${k + 1}× as target, no duplicates`, () => {
      const nodes = names(n);
      const pairs = probePairs(nodes, k);
      assert.equal(pairs.length, n * (k + 1));
      assert.equal(new Set(pairs.map(key)).size, pairs.length);
      for (const side of ['src', 'dst'] as const) {
        const t = tally(pairs, side);
        assert.equal(t.size, n, side);
        for (const name of nodes) assert.equal(t.get(name), k + 1, `${name} as ${side}`);
      }
      // every node probes itself
      for (const name of nodes) assert.ok(pairs.some((p) => p.src === name && p.dst === name), name);
    });
  }

  test('ring order: each node probes the K next ones', () => {
    assert.deepEqual(probePairs(['a', 'b', 'c', 'd'], 1).map(key), ['a>a', 'a>b', 'b>b', 'b>c', 'c>c', 'c>d', 'd>d', 'd>a']);
  });

  test('K = 0: only self pairs', () => {
    assert.deepEqual(probePairs(['a', 'b'], 0).map(key), ['a>a', 'b>b']);
  });

  for (const n of [1, 2, 4, 7]) {
    for (const extra of [0, 1, 10]) {
      const k = n - 1 + extra;
      test(`n=${n} K=${k} (≥ n−1) equals the full mesh`, () => {
        assert.deepEqual(probePairs(names(n), k), probePairs(names(n)));
      });
    }
  }
});

describe('probeCells', () => {
  for (const n of [1, 2, 3, 6]) {
    test(`${n} nodes full mesh: localhost only on the diagonal, every other check on every pair`, () => {
      const nodes = names(n);
      const cells = probeCells(nodes);
      const local = cells.filter((c) => c.check === 'localhost');
      assert.equal(local.length, n);
      assert.ok(local.every((c) => c.src === c.dst));
      for (const id of CHECK_IDS.filter((x) => x !== 'localhost')) {
        assert.equal(cells.filter((c) => c.check === id).length, n * n, id);
      }
      assert.equal(cells.length, n * n * (CHECK_IDS.length - 1) + n);
      const keys = cells.map((c) => `${c.check} ${c.src}>${c.dst}`);
      assert.equal(new Set(keys).size, keys.length, 'no duplicate cell');
    });
  }

  test('sampled: follows probePairs, localhost once per node', () => {
    const nodes = names(6);
    const cells = probeCells(nodes, 2);
    const pairs = new Set(probePairs(nodes, 2).map(key));
    assert.ok(cells.every((c) => pairs.has(`${c.src}>${c.dst}`)));
    assert.equal(cells.length, 6 * 3 * (CHECK_IDS.length - 1) + 6);
    const local = cells.filter((c) => c.check === 'localhost');
    assert.deepEqual(local.map((c) => c.src), nodes);
    assert.ok(local.every((c) => c.src === c.dst));
  });

  test('cells of a pair list every check in declaration order', () => {
    const cells = probeCells(['a', 'b']).filter((c) => c.src === 'a' && c.dst === 'b');
    assert.deepEqual(cells.map((c) => c.check), CHECK_IDS.filter((x) => x !== 'localhost'));
    const self = probeCells(['a', 'b']).filter((c) => c.src === 'a' && c.dst === 'a');
    assert.deepEqual(self.map((c) => c.check), CHECK_IDS);
  });

  test('no nodes → no cells', () => {
    assert.deepEqual(probeCells([]), []);
    assert.deepEqual(probeCells([], 3), []);
  });

  test('every cell names its family: IPv4 by default; each family asked gets the whole matrix', () => {
    assert.ok(probeCells(['a', 'b']).every((c) => c.family === 'ipv4'));
    const both = probeCells(['a', 'b'], undefined, ['ipv4', 'ipv6']);
    assert.equal(both.length, 2 * probeCells(['a', 'b']).length);
    assert.equal(both.filter((c) => c.family === 'ipv6').length, probeCells(['a', 'b']).length);
  });
});

describe('familiesToProbe', () => {
  const v4 = { ipv4: '10.244.0.2' };
  const v6 = { ipv6: 'fd00:10:244::2' };
  const dual = { ...v4, ...v6 };

  test('the families the probe pods got, IPv4 first', () => {
    assert.deepEqual(familiesToProbe([v4, v4]), ['ipv4']);
    assert.deepEqual(familiesToProbe([dual, dual]), ['ipv4', 'ipv6']);
    assert.deepEqual(familiesToProbe([v6, v6]), ['ipv6']);
    assert.deepEqual(familiesToProbe([{ ipv6: 'fd00::2', ipv4: '10.0.0.2' }]), ['ipv4', 'ipv6']);
  });

  test('the union over the pods: one pod short of a family does not drop that family for all', () => {
    assert.deepEqual(familiesToProbe([dual, v4, dual]), ['ipv4', 'ipv6']);
    assert.deepEqual(familiesToProbe([v4, v6]), ['ipv4', 'ipv6']);
  });

  test('no pod made: what the live configs declare, else IPv4; what pods got wins over declarations', () => {
    assert.deepEqual(familiesToProbe([], ['ipv6', 'ipv4', 'ipv6']), ['ipv4', 'ipv6']);
    assert.deepEqual(familiesToProbe([], ['ipv6']), ['ipv6']);
    assert.deepEqual(familiesToProbe([]), ['ipv4']);
    assert.deepEqual(familiesToProbe([{}], []), ['ipv4']);
    assert.deepEqual(familiesToProbe([v4], ['ipv4', 'ipv6']), ['ipv4']);
  });

  test('a dual-stack matrix: each family its own copy of every cell, the IPv4 cells exactly the default ones', () => {
    const nodes = ['a', 'b', 'c'];
    const both = probeCells(nodes, 1, familiesToProbe([dual]));
    assert.deepEqual(both.filter((c) => c.family === 'ipv4'), probeCells(nodes, 1));
    assert.deepEqual(
      both.filter((c) => c.family === 'ipv6').map(({ check, src, dst }) => ({ check, src, dst })),
      probeCells(nodes, 1).map(({ check, src, dst }) => ({ check, src, dst })),
    );
  });
});
