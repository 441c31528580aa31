/**
 * Native nftables rulesets as `nft list table` prints them, and the question the checks ask of them: what
 * does a new pod flow on a given path meet first in a forward-hook base chain. Pure. Only matches podnet
 * can judge for every pod flow count (interface names, IPv4 addresses holding the whole cluster CIDR, the
 * family); a rule with any other match (conntrack state, ports, marks, limits, named sets) may not apply
 * and is passed over, so an unknown rule never produces a finding by itself.
 */
import { cidrContainsCidr, parseCidr } from '../net/cidr.js';
import { familyOf, hostCidr, IPV6 } from '../net/family.js';
import type { PodPath } from './iptables.js';

export interface NftChain {
  name: string;
  /** for base chains: the hook ("forward", "input", …) and the policy ("accept" or "drop") */
  hook?: string;
  policy?: string;
  rules: string[];
}

export interface NftTable {
  family: string;
  name: string;
  chains: NftChain[];
}

/** `nft list table FAMILY NAME` output → its chains and rules. */
export function parseNftTable(family: string, name: string, text: string): NftTable {
  const chains: NftChain[] = [];
  let cur: NftChain | undefined;
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    const c = /^chain (\S+) \{$/.exec(l);
    if (c) {
      cur = { name: c[1]!, rules: [] };
      chains.push(cur);
      continue;
    }
    if (!cur) continue;
    if (l === '}') {
      cur = undefined;
      continue;
    }
    const t = /^type \S+ hook (\S+) .*?;(?: policy (\S+);)?/.exec(l);
    if (t) {
      cur.hook = t[1];
      cur.policy = t[2] ?? 'accept';
      continue;
    }
    if (l && !l.startsWith('#')) cur.rules.push(l);
  }
  return { family, name, chains };
}

type Verdict = { verdict: 'accept' | 'drop' | 'reject'; rule: string };

/** Split a rule into its match part and its verdict (statements that only count or log are dropped). */
function split(rule: string): { match: string; verdict?: string; target?: string } {
  const r = rule
    .replace(/\bcounter( packets \d+ bytes \d+)?/g, '')
    .replace(/\bcomment "(?:[^"\\]|\\.)*"/g, '')
    .replace(/\blog( prefix "(?:[^"\\]|\\.)*"| level \S+| flags \S+| group \d+)*/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  const v = /(?:^|\s)(accept|drop|return|reject(?: with .*)?|jump (\S+)|goto (\S+))$/.exec(r);
  if (!v) return { match: r };
  const verdict = v[1]!.split(' ')[0]!;
  return { match: r.slice(0, v.index).trim(), verdict, target: v[2] ?? v[3] };
}

function values(text: string): string[] {
  const set = /^\{ (.*) \}$/.exec(text);
  return (set ? set[1]!.split(/,\s*/) : [text]).map((x) => x.replace(/^"|"$/g, ''));
}

/**
 * Whether a match part applies to every new pod flow on `path` of the family of `cidr`: true (surely),
 * false (never), or undefined (podnet cannot tell: a match it does not judge).
 */
function applies(match: string, path: PodPath, cidr: string): boolean | undefined {
  if (!match) return true;
  const v6 = familyOf(cidr) === IPV6;
  // expressions: "iifname X", "oifname { a, b }", "ip saddr 10.0.0.0/8", "meta nfproto ipv4", …
  const re = /(iifname|oifname|iif|oif|ip6? saddr|ip6? daddr|meta nfproto) (\{ [^}]* \}|"[^"]*"|\S+)/g;
  let rest = match;
  let result: boolean | undefined = true;
  for (const m of match.matchAll(re)) {
    rest = rest.replace(m[0], '');
    const [what, arg] = [m[1]!, m[2]!];
    const vals = values(arg);
    if (what === 'iifname' || what === 'iif' || what === 'oifname' || what === 'oif') {
      const dev = what.startsWith('i') ? path.in : path.out;
      const hit = vals.some((v) => (v.endsWith('*') ? dev.startsWith(v.slice(0, -1)) : dev === v));
      if (!hit) return false;
    } else if (what.startsWith('ip6') !== v6 && what !== 'meta nfproto') {
      // an address match of the other family: the rule never sees this family's packets
      return false;
    } else if (what === 'meta nfproto') {
      if (!vals.includes(v6 ? 'ipv6' : 'ipv4')) return false;
    } else {
      // ip saddr/daddr: applies to every pod flow only when the addresses hold the whole cluster CIDR.
      const holds = vals.some((v) => parseCidr(v.includes('/') ? v : hostCidr(v)) && cidrContainsCidr(v.includes('/') ? v : hostCidr(v), cidr));
      if (!holds) result = undefined;
    }
  }
  return rest.trim() === '' ? result : undefined;
}

/** What a new pod flow on `path` meets first in a chain (undefined: it falls through to the policy). */
export function nftFirstVerdict(table: NftTable, chain: string, path: PodPath, cidr: string): Verdict | undefined {
  const walk = (name: string, depth: number): Verdict | 'return' | undefined => {
    const c = table.chains.find((x) => x.name === name);
    if (!c || depth > 8) return undefined;
    for (const rule of c.rules) {
      const { match, verdict, target } = split(rule);
      if (!verdict || applies(match, path, cidr) !== true) continue;
      if (verdict === 'accept' || verdict === 'drop' || verdict === 'reject') return { verdict, rule };
      if (verdict === 'return') return 'return';
      const inner = walk(target!, depth + 1);
      if (inner && inner !== 'return') return inner;
      if (verdict === 'goto') return 'return';
    }
    return undefined;
  };
  const v = walk(chain, 0);
  return v === 'return' ? undefined : v;
}
