/**
 * Questions about a node's `iptables -S` lines, answered the way the kernel walks them: which chains a
 * built-in chain reaches, what a rule matches, what a new pod flow meets first. Pure; shared by the checks
 * and by planning (podnet's jump must come before a rule that drops pod traffic).
 */
import { cidrContainsCidr, cidrsOverlap } from '../net/cidr.js';
import { hostCidr, IPV6, type FamilyTable } from '../net/family.js';
import type { NodeFacts } from './parse.js';

/** A node's `-S` lines of one table in one family (iptables for IPv4, ip6tables for IPv6). */
export function rulesOf(f: NodeFacts, family: FamilyTable, table: 'filter' | 'nat'): string[] {
  if (family === IPV6) return table === 'filter' ? f.ip6tablesFilter : f.ip6tablesNat;
  return table === 'filter' ? f.iptablesFilter : f.iptablesNat;
}

const TARGETS = new Set(['ACCEPT', 'DROP', 'REJECT', 'RETURN', 'MASQUERADE', 'SNAT', 'DNAT', 'MARK', 'LOG', 'CONNMARK', 'NOTRACK', 'CT', 'TCPMSS']);

/** The chain an "-A CHAIN …" line appends to. */
export const chainOf = (rule: string): string => rule.split(' ')[1] ?? '';

/** The jump target of a rule, if any. */
export const targetOf = (rule: string): string | undefined => / -j (\S+)/.exec(rule)?.[1];

/** Chains reachable from a built-in chain by -j jumps (one table). */
export function reachableChains(rules: string[], from: string): Set<string> {
  const seen = new Set([from]);
  const queue = [from];
  while (queue.length) {
    const c = queue.shift()!;
    for (const r of rules) {
      if (!r.startsWith(`-A ${c} `)) continue;
      const t = targetOf(r);
      if (t && /^[A-Za-z0-9_-]+$/.test(t) && !TARGETS.has(t) && !seen.has(t)) {
        seen.add(t);
        queue.push(t);
      }
    }
  }
  return seen;
}

export function asCidr(v: string): string {
  return v.includes('/') ? v : hostCidr(v);
}

export interface RuleArg {
  value: string;
  negated: boolean;
}

export function ruleArg(rule: string, flag: string): RuleArg | undefined {
  const m = new RegExp(`(!\\s+)?${flag} (\\S+)`).exec(rule);
  return m ? { value: m[2]!, negated: Boolean(m[1]) } : undefined;
}

/** The rule's -s/-d overlap `cidr` (positively). */
export function coversCidr(a: RuleArg | undefined, cidr: string): boolean {
  return a !== undefined && !a.negated && cidrsOverlap(asCidr(a.value), cidr);
}

/** The rule's -s/-d may match an address in `cidr`: absent, overlapping, or negating something smaller. */
export function mayMatchCidr(a: RuleArg | undefined, cidr: string): boolean {
  return !a || (a.negated ? !cidrContainsCidr(asCidr(a.value), cidr) : cidrsOverlap(asCidr(a.value), cidr));
}

/**
 * Walk FORWARD in order as a new pod→pod flow would: the first rule that surely applies decides. A jump
 * is followed (a RETURN or the end of the chain comes back); rules with matches podnet cannot evaluate
 * (conntrack state, marks, sets, addresses elsewhere, other interfaces) are passed over as "may not apply".
 */
/** One way a pod flow crosses the node: the interface it comes in on and the one it leaves by. */
export interface PodPath {
  in: string;
  out: string;
}

/** The paths pod traffic takes through a node with this bridge, uplink and overlay devices. */
export function podPaths(bridge: string, uplink: string | undefined, overlays: string[]): PodPath[] {
  const outside = [uplink, ...overlays].filter((x): x is string => Boolean(x));
  return [{ in: bridge, out: bridge }, ...outside.flatMap((o) => [{ in: bridge, out: o }, { in: o, out: bridge }])];
}

type Verdict = { verdict: 'ACCEPT' | 'DROP' | 'REJECT'; rule: string };

/**
 * Walk a chain in order as a new pod flow on `path` would: the first rule that surely applies decides. A
 * jump is followed (RETURN or the end of the chain comes back; the end of a goto's chain returns from the
 * chain that went there); rules with matches podnet cannot judge (conntrack state, marks, sets, negations,
 * protocols, addresses that do not hold the whole cluster CIDR) are passed over as "may not apply".
 */
export function firstVerdict(rules: string[], chain: string, cidr: string, path: PodPath): Verdict | undefined {
  const walk = (c: string, depth: number): Verdict | 'return' | undefined => {
    if (depth > 8) return undefined;
    for (const r of rules) {
      if (chainOf(r) !== c || !r.startsWith('-A ')) continue;
      const opts = r.split(' ').slice(2);
      if (opts.some((o) => o.startsWith('-') && !['-s', '-d', '-i', '-o', '-j', '-g', '-m', '--comment', '-p', '--reject-with'].includes(o))) continue;
      if (/ -m (?!comment\b)\S+/.test(r)) continue;
      if (/ -p (?!all\b)\S+/.test(r)) continue;
      if (/!/.test(r)) continue;
      const holds = (a?: { value: string }) => !a || coversWhole(a.value, cidr);
      if (!holds(ruleArg(r, '-s')) || !holds(ruleArg(r, '-d'))) continue;
      const on = (x: string | undefined, dev: string) => !x || (x.endsWith('+') ? dev.startsWith(x.slice(0, -1)) : dev === x);
      if (!on(ruleArg(r, '-i')?.value, path.in) || !on(ruleArg(r, '-o')?.value, path.out)) continue;
      const jump = targetOf(r);
      const go = / -g (\S+)/.exec(r)?.[1];
      const t = jump ?? go;
      if (t === 'ACCEPT' || t === 'DROP' || t === 'REJECT') return { verdict: t, rule: r };
      if (t === 'RETURN') return 'return';
      if (t && /^[A-Za-z0-9_-]+$/.test(t)) {
        const inner = walk(t, depth + 1);
        if (inner && inner !== 'return') return inner;
        // The end of a goto's chain returns from this chain too.
        if (go) return 'return';
      }
    }
    return undefined;
  };
  const v = walk(chain, 0);
  return v === 'return' ? undefined : v;
}

/** The first path on which a DROP or REJECT comes before any ACCEPT, with the rule. */
export function droppingPath(rules: string[], chain: string, cidr: string, paths: PodPath[]): (Verdict & { path: PodPath }) | undefined {
  for (const path of paths) {
    const v = firstVerdict(rules, chain, cidr, path);
    if (v && v.verdict !== 'ACCEPT') return { ...v, path };
  }
  return undefined;
}

const coversWhole = (v: string, cidr: string) => cidrContainsCidr(asCidr(v), cidr);
