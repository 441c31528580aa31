/**
 * Address and CIDR math for podnet, as a thin family-agnostic layer over ip-num. Everything that asks
 * "is this an address", "does this range hold that one", "which /24 is the n-th" goes through here so that
 * parsing rules (canonical networks only, no zone ids, no leading zeros) are decided in one place.
 * Pure: no I/O, no exceptions for bad user text (parsers return undefined); RangeError only for misuse.
 */
import {
  AbstractIPNum,
  collapseIPv6Number,
  IPv4,
  IPv4CidrRange,
  IPv4Prefix,
  IPv6,
  IPv6CidrRange,
  IPv6Prefix,
  Validator,
} from 'ip-num';

export type Family = 4 | 6;

export interface Cidr {
  family: Family;
  /** the network address, normalized (IPv6 compressed, lower case) */
  network: string;
  prefix: number;
  /** normalized "10.244.0.0/16" */
  text: string;
}

/** Functions taking a CIDR accept the parsed form or its text; text that does not parse is a caller bug. */
export type CidrInput = Cidr | string;

type IpNum = IPv4 | IPv6;
type Range = IPv4CidrRange | IPv6CidrRange;

export const MAX_PREFIX: Record<Family, number> = { 4: 32, 6: 128 };

// ip-num accepts "10.0.0.0/016"; a prefix is written without leading zeros everywhere else, so we insist.
const PREFIX_TEXT = /^(0|[1-9][0-9]{0,2})$/;

function parseIpNum(text: string): IpNum | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  if (Validator.isValidIPv4String(text)[0]) return new IPv4(text);
  // Zone ids ("fe80::1%eth0") name a local interface: meaningless in an inventory and a quoting hazard.
  if (text.includes('%') || !text.includes(':')) return undefined;
  if (!Validator.isValidIPv6String(text)[0]) return undefined;
  try {
    return new IPv6(text);
  } catch {
    return undefined;
  }
}

function formatIpNum(ip: IpNum): string {
  return ip instanceof IPv4 ? ip.toString() : collapseIPv6Number(ip.toString()).toLowerCase();
}

function familyOf(ip: AbstractIPNum): Family {
  return ip instanceof IPv4 ? 4 : 6;
}

function makeRange(network: IpNum, prefix: number): Range {
  return network instanceof IPv4
    ? new IPv4CidrRange(network, new IPv4Prefix(BigInt(prefix)))
    : new IPv6CidrRange(network, new IPv6Prefix(BigInt(prefix)));
}

function prefixSize(family: Family, prefix: number): bigint {
  return family === 4 ? new IPv4Prefix(BigInt(prefix)).toRangeSize() : new IPv6Prefix(BigInt(prefix)).toRangeSize();
}

function ipFromValue(family: Family, value: bigint): IpNum {
  return family === 4 ? IPv4.fromNumber(value) : IPv6.fromBigInt(value);
}

function cidrFromRange(range: Range): Cidr {
  const family = familyOf(range.getFirst());
  const network = formatIpNum(range.getFirst());
  const prefix = Number(range.getPrefix().getValue());
  return { family, network, prefix, text: `${network}/${prefix}` };
}

function toCidr(input: CidrInput): Cidr {
  if (typeof input !== 'string') return input;
  const c = parseCidr(input);
  if (!c) throw new RangeError(`not a canonical CIDR: ${JSON.stringify(input)}`);
  return c;
}

// Checks ask the same few hundred CIDRs and addresses (routes, pod CIDRs, node IPs) hundreds of
// thousands of times on a large cluster, and ip-num parses through strings of bits: parse each text
// once and compare plain integers after that. Entries are immutable values; the caches are bounded.
const CACHE_LIMIT = 100_000;
const rangeCache = new Map<string, Range>();
const boundsCache = new Map<string, { family: Family; first: bigint; last: bigint }>();
const cidrCache = new Map<string, Cidr | null>();
const ipCache = new Map<string, { family: Family; value: bigint } | null>();

