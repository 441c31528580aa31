/**
 * oclif's command_not_found hook: a mistyped command is a usage error like any other — one line naming the
 * command and the closest real one, exit 2, and with --json the Error document on stdout — instead of oclif's
 * framed "command upp not found".
 */
import type { Hook } from '@oclif/core';
import { reportError } from '../cli/output.js';
import { closest } from '../util/closest.js';
import { describeValue } from '../util/describe.js';
import { ExitCode } from '../util/errors.js';

const hook: Hook.CommandNotFound = async function ({ id, argv = [], config }) {
  const bin = config.bin;
  const shown = id.replace(/:/g, ' ');
  const words = [shown, ...argv];
  const own = words.includes('--') ? words.slice(0, words.indexOf('--')) : words;
  const commands = config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases]).map((c) => c.replace(/:/g, ' '));
  const suggestion = closest(shown, commands);
  const message = id.startsWith('-')
    ? `${describeValue(id)} is not a command; expected a command first, such as ${bin} up`
    : `${describeValue(shown)} is not a ${bin} command; ${suggestion ? `did you mean: ${bin} ${suggestion}?` : `expected one of: ${[...new Set(commands)].sort().join(', ')}`}`;
  reportError({ message, hint: `see: ${bin} --help`, exitCode: ExitCode.USAGE }, { json: own.includes('--json') });
  process.exitCode = ExitCode.USAGE;
};

export default hook;
