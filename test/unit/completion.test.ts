/**
 * Shell completion: complete() against a fixture manifest (table-driven), against the real manifest, and the built
 * binary end to end (`podnet completion bash`, `podnet __complete`, completions/kubectl_complete-podnet).
 * The end-to-end part needs dist/ and the generated files (npm run build).
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { complete, Directive, formatCompletion, type CompletionManifest } from '../../src/completion/complete.js';
import { renderScript, scriptFileName, SHELLS, COMPLETE_COMMAND } from '../../src/completion/render.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

const fixture: CompletionManifest = {
  topics: { lab: { description: 'Run a local lab' }, secret: { description: 'not shown', hidden: true } },
  commands: {
    up: {
      id: 'up',
      summary: 'Bring the pod network up',
      flags: {
        inventory: { name: 'inventory', char: 'i', type: 'option', description: 'inventory file' },
        json: { name: 'json', type: 'boolean', description: 'JSON output' },
      },
    },
    'lab:up': {
      id: 'lab:up',
      summary: 'Start a local lab',
      aliases: ['lab:start'],
      flags: {
        nodes: { name: 'nodes', char: 'n', type: 'option', description: 'number of nodes' },
        topology: { name: 'topology', char: 't', type: 'option', options: ['flat', 'routed'], description: 'flat or routed' },
        'node-mtu': { name: 'node-mtu', type: 'option', multiple: true, description: 'NODE=MTU\n(repeatable)' },
        color: { name: 'color', type: 'boolean', allowNo: true, description: 'colour' },
        debug: { name: 'debug', type: 'boolean', hidden: true },
      },
    },
    'lab:down': { id: 'lab:down', description: 'Remove a lab\nand more text', flags: { all: { name: 'all', type: 'boolean' } } },
    'lab:exec': { id: 'lab:exec', summary: 'Run a command', strict: false, flags: { node: { name: 'node', type: 'option' } } },
    'lab:net': { id: 'lab:net', summary: 'Lab networks' },
    'lab:net:show': { id: 'lab:net:show', summary: 'Show a network' },
    completion: { id: 'completion', summary: 'Print a script', args: { shell: { name: 'shell', options: ['bash', 'zsh', 'fish'] } } },
    probe: { id: 'probe', summary: 'Probe', args: { from: { name: 'from' }, to: { name: 'to', options: ['a', 'b'] } } },
    'secret:thing': { id: 'secret:thing', summary: 'hidden topic member' },
    'lab:hidden': { id: 'lab:hidden', hidden: true },
    __complete: { id: '__complete', hidden: true, strict: false },
  },
};

const NO_FILES = Directive.NO_FILE_COMP;
const FILES = Directive.DEFAULT;

describe('complete() on a fixture manifest', () => {
  const cases: { words: string[]; values: string[]; directive?: number }[] = [
    // topics and commands
    { words: [''], values: ['completion', 'lab', 'probe', 'up'] },
    { words: ['l'], values: ['lab'] },
    { words: ['lab', ''], values: ['down', 'exec', 'net', 'up'] },
    { words: ['lab', 'u'], values: ['up'] },
    { words: ['lab', 'net', ''], values: ['show'] },
    { words: ['lab', 'net', 's'], values: ['show'] },
    { words: ['secret', ''], values: [] },
    { words: ['nope', ''], values: [] },
    { words: ['lab', 'nope', ''], values: [] },
    // flags
    { words: ['lab', 'up', '--'], values: ['--color', '--help', '--no-color', '--node-mtu', '--nodes', '--topology'] },
    { words: ['lab', 'up', '--no'], values: ['--no-color', '--node-mtu', '--nodes'] },
    { words: ['lab', 'up', '-'], values: ['--color', '--help', '--no-color', '--node-mtu', '--nodes', '--topology', '-n', '-t'] },
    { words: ['lab', 'up', '--nodes', '3', '--no'], values: ['--no-color', '--node-mtu'] },
    { words: ['lab', 'up', '--node-mtu', 'node-1=1400', '--node-'], values: ['--node-mtu'] },
    { words: ['lab', 'start', '--to'], values: ['--topology'] },
    { words: ['lab', '-'], values: ['--help'] },
    { words: ['-'], values: ['--help', '--version'] },
    // flag values
    { words: ['lab', 'up', '--topology', ''], values: ['flat', 'routed'] },
    { words: ['lab', 'up', '--topology', 'r'], values: ['routed'] },
    { words: ['lab', 'up', '-t', ''], values: ['flat', 'routed'] },
    { words: ['lab', 'up', '--topology=r'], values: ['--topology=routed'] },
    { words: ['lab', 'up', '--topology='], values: ['--topology=flat', '--topology=routed'] },
    { words: ['lab', 'up', '--nodes', ''], values: [], directive: FILES },
    { words: ['up', '-i', ''], values: [], directive: FILES },
    { words: ['up', '--inventory=x'], values: [], directive: FILES },
    { words: ['lab', 'up', '--topology', 'flat', '--nodes', '3', ''], values: [] },
    // positional arguments
    { words: ['completion', ''], values: ['bash', 'fish', 'zsh'] },
    { words: ['completion', 'z'], values: ['zsh'] },
    { words: ['completion', 'bash', ''], values: [] },
    { words: ['probe', ''], values: [], directive: FILES },
    { words: ['probe', 'x', ''], values: ['a', 'b'] },
    { words: ['lab', 'exec', '--node', 'n1', '--', ''], values: [], directive: FILES },
    { words: ['lab', 'exec', '--', '--no'], values: [], directive: FILES },
    { words: ['lab', 'down', ''], values: [] },
  ];
  for (const c of cases) {
    test(`${JSON.stringify(c.words)} → ${c.values.join(' ') || '(none)'}`, () => {
      const r = complete(fixture, c.words);
      assert.deepEqual(
        r.candidates.map((x) => x.value),
        c.values,
      );
      assert.equal(r.directive, c.directive ?? NO_FILES);
    });
  }

  test('descriptions: command summary, else the first line of the description; topic descriptions', () => {
    const top = complete(fixture, ['']).candidates;
    assert.deepEqual(top.find((c) => c.value === 'lab'), { value: 'lab', description: 'Run a local lab' });
    assert.deepEqual(complete(fixture, ['lab', 'd']).candidates, [{ value: 'down', description: 'Remove a lab' }]);
    assert.deepEqual(complete(fixture, ['lab', 'up', '--node-m']).candidates, [{ value: '--node-mtu', description: 'NODE=MTU' }]);
  });

  test('no words at all completes the root', () => {
    assert.deepEqual(
      complete(fixture, []).candidates.map((c) => c.value),
      ['completion', 'lab', 'probe', 'up'],
    );
  });

  test('cobra wire format', () => {
    assert.equal(
      formatCompletion({ candidates: [{ value: 'up', description: 'Start' }, { value: 'down' }], directive: 4 }),
      'up\tStart\ndown\n:4\n',
    );
    assert.equal(formatCompletion({ candidates: [], directive: 0 }), ':0\n');
  });
});

describe('complete() on the real manifest', () => {
  const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')) as CompletionManifest;
  const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { oclif: { topics?: CompletionManifest['topics'] } };
  const real: CompletionManifest = { ...manifest, topics: pjson.oclif.topics };

  test('every visible command is reachable word by word, and hidden ones are not offered', () => {
    for (const [id, cmd] of Object.entries(real.commands)) {
      const parts = id.split(':');
      for (let n = 0; n < parts.length; n++) {
        const values = complete(real, [...parts.slice(0, n), '']).candidates.map((c) => c.value);
        if (cmd.hidden) {
          if (n === parts.length - 1) assert.ok(!values.includes(parts[n]!), `hidden command ${id} offered`);
        } else assert.ok(values.includes(parts[n]!), `"${parts.slice(0, n).join(' ')} <TAB>" does not offer ${parts[n]} (${id})`);
      }
    }
  });

  test('every visible flag is offered after its command, with its options as values', () => {
    for (const [id, cmd] of Object.entries(real.commands)) {
      if (cmd.hidden) continue;
      const words = id.split(':');
      const offered = complete(real, [...words, '--']).candidates.map((c) => c.value);
      for (const f of Object.values(cmd.flags ?? {})) {
        if (f.hidden) continue;
        assert.ok(offered.includes(`--${f.name}`), `${id}: --${f.name} not offered`);
        if (f.type === 'option' && f.options) {
          assert.deepEqual(
            complete(real, [...words, `--${f.name}`, '']).candidates.map((c) => c.value),
            [...f.options].sort(),
          );
        }
      }
    }
  });

  test('lab up --topology offers flat and routed', () => {
    assert.deepEqual(
      complete(real, ['lab', 'up', '--topology', '']).candidates.map((c) => c.value),
      ['flat', 'routed'],
    );
  });
});

describe('the built binary', () => {
  const bin = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).oclif.bin as string;
  const pathDir = mkdtempSync(join(tmpdir(), 'podnet-completion-test-'));
  after(() => rmSync(pathDir, { recursive: true, force: true }));
  symlinkSync(join(root, 'bin', 'kubectl-podnet.js'), join(pathDir, `kubectl-${bin}`));
  symlinkSync(join(root, 'bin', 'run.js'), join(pathDir, bin));
  const env = { ...process.env, PATH: `${pathDir}${delimiter}${process.env.PATH ?? ''}`, NODE_ENV: 'production' };
  const run = (file: string, args: string[]) => spawnSync(file, args, { encoding: 'utf8', env, cwd: root });

  test('`completion SHELL` prints the generated script, for every shell', () => {
    for (const shell of SHELLS) {
      const r = run(process.execPath, [join(root, 'bin', 'run.js'), 'completion', shell]);
      assert.equal(r.status, 0, r.stderr);
      const file = join(root, 'completions', scriptFileName(shell, bin));
      assert.equal(r.stdout, readFileSync(file, 'utf8'), `${shell}: differs from ${file}`);
      assert.equal(r.stdout, renderScript(shell, bin));
    }
  });

  test('`completion` with an unknown shell exits 2', () => {
    const r = run(process.execPath, [join(root, 'bin', 'run.js'), 'completion', 'tcsh']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /tcsh/);
  });

  test(`\`${COMPLETE_COMMAND}\` answers in cobra's protocol, even for words oclif would act on`, () => {
    let r = run(process.execPath, [join(root, 'bin', 'run.js'), COMPLETE_COMMAND, '--', 'lab', 'u']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^up\t.+\n:4\n$/);
    r = run(process.execPath, [join(root, 'bin', 'run.js'), COMPLETE_COMMAND, '--', 'lab', 'up', '--help']);
    assert.equal(r.stdout, `--help\tShow help for this command\n:4\n`);
    r = run(process.execPath, [join(root, 'bin', 'run.js'), COMPLETE_COMMAND, '--', '--version']);
    assert.equal(r.stdout, `--version\tShow the version\n:4\n`);
  });

  test('kubectl_complete-podnet completes `kubectl podnet la` with the lab topic', () => {
    // kubectl ≥ 1.26 runs it with the words after `kubectl podnet`, the last one being completed.
    const r = run(join(root, 'completions', scriptFileName('kubectl', bin)), ['la']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.at(-1), `:${Directive.NO_FILE_COMP}`);
    assert.deepEqual(
      lines.slice(0, -1).map((l) => l.split('\t')[0]),
      ['lab'],
    );
    const r2 = run(join(root, 'completions', scriptFileName('kubectl', bin)), ['lab', 'up', '--topology', '']);
    assert.equal(r2.stdout, 'flat\nrouted\n:4\n');
  });

  test('the bash script completes through the binary', { skip: spawnSync('bash', ['--version']).status !== 0 }, () => {
    const script = join(root, 'completions', scriptFileName('bash', bin));
    const sh = (words: string[]) =>
      run('bash', ['-c', `source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _${bin}; printf '%s\\n' "\${COMPREPLY[@]}"`, script, bin, ...words]).stdout;
    assert.equal(sh(['lab', 'u']), 'up\n');
    assert.equal(sh(['lab', 'up', '--topology', '=', 'r']), 'routed\n');
    assert.equal(sh(['lab', 'up', '-t', '']), 'flat\nrouted\n');
  });
});