function remember<K, V>(cache: Map<K, V>, key: K, value: V): V {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
  return value;
}

function toRange(input: CidrInput): Range {
  const key = typeof input === 'string' ? input : input.text;
  const r = rangeCache.get(key);
  if (r) return r;
  const c = toCidr(input);
  return remember(rangeCache, key, makeRange(parseIpNum(c.network)!, c.prefix));
}

function boundsOf(input: CidrInput): { family: Family; first: bigint; last: bigint } {
  const key = typeof input === 'string' ? input : input.text;
  const b = boundsCache.get(key);
  if (b) return b;
  const r = toRange(input);
  return remember(boundsCache, key, { family: familyOf(r.getFirst()), first: r.getFirst().getValue(), last: r.getLast().getValue() });
}

function ipValue(text: string): { family: Family; value: bigint } | undefined {
  const hit = ipCache.get(text);
  if (hit !== undefined) return hit ?? undefined;
  const ip = parseIpNum(text);
  return remember(ipCache, text, ip ? { family: familyOf(ip), value: ip.getValue() } : null) ?? undefined;
}

/** True when `text` is a plain IPv4 or IPv6 address (no prefix, no zone id, no leading zeros). */
export function isIp(text: string): boolean {
  return parseIpNum(text) !== undefined;
}

export function ipFamily(text: string): Family | undefined {
  const ip = parseIpNum(text);
  return ip ? familyOf(ip) : undefined;
}

/** The canonical spelling of an address, so that "2001:DB8::0:1" and "2001:db8::1" compare equal. */
export function normalizeIp(text: string): string | undefined {
  const ip = parseIpNum(text);
  return ip ? formatIpNum(ip) : undefined;
}

/**
 * Parse "network/prefix". Only canonical networks are accepted: "10.244.1.5/24" is rejected rather than
 * silently widened, because a user who wrote it almost certainly meant something else.
 */
export function parseCidr(text: string): Cidr | undefined {
  if (typeof text !== 'string') return undefined;
  const hit = cidrCache.get(text);
  if (hit !== undefined) return hit ? { ...hit } : undefined;
  const parsed = parseCidrText(text);
  remember(cidrCache, text, parsed ?? null);
  return parsed ? { ...parsed } : undefined;
}

function parseCidrText(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0 || slash !== text.lastIndexOf('/')) return undefined;
  const addrText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (!PREFIX_TEXT.test(prefixText)) return undefined;
  const ip = parseIpNum(addrText);
  if (!ip) return undefined;
  const family = familyOf(ip);
  const prefix = Number(prefixText);
  if (prefix > MAX_PREFIX[family]) return undefined;
  const range = makeRange(ip, prefix);
  if (!range.getFirst().isEquals(ip)) return undefined;
  return cidrFromRange(range);
}

/** Number of addresses in the CIDR (2^(bits-prefix)). */
export function cidrSize(cidr: CidrInput): bigint {
  return toRange(cidr).getSize();
}

export function cidrContainsIp(cidr: CidrInput, ip: string): boolean {
  const b = boundsOf(cidr);
  const addr = ipValue(ip);
  if (!addr || addr.family !== b.family) return false;
  return b.first <= addr.value && addr.value <= b.last;
}

/** True when every address of `inner` is in `outer` (equal CIDRs contain each other). */
export function cidrContainsCidr(outer: CidrInput, inner: CidrInput): boolean {
  const o = boundsOf(outer);
  const i = boundsOf(inner);
  return o.family === i.family && o.first <= i.first && i.last <= o.last;
}

/** CIDR blocks either nest or are disjoint, so "overlap" is containment in either direction. */
export function cidrsOverlap(a: CidrInput, b: CidrInput): boolean {
  return cidrContainsCidr(a, b) || cidrContainsCidr(b, a);
}

