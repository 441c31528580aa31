/**
 * The scripts made of a fixed text (src/**\/*.sh) and parameters rendered above it: the facts script, the
 * node (up / restore) script and the down script. Syntax only (`sh -n` in dash, the shell nodes run them
 * with on Debian and Ubuntu) and the parameters; nothing here runs a script against this machine.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { CNI_BIN_CANDIDATES, FILE, PODNET_FILES, SECTION, SYSCTL_KEYS, TOOLS, renderFactsScript } from '../../src/facts/gather.js';
import { CONFLIST_PATH, JUMP_RULES, planIptables } from '../../src/plan/desired.js';
import type { Change } from '../../src/plan/diff.js';
import { KEPT_MARK, REMOVED_MARK, renderDownScript } from '../../src/render/down-script.js';
import { FAIL_MARK, STEP_MARK, renderNodeScript } from '../../src/render/node-script.js';
import { shList, shScript } from '../../src/util/shell.js';

const SHELL = existsSync('/bin/dash') ? '/bin/dash' : 'sh';
/** Every fixed text starts with this line, so what comes before it is the parameters. */
const ASSET_START = '# shellcheck shell=sh\n';

function syntaxCheck(script: string): void {
  const r = spawnSync(SHELL, ['-n'], { input: script, encoding: 'utf8' });
  assert.equal(r.status, 0, `${SHELL} -n failed: ${r.stderr}`);
}

/** The parameter block of a rendered script, and the fixed text after it. */
function split(script: string): { params: string; text: string } {
  const at = script.indexOf(ASSET_START);
  assert.ok(at > 0, 'the script starts with its parameters, then a fixed text');
  return { params: script.slice(0, at), text: script.slice(at) };
}

