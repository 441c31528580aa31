/**
 * podnet's flag builders. Each flag checks its value in its own parse and says what it expects, so a bad value is
 * one line naming the flag, the value (quoted and escaped) and what is expected:
 *   --concurrency: "abc" is not an integer; expected an integer from 1 to 1024
 * `expected` is also what the usage errors (usage-errors.ts) print for a flag given without a value or not at all.
 */
import { Flags } from '@oclif/core';
import { describeValue } from '../util/describe.js';
import { UserError } from '../util/errors.js';

// (types, not interfaces: oclif's custom flag options must be assignable to Record<string, unknown>)
export type IntegerOptions = {
  min?: number;
  max?: number;
  /** what to say after "expected"; default: the range */
  expected?: string;
};

export function integerExpectation(o: IntegerOptions): string {
  if (o.expected) return o.expected;
  if (o.min !== undefined && o.max !== undefined) return `an integer from ${o.min} to ${o.max}`;
  if (o.min !== undefined) return `an integer of at least ${o.min}`;
  if (o.max !== undefined) return `an integer of at most ${o.max}`;
  return 'an integer';
}

/** A flag's integer value, or a UserError naming the flag. Only plain decimal digits (an optional "-"): no 1e3, 0x10, 1.0. */
export function parseInteger(flag: string, input: string, o: IntegerOptions): number {
  const expected = integerExpectation(o);
  if (input.trim() === '') throw new UserError(`--${flag}: empty; expected ${expected}`);
  if (!/^-?\d+$/.test(input)) throw new UserError(`--${flag}: ${describeValue(input)} is not an integer; expected ${expected}`);
  const n = Number(input);
  if (!Number.isSafeInteger(n) || (o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max)) {
    throw new UserError(`--${flag}: ${describeValue(input)} is out of range; expected ${expected}`);
  }
  return n;
}

/** An integer flag: `min`/`max` bound it (leave them out when a later check knows the range better, and say so in `expected`). */
export const integerFlag = Flags.custom<number, IntegerOptions>({
  parse: async (input, _ctx, opts) => parseInteger(opts.name, input, opts),
});

export type TextOptions = {
  /** what to say after "expected": "the path of an inventory file (YAML or JSON)" */
  expected: string;
  /** a stricter check of the value, throwing a UserError that names the flag */
  check?: (value: string) => void;
};

/** A string flag that refuses an empty value (`-i ''`, `--name=`): an empty path or name is always a mistake. */
export const textFlag = Flags.custom<string, TextOptions>({
  parse: async (input, _ctx, opts) => {
    if (input.trim() === '') throw new UserError(`--${opts.name}: empty; expected ${opts.expected}`);
    opts.check?.(input);
    return input;
  },
});
