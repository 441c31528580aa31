/**
 * Unit tests for the rendered shell: render/node-script.ts, render/down-script.ts, cni/runtime.ts and the
 * quoting helpers of util/shell.ts. Every script must pass `sh -n`; structure is asserted on the text.
 * The CNI runtime scripts are also run against fake plugins in a temp dir (with `ip` shimmed and the
 * result dir redirected), which touches nothing outside that dir.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  RESULT_DIR,
  RESULT_MARK,
  pluginConfigs,
  podIpFromResult,
  renderCniAdd,
  cniAddError,
  renderCniDel,
  resultFromOutput,
  type Conflist,
  type PodSpec,
} from '../../src/cni/runtime.js';
import { JUMP_RULES, ROUTE_PROTO, planIptables, type PeerRoute } from '../../src/plan/desired.js';
import type { Change } from '../../src/plan/diff.js';
import { KEPT_MARK, REMOVED_MARK, renderDownScript } from '../../src/render/down-script.js';
import { FAIL_MARK, STEP_MARK, renderNodeScript } from '../../src/render/node-script.js';
import { heredoc, sh, shJoin } from '../../src/util/shell.js';

function shN(script: string): void {
  const r = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
  assert.equal(r.status, 0, `sh -n failed: ${r.stderr}`);
}

function count(text: string, needle: string | RegExp): number {
  if (typeof needle === 'string') return text.split(needle).length - 1;
  return [...text.matchAll(new RegExp(needle.source, needle.flags.includes('g') ? needle.flags : `${needle.flags}g`))].length;
}

const HOSTILE = [
  '',
  ' ',
  'plain',
  'with space',
  "it's",
  "''",
  '"double"',
  '$(touch /tmp/podnet-pwned)',
  '`id`',
  '${HOME}',
  '$HOME',
  'a\nb',
  '\n',
  'tab\there',
  'back\\slash',
  '\\',
  '*',
  '~',
  '!event',
  '-n',
  '--',
  'a;b|c&d>e<f',
  '#comment',
  'ünïcödé ✓',
  "'; rm -rf / #",
  'x\'"$`\\\n',
];

// ---- util/shell.ts --------------------------------------------------------------------------------

describe('sh / shJoin', () => {
  for (const s of HOSTILE) {
    test(`sh() round-trips ${JSON.stringify(s)}`, () => {
      const r = spawnSync('sh', ['-c', `printf %s ${sh(s)}`], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, s);
    });
  }

  const safe: [string | number, string][] = [
    ['abc', 'abc'],
    ['/opt/cni/bin', '/opt/cni/bin'],
    ['10.244.0.0/16', '10.244.0.0/16'],
    ['a=b,c:d@e%f+g', 'a=b,c:d@e%f+g'],
    [8472, '8472'],
    ['', "''"],
    ['a b', "'a b'"],
    ["it's", "'it'\\''s'"],
  ];
  for (const [v, expected] of safe) {
    test(`sh(${JSON.stringify(v)}) = ${expected}`, () => assert.equal(sh(v), expected));
  }

  test('shJoin keeps argument boundaries', () => {
    const argv = ['one', 'two words', '', "it's", '$(x)', 'a\nb', '-e'];
    const r = spawnSync('sh', ['-c', `for a in ${shJoin(argv)}; do printf '%s\\0' "$a"; done`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\0').slice(0, -1), argv);
    assert.equal(shJoin(['ip', 'link', 'show', 7]), 'ip link show 7');
  });

  test('heredoc picks a delimiter that does not occur in the body', () => {
    assert.deepEqual(heredoc('EOF', 'a'), { open: "<<'EOF'", body: 'a\n', close: 'EOF' });
    const h = heredoc('EOF', 'EOF\nEOF_1\n');
    assert.equal(h.close, 'EOF_2');
    assert.equal(h.body, 'EOF\nEOF_1\n');
  });
});

// ---- render/node-script.ts ------------------------------------------------------------------------

function routeSet(i: number, overlay = false): Change {
  const route: PeerRoute = overlay
    ? { peer: `p${i}`, family: 'ipv4', podCIDR: `10.${(i >> 8) & 255}.${i & 255}.0/24`, kind: 'overlay', via: `10.${(i >> 8) & 255}.${i & 255}.0`, dev: 'podnet.1', onlink: true }
    : { peer: `p${i}`, family: 'ipv4', podCIDR: `10.${(i >> 8) & 255}.${i & 255}.0/24`, kind: 'direct', via: `192.0.2.${(i % 250) + 2}`, dev: 'eth0', onlink: false };
  return { kind: 'route-set', route };
}

const IPT = planIptables('10.244.0.0/16', '10.244.0.0/24', true);
const CONTENT = '{\n  "cniVersion": "1.0.0",\n  "weird": "$(id) `id` \'q\' PODNET_FILE"\n}\n';

const ALL_CHANGES: Change[] = [
  { kind: 'module', name: 'br_netfilter' },
  { kind: 'sysctl', key: 'net.ipv4.ip_forward', from: '0', to: '1' },
  { kind: 'sysctl', key: 'net.bridge.bridge-nf-call-iptables', to: '1' },
  { kind: 'file-write', file: { path: '/etc/cni/net.d/10-podnet.conflist', content: CONTENT, mode: '0644', sha256: 'x' }, exists: false },
  { kind: 'file-write', file: { path: '/etc/podnet/restore.sh', content: '#!/bin/sh\necho hi\n', mode: '0755', sha256: 'y' }, exists: true },
  { kind: 'file-remove', path: '/etc/modules-load.d/podnet.conf' },
  { kind: 'bridge-create', bridge: 'cni0', mtu: 1450 },
  { kind: 'bridge-set', bridge: 'cni0', mtu: 1450, from: 'down, mtu 1500' },
  { kind: 'bridge-addr-del', bridge: 'cni0', address: '10.244.9.1/24' },
  { kind: 'bridge-addr-add', bridge: 'cni0', address: '10.244.0.1/24' },
  { kind: 'vxlan-create', device: 'podnet.1', vni: 1, port: 8472, local: '192.0.2.11', uplink: 'eth0', mac: '0e:70:c0:00:02:0b', mtu: 1450, addresses: ['10.244.0.0'], recreate: true },
  { kind: 'fdb-set', device: 'podnet.1', mac: '0e:70:c0:00:02:0c', dst: '192.0.2.12' },
  { kind: 'fdb-del', device: 'podnet.1', mac: '0e:70:c0:00:02:63', dst: '192.0.2.99' },
  { kind: 'neigh-set', device: 'podnet.1', address: '10.244.1.0', mac: '0e:70:c0:00:02:0c' },
  { kind: 'neigh-del', device: 'podnet.1', address: '10.244.99.0' },
  routeSet(1),
  routeSet(2, true),
  { kind: 'route-del', dst: '10.244.77.0/24', desc: '10.244.77.0/24 via 192.0.2.77 dev eth0' },
  { kind: 'iptables', family: 'ipv4', table: 'filter', chain: 'PODNET-FORWARD', jump: JUMP_RULES.filter, rules: IPT.filter, reason: 'create chain' },
  { kind: 'iptables', family: 'ipv4', table: 'nat', chain: 'PODNET-POSTROUTING', jump: JUMP_RULES.nat, rules: IPT.nat, reason: 'create chain' },
  { kind: 'unit-enable' },
];

describe('renderNodeScript', () => {
  test('no changes: only the prelude and step done, valid sh', () => {
    const s = renderNodeScript([]);
    shN(s);
    assert.match(s, /^PODNET_STEP_MARK=\S+\nPODNET_FAIL_MARK=\S+\n/);
    assert.match(s, /^set -u$/m);
    assert.ok(s.endsWith('step done\n'));
    assert.equal(count(s, /^step /m), 1);
    assert.ok(s.includes(STEP_MARK) && s.includes(FAIL_MARK));
  });

  test('every kind of change: valid sh, steps in order', () => {
    const s = renderNodeScript(ALL_CHANGES);
    shN(s);
    const steps = [...s.matchAll(/^step (\S+)$/gm)].map((m) => m[1]);
    assert.deepEqual(steps, ['kernel', 'files', 'links', 'fdb', 'routes', 'iptables-filter', 'iptables-nat', 'systemd', 'done']);
  });

  test('kernel: one sysctl call for all keys, guarded modprobe', () => {
    const s = renderNodeScript(ALL_CHANGES);
    assert.equal(count(s, /^sysctl /m), 1);
    assert.match(s, /^sysctl -qw net\.ipv4\.ip_forward=1 net\.bridge\.bridge-nf-call-iptables=1 \|\| fail$/m);
    assert.match(s, /^modprobe br_netfilter 2>\/dev\/null \|\| \[ -d \/proc\/sys\/net\/bridge \] \|\| fail$/m);
  });

  test('files: written beside the target through a quoted heredoc and renamed', () => {
    const s = renderNodeScript(ALL_CHANGES);
    assert.match(s, /^cat > \/etc\/cni\/net\.d\/\.10-podnet\.conflist\.podnet-tmp\.\$\$ <<'PODNET_FILE_1' \|\| fail$/m);
    assert.ok(s.includes(`<<'PODNET_FILE_1' || fail\n${CONTENT}PODNET_FILE_1\n`), 'content verbatim, delimiter avoids the body');
    // unique per run ($$): two runs never share a temporary file
    assert.match(s, /^chmod 0644 \/etc\/cni\/net\.d\/\.10-podnet\.conflist\.podnet-tmp\.\$\$ && mv -f \/etc\/cni\/net\.d\/\.10-podnet\.conflist\.podnet-tmp\.\$\$ \/etc\/cni\/net\.d\/10-podnet\.conflist \|\| \{ rm -f \/etc\/cni\/net\.d\/\.10-podnet\.conflist\.podnet-tmp\.\$\$; fail; \}$/m);
    assert.match(s, /^chmod 0755 /m);
    assert.match(s, /^rm -f \/etc\/modules-load\.d\/podnet\.conf \|\| fail$/m);
  });

  test('files: false leaves out file writes, removals and systemd', () => {
    const s = renderNodeScript(ALL_CHANGES, { files: false });
    shN(s);
    assert.doesNotMatch(s, /step files|step systemd|PODNET_FILE|systemctl|rm -f/);
    assert.match(s, /step routes/);
  });

  test('links: recreate deletes the vxlan device first, then a guarded create', () => {
    const s = renderNodeScript(ALL_CHANGES);
    const del = s.indexOf('ip link del dev podnet.1 2>/dev/null || true');
    const add = s.indexOf('type vxlan id 1 local 192.0.2.11 dev eth0 dstport 8472 nolearning');
    assert.ok(del >= 0 && add > del);
    assert.match(s, /ip link set dev podnet\.1 address 0e:70:c0:00:02:0b mtu 1450 alias podnet up \|\| fail/);
    assert.match(s, /ip addr replace 10\.244\.0\.0\/32 dev podnet\.1 \|\| fail/);
    assert.match(s, /ip addr del 10\.244\.9\.1\/24 dev cni0 2>\/dev\/null \|\| true/);
    assert.match(s, /ip addr replace 10\.244\.0\.1\/24 dev cni0 \|\| fail/);
  });

  test('fdb: one bridge -batch for all entries', () => {
    const s = renderNodeScript(ALL_CHANGES);
    assert.equal(count(s, 'bridge -force -batch -'), 1);
    assert.match(s, /^fdb replace 0e:70:c0:00:02:0c dev podnet\.1 dst 192\.0\.2\.12 self permanent$/m);
    assert.match(s, /^fdb del 0e:70:c0:00:02:63 dev podnet\.1 dst 192\.0\.2\.99 self$/m);
  });

  test('routes and neighbours: one ip -batch, routes carry proto 157', () => {
    const s = renderNodeScript(ALL_CHANGES);
    assert.equal(count(s, 'ip -force -batch -'), 1);
    assert.match(s, /^neigh replace 10\.244\.1\.0 lladdr 0e:70:c0:00:02:0c dev podnet\.1 nud permanent$/m);
    assert.match(s, /^neigh del 10\.244\.99\.0 dev podnet\.1$/m);
    assert.match(s, new RegExp(`^route replace 10\\.0\\.1\\.0/24 via 192\\.0\\.2\\.3 dev eth0 proto ${ROUTE_PROTO}$`, 'm'));
    assert.match(s, /^route replace 10\.0\.2\.0\/24 via 10\.0\.2\.0 dev podnet\.1 onlink proto 157$/m);
    assert.match(s, /^route del 10\.244\.77\.0\/24 proto 157$/m);
    // neighbours before routes: an onlink route through the overlay needs its neighbour
    assert.ok(s.indexOf('neigh replace') < s.indexOf('route replace'));
  });

  test('5,000 route changes → still one ip invocation, every route with proto 157', () => {
    const changes = Array.from({ length: 5000 }, (_, i) => routeSet(i, i % 2 === 1));
    const s = renderNodeScript(changes);
    shN(s);
    assert.equal(count(s, /\bip -force -batch -/), 1);
    assert.equal(count(s, /^ip /m), 1, 'no other ip invocation');
    const routeLines = s.split('\n').filter((l) => l.startsWith('route replace '));
    assert.equal(routeLines.length, 5000);
    assert.ok(routeLines.every((l) => l.endsWith(` proto ${ROUTE_PROTO}`)));
    assert.equal(count(s, /^step routes$/m), 1);
  });

  test('iptables: iptables-restore -w 5 --noflush once per table, chain declared, rules verbatim', () => {
    const s = renderNodeScript(ALL_CHANGES);
    assert.equal(count(s, 'iptables-restore -w 5 --noflush'), 2);
    assert.ok(s.includes(`*filter\n:PODNET-FORWARD - [0:0]\n${IPT.filter.join('\n')}\nCOMMIT\n`));
    assert.ok(s.includes(`*nat\n:PODNET-POSTROUTING - [0:0]\n${IPT.nat.join('\n')}\nCOMMIT\n`));
    assert.match(s, /^iptables -w 5 -t filter -C FORWARD -m comment --comment podnet -j PODNET-FORWARD 2>\/dev\/null \|\| iptables -w 5 -t filter -I FORWARD 1 -m comment --comment podnet -j PODNET-FORWARD \|\| fail$/m);
    assert.ok(s.includes(`grep -c -x -F -- '${JUMP_RULES.nat}'`));
  });

  test('iptables with a single table renders only that table', () => {
    const s = renderNodeScript(ALL_CHANGES.filter((c) => !(c.kind === 'iptables' && c.table === 'nat')));
    assert.equal(count(s, 'iptables-restore -w 5 --noflush'), 1);
    assert.doesNotMatch(s, /\*nat/);
  });

  test('hostile values are quoted where they reach the shell', () => {
    const evil = "x'$(touch /tmp/podnet-pwned)`id`";
    const s = renderNodeScript([
      { kind: 'file-write', file: { path: `/tmp/${evil}/f`, content: 'c\n', mode: '0644', sha256: 'z' }, exists: false },
      { kind: 'bridge-create', bridge: evil, mtu: 1500 },
      { kind: 'sysctl', key: `k${evil}`, to: '1' },
    ]);
    shN(s);
    assert.ok(s.includes(`mkdir -p ${sh(`/tmp/${evil}`)} || fail`));
    assert.ok(s.includes(`ip link add name ${sh(evil)} type bridge`));
    assert.ok(s.includes(`sysctl -qw ${sh(`k${evil}=1`)} || fail`));
  });
});

// ---- render/down-script.ts ------------------------------------------------------------------------

describe('renderDownScript', () => {
  const cluster = { bridge: 'cni0', vxlan: { device: 'podnet.1', vni: 1, port: 8472 } };
  for (const force of [false, true]) {
    test(`force=${force}: valid sh`, () => shN(renderDownScript(cluster, { force })));
  }

  test('removes routes by protocol, the overlay by alias, both jumps and chains, the files', () => {
    // The parameters, assigned above the fixed text of down.sh (which the unit tests do not run: see the lab tests).
    const s = renderDownScript(cluster, { force: false });
    assert.match(s, /^PODNET_ROUTE_PROTO=157$/m);
    assert.match(s, /^PODNET_IP_FLAGS='-4 -6'$/m);
    assert.match(s, /ip "\$fl" route flush proto "\$PODNET_ROUTE_PROTO" \|\| fail/);
    assert.match(s, /^PODNET_VXLAN_DEVICE=podnet\.1$/m);
    assert.match(s, /^PODNET_LINK_ALIAS=podnet$/m);
    assert.match(s, /cat "\/sys\/class\/net\/\$PODNET_VXLAN_DEVICE\/ifalias" 2>\/dev\/null\)" = "\$PODNET_LINK_ALIAS" \]; then ip link del dev "\$PODNET_VXLAN_DEVICE"/);
    assert.ok(s.includes(`PODNET_FILTER_JUMP='${JUMP_RULES.filter}'`));
    assert.ok(s.includes(`PODNET_NAT_JUMP='${JUMP_RULES.nat}'`));
    assert.match(s, /^PODNET_FILTER_CHAIN=PODNET-FORWARD$/m);
    assert.match(s, /^PODNET_NAT_CHAIN=PODNET-POSTROUTING$/m);
    assert.match(s, /^PODNET_IPTABLES='iptables ip6tables'$/m);
    assert.match(s, /^for ipt in \$PODNET_IPTABLES; do$/m);
    assert.match(s, /^ {2}remove_chain "\$ipt" filter "\$PODNET_FILTER_CHAIN" \$PODNET_FILTER_JUMP$/m);
    assert.match(s, /^ {2}remove_chain "\$ipt" nat "\$PODNET_NAT_CHAIN" \$PODNET_NAT_JUMP$/m);
    assert.match(s, /"\$ipt" -w 5 -t "\$table" -D "\$builtin" "\$@"/);
    assert.match(s, /"\$ipt" -w 5 -t "\$table" -F "\$chain" \|\| fail; "\$ipt" -w 5 -t "\$table" -X "\$chain" \|\| fail/);
    assert.match(s, /^PODNET_FILES='\/etc\/cni\/net\.d\/10-podnet\.conflist \/etc\/sysctl\.d\/90-podnet\.conf \/etc\/modules-load\.d\/podnet\.conf \/etc\/podnet\/restore\.sh'$/m);
    assert.match(s, /^PODNET_UNIT_FILE=\/etc\/systemd\/system\/podnet\.service$/m);
    assert.ok(s.includes(`PODNET_REMOVED_MARK=${REMOVED_MARK}\n`) && s.includes(`PODNET_KEPT_MARK=${KEPT_MARK}\n`));
    assert.match(s, /^PODNET_FORCE=0$/m);
    assert.match(renderDownScript(cluster, { force: true }), /^PODNET_FORCE=1$/m);
    assert.match(s, /\[ "\$PODNET_FORCE" -eq 1 \]/);
  });

  test('steps in order', () => {
    const steps = [...renderDownScript(cluster, { force: false }).matchAll(/^step (\S+)$/gm)].map((m) => m[1]);
    assert.deepEqual(steps, ['routes', 'overlay', 'iptables', 'systemd', 'files', 'bridge', 'done']);
  });

  test('custom device names are used and the script stays valid', () => {
    const s = renderDownScript({ bridge: 'br-pods.0', vxlan: { device: 'vx_9', vni: 9, port: 4789 } }, { force: false });
    shN(s);
    assert.match(s, /^PODNET_BRIDGE=br-pods\.0$/m);
    assert.match(s, /^PODNET_VXLAN_DEVICE=vx_9$/m);
    assert.doesNotMatch(s, /cni0|podnet\.1/);
  });

  test('a hostile name stays quoted (second wall behind the inventory patterns)', () => {
    const s = renderDownScript({ bridge: "b'$(id)", vxlan: { device: 'v`id`', vni: 1, port: 8472 } }, { force: true });
    shN(s);
    assert.ok(s.includes(`\nPODNET_BRIDGE=${sh("b'$(id)")}\n`));
    assert.ok(s.includes(`\nPODNET_VXLAN_DEVICE=${sh('v`id`')}\n`));
  });
});

// ---- cni/runtime.ts --------------------------------------------------------------------------------

const LIST: Conflist = {
  cniVersion: '1.0.0',
  name: 'podnet',
  plugins: [
    { type: 'bridge', name: 'ignored', cniVersion: '0.1.0', bridge: 'cni0', ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.0.0/24' }]] } },
    { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    { type: 'tuning', capabilities: { other: true } },
  ],
};
const PM = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' as const }];
const POD: PodSpec = { id: 'pod-1', netns: '/var/run/netns/pod-1', portMappings: PM };

describe('pluginConfigs', () => {
  test('name and cniVersion from the list, capabilities dropped, portMappings only where declared', () => {
    const confs = pluginConfigs(LIST, POD);
    assert.deepEqual(confs.map((c) => c.type), ['bridge', 'portmap', 'tuning']);
    const parsed = confs.map((c) => JSON.parse(c.config) as Record<string, unknown>);
    for (const p of parsed) {
      assert.equal(p.name, 'podnet');
      assert.equal(p.cniVersion, '1.0.0');
      assert.equal('capabilities' in p, false);
    }
    assert.equal('runtimeConfig' in parsed[0]!, false);
    assert.deepEqual(parsed[1]!.runtimeConfig, { portMappings: PM });
    assert.equal(parsed[1]!.snat, true);
    assert.equal('runtimeConfig' in parsed[2]!, false);
    assert.deepEqual(parsed[0]!.ipam, LIST.plugins![0]!.ipam);
  });

  test('no portMappings on the pod → no runtimeConfig anywhere', () => {
    for (const pod of [{ ...POD, portMappings: undefined }, { ...POD, portMappings: [] }]) {
      for (const c of pluginConfigs(LIST, pod)) assert.equal('runtimeConfig' in JSON.parse(c.config), false);
    }
  });

  test('does not mutate the list', () => {
    const copy = structuredClone(LIST);
    pluginConfigs(LIST, POD);
    assert.deepEqual(LIST, copy);
  });

  test('a single-plugin .conf is one plugin', () => {
    const confs = pluginConfigs({ cniVersion: '0.3.1', name: 'mynet', type: 'bridge', bridge: 'br0' } as Conflist, POD);
    assert.equal(confs.length, 1);
    assert.equal(confs[0]!.type, 'bridge');
    assert.deepEqual(JSON.parse(confs[0]!.config), { cniVersion: '0.3.1', name: 'mynet', type: 'bridge', bridge: 'br0' });
  });

  test('no plugins at all', () => {
    assert.deepEqual(pluginConfigs({ name: 'x' }, POD), []);
  });
});

describe('podIpFromResult / resultFromOutput', () => {
  const cases: [string, string | undefined][] = [
    ['{"cniVersion":"1.0.0","ips":[{"address":"10.244.0.5/24","gateway":"10.244.0.1"}]}', '10.244.0.5'],
    ['{"ips":[{"address":"fd00::5/64"},{"address":"10.244.0.6/24"}]}', '10.244.0.6'],
    ['{"ips":[{"address":"fd00::5/64"}]}', undefined],
    ['{"ips":[]}', undefined],
    ['{"ip4":{"ip":"10.244.0.5/24"}}', undefined],
    ['not json', undefined],
    ['', undefined],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} → ${expected}`, () => assert.equal(podIpFromResult(input), expected));
  }
  test('resultFromOutput', () => {
    assert.equal(resultFromOutput(`noise\n${RESULT_MARK}\n{"a":1}\n`), '{"a":1}');
    assert.equal(resultFromOutput('no mark'), undefined);
  });
});

describe('renderCniAdd / renderCniDel: structure', () => {
  const binDir = '/opt/cni/bin';
  test('valid sh, with and without hostile ids', () => {
    shN(renderCniAdd(LIST, binDir, POD));
    shN(renderCniDel(LIST, binDir, POD));
    const evil: PodSpec = { id: "p'$(id)", netns: '/run/netns/`id`', ifname: 'e"th0', portMappings: PM };
    shN(renderCniAdd(LIST, "/opt/my cni's", evil));
    shN(renderCniDel(LIST, "/opt/my cni's", evil));
  });

  test('ADD runs plugins in order, prevResult injected from the 2nd on, DEL of what ran on failure', () => {
    const s = renderCniAdd(LIST, binDir, POD);
    const runs = [...s.matchAll(/CNI_COMMAND=ADD .* (\/opt\/cni\/bin\/\S+) 2>\/dev\/null\); then$/gm)].map((m) => m[1]);
    assert.deepEqual(runs, ['/opt/cni/bin/bridge', '/opt/cni/bin/portmap', '/opt/cni/bin/tuning']);
    assert.equal(count(s, /^\[ -n "\$prev" \] && conf=/m), 3);
    assert.match(s, /^prev=$/m);
    assert.match(s, /CNI_CONTAINERID=pod-1 CNI_NETNS=\/var\/run\/netns\/pod-1 CNI_IFNAME=eth0 CNI_PATH=\/opt\/cni\/bin/);
    assert.ok(s.includes(`echo ${RESULT_MARK}`));
  });

  test('the pod netns is pinned on its own file: nothing touches /run/netns or `ip netns` (it would re-mount the runtime\'s namespaces)', () => {
    const pod: PodSpec = { id: 'pnp-1', netns: '/run/podnet-probe-1/netns', portMappings: PM };
    for (const s of [renderCniAdd(LIST, binDir, pod), renderCniDel(LIST, binDir, pod)]) {
      assert.doesNotMatch(s, /ip (-n|netns)|\/run\/netns/);
    }
    assert.match(renderCniAdd(LIST, binDir, pod), /unshare --net sh -c 'mount --bind \/proc\/self\/ns\/net "\$1"' podnet-netns \/run\/podnet-probe-1\/netns/);
    assert.match(renderCniDel(LIST, binDir, pod), /umount -l \/run\/podnet-probe-1\/netns/);
  });

  test('DEL runs in reverse order with the saved result', () => {
    const s = renderCniDel(LIST, binDir, POD);
    const runs = [...s.matchAll(/CNI_COMMAND=DEL .* (\/opt\/cni\/bin\/\S+) >\/dev\/null 2>&1 \|\| rc=1$/gm)].map((m) => m[1]);
    assert.deepEqual(runs, ['/opt/cni/bin/tuning', '/opt/cni/bin/portmap', '/opt/cni/bin/bridge']);
    assert.ok(s.startsWith(`prev=$(cat ${RESULT_DIR}/pod-1.json 2>/dev/null)\n`));
    assert.match(s, /^exit \$rc$/m);
  });
});

// ---- running the CNI scripts against fake plugins ---------------------------------------------------

const work = mkdtempSync(join(tmpdir(), 'podnet-render-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

/**
 * A sandbox: a bin dir of fake plugins that log their env and stdin, a shim `ip` first in PATH, and the
 * script's result dir moved into the sandbox. `fail` names plugins that fail ADD; `stderr` ones that
 * write a warning to stderr and succeed.
 */
