/**
 * The IP family as a value: everything that differs between IPv4 and IPv6 for a pod network, in one table
 * per family — the tools and their flags, the kernel settings, the "any" route, header sizes and what an
 * overlay costs over an underlay of that family. Code above this asks the table instead of spelling an
 * IPv4 (or IPv6) literal, so a second family is a second row, not a second code path.
 */
import { ipFamily, parseCidr, type Family as Version } from './cidr.js';

export type IpFamily = 'ipv4' | 'ipv6';

export interface FamilyTable {
  name: IpFamily;
  version: Version;
  /** `ip -j addr` family of an address */
  inet: 'inet' | 'inet6';
  /** iproute2's family flag */
  ipFlag: '-4' | '-6';
  iptables: 'iptables' | 'ip6tables';
  iptablesSave: 'iptables-save' | 'ip6tables-save';
  iptablesRestore: 'iptables-restore' | 'ip6tables-restore';
  /** the forwarding switch the node needs on */
  forwarding: string;
  /** br_netfilter's switch that hands bridged frames of this family to the firewall */
  bridgeNf: string;
  /** the route that matches every destination, as a CIDR */
  anyRoute: string;
  /** the prefix length of one address */
  hostPrefix: number;
  /** the default node mask size (Kubernetes: --node-cidr-mask-size-ipv4/-ipv6) */
  nodeMaskDefault: number;
  /** bytes of the IP header (no options) */
  ipHeader: number;
  /** bytes of an ICMP (ICMPv6) echo header */
  icmpHeader: number;
  /** bytes a VXLAN overlay adds when this family carries it (outer IP, UDP, VXLAN, inner Ethernet) */
  vxlanOverhead: number;
  /** the smallest link MTU the family works on */
  minMtu: number;
  /** a pod CIDR to suggest in messages */
  examplePodCidr: string;
}

export const IPV4: FamilyTable = {
  name: 'ipv4',
  version: 4,
  inet: 'inet',
  ipFlag: '-4',
  iptables: 'iptables',
  iptablesSave: 'iptables-save',
  iptablesRestore: 'iptables-restore',
  forwarding: 'net.ipv4.ip_forward',
  bridgeNf: 'net.bridge.bridge-nf-call-iptables',
  anyRoute: '0.0.0.0/0',
  hostPrefix: 32,
  nodeMaskDefault: 24,
  ipHeader: 20,
  icmpHeader: 8,
  vxlanOverhead: 50,
  minMtu: 68,
  examplePodCidr: '10.244.0.0/16',
};

export const IPV6: FamilyTable = {
  name: 'ipv6',
  version: 6,
  inet: 'inet6',
  ipFlag: '-6',
  iptables: 'ip6tables',
  iptablesSave: 'ip6tables-save',
  iptablesRestore: 'ip6tables-restore',
  forwarding: 'net.ipv6.conf.all.forwarding',
  bridgeNf: 'net.bridge.bridge-nf-call-ip6tables',
  anyRoute: '::/0',
  hostPrefix: 128,
  nodeMaskDefault: 64,
  ipHeader: 40,
  icmpHeader: 8,
  vxlanOverhead: 70,
  minMtu: 1280,
  examplePodCidr: 'fd00:10:244::/56',
};

export const FAMILIES: readonly FamilyTable[] = [IPV4, IPV6];

export function familyByName(name: IpFamily): FamilyTable {
  return name === 'ipv6' ? IPV6 : IPV4;
}

export function familyByVersion(v: Version): FamilyTable {
  return v === 6 ? IPV6 : IPV4;
}

/** The family of an address or a CIDR, if it is one. */
export function familyOf(text: string): FamilyTable | undefined {
  const v = text.includes('/') ? parseCidr(text)?.family : ipFamily(text);
  return v === undefined ? undefined : familyByVersion(v);
}

/** A host address as a CIDR of one address ("10.0.0.1" → "10.0.0.1/32", "fd00::1" → "fd00::1/128"). */
export function hostCidr(ip: string): string {
  return `${ip}/${(familyOf(ip) ?? IPV4).hostPrefix}`;
}
