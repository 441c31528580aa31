/**
 * oclif's parse errors, as podnet's one-line usage errors (exit 2). oclif's own messages drop the reason
 * ("Parsing --concurrency", "The following error occurred:", "Missing 1 required arg:") or span several lines,
 * but the errors still carry what went wrong: the failing flag's own error (wrapped), the parse input and output
 * (flag definitions, what was given), the offending args and flags. The line is rebuilt here from those, in one
 * shape for every command: the flag or argument, the value (quoted, escaped), what is expected.
 */
import { describeValue } from '../util/describe.js';
import { closest } from '../util/closest.js';
import { PodnetError } from '../util/errors.js';
import { integerExpectation } from './flags.js';

/** The parts of an oclif flag definition used here (podnet's flags also carry `expected`, see flags.ts). */
export interface FlagSpec {
  name?: string;
  char?: string;
  type: 'boolean' | 'option';
  options?: readonly string[];
  description?: string;
  summary?: string;
  required?: boolean;
  dependsOn?: readonly unknown[];
  hidden?: boolean;
  expected?: unknown;
  min?: unknown;
  max?: unknown;
}

export interface ArgSpec {
  name?: string;
  options?: readonly unknown[];
  description?: string;
  required?: boolean;
}

export interface CommandSpec {
  /** how the command is called: "podnet up", "kubectl podnet lab up" */
  usage: string;
  flags: Record<string, FlagSpec>;
  args: Record<string, ArgSpec>;
  /** the arguments after the command id, as given */
  argv: readonly string[];
}

export interface UsageProblem {
  message: string;
  hint?: string;
}

interface ParseErrorFields {
  parse?: { output?: { flags?: Record<string, unknown> } };
  args?: unknown[];
  flags?: unknown[];
}