function checkMaskSize(c: Cidr, maskSize: number): void {
  if (!Number.isInteger(maskSize) || maskSize < 0 || maskSize > MAX_PREFIX[c.family]) {
    throw new RangeError(`mask size ${maskSize} is not valid for IPv${c.family}`);
  }
}

/** How many /maskSize subnets fit in the CIDR; 0 when maskSize is shorter than the CIDR's own prefix. */
export function subnetCount(cidr: CidrInput, maskSize: number): bigint {
  const c = toCidr(cidr);
  checkMaskSize(c, maskSize);
  if (maskSize < c.prefix) return 0n;
  return cidrSize(c) / prefixSize(c.family, maskSize);
}

/** The n-th (0-based) /maskSize subnet of the CIDR, in address order. */
export function nthSubnet(cidr: CidrInput, maskSize: number, n: number | bigint): Cidr {
  const c = toCidr(cidr);
  const count = subnetCount(c, maskSize);
  if (typeof n === 'number' && !Number.isInteger(n)) throw new RangeError(`subnet index ${n} is not an integer`);
  const index = BigInt(n);
  if (index < 0n || index >= count) {
    throw new RangeError(`subnet index ${index} is outside ${c.text} split into /${maskSize} (${count} subnets)`);
  }
  const first = toRange(c).getFirst().getValue();
  const start = ipFromValue(c.family, first + index * prefixSize(c.family, maskSize));
  return cidrFromRange(makeRange(start, maskSize));
}

/** Inverse of nthSubnet: the index of `subnet`, or undefined if it is not a /maskSize subnet of the CIDR. */
export function subnetIndex(cidr: CidrInput, maskSize: number, subnet: CidrInput): bigint | undefined {
  const c = toCidr(cidr);
  const s = toCidr(subnet);
  checkMaskSize(c, maskSize);
  if (s.prefix !== maskSize || !cidrContainsCidr(c, s)) return undefined;
  const offset = toRange(s).getFirst().getValue() - toRange(c).getFirst().getValue();
  return offset / prefixSize(c.family, maskSize);
}

/** The n-th (0-based) address of the CIDR: hostAddress("10.244.3.0/24", 1) is the bridge gateway "10.244.3.1". */
export function hostAddress(cidr: CidrInput, n: number | bigint): string {
  const c = toCidr(cidr);
  if (typeof n === 'number' && !Number.isInteger(n)) throw new RangeError(`address index ${n} is not an integer`);
  const index = BigInt(n);
  const range = toRange(c);
  if (index < 0n || index >= range.getSize()) throw new RangeError(`address index ${index} is outside ${c.text}`);
  return formatIpNum(ipFromValue(c.family, range.getFirst().getValue() + index));
}

/** Total order for stable output: IPv4 before IPv6, then by network address, then shorter prefix first. */
export function compareCidr(a: CidrInput, b: CidrInput): number {
  const x = toCidr(a);
  const y = toCidr(b);
  if (x.family !== y.family) return x.family - y.family;
  const vx = boundsOf(x).first;
  const vy = boundsOf(y).first;
  if (vx !== vy) return vx < vy ? -1 : 1;
  return x.prefix - y.prefix;
}

/** The /prefix network that holds `ip` (an interface address such as 10.244.3.1/24 → 10.244.3.0/24). */
export function networkOf(ip: string, prefix: number): Cidr | undefined {
  const addr = parseIpNum(ip);
  if (!addr) return undefined;
  const family = familyOf(addr);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > MAX_PREFIX[family]) return undefined;
  const size = prefixSize(family, prefix);
  return cidrFromRange(makeRange(ipFromValue(family, (addr.getValue() / size) * size), prefix));
}

/**
 * The longest node mask podnet accepts: a node subnet must hold at least the bridge gateway and one pod
 * besides the network and broadcast addresses.
 */
export function maxNodeMaskSize(family: Family): number {
  return MAX_PREFIX[family] - 2;
}
