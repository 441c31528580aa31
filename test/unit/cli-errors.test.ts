/**
 * Command tests (the built CLI, bin/run.js → dist/): every kind of bad input is one `error:` line (plus at most a
 * `hint:` line) naming the flag, argument or command and what is expected, exit 2, no stack trace, no raw control
 * characters, and with --json exactly one Error document on stdout. The inventory points at a documentation
 * address with a 1 s connect timeout: input that wrongly got through would end in exit 3, not 2.
 * Needs dist/ (npm run build).
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { execa } from 'execa';
import { BIN, REPO, parseJsonDoc, podnet, type CliResult } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'podnet-cli-errors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const INV = join(dir, 'inventory.yaml');
writeFileSync(INV, 'ssh: { connectTimeout: 1 }\nnodes:\n  - { name: node-1, address: 192.0.2.1 }\n');

const ESC = '\u001b';
const TIMEOUT = 60_000;

/** Assert one error line (and at most a hint), the exit code, no stack, no control characters; returns the message. */
function assertOneLineError(r: CliResult, exitCode: number, pattern: RegExp, label: string): string {
  assert.equal(r.exitCode, exitCode, `${label}: exit ${r.exitCode}, stderr:\n${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^error: /, `${label}: ${r.stderr}`);
  assert.ok(lines.length === 1 || (lines.length === 2 && lines[1]!.startsWith('hint: ')), `${label}: one error line and at most a hint:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `${label}: no stack trace`);
  // eslint-disable-next-line no-control-regex -- looking for exactly those
  assert.doesNotMatch(r.stderr, /[\u0000-\u0009\u000b-\u001f\u007f]/, `${label}: control characters reached the terminal`);
  assert.match(lines[0]!, pattern, label);
  return lines[0]!.slice('error: '.length);
}

/** The same input with --json: the Error document on stdout (and still the line on stderr). */
function assertJsonError(r: CliResult, exitCode: number, message: string, label: string): void {
  assert.equal(r.exitCode, exitCode, `${label} --json: ${r.stderr}`);
  const doc = parseJsonDoc(r.stdout) as { apiVersion: string; kind: string; error?: { message?: string; exitCode?: number } };
  assert.equal(doc.kind, 'Error', `${label} --json: ${r.stdout}`);
  assert.equal(doc.apiVersion, 'podnet/v1alpha1');
  assert.equal(doc.error?.exitCode, exitCode);
  assert.equal(doc.error?.message, message, `${label} --json: the document and the stderr line say the same`);
  assert.match(r.stderr, /^error: /);
}

interface Case {
  /** the command words; --json goes right after them */
  cmd: string[];
  args: string[];
  error: RegExp;
  /** false: the command refuses --json on its own (lab demo) */
  json?: boolean;
}

async function check(c: Case): Promise<void> {
  const label = [...c.cmd, ...c.args].map((a) => JSON.stringify(a)).join(' ');
  const r = await podnet([...c.cmd, ...c.args], { timeoutMs: TIMEOUT });
  const message = assertOneLineError(r, 2, c.error, label);
  assert.equal(r.stdout, '', `${label}: nothing on stdout`);
  if (c.json === false) return;
  assertJsonError(await podnet([...c.cmd, '--json', ...c.args], { timeoutMs: TIMEOUT }), 2, message, label);
}

