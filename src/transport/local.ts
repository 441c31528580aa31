/**
 * Boundary: processes on this machine. Everything podnet runs locally (the lab's scripts, nsenter, ssh
 * itself) is spawned here, through execa, with the argument vector never passing a shell.
 */
import { execa } from 'execa';

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

export async function runLocal(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await execa(file, args, {
    input: opts.input,
    timeout: opts.timeoutMs,
    env: opts.env,
    reject: false,
    stripFinalNewline: false,
    forceKillAfterDelay: 2000,
    // On Ctrl-C podnet itself decides what to undo on the nodes, over these very ssh processes: execa
    // must not kill them (nor re-raise the signal) behind podnet's back.
    cleanup: false,
  });
  return {
    exitCode: r.exitCode ?? (r.timedOut ? 124 : 1),
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
    timedOut: Boolean(r.timedOut),
  };
}

/** Run a bash script given on stdin; the script is never part of a command line. */
export function runLocalScript(script: string, opts: Omit<RunOptions, 'input'> = {}): Promise<RunResult> {
  return runLocal('bash', ['-s'], { ...opts, input: script });
}

/** Hand the terminal to a child (interactive ssh, lab exec) and return its exit code. */
export async function runInteractive(file: string, args: readonly string[]): Promise<number> {
  const r = await execa(file, args, { stdio: 'inherit', reject: false });
  return r.exitCode ?? 1;
}
