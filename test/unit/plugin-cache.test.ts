/**
 * CNI plugin VERSION answers are asked once per binary: the facts script (run here for real, against a
 * directory of stand-in plugins that count their calls) reports each binary's identity, the operator-side
 * cache remembers the answers, and the next facts script asks only binaries it does not recognise.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { renderFactsScript } from '../../src/facts/gather.js';
import { parseFacts } from '../../src/facts/parse.js';
import { PluginVersionCache } from '../../src/facts/plugin-cache.js';

describe('plugin VERSION answers are remembered by binary identity', () => {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-plugin-cache-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'bin');
  const conf = join(dir, 'net.d');
  const calls = join(dir, 'calls');
  mkdirSync(bin);
  mkdirSync(conf);
  for (const name of ['bridge', 'host-local', 'portmap', 'loopback', 'unrelated']) {
    writeFileSync(join(bin, name), `#!/bin/sh\necho ${name} >> ${calls}\nprintf '{"cniVersion":"1.0.0","supportedVersions":["0.3.1","0.4.0","1.0.0"]}\\n'\n`);
    chmodSync(join(bin, name), 0o755);
  }
  const facts = (known?: ReadonlyMap<string, string>) => {
    writeFileSync(calls, '');
    const r = spawnSync('sh', ['-s'], { input: renderFactsScript({ cniBinDir: bin, confDir: conf, known }), encoding: 'utf8' });
    return { facts: parseFacts(r.stdout), asked: readFileSync(calls, 'utf8').split('\n').filter(Boolean).sort() };
  };

  test('first run asks the four plugins that matter; the cache file remembers them; the next run asks none; a changed binary is asked again', () => {
    const first = facts();
    assert.deepEqual(first.asked, ['bridge', 'host-local', 'loopback', 'portmap']);
    const bridge = first.facts.plugins.find((p) => p.name === 'bridge')!;
    assert.deepEqual(bridge.supportedVersions, ['0.3.1', '0.4.0', '1.0.0']);
    assert.match(bridge.key!, new RegExp(`^${bin}/bridge:\\d+:\\d+:\\d+:\\d+$`));
    assert.equal(first.facts.plugins.find((p) => p.name === 'unrelated')!.key, undefined);

    const path = join(dir, 'cache', 'cni-plugin-versions.json');
    const c1 = new PluginVersionCache(path);
    c1.remember('node-1', first.facts);
    c1.save();
    const c2 = new PluginVersionCache(path);
    // (the plugins of a bin dir this machine's containerd names are remembered too: only ours count here)
    assert.equal([...c2.known('node-1').keys()].filter((k) => k.startsWith(`${bin}/`)).length, 4);
    assert.equal(c2.known('node-2').size, 0, 'answers are per node');

    const second = facts(c2.known('node-1'));
    assert.deepEqual(second.asked, []);
    assert.deepEqual(second.facts.plugins, first.facts.plugins);

    // a reinstalled (here: touched) binary has another identity
    utimesSync(join(bin, 'portmap'), new Date(), new Date(Date.now() + 5000));
    const third = facts(c2.known('node-1'));
    assert.deepEqual(third.asked, ['portmap']);
  });

  test('a corrupt or foreign cache file is ignored', () => {
    const path = join(dir, 'bad.json');
    for (const text of ['{', '[]', '{"version":2,"nodes":{}}', `{"version":1,"nodes":{"n":{"x'; reboot #":"{}","${bin}/bridge:1:2:3:4":"{'x'}"}}}`]) {
      writeFileSync(path, text);
      assert.equal(new PluginVersionCache(path).known('n').size, 0, text);
    }
  });
});
