#!/usr/bin/env node
// The text files that ship beside the modules of src/: the fixed shell scripts (*.sh) and the probe program (*.py).
// Modules read them relative to themselves (src/util/asset.ts), so dist/ needs each one in the matching folder.
//
// Usage: node scripts/assets.js copy   copies every asset of src/ into the same place under dist/ (run by `npm run build`, after tsc)
//        node scripts/assets.js lint   checks every asset (run by `npm run lint`): shellcheck -s sh (POSIX) and sh -n on the
//                                      shell scripts, pyflakes on the Python programs
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');
const EXTENSIONS = new Set(['.sh', '.py']);

/** Every asset under src/, as paths relative to src/, sorted. */
function assets(dir = src) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? assets(join(dir, e.name)) : e.isFile() && EXTENSIONS.has(extname(e.name)) ? [relative(src, join(dir, e.name))] : []))
    .sort();
}

function copy() {
  const files = assets();
  for (const file of files) {
    mkdirSync(dirname(join(dist, file)), { recursive: true });
    copyFileSync(join(src, file), join(dist, file));
  }
  console.log(`copied ${files.length} assets into dist/ (${files.join(', ')})`);
}

/** Runs one checker on some files; false when it found something (its output is already on the terminal). */
function check(command, args, files, install) {
  if (!files.length) return true;
  const r = spawnSync(command, [...args, ...files], { stdio: 'inherit' });
  if (r.error?.code === 'ENOENT') fail(`${command} is not installed; install it: ${install} (scripts/setup.sh installs it)`);
  if (r.error) fail(`${command}: ${r.error.message}`);
  return r.status === 0;
}

function lint() {
  const files = assets().map((f) => relative(root, join(src, f)));
  const shell = files.filter((f) => f.endsWith('.sh'));
  const python = files.filter((f) => f.endsWith('.py'));
  const results = [
    check('shellcheck', ['--shell=sh', '--format=gcc'], shell, 'apt-get install shellcheck'),
    // The shell the scripts meet on nodes: dash on Debian and Ubuntu (sh -n takes one file at a time).
    ...shell.map((f) => check('sh', ['-n'], [f], 'a POSIX sh')),
    check('/usr/bin/python3', ['-m', 'pyflakes'], python, 'apt-get install python3-pyflakes'),
  ];
  if (results.includes(false)) process.exit(1);
}

function fail(message) {
  console.error(`assets: ${message}`);
  process.exit(1);
}

const command = process.argv[2];
if (command === 'copy') copy();
else if (command === 'lint') lint();
else fail('usage: node scripts/assets.js copy|lint');
