/**
 * Unit tests for net/cidr.ts: parsing strictness (what counts as an address or a canonical network) and
 * the subnet arithmetic the allocator and the bridge setup rely on.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  cidrContainsCidr,
  cidrContainsIp,
  cidrSize,
  cidrsOverlap,
  compareCidr,
  hostAddress,
  ipFamily,
  isIp,
  normalizeIp,
  nthSubnet,
  parseCidr,
  subnetCount,
  subnetIndex,
} from '../../src/net/cidr.js';

describe('isIp / ipFamily / normalizeIp', () => {
  const cases: { input: string; family: 4 | 6 | undefined; normal?: string }[] = [
    { input: '10.0.0.1', family: 4, normal: '10.0.0.1' },
    { input: '0.0.0.0', family: 4, normal: '0.0.0.0' },
    { input: '255.255.255.255', family: 4, normal: '255.255.255.255' },
    { input: '2001:db8::1', family: 6, normal: '2001:db8::1' },
    { input: '2001:DB8:0:0:0:0:0:1', family: 6, normal: '2001:db8::1' },
    { input: '::1', family: 6, normal: '::1' },
    { input: '256.0.0.1', family: undefined },
    { input: '010.0.0.1', family: undefined },
    { input: '10.0.0', family: undefined },
    { input: '10.0.0.1/32', family: undefined },
    { input: ' 10.0.0.1', family: undefined },
    { input: '10.0.0.1\n', family: undefined },
    { input: 'fe80::1%eth0', family: undefined },
    { input: '1::2::3', family: undefined },
    { input: 'node-1', family: undefined },
    { input: '', family: undefined },
    { input: '$(reboot)', family: undefined },
  ];
  for (const c of cases) {
    test(JSON.stringify(c.input), () => {
      assert.equal(isIp(c.input), c.family !== undefined);
      assert.equal(ipFamily(c.input), c.family);
      assert.equal(normalizeIp(c.input), c.normal);
    });
  }
});

describe('parseCidr', () => {
  const valid: { input: string; family: 4 | 6; network: string; prefix: number; text: string }[] = [
    { input: '10.244.0.0/16', family: 4, network: '10.244.0.0', prefix: 16, text: '10.244.0.0/16' },
    { input: '0.0.0.0/0', family: 4, network: '0.0.0.0', prefix: 0, text: '0.0.0.0/0' },
    { input: '192.0.2.7/32', family: 4, network: '192.0.2.7', prefix: 32, text: '192.0.2.7/32' },
    { input: '2001:DB8::/32', family: 6, network: '2001:db8::', prefix: 32, text: '2001:db8::/32' },
    { input: '2001:db8:0:0::/64', family: 6, network: '2001:db8::', prefix: 64, text: '2001:db8::/64' },
  ];
  for (const c of valid) {
    test(`accepts ${c.input}`, () => {
      assert.deepEqual(parseCidr(c.input), { family: c.family, network: c.network, prefix: c.prefix, text: c.text });
    });
  }
  const invalid = [
    '10.244.1.5/24', // host bits set
    '10.0.0.0/33',
    '10.0.0.0/016',
    '10.0.0.0/-1',
    '10.0.0.0/',
    '10.0.0.0',
    '/16',
    '10.0.0.0/16/16',
    '10.0.0.0/16 ',
    '10.0.0.0/16\n',
    '2001:db8::1/64',
    '2001:db8::/129',
    'fe80::%eth0/64',
    '10.0.0.0/1a',
    '$(reboot)/16',
    '',
  ];
  for (const input of invalid) {
    test(`rejects ${JSON.stringify(input)}`, () => {
      assert.equal(parseCidr(input), undefined);
    });
  }
});

describe('containment and overlap', () => {
  const ipCases: [string, string, boolean][] = [
    ['10.244.0.0/16', '10.244.0.0', true],
    ['10.244.0.0/16', '10.244.255.255', true],
    ['10.244.0.0/16', '10.245.0.0', false],
    ['10.244.0.0/16', '10.243.255.255', false],
    ['10.244.0.0/16', '2001:db8::1', false],
    ['10.244.0.0/16', 'not-an-ip', false],
    ['2001:db8::/32', '2001:db8:ffff::1', true],
    ['2001:db8::/32', '2001:db9::1', false],
  ];
  for (const [cidr, ip, expected] of ipCases) {
    test(`cidrContainsIp(${cidr}, ${ip}) = ${expected}`, () => assert.equal(cidrContainsIp(cidr, ip), expected));
  }

  const cidrCases: { outer: string; inner: string; contains: boolean; overlap: boolean }[] = [
    { outer: '10.244.0.0/16', inner: '10.244.3.0/24', contains: true, overlap: true },
    { outer: '10.244.0.0/16', inner: '10.244.0.0/16', contains: true, overlap: true },
    { outer: '10.244.3.0/24', inner: '10.244.0.0/16', contains: false, overlap: true },
    { outer: '10.244.0.0/16', inner: '10.245.0.0/24', contains: false, overlap: false },
    { outer: '10.96.0.0/12', inner: '10.100.0.0/16', contains: true, overlap: true },
    { outer: '10.0.0.0/8', inner: '2001:db8::/32', contains: false, overlap: false },
  ];
  for (const c of cidrCases) {
    test(`${c.outer} vs ${c.inner}`, () => {
      assert.equal(cidrContainsCidr(c.outer, c.inner), c.contains);
      assert.equal(cidrsOverlap(c.outer, c.inner), c.overlap);
      assert.equal(cidrsOverlap(c.inner, c.outer), c.overlap);
    });
  }

  test('parsed and text inputs are interchangeable', () => {
    assert.equal(cidrContainsCidr(parseCidr('10.0.0.0/8')!, '10.1.0.0/16'), true);
  });

  test('malformed CIDR text is a programming error', () => {
    assert.throws(() => cidrContainsIp('10.0.0.1/8', '10.0.0.1'), RangeError);
  });
});

describe('subnet arithmetic', () => {
  const counts: [string, number, bigint][] = [
    ['10.244.0.0/16', 24, 256n],
    ['10.244.0.0/16', 16, 1n],
    ['10.244.0.0/16', 8, 0n],
    ['10.0.0.0/8', 30, 4194304n],
    ['10.244.0.0/30', 32, 4n],
    ['2001:db8::/48', 64, 65536n],
    ['2001:db8::/32', 96, 2n ** 64n],
  ];
  for (const [cidr, mask, expected] of counts) {
    test(`subnetCount(${cidr}, ${mask}) = ${expected}`, () => assert.equal(subnetCount(cidr, mask), expected));
  }

  test('subnetCount rejects a mask longer than the family allows', () => {
    assert.throws(() => subnetCount('10.0.0.0/8', 33), RangeError);
    assert.throws(() => subnetCount('10.0.0.0/8', 24.5), RangeError);
  });

  const nth: [string, number, number | bigint, string][] = [
    ['10.244.0.0/16', 24, 0, '10.244.0.0/24'],
    ['10.244.0.0/16', 24, 3, '10.244.3.0/24'],
    ['10.244.0.0/16', 24, 255n, '10.244.255.0/24'],
    ['10.244.0.0/16', 26, 5, '10.244.1.64/26'],
    ['10.0.0.0/8', 24, 256, '10.1.0.0/24'],
    ['10.0.0.0/8', 24, 65535, '10.255.255.0/24'],
    ['2001:db8::/48', 64, 65535, '2001:db8:0:ffff::/64'],
  ];
  for (const [cidr, mask, n, expected] of nth) {
    test(`nthSubnet(${cidr}, ${mask}, ${n}) = ${expected} and back`, () => {
      const s = nthSubnet(cidr, mask, n);
      assert.equal(s.text, expected);
      assert.equal(s.prefix, mask);
      assert.equal(subnetIndex(cidr, mask, s), BigInt(n));
      assert.equal(subnetIndex(cidr, mask, expected), BigInt(n));
    });
  }

  const outOfRange: [string, number, number | bigint][] = [
    ['10.244.0.0/16', 24, 256],
    ['10.244.0.0/16', 24, -1],
    ['10.244.0.0/16', 24, 1.5],
    ['10.244.0.0/16', 8, 0],
  ];
  for (const [cidr, mask, n] of outOfRange) {
    test(`nthSubnet(${cidr}, ${mask}, ${n}) throws`, () => assert.throws(() => nthSubnet(cidr, mask, n), RangeError));
  }

  const notSubnets: [string, number, string][] = [
    ['10.244.0.0/16', 24, '10.245.0.0/24'],
    ['10.244.0.0/16', 24, '10.244.0.0/25'],
    ['10.244.0.0/16', 24, '10.244.0.0/16'],
    ['10.244.0.0/16', 24, '2001:d00::/24'],
  ];
  for (const [cidr, mask, subnet] of notSubnets) {
    test(`subnetIndex(${cidr}, ${mask}, ${subnet}) is undefined`, () => assert.equal(subnetIndex(cidr, mask, subnet), undefined));
  }

  const hosts: [string, number | bigint, string][] = [
    ['10.244.3.0/24', 0, '10.244.3.0'],
    ['10.244.3.0/24', 1, '10.244.3.1'],
    ['10.244.3.0/24', 255n, '10.244.3.255'],
    ['10.244.0.0/16', 256, '10.244.1.0'],
    ['2001:db8:0:5::/64', 1, '2001:db8:0:5::1'],
  ];
  for (const [cidr, n, expected] of hosts) {
    test(`hostAddress(${cidr}, ${n}) = ${expected}`, () => assert.equal(hostAddress(cidr, n), expected));
  }

  test('hostAddress out of range throws', () => {
    assert.throws(() => hostAddress('10.244.3.0/24', 256), RangeError);
    assert.throws(() => hostAddress('10.244.3.0/24', -1), RangeError);
  });

  test('cidrSize', () => {
    assert.equal(cidrSize('10.244.3.0/24'), 256n);
    assert.equal(cidrSize('10.0.0.1/32'), 1n);
  });
});

describe('compareCidr', () => {
  test('sorts IPv4 before IPv6, by address, then shorter prefix first', () => {
    const input = ['2001:db8::/32', '10.244.10.0/24', '10.244.2.0/24', '10.244.0.0/16', '10.244.0.0/24', '9.0.0.0/8'];
    const sorted = [...input].sort(compareCidr);
    assert.deepEqual(sorted, ['9.0.0.0/8', '10.244.0.0/16', '10.244.0.0/24', '10.244.2.0/24', '10.244.10.0/24', '2001:db8::/32']);
  });

  test('equal CIDRs compare 0 regardless of spelling', () => {
    assert.equal(compareCidr('2001:DB8::/32', '2001:db8:0::/32'), 0);
  });
});
