/** The last non-empty line of a program's output (what it said last). */
export function lastLine(s: string): string {
  return s.trim().split('\n').filter(Boolean).pop() ?? '';
}
