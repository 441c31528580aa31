/**
 * The shared shape of every podnet command: --json / --verbose flags, one JSON document on stdout in
 * JSON mode, and error → exit-code mapping (0 ok, 1 checks failed, 2 bad input, 3 node unreachable,
 * 4 internal error).
 */
import { Command, Flags, Errors } from '@oclif/core';
import { ExitCode, PodnetError } from '../util/errors.js';
import { jsonDocument, logErr, reportError, type ErrorReport } from './output.js';
import type { CommandSpec } from './usage-errors.js';

export abstract class BaseCommand extends Command {
  static override baseFlags = {
    json: Flags.boolean({ description: 'print one versioned JSON document on stdout and nothing else', default: false }),
    verbose: Flags.boolean({ description: 'show stack traces and raw command output on errors', default: false }),
  };

  protected jsonMode = false;
  /** set once the command's data document is out: an error after that must not print a second one */
  private emitted = false;
  protected verboseMode = false;

  override async init(): Promise<void> {
    await super.init();
    // Read the global flags early, so errors thrown while parsing later still honour --json.
    // (Words after `--` belong to another command: `lab exec -- podnet up --json`.)
    const own = this.argv.includes('--') ? this.argv.slice(0, this.argv.indexOf('--')) : this.argv;
    this.jsonMode = own.includes('--json');
    this.verboseMode = own.includes('--verbose');
  }

  /** Print data: the JSON envelope in JSON mode, otherwise the human text. */
  protected emit(kind: string, body: Record<string, unknown>, human: () => string | Promise<string>): Promise<void> | void {
    this.emitted = true;
    if (this.jsonMode) {
      process.stdout.write(jsonDocument(kind, body));
      return;
    }
    const out = human();
    if (typeof out === 'string') {
      process.stdout.write(out);
      return;
    }
    return out.then((s) => {
      process.stdout.write(s);
    });
  }

  /** How the binary is called in messages: `podnet` or `kubectl podnet`. */
  protected get binName(): string {
    return this.config.bin;
  }

  override async catch(err: Error): Promise<void> {
    if (err instanceof Errors.ExitError) throw err;
    const report = await this.describeError(err);
    reportError(report, { json: this.jsonMode && !this.emitted });
    if (this.verboseMode && err.stack) logErr(err.stack);
    process.exitCode = report.exitCode;
  }

  /** Any error → its one line, hint and exit code: podnet's own errors as thrown, parse errors as usage, the rest as bugs. */
  private async describeError(err: Error): Promise<ErrorReport> {
    // (loaded only when something went wrong: it stays off the start-up path)
    const { describeUsageError } = await import('./usage-errors.js');
    const usage = describeUsageError(err, this.commandSpec());
    if (usage) return { ...usage, exitCode: ExitCode.USAGE };
    if (err instanceof PodnetError) return { message: err.message, hint: err.hint, exitCode: err.exitCode };
    return {
      message: `internal error: ${err.message.split('\n')[0] ?? ''}`,
      hint: this.verboseMode ? 'this is a bug in podnet: please report it with the stack trace below' : 'this is a bug in podnet: run again with --verbose for the stack trace, and report it',
      exitCode: ExitCode.INTERNAL,
    };
  }

  /** This command's flags and args, for usage errors. */
  private commandSpec(): CommandSpec {
    const ctor = this.ctor as unknown as { flags?: CommandSpec['flags']; baseFlags?: CommandSpec['flags']; args?: CommandSpec['args'] };
    return {
      usage: `${this.config.bin} ${this.id?.replace(/:/g, ' ') ?? ''}`.trimEnd(),
      flags: { ...ctor.flags, ...ctor.baseFlags },
      args: { ...ctor.args },
      argv: this.argv,
    };
  }
}
