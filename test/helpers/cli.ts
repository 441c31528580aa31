/** Run the built CLI (bin/run.js → dist/) as a user would, capturing stdout, stderr and the exit code. */
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = `${REPO}bin/run.js`;

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function podnet(args: string[], opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const r = await execa('node', [BIN, ...args], {
    reject: false,
    env: { NO_COLOR: '1', ...opts.env },
    input: opts.input,
    timeout: opts.timeoutMs ?? 180_000,
  });
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export function parseJsonDoc(stdout: string): Record<string, unknown> & { apiVersion: string; kind: string } {
  return JSON.parse(stdout) as Record<string, unknown> & { apiVersion: string; kind: string };
}