// eslint-disable-next-line no-control-regex -- oclif colours some messages (SGR escapes)
const ANSI = /\u001b\[[0-9;]*m/g;
// oclif wraps whatever a flag's parse throws as "Parsing --NAME \n\t<message>\nSee more help with --help".
const FLAG_PARSE = /^Parsing --(\S+) \n\t([\s\S]*?)(?:\nSee more help with --help)?$/;

function firstLine(text: string): string {
  return (text.replace(ANSI, '').split('\n').find((l) => l.trim() !== '') ?? '').trim();
}

/** What a flag's value should be, for "expected …". */
export function flagExpectation(flag: FlagSpec): string {
  if (typeof flag.expected === 'string') return flag.expected;
  if (flag.options?.length) return `one of: ${flag.options.join(', ')}`;
  if (typeof flag.min === 'number' || typeof flag.max === 'number') {
    return integerExpectation({ min: typeof flag.min === 'number' ? flag.min : undefined, max: typeof flag.max === 'number' ? flag.max : undefined });
  }
  return flag.summary ?? flag.description ?? 'a value';
}

function argName(name: string): string {
  return name.toUpperCase();
}

function argExpectation(arg: ArgSpec): string {
  if (arg.options?.length) return `one of: ${arg.options.join(', ')}`;
  return arg.description ?? 'a value';
}

/** The flag a user most likely meant by `given` (a long or short spelling, perhaps with =value). */
function suggestFlag(given: string, flags: Record<string, FlagSpec>): string | undefined {
  const visible = Object.entries(flags).filter(([, f]) => !f.hidden);
  const bare = given.replace(/=.*$/, '');
  if (/^-[^-]$/.test(bare)) return undefined;
  const name = closest(bare.replace(/^-+/, ''), visible.map(([n]) => n));
  return name === undefined ? undefined : `--${name}`;
}

/** The message of a parse error oclif built from parts, matched by its known wording; undefined when not such a one. */
function fromOclifWording(message: string, cmd: CommandSpec): string | undefined {
  let m = /^Flag --(\S+) expects (?:a value|one of these values: .*)$/.exec(message);
  if (m) {
    const flag = cmd.flags[m[1]!];
    return `--${m[1]}: no value given; expected ${flag ? flagExpectation(flag) : 'a value'}`;
  }
  m = /^Flag --(\S+) can only be specified once$/.exec(message);
  if (m) return `--${m[1]}: given more than once; expected it once`;
  // FlagInvalidOptionError: "Expected --NAME=VALUE to be one of: A, B"; the value is recovered between the known ends.
  for (const [name, flag] of Object.entries(cmd.flags)) {
    if (!flag.options?.length) continue;
    const head = `Expected --${name}=`;
    const tail = ` to be one of: ${flag.options.join(', ')}`;
    if (message.startsWith(head) && message.endsWith(tail) && message.length >= head.length + tail.length) {
      return `--${name}: ${describeValue(message.slice(head.length, message.length - tail.length))} is not a valid choice; expected ${flagExpectation(flag)}`;
    }
  }
  // ArgInvalidOptionError: "Expected VALUE to be one of: A, B"
  for (const [name, arg] of Object.entries(cmd.args)) {
    if (!arg.options?.length) continue;
    const tail = ` to be one of: ${arg.options.join(', ')}`;
    if (message.startsWith('Expected ') && message.endsWith(tail)) {
      return `${argName(name)}: ${describeValue(message.slice('Expected '.length, message.length - tail.length))} is not a valid choice; expected ${argExpectation(arg)}`;
    }
  }
  return undefined;
}

/** The first failed flag rule (required, dependsOn) of a FailedFlagValidationError, from the parse it carries. */
function failedFlagRule(given: Record<string, unknown>, cmd: CommandSpec): string | undefined {
  for (const [name, flag] of Object.entries(cmd.flags)) {
    if (given[name] === undefined) {
      if (flag.required) return `--${name}: missing; expected ${flagExpectation(flag)}`;
      continue;
    }
    const needs = (flag.dependsOn ?? []).filter((d): d is string => typeof d === 'string' && given[d] === undefined);
    if (needs.length) {
      const also = needs.map((d) => `--${d}`).join(' and ');
      return `--${name}: only with ${also}; expected ${also} too (or leave out --${name})`;
    }
  }
  return undefined;
}

/**
 * The one-line usage error for an error thrown while oclif parsed the command line; undefined when `err` is not
 * such an error. A PodnetError a flag's own parse threw (flags.ts) keeps its text and hint.
 */
export function describeUsageError(err: Error, cmd: CommandSpec): UsageProblem | undefined {
  const hint = `see: ${cmd.usage} --help`;
  const kind = err.constructor?.name ?? '';
  const fields = err as Error & ParseErrorFields;

  const wrapped = FLAG_PARSE.exec(err.message);
  if (wrapped) {
    const inner = firstLine(wrapped[2]!);
    if (err instanceof PodnetError) return { message: inner, hint: err.hint ?? hint };
    // a parse of oclif's own (or of a flag defined without podnet's builders): name the flag in front
    return { message: inner.startsWith(`--${wrapped[1]}`) ? inner : `--${wrapped[1]}: ${inner}`, hint };
  }
  if (err instanceof PodnetError) return undefined;
  // Everything else oclif's parser throws is a CLIError (exit 2 by default); podnet's own code never throws one.
  if ((err as { oclif?: { exit?: number } }).oclif?.exit === undefined) return undefined;

  switch (kind) {
    case 'FailedFlagValidationError': {
      const given = fields.parse?.output?.flags;
      const rule = given ? failedFlagRule(given, cmd) : undefined;
      // unknown rules: oclif's reasons are the lines after its "The following error occurred:" header
      return { message: rule ?? (firstLine(err.message.split('\n').slice(1).join('\n')) || firstLine(err.message)), hint };
    }
    case 'RequiredArgsError': {
      const missing = (fields.args ?? []) as ArgSpec[];
      const first = missing[0];
      if (first?.name) return { message: `${argName(first.name)}: missing; expected ${argExpectation(first)}`, hint };
      break;
    }
    case 'UnexpectedArgsError': {
      const extra = String((fields.args ?? [])[0] ?? '');
      // `--dry-run=yes`: oclif takes the switch and leaves "yes" as an argument
      for (const a of cmd.argv) {
        const m = /^--([^=]+)=([\s\S]*)$/.exec(a);
        if (m && m[2] === extra && cmd.flags[m[1]!]?.type === 'boolean') {
          return { message: `--${m[1]}: a switch takes no value, got ${describeValue(extra)}; expected --${m[1]} alone`, hint };
        }
      }
      const n = Object.keys(cmd.args).length;
      const takes = n === 0 ? 'no arguments' : `at most ${n} argument${n > 1 ? 's' : ''} (${Object.keys(cmd.args).map(argName).join(' ')})`;
      return { message: `unexpected argument ${describeValue(extra)}; ${cmd.usage} takes ${takes}`, hint };
    }
    case 'NonExistentFlagsError': {
      const given = String((fields.flags ?? [])[0] ?? '');
      const suggestion = suggestFlag(given, cmd.flags);
      const known = Object.entries(cmd.flags).filter(([, f]) => !f.hidden).map(([n]) => `--${n}`);
      const expected = suggestion ? `did you mean ${suggestion}?` : known.length ? `expected one of: ${known.join(', ')}` : 'it takes no flags';
      return { message: `${describeValue(given)} is not a flag of ${cmd.usage}; ${expected}`, hint };
    }
  }
  // (the whole text, not its first line: a value can hold a newline)
  const whole = err.message.replace(ANSI, '').replace(/\nSee more help with --help$/, '');
  return { message: fromOclifWording(whole, cmd) ?? firstLine(err.message), hint };
}
