/**
 * The one quoting helper: every value that reaches a shell (local or remote) passes through `sh()`.
 * Inventory values are validated against strict patterns before this point too; quoting is the second wall.
 */
export function sh(value: string | number): string {
  const s = String(value);
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Quote and join an argument vector into one shell command line. */
export function shJoin(argv: readonly (string | number)[]): string {
  return argv.map(sh).join(' ');
}

/** A heredoc body guard: a delimiter that does not occur in the body. */
export function heredoc(delimiterBase: string, body: string): { open: string; body: string; close: string } {
  let d = delimiterBase;
  let n = 0;
  while (body.includes(d)) d = `${delimiterBase}_${++n}`;
  return { open: `<<'${d}'`, body: body.endsWith('\n') ? body : `${body}\n`, close: d };
}
