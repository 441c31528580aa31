/**
 * The generated files that are committed (oclif.manifest.json, completions/) must match what the build makes from
 * the current commands. Needs dist/ (npm run build); regenerates into a temp dir and compares.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'podnet-generated-test-'));
after(() => rmSync(out, { recursive: true, force: true }));

const STALE = 'is stale: run `npm run build` and commit the result';

function regenerate(): void {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'generate.js'), '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, `scripts/generate.js failed:\n${r.stderr}${r.stdout}`);
}

test('oclif.manifest.json and completions/ are up to date', () => {
  regenerate();
  assert.equal(readFileSync(join(root, 'oclif.manifest.json'), 'utf8'), readFileSync(join(out, 'oclif.manifest.json'), 'utf8'), `oclif.manifest.json ${STALE}`);

  const fresh = readdirSync(join(out, 'completions')).sort();
  assert.ok(fresh.length >= 4, `expected bash, zsh, fish and kubectl scripts, got ${fresh.join(', ')}`);
  assert.deepEqual(readdirSync(join(root, 'completions')).sort(), fresh, `the list of files in completions/ ${STALE}`);
  for (const name of fresh) {
    const committed = join(root, 'completions', name);
    const generated = join(out, 'completions', name);
    assert.equal(readFileSync(committed, 'utf8'), readFileSync(generated, 'utf8'), `completions/${name} ${STALE}`);
    assert.equal(statSync(committed).mode & 0o111, statSync(generated).mode & 0o111, `completions/${name}: executable bit differs`);
  }
  assert.ok(fresh.some((n) => n.startsWith('kubectl_complete-')), 'no kubectl_complete-* script');
});

test('the manifest lists exactly the commands under src/commands', () => {
  const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, unknown> };
  const dir = join(root, 'src', 'commands');
  const ids = (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.test.ts'))
    .map((f) => {
      const parts = relative(dir, join(dir, f)).replace(/\.ts$/, '').split(sep);
      if (parts.at(-1) === 'index') parts.pop();
      return parts.join(':');
    })
    .sort();
  assert.ok(ids.length > 0);
  assert.deepEqual(Object.keys(manifest.commands).sort(), ids, `oclif.manifest.json ${STALE}`);
});
