/**
 * The shared shape of every podnet command: --json / --verbose flags, one JSON document on stdout in
 * JSON mode, and error → exit-code mapping (0 ok, 1 checks failed, 2 bad input, 3 node unreachable).
 */
import { Command, Flags, Errors } from '@oclif/core';
import { ExitCode, PodnetError } from '../util/errors.js';
import { jsonDocument, logErr, paint, colorEnabled } from './output.js';

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
    this.jsonMode = this.argv.includes('--json');
    this.verboseMode = this.argv.includes('--verbose');
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

  override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<void> {
    let exitCode: number;
    let message = err.message;
    let hint: string | undefined;
    if (err instanceof PodnetError) {
      exitCode = err.exitCode;
      hint = err.hint;
    } else if (err instanceof Errors.ExitError) {
      throw err;
    } else if (isParseError(err)) {
      exitCode = ExitCode.USAGE;
      message = err.message.split('\n')[0] ?? err.message;
      hint = `see: ${this.config.bin} ${this.id?.replace(/:/g, ' ') ?? ''} --help`.trimEnd();
    } else {
      exitCode = ExitCode.NODE;
      message = `internal error: ${err.message}`;
      if (!this.verboseMode) hint = 'run again with --verbose for the stack trace, and report it as a bug';
    }
    if (this.jsonMode && !this.emitted) {
      process.stdout.write(jsonDocument('Error', { error: { message, hint, exitCode } }));
    }
    const c = colorEnabled(process.stderr);
    logErr(`${paint('error', 'red', c)}: ${message}`);
    if (hint) logErr(`${paint('hint', 'dim', c)}: ${hint}`);
    if (this.verboseMode && err.stack) logErr(err.stack);
    process.exitCode = exitCode;
  }
}

function isParseError(err: Error): boolean {
  const name = err.constructor?.name ?? '';
  return (
    /Flag|Arg|Parse|Required|Unexpected|Failed/.test(name) ||
    (err as { oclif?: { exit?: number } }).oclif?.exit === 2
  );
}
