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

/** A script's parameters: variable name → value, assigned (quoted) at the top of the script. */
export type ShParams = Readonly<Record<string, string | number>>;

/**
 * A script made of a fixed text (an asset file, see util/asset.ts) and its parameters: the parameters
 * become quoted assignments at the top, so the fixed text only reads variables and never has a value
 * spliced into it.
 */
export function shScript(params: ShParams, body: string): string {
  const assignments = Object.entries(params).map(([name, value]) => {
    if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`script parameter ${JSON.stringify(name)} is not an upper-case shell variable name`);
    return `${name}=${sh(value)}\n`;
  });
  return assignments.join('') + body;
}

/**
 * A list a script iterates unquoted (`for x in $LIST`, or with `IFS=:` for a `:`-separated one, as PATH is
 * walked): the items joined by the separator. An item that would be split or globbed is a bug (every such
 * value is a constant or an inventory field validated by a strict pattern), so it throws.
 */
export function shList(items: readonly string[], separator: ' ' | ':' = ' '): string {
  for (const item of items) {
    const splits = separator === ' ' ? /\s/.test(item) : item.includes(separator);
    if (item === '' || splits || /[*?[]/.test(item)) throw new Error(`${JSON.stringify(item)} cannot be an item of a ${JSON.stringify(separator)}-separated shell list`);
  }
  return items.join(separator);
}