/** The values the parameter block assigns, as the shell sees them (only the assignments run). */
function evaluate(params: string): Record<string, string> {
  const names = [...params.matchAll(/^(PODNET_[A-Z0-9_]+)=/gm)].map((m) => m[1]!);
  const print = names.map((n) => `printf '%s=%s\\0' ${n} "$${n}"`).join('\n');
  const r = spawnSync(SHELL, ['-c', `${params}${print}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return Object.fromEntries(
    r.stdout
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

const IPT = planIptables('10.244.0.0/16', '10.244.1.0/24', true);
const CONFLIST = '{\n  "cniVersion": "1.0.0",\n  "name": "podnet",\n  "plugins": [{ "type": "bridge", "bridge": "cni0" }]\n}\n';
/** What `up` does to a fresh node of a two-segment cluster. */
const UP: Change[] = [
  { kind: 'module', name: 'br_netfilter' },
  { kind: 'sysctl', key: 'net.ipv4.ip_forward', from: '0', to: '1' },
  { kind: 'sysctl', key: 'net.bridge.bridge-nf-call-iptables', to: '1' },
  { kind: 'file-write', file: { path: CONFLIST_PATH, content: CONFLIST, mode: '0644', sha256: 'x' }, exists: false },
  { kind: 'bridge-create', bridge: 'cni0', mtu: 1450 },
  { kind: 'bridge-addr-add', bridge: 'cni0', address: '10.244.1.1/24' },
  { kind: 'vxlan-create', device: 'podnet.1', vni: 1, port: 8472, local: '192.0.2.11', uplink: 'eth0', mac: '0e:70:c0:00:02:0b', mtu: 1450, addresses: ['10.244.1.0'], recreate: false },
  { kind: 'fdb-set', device: 'podnet.1', mac: '0e:70:c0:00:02:0c', dst: '198.51.100.12' },
  { kind: 'neigh-set', device: 'podnet.1', address: '10.244.2.0', mac: '0e:70:c0:00:02:0c' },
  { kind: 'route-set', route: { peer: 'node-2', family: 'ipv4', podCIDR: '10.244.2.0/24', kind: 'overlay', via: '10.244.2.0', dev: 'podnet.1', onlink: true } },
  { kind: 'route-set', route: { peer: 'node-3', family: 'ipv4', podCIDR: '10.244.3.0/24', kind: 'direct', via: '192.0.2.13', dev: 'eth0', onlink: false } },
  { kind: 'iptables', family: 'ipv4', table: 'filter', chain: 'PODNET-FORWARD', jump: JUMP_RULES.filter, rules: IPT.filter, reason: 'create chain' },
  { kind: 'iptables', family: 'ipv4', table: 'nat', chain: 'PODNET-POSTROUTING', jump: JUMP_RULES.nat, rules: IPT.nat, reason: 'create chain' },
  { kind: 'unit-enable' },
];
const KNOWN = new Map([
  ['/opt/cni/bin/bridge:1311:4022112:1714000000:1714000000', '{"cniVersion":"1.0.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0"]}'],
  ['/opt/cni/bin/portmap:1312:3816448:1714000000:1714000000', '{"cniVersion":"1.0.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0"]}'],
]);
const CLUSTER = { bridge: 'cni0', vxlan: { device: 'podnet.1', vni: 1, port: 8472 } };

const SCRIPTS: { name: string; script: string }[] = [
  { name: 'facts (defaults)', script: renderFactsScript() },
  { name: 'facts (inventory bin dir, remembered plugin answers)', script: renderFactsScript({ cniBinDir: '/opt/cni/bin', known: KNOWN }) },
  { name: 'up (a fresh node)', script: renderNodeScript(UP) },
  { name: 'up (nothing to do)', script: renderNodeScript([]) },
  { name: 'boot-time restore (no files)', script: renderNodeScript(UP, { files: false }) },
  { name: 'down', script: renderDownScript(CLUSTER, { force: false }) },
  { name: 'down --force', script: renderDownScript(CLUSTER, { force: true }) },
];

describe('rendered scripts', () => {
  for (const { name, script } of SCRIPTS) {
    test(`${name}: ${SHELL} -n`, () => syntaxCheck(script));

    test(`${name}: assigns exactly the parameters its fixed text reads`, () => {
      const { params, text } = split(script);
      const assigned = [...params.matchAll(/^(PODNET_[A-Z0-9_]+)=/gm)].map((m) => m[1]!);
      const read = new Set([...text.matchAll(/\$\{?(PODNET_[A-Z0-9_]+)/g)].map((m) => m[1]!));
      assert.equal(new Set(assigned).size, assigned.length, 'no parameter assigned twice');
      assert.deepEqual([...assigned].sort(), [...read].sort());
      assert.doesNotMatch(text, /@@podnet:/, 'marks are parameters, not part of the fixed text');
    });
  }
});

describe('parameters reach the script as the values TypeScript holds', () => {
  test('facts: marks, lists and dirs', () => {
    const v = evaluate(split(renderFactsScript({ known: KNOWN })).params);
    assert.equal(v.PODNET_SECTION, SECTION);
    assert.equal(v.PODNET_FILE_MARK, FILE);
    assert.deepEqual(v.PODNET_TOOLS!.split(' '), [...TOOLS]);
    assert.deepEqual(v.PODNET_SYSCTL_PATHS!.split(' '), SYSCTL_KEYS.map((k) => `/proc/sys/${k.replaceAll('.', '/')}`));
    assert.deepEqual(v.PODNET_FILES!.split(' '), [...PODNET_FILES]);
    assert.deepEqual(v.PODNET_CNI_PATH!.split(':'), CNI_BIN_CANDIDATES);
    assert.equal(v.PODNET_CONF_DIR, '/etc/cni/net.d');
    assert.equal(v.PODNET_KNOWN, `|${[...KNOWN].map(([k, a]) => `${k}=${a}`).join('|')}|`);
  });

  test('facts: a hostile conf dir and a bin dir with a space stay one value each', () => {
    const confDir = `/tmp/x'$(id)\`id\`"$HOME\n*`;
    const v = evaluate(split(renderFactsScript({ confDir, cniBinDir: '/opt/my cni/bin' })).params);
    assert.equal(v.PODNET_CONF_DIR, confDir);
    assert.equal(v.PODNET_CNI_PATH, '/opt/my cni/bin');
  });

  test('down: marks, names, rules and the force flag', () => {
    const hostile = { bridge: "b'$(id)", vxlan: { device: 'v`id` x', vni: 1, port: 8472 } };
    const v = evaluate(split(renderDownScript(hostile, { force: true })).params);
    assert.equal(v.PODNET_STEP_MARK, STEP_MARK);
    assert.equal(v.PODNET_FAIL_MARK, FAIL_MARK);
    assert.equal(v.PODNET_REMOVED_MARK, REMOVED_MARK);
    assert.equal(v.PODNET_KEPT_MARK, KEPT_MARK);
    assert.equal(v.PODNET_BRIDGE, hostile.bridge);
    assert.equal(v.PODNET_VXLAN_DEVICE, hostile.vxlan.device);
    assert.equal(v.PODNET_FILTER_JUMP, JUMP_RULES.filter);
    assert.equal(v.PODNET_NAT_JUMP, JUMP_RULES.nat);
    assert.equal(v.PODNET_FORCE, '1');
  });

  test('up: the step marks', () => {
    const v = evaluate(split(renderNodeScript([])).params);
    assert.deepEqual(v, { PODNET_STEP_MARK: STEP_MARK, PODNET_FAIL_MARK: FAIL_MARK });
  });
});

describe('shScript and shList', () => {
  test('assignments first, then the text verbatim', () => {
    assert.equal(shScript({ A: 'x y', B_2: 3 }, 'echo "$A"\n'), "A='x y'\nB_2=3\necho \"$A\"\n");
  });
  test('a parameter name must be an upper-case shell variable name', () => {
    for (const name of ['a', 'A-B', '1A', 'A;id', '']) assert.throws(() => shScript({ [name]: 'x' }, ''), /not an upper-case shell variable name/);
  });
  test('lists: joined; an item that would split or glob is refused', () => {
    assert.equal(shList(['ip', 'bridge']), 'ip bridge');
    assert.equal(shList(['/opt/my cni/bin', '/usr/lib/cni'], ':'), '/opt/my cni/bin:/usr/lib/cni');
    for (const item of ['a b', 'a\tb', 'a\nb', '', '*', '/proc/sys/net/ipv4/conf/?/x', '[ab]']) assert.throws(() => shList([item]), /cannot be an item/);
    assert.throws(() => shList(['/a:/b'], ':'), /cannot be an item/);
  });
});
