/**
 * Boundary: the terminal. Data goes to stdout (a table, or exactly one JSON document with --json);
 * progress, warnings and logs go to stderr. Colour only on a TTY and never with NO_COLOR.
 */
import { terminalSafe } from '../util/describe.js';

export const API_VERSION = 'podnet/v1alpha1';

export function jsonDocument(kind: string, body: Record<string, unknown>): string {
  return `${JSON.stringify({ apiVersion: API_VERSION, kind, ...body }, null, 2)}\n`;
}

export function colorEnabled(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR === '1') return true;
  return Boolean(stream.isTTY);
}

const codes = { red: 31, green: 32, yellow: 33, blue: 34, dim: 2, bold: 1 } as const;
export type Color = keyof typeof codes;

export function paint(text: string, color: Color, enabled = colorEnabled()): string {
  return enabled ? `\u001b[${codes[color]}m${text}\u001b[0m` : text;
}

export function logErr(line: string): void {
  process.stderr.write(`${line}\n`);
}

export interface ErrorReport {
  message: string;
  hint?: string;
  exitCode: number;
}

/**
 * An error as the user sees it: with --json the Error document on stdout (unless the command's data document
 * is already out), and always one `error:` line (plus a `hint:` line) on stderr. Both texts pass terminalSafe:
 * a value that slipped into a message unquoted still cannot repaint the terminal or split the line.
 */
export function reportError(report: ErrorReport, opts: { json: boolean }): void {
  const message = terminalSafe(report.message);
  const hint = report.hint === undefined ? undefined : terminalSafe(report.hint);
  if (opts.json) process.stdout.write(jsonDocument('Error', { error: { message, hint, exitCode: report.exitCode } }));
  const c = colorEnabled(process.stderr);
  logErr(`${paint('error', 'red', c)}: ${message}`);
  if (hint) logErr(`${paint('hint', 'dim', c)}: ${hint}`);
}

/** A cli-table3 table rendered to a string. cli-table3 is loaded only when a table is drawn. */
export async function renderTable(head: string[], rows: (string | number)[][]): Promise<string> {
  const { default: Table } = await import('cli-table3');
  const color = colorEnabled();
  const t = new Table({
    head,
    style: { head: color ? ['bold'] : [], border: color ? ['grey'] : [] },
    chars: color ? undefined : { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const r of rows) t.push(r.map(String));
  return `${t.toString()}\n`;
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}
