/**
 * Putting user-supplied values into one-line messages. A value can hold anything a shell lets through (escape
 * sequences, newlines, bidi overrides): printed raw it would repaint the terminal or split the line, so every
 * value goes through describeValue, and every message passes terminalSafe on its way out (base-command.ts).
 */

/** A value as it may appear in a one-line message: quoted, non-printables escaped, long values cut. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  switch (typeof value) {
    case 'string': {
      const cut = value.length > 64 ? `${value.slice(0, 61)}...` : value;
      return JSON.stringify(cut).replace(/[^\x20-\x7e]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
    }
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      return 'a mapping';
    default:
      return typeof value;
  }
}

// C0 and C1 controls (newline and tab included: a message is one line), line and paragraph separators, bidi overrides.
const UNSAFE = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/**
 * A whole message made safe for a terminal line: characters that could move the cursor, change colours or split
 * the line are written as \uXXXX; everything printable (including non-ASCII text) stays as it is. The last wall
 * for values that reached a message without describeValue.
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
