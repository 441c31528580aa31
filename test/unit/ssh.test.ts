/**
 * Unit tests for the SSH transport's session protocol, with no network: the framing run through a real
 * local `sh -s`, and SshTransport driving a stand-in `ssh` (first on PATH) that runs the remote command
 * locally and records how often it was started. Covers several scripts per session, exit codes and
 * stderr kept per script, concurrent runs, a session that dies, a timeout, and closing.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { classifySshFailure, frameLocked, frameScript, LOCK_FAILED_MARK, LOCK_FILE, lockOutcome, parseFramed, sshArgv, SshTransport } from '../../src/transport/ssh.js';
import { TransportError, type NodeTarget } from '../../src/transport/types.js';

describe('frameScript / parseFramed through sh -s', () => {
  test('two scripts in one shell: output, stderr and exit code each', () => {
    const input = frameScript('echo hi; echo err >&2; printf no-newline; exit 3', 'aaa') + frameScript("cat <<'X'\n@@podnet:aaa\nX\nexit 255", 'bbb');
    const r = spawnSync('sh', ['-s'], { input, encoding: 'utf8' });
    const a = parseFramed(r.stdout, r.stderr, 'aaa');
    assert.ok(a);
    assert.deepEqual({ exitCode: a.exitCode, stdout: a.stdout, stderr: a.stderr }, { exitCode: 3, stdout: 'hi\nno-newline', stderr: 'err\n' });
    const b = parseFramed(a.restOut, a.restErr, 'bbb');
    assert.ok(b);
    // a line that looks like another run's delimiter is just text inside this script
    assert.deepEqual({ exitCode: b.exitCode, stdout: b.stdout, stderr: b.stderr, restOut: b.restOut, restErr: b.restErr }, { exitCode: 255, stdout: '@@podnet:aaa\n', stderr: '', restOut: '', restErr: '' });
  });

  test('incomplete until both markers are there', () => {
    assert.equal(parseFramed('x\n@@podnet:end n 0\n', 'partial', 'n'), undefined);
    assert.equal(parseFramed('x\n@@podnet:end n 0', '\n@@podnet:end n\n', 'n'), undefined);
    assert.equal(parseFramed('x\n@@podnet:end other 0\n', '\n@@podnet:end other\n', 'n'), undefined);
  });

  test('a command that reads stdin cannot swallow the next script', () => {
    const r = spawnSync('sh', ['-s'], { input: frameScript('cat > /dev/null; echo a', 'c') + frameScript('echo b', 'd'), encoding: 'utf8' });
    const c = parseFramed(r.stdout, r.stderr, 'c');
    assert.equal(c?.stdout, 'a\n');
    assert.equal(parseFramed(c.restOut, c.restErr, 'd')?.stdout, 'b\n');
  });
});

describe('frameLocked: the node lock and a script in one round trip, through sh -s and flock', () => {
  const dir = mkdtempSync(`${tmpdir()}/podnet-lock-`);
  after(() => rmSync(dir, { recursive: true, force: true }));
  // The same frame, with the lock file moved into the test's directory.
  const frame = (script: string, nonce: string, owner: string) => frameLocked(script, nonce, owner).split(LOCK_FILE).join(`${dir}/podnet.lock`);

  test('free: the script runs and the owner is recorded; held by another shell: the script does not run, the holder is said', async (t) => {
    // Shell 1 takes the lock and keeps it while it lives (the session's shell holds fd 9).
    const holder = spawn('sh', ['-s'], { stdio: ['pipe', 'pipe', 'pipe'] });
    t.after(() => holder.kill());
    let out1 = '';
    holder.stdout.on('data', (d: Buffer) => (out1 += d.toString()));
    holder.stdin.write(frame('echo ran-1', 'a1', 'podnet up by ops@host-a (pid 1)'));
    for (let i = 0; i < 50 && !out1.includes('@@podnet:end a1'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(out1, /^ran-1\n/);
    assert.equal(readFileSync(`${dir}/podnet.lock.owner`, 'utf8'), 'podnet up by ops@host-a (pid 1)\n');

    // Shell 2 cannot take it: no script output, the marker with 75, the holder before it.
    const r = spawnSync('sh', ['-s'], { input: frame('echo ran-2', 'b1', 'podnet up by dev@host-b (pid 2)'), encoding: 'utf8' });
    const b = parseFramed(r.stdout, r.stderr, 'b1')!;
    assert.doesNotMatch(b.stdout, /ran-2/);
    const at = b.stdout.lastIndexOf(`\n${LOCK_FAILED_MARK} `);
    assert.ok(at >= 0, b.stdout);
    assert.equal(b.stdout.slice(at + 1), `${LOCK_FAILED_MARK} b1 75\n`);
    assert.deepEqual(lockOutcome(75, b.stdout.slice(0, at), ''), { locked: false, holder: 'podnet up by ops@host-a (pid 1)' });

    // A script run by the holder does not inherit the lock (fd 9 closed), so nothing it leaves behind keeps it.
    holder.stdin.end();
    await new Promise((r) => holder.once('exit', r));
    const again = spawnSync('sh', ['-s'], { input: frame('echo ran-3', 'c1', 'x'), encoding: 'utf8' });
    assert.equal(parseFramed(again.stdout, again.stderr, 'c1')?.stdout, 'ran-3\n');
  });
});

describe('SshTransport sessions (stand-in ssh)', () => {
  let dir: string;
  let oldPath: string | undefined;
  const node = (name: string, over: Partial<NodeTarget['ssh']> = {}): NodeTarget => ({
    name,
    address: name,
    ssh: { user: 'root', port: 22, sudo: false, connectTimeout: 5, commandTimeout: 30, options: [], acceptNewHostKeys: false, ...over } as NodeTarget['ssh'],
  });

  before(() => {
    dir = mkdtempSync(`${tmpdir()}/podnet-fake-ssh-`);
    // Runs the remote command (the last argument) locally; the host name decides how it misbehaves.
    writeFileSync(
      `${dir}/ssh`,
      `#!/bin/sh
for a; do host=$prev; prev=$a; done
echo "$host" >> ${dir}/starts
case "$host" in
  refused) echo "ssh: connect to host refused port 22: Connection refused" >&2; exit 255;;
  dies) read -r first; exit 7;;
esac
exec sh -c "$prev"
`,
    );
    chmodSync(`${dir}/ssh`, 0o755);
    oldPath = process.env.PATH;
    process.env.PATH = `${dir}:${oldPath}`;
  });
  after(() => {
    process.env.PATH = oldPath;
    rmSync(dir, { recursive: true, force: true });
  });

  const starts = (host: string) => readFileSync(`${dir}/starts`, 'utf8').split('\n').filter((l) => l === host).length;

  test('one ssh process serves every script of a node; round trips are still counted', async () => {
    const t = new SshTransport();
    try {
      const n = node('one');
      const a = await t.run(n, 'echo $$ > /dev/null; echo first');
      const b = await t.run(n, 'echo second >&2; exit 4');
      const c = await t.run(n, 'exit 255');
      assert.deepEqual([a.stdout, a.exitCode], ['first\n', 0]);
      assert.deepEqual([b.stdout, b.stderr, b.exitCode], ['', 'second\n', 4]);
      assert.equal(c.exitCode, 255, "a script's own exit 255 is not a connection failure");
      assert.equal(starts('one'), 1);
      assert.equal(t.roundTrips.get('one'), 3);
    } finally {
      await t.close();
    }
  });

  test('concurrent scripts on one node run side by side in a second session', async () => {
    const t = new SshTransport();
    try {
      const n = node('pair');
      const t0 = performance.now();
      const [a, b] = await Promise.all([t.run(n, 'sleep 0.5; echo a'), t.run(n, 'sleep 0.5; echo b')]);
      assert.deepEqual([a.stdout, b.stdout], ['a\n', 'b\n']);
      assert.ok(performance.now() - t0 < 950, 'they did not queue');
      assert.equal(starts('pair'), 2);
      await t.run(n, 'true');
      assert.equal(starts('pair'), 2, 'an idle session is reused');
    } finally {
      await t.close();
    }
  });

  test('a refused connection is classified; a session that dies mid-script is reported and replaced', async () => {
    const t = new SshTransport();
    try {
      await assert.rejects(t.run(node('refused'), 'true'), (e: unknown) => e instanceof TransportError && e.kind === 'unreachable');
      await assert.rejects(t.run(node('dies'), 'true'), (e: unknown) => e instanceof TransportError && e.kind === 'disconnected' && /exit 7/.test(e.message));
      await assert.rejects(t.run(node('dies'), 'true'), TransportError);
      assert.equal(starts('dies'), 2, 'a dead session is not reused');
    } finally {
      await t.close();
    }
  });

  test('a script that outlives its timeout fails with a timeout and its session is dropped', async () => {
    const t = new SshTransport();
    try {
      const n = node('slow');
      await assert.rejects(t.run(n, 'sleep 5', { timeoutMs: 300 }), (e: unknown) => e instanceof TransportError && e.kind === 'timeout');
      assert.equal((await t.run(n, 'echo fresh')).stdout, 'fresh\n');
      assert.equal(starts('slow'), 2);
    } finally {
      await t.close();
    }
  });

  test('sshArgv: batch mode, options, "--" before the address, constant remote command', () => {
    const argv = sshArgv(node('n1', { sudo: true, configFile: '/x/ssh_config', options: ['Ciphers=aes128-ctr'] }));
    assert.deepEqual(argv.slice(-3), ['--', 'n1', 'sudo -n -- sh -s']);
    assert.ok(argv.includes('BatchMode=yes'));
    assert.ok(argv.includes('Ciphers=aes128-ctr'));
    assert.deepEqual(argv.slice(0, 2), ['-F', '/x/ssh_config']);
  });
});

describe('classifySshFailure: a timeout names the limit that ran out and who can change it', () => {
  const target: NodeTarget = { name: 'n1', address: '192.0.2.1', ssh: { user: 'root', port: 22, sudo: false, connectTimeout: 5, commandTimeout: 30, options: [], acceptNewHostKeys: false } as unknown as NodeTarget['ssh'] };
  test("the inventory's command timeout: raise it", () => {
    const e = classifySshFailure(target, { exitCode: -1, stderr: '', timedOut: true })!;
    assert.equal(e.message, 'n1: no answer within 30s');
    assert.match(e.hint ?? '', /raise ssh\.commandTimeout/);
  });
  test('a limit podnet computed (a probe batch): the node stopped answering, not a setting to raise', () => {
    const e = classifySshFailure(target, { exitCode: -1, stderr: '', timedOut: true }, 95_000)!;
    assert.equal(e.message, 'n1: no answer within 95s');
    assert.doesNotMatch(e.hint ?? '', /commandTimeout/);
  });
});