function sandbox(name: string, opts: { fail?: string[]; stderr?: string[] } = {}) {
  const dir = join(work, name);
  const bin = join(dir, 'bin');
  const shim = join(dir, 'shim');
  const results = join(dir, 'results');
  const log = join(dir, 'log');
  mkdirSync(bin, { recursive: true });
  mkdirSync(shim, { recursive: true });
  for (const tool of ['ip', 'unshare', 'nsenter', 'umount']) {
    writeFileSync(join(shim, tool), '#!/bin/sh\nexit 0\n');
    chmodSync(join(shim, tool), 0o755);
  }
  for (const type of ['bridge', 'portmap', 'tuning']) {
    const result = JSON.stringify({ cniVersion: '1.0.0', ips: [{ address: '10.244.0.5/24' }], by: type });
    const body = [
      '#!/bin/sh',
      `n=$(ls ${sh(log)} 2>/dev/null | wc -l)`,
      `mkdir -p ${sh(log)}`,
      `f=${sh(log)}/$(printf '%03d' "$n")-$CNI_COMMAND-${type}`,
      'cat > "$f"',
      `printf '%s %s %s %s' "$CNI_CONTAINERID" "$CNI_NETNS" "$CNI_IFNAME" "$CNI_PATH" > "$f.env"`,
      opts.stderr?.includes(type) ? "echo 'warning: something' >&2" : '',
      opts.fail?.includes(type) ? `[ "$CNI_COMMAND" = ADD ] && { echo '{"code":7,"msg":"boom"}'; exit 1; }` : '',
      `[ "$CNI_COMMAND" = ADD ] && printf '%s\\n' ${sh(result)}`,
      'exit 0',
    ].join('\n');
    writeFileSync(join(bin, type), `${body}\n`);
    chmodSync(join(bin, type), 0o755);
  }
  const run = (script: string) => {
    const local = script.split(RESULT_DIR).join(results);
    assert.ok(!local.includes(RESULT_DIR), 'the script must not touch the real result dir');
    assert.ok(existsSync(join(shim, 'ip')));
    return spawnSync('sh', ['-c', local], { encoding: 'utf8', env: { PATH: `${shim}:/usr/bin:/bin`, HOME: dir } });
  };
  const calls = (): { cmd: string; type: string; conf: Record<string, unknown>; env: string }[] => {
    if (!existsSync(log)) return [];
    return spawnSync('ls', [log], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((f) => f && !f.endsWith('.env'))
      .sort()
      .map((f) => {
        const [, cmd, type] = /^\d+-(ADD|DEL)-(.*)$/.exec(f)!;
        return { cmd: cmd!, type: type!, conf: JSON.parse(readFileSync(join(log, f), 'utf8')) as Record<string, unknown>, env: readFileSync(join(log, `${f}.env`), 'utf8') };
      });
  };
  return { bin, results, run, calls };
}

describe('renderCniAdd / renderCniDel: run against fake plugins', () => {
  // The netns pin is a file the script creates: keep it inside the test's own directory.
  const pod: PodSpec = { id: "pod-'1", netns: join(work, "netns/pod 'x"), portMappings: PM };

  test('ADD: the 2nd and 3rd plugins get the previous result; portMappings only to portmap; result saved and printed', () => {
    const box = sandbox('add');
    const r = box.run(renderCniAdd(LIST, box.bin, pod));
    assert.equal(r.status, 0, r.stderr);
    const calls = box.calls();
    assert.deepEqual(calls.map((c) => `${c.cmd} ${c.type}`), ['ADD bridge', 'ADD portmap', 'ADD tuning']);
    assert.equal('prevResult' in calls[0]!.conf, false);
    assert.deepEqual(calls[1]!.conf.prevResult, { cniVersion: '1.0.0', ips: [{ address: '10.244.0.5/24' }], by: 'bridge' });
    assert.deepEqual(calls[2]!.conf.prevResult, { cniVersion: '1.0.0', ips: [{ address: '10.244.0.5/24' }], by: 'portmap' });
    assert.deepEqual(calls[1]!.conf.runtimeConfig, { portMappings: PM });
    assert.equal('runtimeConfig' in calls[0]!.conf, false);
    assert.equal('runtimeConfig' in calls[2]!.conf, false);
    for (const c of calls) {
      assert.equal(c.conf.name, 'podnet');
      assert.equal(c.conf.cniVersion, '1.0.0');
      assert.equal(c.env, `${pod.id} ${pod.netns} eth0 ${box.bin}`);
    }
    const result = resultFromOutput(r.stdout);
    assert.deepEqual(JSON.parse(result!), { cniVersion: '1.0.0', ips: [{ address: '10.244.0.5/24' }], by: 'tuning' });
    assert.equal(podIpFromResult(result!), '10.244.0.5');
    assert.equal(readFileSync(join(box.results, `${pod.id}.json`), 'utf8'), result);
  });

  test('ADD: a failing plugin → DEL of the plugins that ran, in reverse, exit 1', () => {
    const box = sandbox('add-fail', { fail: ['portmap'] });
    const r = box.run(renderCniAdd(LIST, box.bin, pod));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /CNI ADD failed in plugin 2 \(portmap\): \{"code":7,"msg":"boom"\}/);
    assert.deepEqual(box.calls().map((c) => `${c.cmd} ${c.type}`), ['ADD bridge', 'ADD portmap', 'DEL portmap', 'DEL bridge']);
    assert.doesNotMatch(r.stdout, new RegExp(RESULT_MARK));
  });

  test('ADD: a plugin\'s stderr does not end up in the result', () => {
    const box = sandbox('add-stderr', { stderr: ['bridge'] });
    const r = box.run(renderCniAdd(LIST, box.bin, pod));
    assert.equal(r.status, 0, r.stderr);
    const calls = box.calls();
    assert.deepEqual(calls[1]!.conf.prevResult, { cniVersion: '1.0.0', ips: [{ address: '10.244.0.5/24' }], by: 'bridge' });
  });

  test('DEL: reverse order, each plugin given the saved ADD result, netns removed, exit 0', () => {
    const box = sandbox('del');
    const saved = { cniVersion: '1.0.0', ips: [{ address: '10.244.0.5/24' }] };
    mkdirSync(box.results, { recursive: true });
    writeFileSync(join(box.results, `${pod.id}.json`), JSON.stringify(saved));
    const r = box.run(renderCniDel(LIST, box.bin, pod));
    assert.equal(r.status, 0, r.stderr);
    const calls = box.calls();
    assert.deepEqual(calls.map((c) => `${c.cmd} ${c.type}`), ['DEL tuning', 'DEL portmap', 'DEL bridge']);
    for (const c of calls) assert.deepEqual(c.conf.prevResult, saved);
    assert.deepEqual(calls[1]!.conf.runtimeConfig, { portMappings: PM });
    assert.equal(existsSync(join(box.results, `${pod.id}.json`)), false);
  });

  test('DEL without a saved result: no prevResult, still runs every plugin', () => {
    const box = sandbox('del-none');
    const r = box.run(renderCniDel(LIST, box.bin, pod));
    assert.equal(r.status, 0, r.stderr);
    const calls = box.calls();
    assert.equal(calls.length, 3);
    for (const c of calls) assert.equal('prevResult' in c.conf, false);
  });
});

describe('cniAddError: the plugin\'s error object, on one line', () => {
  const cases: [string, string, string | undefined][] = [
    ['pretty-printed JSON error', 'CNI ADD failed in plugin 1 (bridge): {\n    "code": 11,\n    "msg": "failed to allocate for range 0",\n    "details": "no IP addresses available in range set: 10.244.0.1-10.244.0.254"\n}\n', 'CNI ADD failed in plugin 1 (bridge): code 11 failed to allocate for range 0 (no IP addresses available in range set: 10.244.0.1-10.244.0.254)'],
    ['compact JSON without details', 'noise\nCNI ADD failed in plugin 2 (portmap): {"code":7,"msg":"boom"}', 'CNI ADD failed in plugin 2 (portmap): code 7 boom'],
    ['not JSON', 'CNI ADD failed in plugin 1 (bridge): \n', 'CNI ADD failed in plugin 1 (bridge): no output'],
    ['plain text', 'CNI ADD failed in plugin 1 (macvlan): exec format error', 'CNI ADD failed in plugin 1 (macvlan): exec format error'],
    ['no ADD failure', 'the echo service did not start', undefined],
  ];
  for (const [name, stderr, want] of cases) test(name, () => assert.equal(cniAddError(stderr), want));
});
