/**
 * Questions about a node's `iptables -S` lines, answered the way the kernel walks them: which chains a
 * built-in chain reaches, what a rule matches, what a new pod flow meets first. Pure; shared by the checks
 * and by planning (podnet's jump must come before a rule that drops pod traffic).
 */
import { cidrContainsCidr, cidrsOverlap } from '../net/cidr.js';

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
  return v.includes('/') ? v : `${v}/32`;
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
export function firstVerdict(rules: string[], chain: string, cidr: string, devs: string[], depth = 0): { verdict: 'ACCEPT' | 'DROP' | 'REJECT'; rule: string } | undefined {
  if (depth > 8) return undefined;
  for (const r of rules) {
    if (chainOf(r) !== chain || !r.startsWith('-A ')) continue;
    const opts = r.split(' ').slice(2);
    // Only -s/-d/-i/-o/-p all/comments: any other match (state, mark, set, …) may not apply to every flow.
    if (opts.some((o) => o.startsWith('-') && !['-s', '-d', '-i', '-o', '-j', '-g', '-m', '--comment', '-p', '--reject-with'].includes(o))) continue;
    if (/ -m (?!comment\b)\S+/.test(r)) continue;
    if (/ -p (?!all\b)\S+/.test(r)) continue;
    if (/!/.test(r)) continue;
    const s = ruleArg(r, '-s');
    const d = ruleArg(r, '-d');
    // -s/-d must hold the whole cluster CIDR for the rule to apply to every pod flow.
    const holds = (a?: { value: string }) => !a || coversWhole(a.value, cidr);
    if (!holds(s) || !holds(d)) continue;
    const dev = (flag: string) => ruleArg(r, flag)?.value;
    const devOk = (x?: string) => !x || devs.some((v) => (x.endsWith('+') ? v.startsWith(x.slice(0, -1)) : v === x));
    if (!devOk(dev('-i')) || !devOk(dev('-o'))) continue;
    const t = targetOf(r) ?? / -g (\S+)/.exec(r)?.[1];
    if (t === 'ACCEPT' || t === 'DROP' || t === 'REJECT') return { verdict: t, rule: r };
    if (t === 'RETURN') return undefined;
    if (t && /^[A-Za-z0-9_-]+$/.test(t)) {
      const inner = firstVerdict(rules, t, cidr, devs, depth + 1);
      if (inner) return inner;
    }
  }
  return undefined;
}

const coversWhole = (v: string, cidr: string) => cidrContainsCidr(asCidr(v), cidr);
