/**
 * Unit tests for plan/allocate.ts: precedence (pinned > existing > lowest free), determinism, and the
 * stability promise that other nodes' subnets never move when nodes come and go.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allocatePodCidrs, maxNodeMaskSize, type Allocation, type AllocationRequest } from '../../src/plan/allocate.js';
import { UserError } from '../../src/util/errors.js';

const CLUSTER = '10.244.0.0/16';

function short(allocs: Allocation[]): string[] {
  return allocs.map((a) => `${a.name}=${a.podCIDR}:${a.source}`);
}

describe('allocatePodCidrs: table', () => {
  const cases: { name: string; cluster?: string; mask?: number; nodes: AllocationRequest[]; expected: string[] }[] = [
    {
      name: 'fresh nodes get the lowest subnets in input order',
      nodes: [{ name: 'b' }, { name: 'a' }, { name: 'c' }],
      expected: ['b=10.244.0.0/24:allocated', 'a=10.244.1.0/24:allocated', 'c=10.244.2.0/24:allocated'],
    },
    {
      name: 'no nodes, no allocations',
      nodes: [],
      expected: [],
    },
    {
      name: 'pinned is honoured and skipped by the allocator',
      nodes: [{ name: 'a' }, { name: 'b', pinned: '10.244.0.0/24' }, { name: 'c' }],
      expected: ['a=10.244.1.0/24:allocated', 'b=10.244.0.0/24:pinned', 'c=10.244.2.0/24:allocated'],
    },
    {
      name: 'pinned wins over the node\'s own existing CIDR',
      nodes: [{ name: 'a', pinned: '10.244.7.0/24', existing: '10.244.3.0/24' }],
      expected: ['a=10.244.7.0/24:pinned'],
    },
    {
      name: 'existing is kept and skipped by the allocator',
      nodes: [{ name: 'a' }, { name: 'b', existing: '10.244.0.0/24' }],
      expected: ['a=10.244.1.0/24:allocated', 'b=10.244.0.0/24:existing'],
    },
    {
      name: 'existing taken by a pinned node is ignored',
      nodes: [{ name: 'a', existing: '10.244.5.0/24' }, { name: 'b', pinned: '10.244.5.0/24' }],
      expected: ['a=10.244.0.0/24:allocated', 'b=10.244.5.0/24:pinned'],
    },
    {
      name: 'the first node claiming an existing CIDR keeps it, the second is renumbered',
      nodes: [{ name: 'a', existing: '10.244.5.0/24' }, { name: 'b', existing: '10.244.5.0/24' }],
      expected: ['a=10.244.5.0/24:existing', 'b=10.244.0.0/24:allocated'],
    },
    {
      name: 'existing outside the cluster CIDR is ignored',
      nodes: [{ name: 'a', existing: '10.99.0.0/24' }],
      expected: ['a=10.244.0.0/24:allocated'],
    },
    {
      name: 'existing of the wrong size is ignored',
      nodes: [{ name: 'a', existing: '10.244.4.0/23' }, { name: 'b', existing: '10.244.9.128/25' }],
      expected: ['a=10.244.0.0/24:allocated', 'b=10.244.1.0/24:allocated'],
    },
    {
      name: 'malformed or other-family existing is ignored',
      nodes: [{ name: 'a', existing: '10.244.1.5/24' }, { name: 'b', existing: 'garbage' }, { name: 'c', existing: '2001:db8::/24' }],
      expected: ['a=10.244.0.0/24:allocated', 'b=10.244.1.0/24:allocated', 'c=10.244.2.0/24:allocated'],
    },
    {
      name: 'existing is normalized',
      cluster: '2001:db8::/48',
      mask: 64,
      nodes: [{ name: 'a', existing: '2001:DB8:0:7:0::/64' }, { name: 'b' }],
      expected: ['a=2001:db8:0:7::/64:existing', 'b=2001:db8::/64:allocated'],
    },
    {
      name: 'a full cluster CIDR is usable to the last subnet',
      cluster: '10.244.0.0/23',
      mask: 24,
      nodes: [{ name: 'a', existing: '10.244.0.0/24' }, { name: 'b' }],
      expected: ['a=10.244.0.0/24:existing', 'b=10.244.1.0/24:allocated'],
    },
    {
      name: 'smaller node subnets',
      cluster: '10.244.0.0/24',
      mask: 26,
      nodes: [{ name: 'a' }, { name: 'b' }, { name: 'c', pinned: '10.244.0.64/26' }],
      expected: ['a=10.244.0.0/26:allocated', 'b=10.244.0.128/26:allocated', 'c=10.244.0.64/26:pinned'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(short(allocatePodCidrs(c.cluster ?? CLUSTER, c.mask ?? 24, c.nodes)), c.expected);
    });
  }
});

describe('allocatePodCidrs: stability', () => {
  const first = allocatePodCidrs(CLUSTER, 24, [{ name: 'n1' }, { name: 'n2' }, { name: 'n3' }, { name: 'n4' }]);
  const existing = (name: string) => first.find((a) => a.name === name)!.podCIDR;

  test('identical input gives identical output', () => {
    const input: AllocationRequest[] = [{ name: 'x', existing: '10.244.9.0/24' }, { name: 'y' }, { name: 'z', pinned: '10.244.0.0/24' }];
    assert.deepEqual(allocatePodCidrs(CLUSTER, 24, input), allocatePodCidrs(CLUSTER, 24, structuredClone(input)));
  });

  test('removing a node does not move the others', () => {
    const again = allocatePodCidrs(CLUSTER, 24, ['n1', 'n3', 'n4'].map((name) => ({ name, existing: existing(name) })));
    assert.deepEqual(
      again.map((a) => a.podCIDR),
      ['n1', 'n3', 'n4'].map(existing),
    );
    assert.ok(again.every((a) => a.source === 'existing'));
  });

  test('adding nodes (anywhere in the list) fills holes without moving the others', () => {
    const again = allocatePodCidrs(CLUSTER, 24, [
      { name: 'new-a' },
      { name: 'n1', existing: existing('n1') },
      { name: 'n3', existing: existing('n3') },
      { name: 'new-b' },
      { name: 'n4', existing: existing('n4') },
    ]);
    assert.deepEqual(short(again), [
      'new-a=10.244.1.0/24:allocated', // n2's old subnet is free again: lowest first
      'n1=10.244.0.0/24:existing',
      'n3=10.244.2.0/24:existing',
      'new-b=10.244.4.0/24:allocated',
      'n4=10.244.3.0/24:existing',
    ]);
  });

  test('reordering nodes with existing CIDRs changes nothing', () => {
    const names = ['n4', 'n2', 'n1', 'n3'];
    const again = allocatePodCidrs(CLUSTER, 24, names.map((name) => ({ name, existing: existing(name) })));
    assert.deepEqual(
      again.map((a) => a.podCIDR),
      names.map(existing),
    );
  });
});

describe('allocatePodCidrs: errors', () => {
  const cases: { name: string; cluster?: string; mask?: number; nodes: AllocationRequest[]; message: RegExp }[] = [
    {
      name: 'exhaustion',
      cluster: '10.244.0.0/23',
      nodes: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
      message: /^cluster\.podCIDR: 10\.244\.0\.0\/23 holds 2 \/24 subnets but 3 nodes need one each; expected a larger CIDR or a larger cluster\.nodeMaskSize$/,
    },
    {
      name: 'exhaustion counts pinned nodes too',
      cluster: '10.244.0.0/24',
      mask: 25,
      nodes: [{ name: 'a', pinned: '10.244.0.0/25' }, { name: 'b' }, { name: 'c' }],
      message: /^cluster\.podCIDR: .* holds 2 \/25 subnets but 3 nodes/,
    },
    {
      name: 'pinned outside the cluster CIDR',
      nodes: [{ name: 'a', pinned: '10.99.0.0/24' }],
      message: /^node "a": podCIDR "10\.99\.0\.0\/24" is not a \/24 inside 10\.244\.0\.0\/16/,
    },
    {
      name: 'pinned of the wrong size',
      nodes: [{ name: 'a', pinned: '10.244.0.0/25' }],
      message: /^node "a": podCIDR .* is not a \/24/,
    },
    {
      name: 'pinned malformed',
      nodes: [{ name: 'a', pinned: '10.244.1.5/24' }],
      message: /^node "a": podCIDR "10\.244\.1\.5\/24"/,
    },
    {
      name: 'pinned twice',
      nodes: [{ name: 'a', pinned: '10.244.3.0/24' }, { name: 'b', pinned: '10.244.3.0/24' }],
      message: /^node "b": podCIDR 10\.244\.3\.0\/24 is already pinned to node "a"/,
    },
    {
      name: 'duplicate node names',
      nodes: [{ name: 'a' }, { name: 'a' }],
      message: /duplicate node name "a"/,
    },
    {
      name: 'malformed cluster CIDR',
      cluster: '10.244.0.0/33',
      nodes: [{ name: 'a' }],
      message: /^cluster\.podCIDR: "10\.244\.0\.0\/33" is not a valid CIDR/,
    },
    {
      name: 'mask not longer than the cluster prefix',
      mask: 16,
      nodes: [{ name: 'a' }],
      message: /^cluster\.nodeMaskSize: 16 does not fit 10\.244\.0\.0\/16; expected an integer from 17 to 30$/,
    },
    {
      name: 'mask too long for a gateway and pods',
      mask: 31,
      nodes: [{ name: 'a' }],
      message: /^cluster\.nodeMaskSize: 31 /,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.throws(
        () => allocatePodCidrs(c.cluster ?? CLUSTER, c.mask ?? 24, c.nodes),
        (err: unknown) => {
          assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
          assert.match(err.message, c.message);
          assert.ok(!err.message.includes('\n'), 'message must be one line');
          return true;
        },
      );
    });
  }
});

describe('maxNodeMaskSize', () => {
  test('leaves room for a gateway and pods', () => {
    assert.equal(maxNodeMaskSize(4), 30);
    assert.equal(maxNodeMaskSize(6), 126);
  });
});
