/**
 * Unit tests for facts/parse.ts (on a captured lab node's output and on small synthetic outputs) and for
 * the facts script of facts/gather.ts (valid sh, and it prints every section the parser reads).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { FILE, SECTION, renderFactsScript } from '../../src/facts/gather.js';
import { FactsParseError, parseFacts, parseIpam, parseNetMgr, parseNft, parseRules, parseRuntimeCni, parseSysctl, parseSysctlFiles, splitSections, type NodeFacts } from '../../src/facts/parse.js';

const FIXTURE = readFileSync(new URL('../fixtures/facts-lab-node.txt', import.meta.url), 'utf8');

/** Facts script output from named section bodies; `end` is appended unless `end: false`. */
function output(sections: Record<string, string>, opts: { end?: boolean; preamble?: string } = {}): string {
  const parts: string[] = [];
  if (opts.preamble !== undefined) parts.push(opts.preamble);
  for (const [name, body] of Object.entries(sections)) parts.push(`${SECTION} ${name}`, body);
  if (opts.end !== false) parts.push(`${SECTION} end`, '');
  return parts.join('\n');
}

function parse(sections: Record<string, string>): NodeFacts {
  return parseFacts(output(sections));
}

function shCheck(script: string): { status: number | null; stderr: string } {
  const r = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

describe('parseFacts: captured lab node', () => {
  const facts = parseFacts(FIXTURE);

  test('meta', () => {
    assert.equal(facts.hostname, 'node-1');
    assert.equal(facts.kernel, '6.18.44-fc-v657');
    assert.equal(facts.os, 'debian 12');
    assert.equal(facts.uid, 0);
    assert.equal(facts.systemd, false);
    assert.equal(facts.iptablesVersion, 'iptables v1.8.9 (nf_tables)');
    // SSH_CONNECTION was empty (the script ran locally): no server address
    assert.equal(facts.sshServerAddress, undefined);
    assert.equal(facts.tools.ip, '/usr/sbin/ip');
    assert.equal(facts.tools['iptables-restore'], '/usr/sbin/iptables-restore');
    assert.equal(facts.tools.ping, '/usr/bin/ping');
  });

  test('links and addresses', () => {
    assert.deepEqual(
      facts.links.map((l) => [l.ifindex, l.ifname, l.mtu, l.kind]),
      [
        [1, 'lo', 65536, undefined],
        [2, 'eth0', 1500, 'veth'],
      ],
    );
    const eth0 = facts.links.find((l) => l.ifname === 'eth0')!;
    assert.equal(eth0.address, '7a:23:e3:f9:ed:6b');
    assert.equal(eth0.operstate, 'UP');
    assert.deepEqual(eth0.flags, ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP']);
    assert.equal(eth0.vxlan, undefined);
    assert.deepEqual(facts.addrs, [
      { ifname: 'lo', family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' },
      { ifname: 'lo', family: 'inet6', local: '::1', prefixlen: 128, scope: 'host' },
      { ifname: 'eth0', family: 'inet', local: '192.0.2.11', prefixlen: 24, scope: 'global' },
      { ifname: 'eth0', family: 'inet6', local: 'fe80::7823:e3ff:fef9:ed6b', prefixlen: 64, scope: 'link', tentative: true },
    ]);
  });

  test('routes, neighbours, fdb', () => {
    assert.equal(facts.routes.length, 1);
    assert.deepEqual(facts.routes[0], { dst: '192.0.2.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '192.0.2.11', flags: [] });
    assert.equal(facts.routes6.length, 1);
    assert.equal(facts.routes6[0]!.dst, 'fe80::/64');
    assert.deepEqual(facts.neigh, []);
    assert.deepEqual(facts.fdb, []);
  });

  test('sysctl (per-interface rp_filter included)', () => {
    assert.equal(facts.sysctl['net.ipv4.ip_forward'], '0');
    assert.equal(facts.sysctl['net.bridge.bridge-nf-call-iptables'], '1');
    assert.equal(facts.sysctl['net.netfilter.nf_conntrack_max'], '262144');
    assert.equal(facts.sysctl['net.ipv4.conf.eth0.rp_filter'], '0');
    assert.equal(facts.sysctl['net.ipv4.conf.lo.rp_filter'], '0');
  });

  test('iptables', () => {
    assert.deepEqual(facts.iptablesFilter, ['-P INPUT ACCEPT', '-P FORWARD ACCEPT', '-P OUTPUT ACCEPT']);
    assert.deepEqual(facts.iptablesNat, ['-P PREROUTING ACCEPT', '-P INPUT ACCEPT', '-P OUTPUT ACCEPT', '-P POSTROUTING ACCEPT']);
    assert.deepEqual(facts.iptablesBackends, { legacy: 0, nft: 0 });
  });

  test('CNI conf and plugins', () => {
    assert.equal(facts.cniConfDir, '/etc/cni/net.d');
    assert.deepEqual(facts.cniConfFiles, []);
    assert.deepEqual(facts.cniBinDirs, ['/usr/lib/cni']);
    assert.equal(facts.plugins.length, 16);
    assert.ok(facts.plugins.every((p) => p.dir === '/usr/lib/cni'));
    const all = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0'];
    for (const name of ['bridge', 'host-local', 'loopback', 'portmap']) {
      assert.deepEqual(facts.plugins.find((p) => p.name === name)?.supportedVersions, all, name);
    }
    for (const name of ['bandwidth', 'dhcp', 'vrf']) {
      const p = facts.plugins.find((x) => x.name === name);
      assert.ok(p, name);
      assert.equal(p.supportedVersions, undefined, name);
    }
  });

  test('files and bridge ports', () => {
    assert.deepEqual(facts.files, {});
    assert.deepEqual(facts.bridgePorts, []);
  });

  test('splitSections sees every section of the fixture', () => {
    assert.deepEqual(
      [...splitSections(FIXTURE).keys()],
      ['meta', 'link', 'addr', 'route', 'route6', 'neigh', 'fdb', 'sysctl', 'iptables-filter', 'iptables-nat', 'iptables-backends', 'cni-conf', 'cni-bin', 'files', 'bridge-ports', 'end'],
    );
  });

  test('the fixture cut before the end section is refused', () => {
    const cut = FIXTURE.slice(0, FIXTURE.indexOf(`${SECTION} end`));
    assert.throws(() => parseFacts(cut), FactsParseError);
  });
});

describe('splitSections', () => {
  const cases: { name: string; text: string; expected: [string, string][] }[] = [
    { name: 'empty output', text: '', expected: [] },
    { name: 'text before the first section is dropped (banners, motd)', text: `Welcome!\n${SECTION} a\nx\n`, expected: [['a', 'x\n']] },
    { name: 'an empty section', text: `${SECTION} a\n${SECTION} b\ny`, expected: [['a', ''], ['b', 'y']] },
    { name: 'trailing spaces in the marker are trimmed', text: `${SECTION} a  \n1\n2`, expected: [['a', '1\n2']] },
    { name: 'a marker not at line start is content', text: `${SECTION} a\nsee ${SECTION} b`, expected: [['a', `see ${SECTION} b`]] },
    { name: 'a marker without a name separator is content', text: `${SECTION} a\n${SECTION}`, expected: [['a', SECTION]] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual([...splitSections(c.text).entries()], c.expected);
    });
  }
});

describe('parseFacts: synthetic outputs', () => {
  test('missing end section → FactsParseError', () => {
    assert.throws(() => parseFacts(output({ meta: 'hostname=x' }, { end: false })), FactsParseError);
    assert.throws(() => parseFacts(''), FactsParseError);
    assert.throws(() => parseFacts('bash: sh: command not found\n'), FactsParseError);
  });

  test('only the end section: empty defaults', () => {
    const f = parse({});
    assert.equal(f.hostname, '');
    assert.equal(f.uid, -1);
    assert.equal(f.systemd, false);
    assert.equal(f.cniConfDir, '/etc/cni/net.d');
    assert.deepEqual(f.links, []);
    assert.deepEqual(f.routes, []);
    assert.deepEqual(f.sysctl, {});
    assert.deepEqual(f.plugins, []);
  });

  test('malformed ip JSON → FactsParseError naming the command', () => {
    assert.throws(() => parse({ link: '[{"ifname":' }), (e: unknown) => e instanceof FactsParseError && /ip link/.test(e.message));
    assert.throws(() => parse({ route: 'Error: something' }), (e: unknown) => e instanceof FactsParseError && /ip route/.test(e.message));
  });

  test('non-array JSON is treated as empty', () => {
    assert.deepEqual(parse({ link: '{}' }).links, []);
  });

  describe('sshServerAddress from ssh_connection=C CP S SP', () => {
    const cases: { value: string; expected: string | undefined }[] = [
      { value: '192.0.2.1 50312 192.0.2.11 22', expected: '192.0.2.11' },
      { value: '2001:db8::1 40000 2001:db8::11 2222', expected: '2001:db8::11' },
      { value: '  198.51.100.7   50312   10.0.0.5   22  ', expected: '10.0.0.5' },
      { value: '', expected: undefined },
      { value: '192.0.2.1 50312', expected: undefined },
    ];
    for (const c of cases) {
      test(JSON.stringify(c.value), () => {
        assert.equal(parse({ meta: `ssh_connection=${c.value}` }).sshServerAddress, c.expected);
      });
    }
  });

  test('meta: systemd, uid, os, tools, values containing "="', () => {
    const f = parse({ meta: ['hostname=h1', 'kernel=5.4.0-150-generic', 'uid=1000', 'systemd=yes', 'os=ubuntu 20.04', 'tool.ip=/sbin/ip', 'weird=a=b'].join('\n') });
    assert.equal(f.hostname, 'h1');
    assert.equal(f.kernel, '5.4.0-150-generic');
    assert.equal(f.uid, 1000);
    assert.equal(f.systemd, true);
    assert.equal(f.os, 'ubuntu 20.04');
    assert.deepEqual(f.tools, { ip: '/sbin/ip' });
  });

  describe('sysctl values', () => {
    const cases: { line: string; key: string; expected: string | undefined }[] = [
      { line: 'net.ipv4.ip_forward=1', key: 'net.ipv4.ip_forward', expected: '1' },
      { line: 'net.bridge.bridge-nf-call-iptables=-', key: 'net.bridge.bridge-nf-call-iptables', expected: '-' },
      { line: 'net.netfilter.nf_conntrack_max=-', key: 'net.netfilter.nf_conntrack_max', expected: '-' },
      { line: 'net.ipv4.conf.podnet.1.rp_filter=2', key: 'net.ipv4.conf.podnet.1.rp_filter', expected: '2' },
      { line: 'net.ipv4.conf.all.rp_filter=', key: 'net.ipv4.conf.all.rp_filter', expected: '' },
      { line: '=1', key: '', expected: undefined },
    ];
    for (const c of cases) {
      test(c.line, () => {
        assert.equal(parse({ sysctl: c.line }).sysctl[c.key], c.expected);
      });
    }
  });

  test('vxlan link details and alias', () => {
    const link = [
      {
        ifindex: 7,
        ifname: 'podnet.1',
        mtu: 1450,
        address: '0e:70:c0:00:02:0b',
        flags: ['BROADCAST', 'UP'],
        ifalias: 'podnet',
        linkinfo: { info_kind: 'vxlan', info_data: { id: 1, port: 8472, local: '192.0.2.11', link: 'eth0', learning: false, ttl: 0 } },
      },
      { ifindex: 8, ifname: 'cni0', mtu: 1450, linkinfo: { info_kind: 'bridge' } },
      { ifindex: 9, ifname: 'veth1', mtu: 1450, master: 'cni0', linkinfo: { info_kind: 'veth' } },
    ];
    const f = parse({ link: JSON.stringify(link) });
    assert.deepEqual(f.links[0], {
      ifindex: 7,
      ifname: 'podnet.1',
      mtu: 1450,
      address: '0e:70:c0:00:02:0b',
      operstate: undefined,
      flags: ['BROADCAST', 'UP'],
      master: undefined,
      alias: 'podnet',
      kind: 'vxlan',
      vxlan: { id: 1, port: 8472, local: '192.0.2.11', link: 'eth0', learning: false },
    });
    assert.equal(f.links[1]!.kind, 'bridge');
    assert.equal(f.links[1]!.vxlan, undefined);
    assert.deepEqual(f.links[1]!.flags, []);
    assert.equal(f.links[2]!.master, 'cni0');
    // An IPv6 local end: iproute2 prints it as "local6".
    const v6 = parse({ link: JSON.stringify([{ ...link[0], linkinfo: { info_kind: 'vxlan', info_data: { id: 1, port: 8472, local6: '2001:db8:a::11', link: 'eth0', learning: false } } }]) });
    assert.equal(v6.links[0]!.vxlan?.local, '2001:db8:a::11');
  });

  test('IPv6 address flags: temporary, deprecated, dynamic, tentative, dadfailed', () => {
    const addr = [{ ifname: 'eth0', addr_info: [{ family: 'inet6', local: '2001:db8::99', prefixlen: 64, scope: 'global', temporary: true, dynamic: true, deprecated: true }, { family: 'inet6', local: '2001:db8::1', prefixlen: 64, scope: 'global' }] }];
    const f = parse({ addr: JSON.stringify(addr) });
    assert.deepEqual(f.addrs, [
      { ifname: 'eth0', family: 'inet6', local: '2001:db8::99', prefixlen: 64, scope: 'global', temporary: true, deprecated: true, dynamic: true },
      { ifname: 'eth0', family: 'inet6', local: '2001:db8::1', prefixlen: 64, scope: 'global' },
    ]);
  });

  test('routes: protocol numbers become strings, missing flags become []', () => {
    const routes = [
      { dst: '10.244.1.0/24', gateway: '192.0.2.12', dev: 'eth0', protocol: 157, flags: [] },
      { dst: '10.244.2.0/24', gateway: '10.244.2.0', dev: 'podnet.1', protocol: 157, flags: ['onlink'] },
      { dst: 'default', gateway: '192.0.2.1', dev: 'eth0', protocol: 'dhcp' },
      { type: 'blackhole', dst: '10.9.0.0/16' },
    ];
    const f = parse({ route: JSON.stringify(routes) });
    assert.deepEqual(
      f.routes.map((r) => [r.dst, r.protocol, r.flags]),
      [
        ['10.244.1.0/24', '157', []],
        ['10.244.2.0/24', '157', ['onlink']],
        ['default', 'dhcp', []],
        ['10.9.0.0/16', undefined, []],
      ],
    );
    assert.equal(f.routes[3]!.type, 'blackhole');
  });

  test('fdb: one line per device, entries attributed to that device', () => {
    const a = [
      { mac: '0e:70:c0:00:02:0c', dst: '192.0.2.12', flags: ['self', 'permanent'] },
      { mac: '0e:70:c0:00:02:0d', dst: '192.0.2.13', flags: ['self', 'permanent'] },
      { mac: '6a:11:22:33:44:55', flags: ['self', 'permanent'] },
    ];
    const b = [{ mac: '00:00:00:00:00:00', dst: '198.51.100.9', flags: ['self', 'permanent'] }];
    const text = [`podnet.1 ${JSON.stringify(a)}`, '', `flannel.1 ${JSON.stringify(b)}`, 'gone-dev ', 'vanished [{"mac":', 'empty []', ''].join('\n');
    const f = parse({ fdb: text });
    assert.deepEqual(f.fdb, [
      { mac: '0e:70:c0:00:02:0c', dev: 'podnet.1', dst: '192.0.2.12' },
      { mac: '0e:70:c0:00:02:0d', dev: 'podnet.1', dst: '192.0.2.13' },
      { mac: '6a:11:22:33:44:55', dev: 'podnet.1', dst: undefined },
      { mac: '00:00:00:00:00:00', dev: 'flannel.1', dst: '198.51.100.9' },
    ]);
  });

  test('neighbours', () => {
    const f = parse({ neigh: JSON.stringify([{ dst: '10.244.1.0', dev: 'podnet.1', lladdr: '0e:70:c0:00:02:0c', state: ['PERMANENT'] }]) });
    assert.deepEqual(f.neigh, [{ dst: '10.244.1.0', dev: 'podnet.1', lladdr: '0e:70:c0:00:02:0c', state: ['PERMANENT'] }]);
  });

  test('iptables: only rule lines, errors and comments dropped', () => {
    const f = parse({
      'iptables-filter': ['# Warning: iptables-legacy tables present, use iptables-legacy to see them', '-P FORWARD DROP', '-N PODNET-FORWARD', '-A FORWARD -j PODNET-FORWARD', '#error', ''].join('\n'),
      'iptables-nat': 'iptables v1.8.7 (legacy): can\'t initialize iptables table `nat\': Permission denied\n#error',
    });
    assert.deepEqual(f.iptablesFilter, ['-P FORWARD DROP', '-N PODNET-FORWARD', '-A FORWARD -j PODNET-FORWARD']);
    assert.deepEqual(f.iptablesNat, []);
  });

  test('iptables backends as numbers', () => {
    assert.deepEqual(parse({ 'iptables-backends': 'legacy=12\nnft=3' }).iptablesBackends, { legacy: 12, nft: 3 });
  });

  test('conf files: contents kept, sorted by name, trailing newlines collapsed', () => {
    const text = [
      'dir=/etc/cni/net.d',
      `${FILE} /etc/cni/net.d/99-loopback.conf`,
      '{"cniVersion":"0.3.1","type":"loopback"}',
      '',
      `${FILE} /etc/cni/net.d/10-podnet.conflist`,
      '{',
      '  "name": "podnet",',
      '',
      '  "dir=": "not a dir line"',
      '}',
      '',
      '',
      `${FILE} /etc/cni/net.d/05-empty.conf`,
      '',
      `${FILE} /etc/cni/net.d/10-flannel.conflist`,
      '{"name":"cbr0"}',
    ].join('\n');
    const f = parse({ 'cni-conf': text });
    assert.equal(f.cniConfDir, '/etc/cni/net.d');
    assert.deepEqual(
      f.cniConfFiles.map((c) => c.name),
      ['05-empty.conf', '10-flannel.conflist', '10-podnet.conflist', '99-loopback.conf'],
    );
    const podnet = f.cniConfFiles.find((c) => c.name === '10-podnet.conflist')!;
    assert.equal(podnet.path, '/etc/cni/net.d/10-podnet.conflist');
    assert.equal(podnet.text, '{\n  "name": "podnet",\n\n  "dir=": "not a dir line"\n}\n');
    assert.equal(f.cniConfFiles.find((c) => c.name === '99-loopback.conf')!.text, '{"cniVersion":"0.3.1","type":"loopback"}\n');
    assert.equal(f.cniConfFiles.find((c) => c.name === '10-flannel.conflist')!.text, '{"name":"cbr0"}\n');
    // The script echoes a newline after every file, so an empty file reads as one newline.
    assert.equal(f.cniConfFiles.find((c) => c.name === '05-empty.conf')!.text, '\n');
  });

  test('conf dir from the section, also when it holds no file', () => {
    assert.equal(parse({ 'cni-conf': 'dir=/var/lib/cni/conf' }).cniConfDir, '/var/lib/cni/conf');
  });

  test('a "dir=" line inside a file is content, not the conf dir', () => {
    const f = parse({ 'cni-conf': ['dir=/etc/cni/net.d', `${FILE} /etc/cni/net.d/a.conf`, 'dir=/elsewhere'].join('\n') });
    assert.equal(f.cniConfDir, '/etc/cni/net.d');
    assert.equal(f.cniConfFiles[0]!.text, 'dir=/elsewhere\n');
  });

  describe('plugins and supportedVersions', () => {
    const cases: { name: string; line: string; expected: { dir: string; name: string; supportedVersions?: string[] } | undefined }[] = [
      {
        name: 'VERSION output',
        line: 'plugin=/opt/cni/bin bridge {"cniVersion":"1.0.0","supportedVersions":["0.3.1","0.4.0","1.0.0"]}',
        expected: { dir: '/opt/cni/bin', name: 'bridge', supportedVersions: ['0.3.1', '0.4.0', '1.0.0'] },
      },
      { name: 'not asked (trailing space)', line: 'plugin=/opt/cni/bin dhcp ', expected: { dir: '/opt/cni/bin', name: 'dhcp', supportedVersions: undefined } },
      { name: 'not asked (no trailing space)', line: 'plugin=/opt/cni/bin dhcp', expected: { dir: '/opt/cni/bin', name: 'dhcp', supportedVersions: undefined } },
      { name: 'garbage VERSION output', line: 'plugin=/opt/cni/bin weird Usage: weird [flags]', expected: { dir: '/opt/cni/bin', name: 'weird', supportedVersions: undefined } },
      { name: 'JSON without supportedVersions', line: 'plugin=/opt/cni/bin old {"cniVersion":"0.2.0"}', expected: { dir: '/opt/cni/bin', name: 'old', supportedVersions: undefined } },
      { name: 'not a plugin line', line: 'dir=/opt/cni/bin', expected: undefined },
    ];
    for (const c of cases) {
      test(c.name, () => {
        assert.deepEqual(parse({ 'cni-bin': c.line }).plugins[0], c.expected);
      });
    }

    test('several bin dirs, plugins keep their dir', () => {
      const f = parse({ 'cni-bin': ['dir=/opt/cni/bin', 'plugin=/opt/cni/bin bridge', 'dir=/usr/lib/cni', 'plugin=/usr/lib/cni bridge', 'plugin=/usr/lib/cni portmap'].join('\n') });
      assert.deepEqual(f.cniBinDirs, ['/opt/cni/bin', '/usr/lib/cni']);
      assert.deepEqual(
        f.plugins.map((p) => `${p.dir}/${p.name}`),
        ['/opt/cni/bin/bridge', '/usr/lib/cni/bridge', '/usr/lib/cni/portmap'],
      );
    });
  });

  test('files: path → sha256', () => {
    const h = 'a'.repeat(64);
    const f = parse({ files: `/etc/podnet/restore.sh ${h}\n/etc/sysctl.d/90-podnet.conf ${'b'.repeat(64)}\nnonsense` });
    assert.deepEqual(f.files, { '/etc/podnet/restore.sh': h, '/etc/sysctl.d/90-podnet.conf': 'b'.repeat(64) });
  });

  test('bridge ports', () => {
    const f = parse({ 'bridge-ports': JSON.stringify([{ ifindex: 9, ifname: 'veth1', master: 'cni0', state: 'forwarding' }, { ifindex: 10, ifname: 'eth1' }]) });
    assert.deepEqual(f.bridgePorts, [{ ifname: 'veth1', master: 'cni0' }, { ifname: 'eth1', master: undefined }]);
  });
});

describe('renderFactsScript', () => {
  const variants: { name: string; script: string }[] = [
    { name: 'defaults', script: renderFactsScript() },
    { name: 'custom dirs', script: renderFactsScript({ cniBinDir: '/opt/my cni/bin', confDir: "/etc/cni/it's here" }) },
  ];
  for (const v of variants) {
    test(`${v.name}: passes sh -n`, () => {
      const r = shCheck(v.script);
      assert.equal(r.status, 0, r.stderr);
    });
  }

  test('prints every section the parser reads, in order, ending with end', () => {
    const parseSource = readFileSync(new URL('../../src/facts/parse.ts', import.meta.url), 'utf8');
    const read = new Set([...parseSource.matchAll(/\bs\.(?:get|has)\('([a-z0-9-]+)'\)/g)].map((m) => m[1]!));
    assert.ok(read.size >= 15, `expected to find the parser's section names, found ${[...read].join(', ')}`);
    const script = renderFactsScript();
    assert.match(script, new RegExp(`^PODNET_SECTION=${SECTION}$`, 'm'));
    assert.match(script, /^section\(\) \{ echo "\$PODNET_SECTION \$1"; \}$/m);
    const printed = [...script.matchAll(/^section (\S+)$/gm)].map((m) => m[1]!);
    for (const name of read) assert.ok(printed.includes(name), `section ${name} is read by the parser but not printed by the script`);
    assert.equal(printed.at(-1), 'end');
    assert.equal(new Set(printed).size, printed.length, 'no section printed twice');
  });

  test('uses the given bin dir only, else probes the candidates', () => {
    assert.match(renderFactsScript(), /^PODNET_CNI_PATH=\/opt\/cni\/bin:\/usr\/lib\/cni:\/usr\/libexec\/cni$/m);
    assert.match(renderFactsScript({ cniBinDir: '/srv/cni' }), /^PODNET_CNI_PATH=\/srv\/cni$/m);
    assert.match(renderFactsScript({ confDir: '/srv/net.d' }), /^PODNET_CONF_DIR=\/srv\/net.d$/m);
    assert.match(renderFactsScript(), /^echo "dir=\$PODNET_CONF_DIR"$/m);
  });

  test('the conf dir line is quoted like every other value', () => {
    const confDir = '/tmp/$(echo injected)`echo x`"';
    const lines = renderFactsScript({ confDir }).split('\n');
    const assignment = lines.find((l) => l.startsWith('PODNET_CONF_DIR='))!;
    const line = lines.find((l) => l.includes('dir=') && !l.includes('$d'))!;
    const r = spawnSync('sh', ['-c', `${assignment}\n${line}`], { encoding: 'utf8' });
    assert.equal(r.stdout, `dir=${confDir}\n`);
  });

  test('a run of the script through a fake shell is parseable once it completes', () => {
    // Only the markers matter to the parser: every marker line of the script, echoed, is a valid output.
    const markers = [...renderFactsScript().matchAll(/^section (\S+)$/gm)].map((m) => `${SECTION} ${m[1]}`);
    const f = parseFacts(`${markers.join('\n')}\n`);
    assert.equal(f.hostname, '');
    assert.deepEqual(f.links, []);
  });
});

describe('sysctl and files sections', () => {
  test('grep -H lines become dotted keys; interface names keep their dots; missing keys read "-"', () => {
    const s = parseSysctl('/proc/sys/net/ipv4/ip_forward:1\n/proc/sys/net/ipv4/conf/eth0.100/rp_filter:2\n/proc/sys/net/netfilter/nf_conntrack_max:262144\n');
    assert.equal(s['net.ipv4.ip_forward'], '1');
    assert.equal(s['net.ipv4.conf.eth0.100.rp_filter'], '2');
    assert.equal(s['net.netfilter.nf_conntrack_max'], '262144');
    assert.equal(s['net.bridge.bridge-nf-call-iptables'], '-', 'br_netfilter not loaded');
  });
  test('the older key=value form still parses', () => {
    assert.equal(parseSysctl('net.ipv4.ip_forward=0\n')['net.ipv4.ip_forward'], '0');
  });
  test('no section: no keys', () => {
    assert.deepEqual(parseSysctl(undefined), {});
  });
  test("files: sha256sum's output and the older PATH HASH form", () => {
    const h = 'a'.repeat(64);
    const f = parse({ files: `${h}  /etc/podnet/restore.sh\n/etc/sysctl.d/90-podnet.conf ${'b'.repeat(64)}\n` });
    assert.deepEqual(f.files, { '/etc/podnet/restore.sh': h, '/etc/sysctl.d/90-podnet.conf': 'b'.repeat(64) });
  });
});

describe('netmgr section', () => {
  test('nothing running: empty', () => {
    assert.deepEqual(parseNetMgr(''), {});
    assert.deepEqual(parseNetMgr(undefined), {});
  });
  test('NetworkManager devices (terse output, escaped colons) and networkd settings (the last one wins)', () => {
    const nm = parseNetMgr('nm=running\nnm.device=eth0:connected\nnm.device=cni0:connected (externally)\nnm.device=odd\\:name:unmanaged\nnetworkd=running\nnetworkd.conf=ManageForeignRoutes=yes\nnetworkd.conf=  ManageForeignRoutes = No\n');
    assert.deepEqual(nm, { networkManager: { eth0: 'connected', cni0: 'connected (externally)', 'odd:name': 'unmanaged' }, networkd: { manageForeignRoutes: 'no' } });
  });
  test('networkd without a setting', () => {
    assert.deepEqual(parseNetMgr('networkd=running\n'), { networkd: {} });
  });
});

describe('sections for the researched failure modes', () => {
  const capture = readFileSync(new URL('../fixtures/facts/flat-up/node-2.txt', import.meta.url), 'utf8');

  test('a captured lab node: rules, runtime, sysctl files, boot time, arch', () => {
    const f = parseFacts(capture);
    assert.deepEqual(f.rules.map((r) => [r.priority, r.table, r.selectors.length]), [[0, 'local', 0], [32766, 'main', 0], [32767, 'default', 0]]);
    assert.deepEqual(f.routeTables, {});
    // containerd is installed; the lab node's /etc/containerd is its own and empty.
    assert.deepEqual(f.runtimeCni, [{ runtime: 'containerd', file: '' }]);
    assert.deepEqual(f.sysctlFiles.settings, [
      { file: '/etc/sysctl.d/90-podnet.conf', key: 'net.ipv4.ip_forward', value: '1' },
      { file: '/etc/sysctl.d/90-podnet.conf', key: 'net.bridge.bridge-nf-call-iptables', value: '1' },
    ]);
    assert.ok(f.sysctlFiles.files.includes('/etc/sysctl.d/90-podnet.conf'));
    assert.ok(f.ipam.bootTime && f.ipam.bootTime > 1.6e9);
    assert.equal(f.arch, 'x86_64');
    assert.deepEqual(f.nftTables, []);
    assert.deepEqual(f.cniCache, []);
  });

  test('rules: selectors podnet does not judge are kept as such; to/from become CIDRs', () => {
    const r = parseRules('[{"priority":100,"src":"all","dst":"10.244.2.0","dstlen":24,"table":"100"},{"priority":5210,"src":"all","fwmark":"0x80000","fwmask":"0xff0000","table":"main"},{"priority":9,"src":"10.0.0.1","action":"prohibit"}]');
    assert.deepEqual(r, [
      { priority: 100, src: undefined, dst: '10.244.2.0/24', table: '100', action: undefined, selectors: [] },
      { priority: 5210, src: undefined, dst: undefined, table: 'main', action: undefined, selectors: ['fwmark', 'fwmask'] },
      { priority: 9, src: '10.0.0.1/32', dst: undefined, table: undefined, action: 'prohibit', selectors: [] },
    ]);
  });

  test('route tables: one line per table', () => {
    const f = parse({ 'route-tables': '52 [{"dst":"default","dev":"tailscale0","flags":[]}]\n100 [{"type":"unreachable","dst":"10.244.2.0/24","flags":[]}]\n' });
    assert.deepEqual(Object.keys(f.routeTables), ['52', '100']);
    assert.equal(f.routeTables['100']![0]!.type, 'unreachable');
  });

  test('ipam: stat and grep lines joined by path; lock files and odd names ignored', () => {
    const ipam = parseIpam('dir=/var/lib/cni/networks\nbtime=1700000000\nprobe.run=abc123\nmtime 1690000000 /var/lib/cni/networks/podnet/10.244.1.5\nmtime 1700000100 /var/lib/cni/networks/podnet/10.244.1.6\n/var/lib/cni/networks/podnet/10.244.1.5:' + 'a'.repeat(64) + '\n/var/lib/cni/networks/podnet/10.244.1.6:pnp-abc123\n/var/lib/cni/networks/podnet/lock:x\n');
    assert.deepEqual(ipam, {
      dataDir: '/var/lib/cni/networks',
      bootTime: 1700000000,
      probeRuns: ['abc123'],
      networks: { podnet: [{ ip: '10.244.1.5', mtime: 1690000000, owner: 'a'.repeat(64) }, { ip: '10.244.1.6', mtime: 1700000100, owner: 'pnp-abc123' }] },
    });
  });

  test('runtime: conf.d counts when imported; comments skipped; CRI-O lists; installed with no settings', () => {
    const rt = parseRuntimeCni(
      'runtime=containerd\nruntime=crio\n/etc/containerd/config.toml:imports = ["/etc/containerd/conf.d/*.toml"]\n/etc/containerd/config.toml:  bin_dir = "/opt/cni/bin"\n/etc/containerd/config.toml:  # conf_dir = "/x"\n/etc/containerd/conf.d/10.toml:  bin_dirs = ["/usr/lib/cni", "/opt/cni/bin"]\n/etc/containerd/conf.d/10.toml:  use_internal_loopback = true\n/etc/crio/crio.conf.d/10-net.conf:plugin_dirs = [ "/usr/libexec/cni", ]\n',
    );
    assert.deepEqual(rt, [
      { runtime: 'containerd', file: '/etc/containerd/conf.d/10.toml', binDirs: ['/usr/lib/cni', '/opt/cni/bin'], binDirLine: 'bin_dirs = ["/usr/lib/cni", "/opt/cni/bin"]', internalLoopback: true },
      { runtime: 'crio', file: '/etc/crio/crio.conf.d/10-net.conf', binDirs: ['/usr/libexec/cni'], binDirLine: 'plugin_dirs = [ "/usr/libexec/cni", ]' },
    ]);
    assert.deepEqual(parseRuntimeCni('runtime=containerd\n'), [{ runtime: 'containerd', file: '' }]);
    // Without an imports line, a file in conf.d is not containerd's configuration.
    assert.deepEqual(parseRuntimeCni('runtime=containerd\n/etc/containerd/config.toml:  bin_dir = "/usr/lib/cni"\n/etc/containerd/conf.d/x.toml:  bin_dir = "/nope"\n')[0]!.binDirs, ['/usr/lib/cni']);
  });

  test('nft: tables with their chains, hooks, policies and rules', () => {
    const t = parseNft('table=inet fw\ntable inet fw {\n\tchain fwd {\n\t\ttype filter hook forward priority filter + 10; policy drop;\n\t\tct state established,related accept\n\t\tjump zone\n\t}\n\n\tchain zone {\n\t\tiifname "cni0" accept\n\t}\n}\ntable=ip nat2\ntable ip nat2 {\n}\n');
    assert.deepEqual(t, [
      { family: 'inet', name: 'fw', chains: [{ name: 'fwd', hook: 'forward', policy: 'drop', rules: ['ct state established,related accept', 'jump zone'] }, { name: 'zone', rules: ['iifname "cni0" accept'] }] },
      { family: 'ip', name: 'nat2', chains: [] },
    ]);
  });

  test('sysctl files: dotted and slash keys, the "-" prefix, values', () => {
    assert.deepEqual(parseSysctlFiles('file=/etc/sysctl.d/50-empty.conf\n/etc/sysctl.conf:net.ipv4.ip_forward=1\n/etc/sysctl.d/99-x.conf:  - net/ipv4/ip_forward = 0\n'), {
      files: ['/etc/sysctl.d/50-empty.conf', '/etc/sysctl.conf', '/etc/sysctl.d/99-x.conf'],
      settings: [
        { file: '/etc/sysctl.conf', key: 'net.ipv4.ip_forward', value: '1' },
        { file: '/etc/sysctl.d/99-x.conf', key: 'net.ipv4.ip_forward', value: '0' },
      ],
    });
  });

  test('plugins: not executable, and asked but silent, are broken', () => {
    const f = parse({ 'cni-bin': 'dir=/opt/cni/bin\nplugin=/opt/cni/bin bridge !noexec\npluginkey=/opt/cni/bin portmap /opt/cni/bin/portmap:1:2:3:4\nplugin=/opt/cni/bin portmap \nplugin=/opt/cni/bin tuning \n' });
    assert.deepEqual(f.plugins.map((p) => [p.name, p.broken]), [['bridge', 'noexec'], ['portmap', 'noversion'], ['tuning', undefined]]);
  });

  test('the facts script itself: every new section is printed', () => {
    const script = renderFactsScript();
    for (const s of ['ip', 'route-tables', 'ipam', 'cni-cache', 'runtime', 'nft', 'sysctl-files']) assert.match(script, new RegExp(`^section ${s}$`, 'm'));
  });
});

describe('the ip section (one ip -batch for links, addresses, routes, neighbours, rules)', () => {
  test('one JSON array per line, in the order asked', () => {
    const f = parse({ ip: '[{"ifindex":1,"ifname":"lo","mtu":65536,"flags":["LOOPBACK"]}]\n[{"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host"}]}]\n[{"dst":"10.0.0.0/24","dev":"eth0","flags":[]}]\n[]\n[{"priority":0,"src":"all","table":"local"}]\n' });
    assert.deepEqual([f.links.length, f.addrs.length, f.routes.length, f.neigh.length, f.rules.length], [1, 1, 1, 0, 1]);
    assert.equal(f.routes[0]!.dst, '10.0.0.0/24');
  });
  test('an answer missing (a question ip could not answer): the node is not read rather than misread', () => {
    assert.throws(() => parse({ ip: '[]\n[]\n[]\n[]\n' }), FactsParseError);
  });
});
