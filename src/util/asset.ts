/**
 * Boundary: the text files that ship beside the modules (the fixed shell scripts, the probe program).
 * They sit next to their module: in src/ under tsx, in dist/ after the build (`npm run build` copies
 * every *.sh and *.py of src/ there, see scripts/assets.js).
 */
import { readFileSync } from 'node:fs';

/** The file's text, read on first use and kept: `const script = asset(new URL('./x.sh', import.meta.url))`. */
export function asset(url: URL): () => string {
  let text: string | undefined;
  return () => (text ??= readFileSync(url, 'utf8'));
}
