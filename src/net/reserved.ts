/**
 * Special-purpose address ranges a pod or service network must not use, from the IANA special-purpose
 * registries (RFC 6890 and its updates) for both families. Private ranges (RFC 1918, fc00::/7) and the
 * shared CGNAT range 100.64.0.0/10 are fine for pods and are not listed; the IPv4 benchmarking range
 * 198.18.0.0/15 is routable inside a site and is not listed either (its IPv6 counterpart 2001:2::/48 is
 * refused as part of 2001::/23, the IETF protocol assignments). Each entry says why, for the message.
 */
import { cidrsOverlap, parseCidr, type CidrInput, type Family } from './cidr.js';

export interface ReservedRange {
  cidr: string;
  family: Family;
  what: string;
}

const RAW: [string, string][] = [
  ['0.0.0.0/8', '"this network" (RFC 791)'],
  ['127.0.0.0/8', 'loopback (RFC 1122)'],
  ['169.254.0.0/16', 'link-local (RFC 3927)'],
  ['192.0.0.0/24', 'IETF protocol assignments (RFC 6890)'],
  ['192.0.2.0/24', 'documentation TEST-NET-1 (RFC 5737)'],
  ['192.88.99.0/24', '6to4 relay anycast (RFC 7526)'],
  ['198.51.100.0/24', 'documentation TEST-NET-2 (RFC 5737)'],
  ['203.0.113.0/24', 'documentation TEST-NET-3 (RFC 5737)'],
  ['224.0.0.0/4', 'multicast (RFC 5771)'],
  ['240.0.0.0/4', 'reserved for future use and broadcast (RFC 1112, RFC 919)'],
  ['::/96', 'the unspecified address and deprecated IPv4-compatible addresses (RFC 4291)'],
  ['::1/128', 'loopback (RFC 4291)'],
  ['::ffff:0:0/96', 'IPv4-mapped addresses (RFC 4291)'],
  ['64:ff9b::/96', 'the NAT64 well-known prefix (RFC 6052)'],
  ['64:ff9b:1::/48', 'local-use NAT64 (RFC 8215)'],
  ['100::/64', 'discard-only (RFC 6666)'],
  ['2001::/23', 'IETF protocol assignments (RFC 2928; Teredo, ORCHID, …)'],
  ['2001:db8::/32', 'documentation (RFC 3849)'],
  ['2002::/16', '6to4 (RFC 3056)'],
  ['5f00::/16', 'SRv6 segment identifiers (RFC 9602)'],
  ['3fff::/20', 'documentation (RFC 9637)'],
  ['fe80::/10', 'link-local unicast (RFC 4291)'],
  ['fec0::/10', 'deprecated site-local (RFC 3879)'],
  ['ff00::/8', 'multicast (RFC 4291)'],
];

export const RESERVED_RANGES: readonly ReservedRange[] = RAW.map(([cidr, what]) => ({ cidr, family: parseCidr(cidr)!.family, what }));

/** The first special-purpose range the network overlaps (either way round), if any. */
export function reservedOverlap(cidr: CidrInput): ReservedRange | undefined {
  const c = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  if (!c) return undefined;
  return RESERVED_RANGES.find((r) => r.family === c.family && cidrsOverlap(r.cidr, c));
}
