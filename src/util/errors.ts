/**
 * Error types that carry podnet's documented exit codes. Commands throw these; the base command maps them
 * to one stderr line (plus a hint) and the exit code. Anything else is a bug: exit 4 (INTERNAL), with its
 * stack under --verbose.
 */
export const ExitCode = {
  OK: 0,
  /** the network is broken / checks failed / drift found */
  FAILED: 1,
  /** bad input or usage; nothing was changed on any node */
  USAGE: 2,
  /** a node could not be reached or acted on */
  NODE: 3,
  /** a bug in podnet: an error that none of the above describes (the stack is shown with --verbose) */
  INTERNAL: 4,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class PodnetError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'PodnetError';
  }
}

/** Bad input: a field, a flag, an environment precondition the user must fix. Exit 2. */
export class UserError extends PodnetError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.USAGE, hint);
    this.name = 'UserError';
  }
}

/** A check or probe found the network broken. Exit 1. The command has already printed the details. */
export class ChecksFailed extends PodnetError {
  constructor(message: string) {
    super(message, ExitCode.FAILED);
    this.name = 'ChecksFailed';
  }
}

/** One or more nodes could not be reached or acted on. Exit 3. */
export class NodeFailure extends PodnetError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.NODE, hint);
    this.name = 'NodeFailure';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Another podnet run holds a node's lock: nothing was changed. Exit 3, like any node that cannot be acted on. */
export class NodeBusy extends NodeFailure {
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = 'NodeBusy';
  }
}
