#!/usr/bin/env node
// Writes the generated files that ship with podnet, from the compiled commands in dist/ (run after tsc):
//   oclif.manifest.json   by `oclif manifest`: lets bin/run.js start without importing every command
//   completions/          the bash, zsh and fish scripts and kubectl's plugin completer (src/completion/render.ts)
//
// Usage: node scripts/generate.js [--out DIR]      (default: the repository root)
// With --out the files go to DIR/oclif.manifest.json and DIR/completions/, leaving the repository untouched:
// test/unit/generated.test.ts uses that to check the committed files are up to date. The output depends only on
// the sources (no timestamps, no absolute paths).
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { out: { type: 'string' } } });
const outDir = resolve(values.out ?? root);

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const bin = pkg.oclif?.bin;
if (!bin) fail('package.json has no oclif.bin');

const manifest = generateManifest();
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'oclif.manifest.json'), manifest);

const { COMPLETE_COMMAND, SHELLS, renderScript, scriptFileName } = await import('../dist/completion/render.js');
if (!JSON.parse(manifest).commands[COMPLETE_COMMAND]) fail(`the manifest has no "${COMPLETE_COMMAND}" command, which the completion scripts call`);

const completionsDir = join(outDir, 'completions');
mkdirSync(completionsDir, { recursive: true });
const wanted = new Set();
for (const shell of SHELLS) {
  const name = scriptFileName(shell, bin);
  wanted.add(name);
  const file = join(completionsDir, name);
  writeFileSync(file, renderScript(shell, bin));
  chmodSync(file, shell === 'kubectl' ? 0o755 : 0o644);
}
// Scripts of a shell or binary name that is gone.
for (const name of readdirSync(completionsDir)) if (!wanted.has(name)) unlinkSync(join(completionsDir, name));

if (!values.out) console.log(`generated oclif.manifest.json and completions/ (${[...wanted].join(', ')})`);

/**
 * Runs `oclif manifest` on a throw-away copy of the package (package.json, dist/, a link to node_modules/), so that it never
 * touches the repository's files when writing elsewhere, and so the result is the same in both cases.
 * NODE_ENV=production keeps oclif on the compiled JavaScript rather than src/*.ts.
 */
function generateManifest() {
  const distCommands = join(root, 'dist', 'commands');
  try {
    readdirSync(distCommands);
  } catch {
    fail(`${distCommands} is missing: run tsc first (npm run build)`);
  }
  const stage = mkdtempSync(join(tmpdir(), 'podnet-generate-'));
  try {
    writeFileSync(join(stage, 'package.json'), JSON.stringify(pkg, null, 2));
    // A copy, not a link: oclif records each command's path relative to the package from the module's real path.
    cpSync(join(root, 'dist'), join(stage, 'dist'), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'), 'dir');
    const oclif = join(root, 'node_modules', '.bin', 'oclif');
    const r = spawnSync(oclif, ['manifest', stage], {
      cwd: stage,
      encoding: 'utf8',
      env: { ...process.env, NODE_ENV: 'production' },
    });
    if (r.error) fail(`cannot run ${oclif}: ${r.error.message}`);
    if (r.status !== 0) fail(`oclif manifest failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
    const text = readFileSync(join(stage, 'oclif.manifest.json'), 'utf8');
    return text.endsWith('\n') ? text : `${text}\n`;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

function fail(message) {
  console.error(`generate: ${message}`);
  process.exit(1);
}