describe('flag and argument errors: one line naming the flag and what it expects, exit 2', { concurrency: 8 }, () => {
  const cases: Case[] = [
    // integer flags
    { cmd: ['up'], args: ['-i', INV, '-c', '0'], error: /^error: --concurrency: "0" is out of range; expected an integer from 1 to 1024$/ },
    { cmd: ['up'], args: ['-i', INV, '-c', 'abc'], error: /^error: --concurrency: "abc" is not an integer; expected an integer from 1 to 1024$/ },
    { cmd: ['up'], args: ['-i', INV, '-c', '99999999999'], error: /^error: --concurrency: "99999999999" is out of range; expected an integer from 1 to 1024$/ },
    { cmd: ['up'], args: ['-i', INV, '--concurrency='], error: /^error: --concurrency: empty; expected an integer from 1 to 1024$/ },
    { cmd: ['up'], args: ['-i', INV, '-c'], error: /^error: --concurrency: no value given; expected an integer from 1 to 1024$/ },
    { cmd: ['status'], args: ['-i', INV, '-c', '1.5'], error: /^error: --concurrency: "1\.5" is not an integer/ },
    { cmd: ['plan'], args: ['-i', INV, '-c', '1e3'], error: /^error: --concurrency: "1e3" is not an integer/ },
    { cmd: ['probe'], args: ['-i', INV, '--sample', '0'], error: /^error: --sample: "0" is out of range; expected an integer of at least 1$/ },
    { cmd: ['probe'], args: ['-i', INV, '--sample=-3'], error: /^error: --sample: "-3" is out of range/ },
    // required, empty and missing values
    { cmd: ['up'], args: [], error: /^error: --inventory: missing, and no cluster to read the nodes from; expected -i with an inventory file/ },
    { cmd: ['down'], args: ['-i', ''], error: /^error: --inventory: empty; expected the path of an inventory file/ },
    { cmd: ['plan'], args: ['-i'], error: /^error: --inventory: no value given; expected the path of an inventory file/ },
    { cmd: ['doctor'], args: ['-i', INV, '--kubeconfig', ''], error: /^error: --kubeconfig: empty; expected the path of a kubeconfig file$/ },
    // flags that need another flag, switches, repeats, unknown flags, extra arguments
    { cmd: ['doctor'], args: ['-i', INV, '--context', 'x'], error: /^error: --context: no kubeconfig to pick a context from; expected --kubeconfig FILE, KUBECONFIG or ~\/\.kube\/config/ },
    { cmd: ['up'], args: ['-i', INV, '--show-scripts'], error: /^error: --show-scripts: only with --dry-run; expected --dry-run too/ },
    { cmd: ['up'], args: ['-i', INV, '--dry-run=yes'], error: /^error: --dry-run: a switch takes no value, got "yes"; expected --dry-run alone$/ },
    { cmd: ['up'], args: ['-i', INV, '-c', '1', '-c', '2'], error: /^error: --concurrency: given more than once/ },
    { cmd: ['up'], args: ['-i', INV, '--bogus'], error: /^error: "--bogus" is not a flag of podnet up; expected one of: --inventory, --concurrency, / },
    { cmd: ['doctor'], args: ['-i', INV, '--kubeconfg', 'x'], error: /^error: "--kubeconfg" is not a flag of podnet doctor; did you mean --kubeconfig\?$/ },
    { cmd: ['up'], args: ['-i', INV, 'extra'], error: /^error: unexpected argument "extra"; podnet up takes no arguments$/ },
    { cmd: ['completion'], args: [], error: /^error: SHELL: missing; expected one of: bash, zsh, fish, kubectl$/ },
    { cmd: ['completion'], args: ['tcsh'], error: /^error: SHELL: "tcsh" is not a valid choice; expected one of: bash, zsh, fish, kubectl$/ },
    // lab commands (all refused while parsing or before the lab is touched)
    { cmd: ['lab', 'up'], args: ['--nodes', 'abc'], error: /^error: --nodes: "abc" is not an integer; expected a whole number of nodes/ },
    { cmd: ['lab', 'up'], args: ['--nodes', '0'], error: /^error: --nodes: expected a whole number from 1 to 200/ },
    { cmd: ['lab', 'up'], args: ['--mtu', '15x'], error: /^error: --mtu: "15x" is not an integer; expected an MTU from 1280 to 9000$/ },
    { cmd: ['lab', 'up'], args: ['--topology', 'ring'], error: /^error: --topology: "ring" is not a valid choice; expected one of: flat, routed$/ },
    { cmd: ['lab', 'up'], args: ['--name', ''], error: /^error: --name: empty; expected a lab name/ },
    { cmd: ['lab', 'up'], args: ['--node-mtu', 'node-2', '--nodes', '0'], error: /^error: --node-mtu: "node-2" is not NODE=MTU; expected NODE=MTU such as node-2=1400$/ },
    { cmd: ['lab', 'demo'], args: ['--nodes', '0'], error: /^error: --nodes: expected a whole number from 1 to 200/, json: false },
    { cmd: ['lab', 'demo'], args: ['--nodes', 'x'], error: /^error: --nodes: "x" is not an integer/, json: false },
    { cmd: ['lab', 'status'], args: ['--name', 'Bad_Name'], error: /^error: --name: "Bad_Name" is not a valid lab name/ },
    { cmd: ['lab', 'status'], args: ['--name='], error: /^error: --name: empty; expected the name of a lab$/ },
    { cmd: ['lab', 'exec'], args: ['--node', '', '--', 'ls'], error: /^error: --node: empty; expected the name of a node of the lab$/ },
    { cmd: ['lab', 'ssh'], args: [], error: /^error: NODE: missing; expected node name or address$/ },
    // user-supplied text with control characters comes back escaped, never raw
    { cmd: ['up'], args: ['-i', INV, '-c', `1${ESC}[31m`], error: /^error: --concurrency: "1\\u001b\[31m" is not an integer/ },
    { cmd: ['up'], args: ['-i', INV, `--bo${ESC}[2J`], error: /^error: "--bo\\u001b\[2J" is not a flag of podnet up/ },
    { cmd: ['up'], args: ['-i', `a${ESC}[31mb`], error: /a\\u001b\[31mb/ },
    { cmd: ['doctor'], args: ['-i', INV, '--kubeconfig', `k${ESC}[2J`], error: /^error: --kubeconfig: cannot load "k\\u001b\[2J": no such file/ },
    { cmd: ['lab', 'up'], args: ['--name', `a${ESC}[2J`], error: /^error: --name: "a\\u001b\[2J" is not a valid lab name/ },
    { cmd: ['lab', 'up'], args: ['--node-mtu', `n${ESC}]0;x${ESC}\\`], error: /^error: --node-mtu: "n\\u001b\]0;x\\u001b\\\\" is not NODE=MTU/ },
    { cmd: ['completion'], args: [`b\n${ESC}[2J`], error: /^error: SHELL: "b\\n\\u001b\[2J" is not a valid choice/ },
  ];
  for (const c of cases) test([...c.cmd, ...c.args].map((a) => JSON.stringify(a)).join(' '), () => check(c));
});

describe('good values still pass the flag checks', { concurrency: 4 }, () => {
  // Parsing succeeds, so the run reaches the inventory (missing here): its error, not a flag's.
  const missing = join(dir, 'missing.yaml');
  for (const args of [
    ['up', '-i', missing, '--dry-run', '--show-scripts'],
    ['up', '-i', missing, '-c', '1024'],
    ['probe', '-i', missing, '--sample', '2', '--concurrency=1'],
    ['doctor', '-i', missing],
  ]) {
    test(args.join(' '), async () => {
      const r = await podnet(args, { timeoutMs: TIMEOUT });
      assertOneLineError(r, 2, /missing\.yaml/, args.join(' '));
      assert.doesNotMatch(r.stderr, /--(show-scripts|concurrency|sample|dry-run)/);
    });
  }
});

describe('an unknown command: one line naming it and the closest command, exit 2; the Error document with --json', { concurrency: 4 }, () => {
  const cases: { argv: string[]; error: RegExp }[] = [
    { argv: ['upp'], error: /^error: "upp" is not a podnet command; did you mean: podnet up\?$/ },
    { argv: ['stauts', '-i', 'x'], error: /^error: "stauts" is not a podnet command; did you mean: podnet status\?$/ },
    { argv: ['doctr'], error: /^error: "doctr" is not a podnet command; did you mean: podnet doctor\?$/ },
    { argv: ['lab', 'upp'], error: /^error: "lab upp" is not a podnet command; did you mean: podnet lab up\?$/ },
    { argv: ['frobnicate'], error: /^error: "frobnicate" is not a podnet command; expected one of: completion, doctor, down, lab demo, .*, up$/ },
    { argv: [`up${ESC}[2J`], error: /^error: "up\\u001b\[2J" is not a podnet command/ },
    { argv: ['--jsn'], error: /^error: "--jsn" is not a command; expected a command first, such as podnet up$/ },
  ];
  for (const c of cases) {
    test(c.argv.map((a) => JSON.stringify(a)).join(' '), async () => {
      const r = await podnet(c.argv, { timeoutMs: TIMEOUT });
      const message = assertOneLineError(r, 2, c.error, c.argv.join(' '));
      assert.equal(r.stdout, '');
      assertJsonError(await podnet([...c.argv, '--json'], { timeoutMs: TIMEOUT }), 2, message, c.argv.join(' '));
    });
  }
});

describe('doctor --kubeconfig: every file bounded and checked before any node is touched, exit 2', { concurrency: 8 }, () => {
  const kdir = join(dir, 'kube');
  mkdirSync(kdir);
  const file = (name: string, text: string) => {
    const p = join(kdir, name);
    writeFileSync(p, text);
    return p;
  };
  const kubeconfig = (cluster: string, user: string) =>
    `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:1"${cluster}}}]\nusers: [{name: u, user: {${user}}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`;
  const good = file('good.yaml', kubeconfig('', 'token: t'));
  const big = join(kdir, 'big.yaml');
  writeFileSync(big, '');
  truncateSync(big, 5 * 1024 * 1024); // sparse: the cap is checked before a byte is read
  const fifo = join(kdir, 'fifo');
  const made = execa('mkfifo', [fifo], { reject: false });

  const cases: { name: string; value: () => string; error: RegExp; context?: string }[] = [
    { name: '/dev/zero', value: () => '/dev/zero', error: /^error: --kubeconfig: cannot load "\/dev\/zero": a character device, not a regular file; expected a kubeconfig file$/ },
    { name: 'a directory', value: () => kdir, error: /^error: --kubeconfig: cannot load ".*\/kube": a directory, not a regular file/ },
    { name: 'a FIFO', value: () => fifo, error: /^error: --kubeconfig: cannot load ".*\/fifo": a FIFO, not a regular file/ },
    { name: 'a missing file', value: () => join(kdir, 'nope'), error: /^error: --kubeconfig: cannot load ".*\/nope": no such file; expected a kubeconfig file$/ },
    { name: 'too large', value: () => big, error: /^error: --kubeconfig: cannot load ".*\/big\.yaml": 5242880 bytes is larger than 4 MiB/ },
    { name: 'malformed YAML', value: () => file('bad.yaml', 'clusters: [\n  - {name: c\n'), error: /^error: --kubeconfig: cannot load ".*\/bad\.yaml": malformed YAML at line \d+: / },
    { name: 'not a mapping', value: () => file('list.yaml', '- a\n- b\n'), error: /^error: --kubeconfig: cannot load ".*\/list\.yaml": a list, not a mapping/ },
    { name: 'clusters not a list', value: () => file('clusters.yaml', 'clusters: 5\n'), error: /^error: --kubeconfig: cannot load ".*\/clusters\.yaml": clusters is 5, not a list/ },
    { name: 'no cluster', value: () => file('empty.yaml', '# nothing\n'), error: /^error: --kubeconfig: ".*\/empty\.yaml" has no current cluster/ },
    { name: 'a token-file of /dev/zero', value: () => file('token.yaml', kubeconfig('', 'token-file: /dev/zero')), error: /^error: --kubeconfig: ".*\/token\.yaml" users\[0\]\.user\.token-file: cannot load "\/dev\/zero": a character device/ },
    { name: 'a certificate-authority of /dev/zero', value: () => file('ca.yaml', kubeconfig(', certificate-authority: /dev/zero', 'token: t')), error: /^error: --kubeconfig: cluster "c" certificate-authority: cannot load "\/dev\/zero": a character device/ },
    { name: 'a client-key that is a directory', value: () => file('key.yaml', kubeconfig('', 'client-key: .')), error: /^error: --kubeconfig: user "u" client-key: cannot load ".*\/kube": a directory/ },
    { name: 'the second file of a list', value: () => `${good}:/dev/zero`, error: /^error: --kubeconfig: cannot load "\/dev\/zero": a character device/ },
    { name: 'only separators', value: () => '::', error: /^error: --kubeconfig: "::" names no file/ },
    { name: 'an unknown --context', value: () => good, context: 'nope', error: /^error: --context: no context "nope" in ".*\/good\.yaml"; expected one of "x"$/ },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      await made;
      const args = ['doctor', '-i', INV, '--kubeconfig', c.value(), ...(c.context ? ['--context', c.context] : [])];
      const r = await podnet(args, { timeoutMs: TIMEOUT });
      const message = assertOneLineError(r, 2, c.error, c.name);
      assertJsonError(await podnet([...args, '--json'], { timeoutMs: TIMEOUT }), 2, message, c.name);
    });
  }

  test('an unreadable file', async () => {
    const p = file('secret.yaml', kubeconfig('', 'token: t'));
    chmodSync(p, 0o000);
    // root reads anything: drop to nobody for this one (the temp dir is closed to others as well)
    const asRoot = process.getuid?.() === 0;
    const argv = [BIN, 'doctor', '-i', INV, '--kubeconfig', p];
    const r = asRoot
      ? await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...argv], { reject: false, env: { NO_COLOR: '1', HOME: '/nonexistent' }, cwd: REPO, timeout: TIMEOUT })
      : await execa(process.execPath, argv, { reject: false, env: { NO_COLOR: '1' }, timeout: TIMEOUT });
    assertOneLineError({ exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) }, 2, /^error: --kubeconfig: cannot load ".*secret\.yaml": permission denied; expected a kubeconfig file$/, 'unreadable');
  });

  test('KUBECONFIG is not read: --kubeconfig names the files', async () => {
    const r = await podnet(['doctor', '-i', INV, '--kubeconfig', good, '--json'], { env: { KUBECONFIG: '/dev/zero' }, timeoutMs: TIMEOUT });
    const doc = parseJsonDoc(r.stdout) as { kind: string; findings?: { id: string }[] };
    assert.equal(doc.kind, 'DoctorReport', r.stderr);
    assert.ok(doc.findings?.some((f) => f.id === 'kube-api'), 'the API at 127.0.0.1:1 does not answer: one finding');
  });
});

describe('a bug is exit 4 (internal error), apart from unreachable nodes (3); the stack only with --verbose', () => {
  const env = { NODE_OPTIONS: `--import=${pathToFileURL(join(REPO, 'test/fixtures/stdout-throws.mjs')).href}` };

  test('without --verbose: one line and a hint', async () => {
    const r = await podnet(['completion', 'bash'], { env, timeoutMs: TIMEOUT });
    assertOneLineError(r, 4, /^error: internal error: stdout is broken \(test fixture\)$/, 'internal');
    assert.match(r.stderr, /^hint: .*--verbose/m);
  });

  test('with --verbose: the stack', async () => {
    const r = await podnet(['completion', 'bash', '--verbose'], { env, timeoutMs: TIMEOUT });
    assert.equal(r.exitCode, 4, r.stderr);
    assert.match(r.stderr, /^error: internal error: stdout is broken \(test fixture\)$/m);
    assert.match(r.stderr, /^\s+at .*base-command/m);
  });
});
