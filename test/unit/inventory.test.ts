/**
 * Unit tests for inventory/schema.ts + inventory/load.ts: defaults and SSH merging, JSON input, and that
 * every bad value (including hostile shell text) is one single-line UserError naming the field.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { loadInventory, parseInventory } from '../../src/inventory/load.js';
import { UserError } from '../../src/util/errors.js';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function baseDoc(): Doc {
  return {
    nodes: [
      { name: 'node-1', address: '192.0.2.11' },
      { name: 'node-2', address: '192.0.2.12' },
    ],
  };
}

function docWith(patch: (d: Doc) => void): string {
  const d = baseDoc();
  patch(d);
  return stringify(d);
}

/** Assert `fn` throws one single-line UserError whose message starts with `prefix` and matches `pattern`. */
function assertUserError(fn: () => unknown, prefix: string, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    assert.equal(err.exitCode, 2);
    assert.ok(!/[\n\r]/.test(err.message), `message must be one line: ${JSON.stringify(err.message)}`);
    assert.ok(err.message.startsWith(prefix), `expected message to start with ${JSON.stringify(prefix)}: ${err.message}`);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

const SSH_DEFAULTS = {
  user: 'root',
  port: 22,
  sudo: false,
  options: [],
  connectTimeout: 10,
  commandTimeout: 120,
  acceptNewHostKeys: false,
};

describe('parseInventory: defaults and resolution', () => {
  test('a minimal inventory gets every default', () => {
    const inv = parseInventory('nodes:\n  - name: node-1\n    address: 192.0.2.11\n', 'inventory.yaml');
    assert.deepEqual(inv, {
      apiVersion: 'podnet/v1alpha1',
      kind: 'Inventory',
      source: 'inventory.yaml',
      cluster: {
        podCIDR: '10.244.0.0/16',
        nodeMaskSize: 24,
        networks: [{ family: 'ipv4', podCIDR: '10.244.0.0/16', nodeMaskSize: 24, masquerade: true }],
        mode: 'auto',
        vxlan: { port: 8472, vni: 1, device: 'podnet.1' },
        bridge: 'cni0',
        masquerade: true,
      },
      ssh: {},
      nodes: [{ name: 'node-1', address: '192.0.2.11', ips: {}, podCIDRs: {}, ssh: SSH_DEFAULTS }],
    });
  });

  test('the documented full example parses', () => {
    const text = `
apiVersion: podnet/v1alpha1   # optional
kind: Inventory
cluster:
  podCIDR: 10.244.0.0/16
  nodeMaskSize: 24
  serviceCIDR: 10.96.0.0/12
  mode: vxlan
  vxlan: { port: 4789, vni: 42, device: podnet.42 }
  mtu: 1450
  cniBinDir: /opt/cni/bin
  bridge: cni0
  masquerade: false
ssh:
  user: ubuntu
  port: 2222
  identityFile: ~/.ssh/id_ed25519
  sudo: true
  options: ["ConnectTimeout=5", "ServerAliveInterval=10"]
  connectTimeout: 15
  commandTimeout: 600
  acceptNewHostKeys: false
nodes:
  - name: node-1
    address: 192.0.2.11
    ip: 192.0.2.11
    podCIDR: 10.244.5.0/24
  - name: node-2
    address: node-2.example.com
    ip: 198.51.100.12
    ssh: { user: admin, options: ["Compression=yes"] }
`;
    // These paths do not exist here: the file checks have their own tests.
    const inv = parseInventory(text, 'inventory.yaml', { checkFiles: false });
    assert.deepEqual(inv.cluster, {
      podCIDR: '10.244.0.0/16',
      nodeMaskSize: 24,
      serviceCIDR: '10.96.0.0/12',
      networks: [{ family: 'ipv4', podCIDR: '10.244.0.0/16', nodeMaskSize: 24, serviceCIDR: '10.96.0.0/12', masquerade: false }],
      mode: 'vxlan',
      vxlan: { port: 4789, vni: 42, device: 'podnet.42' },
      mtu: 1450,
      cniBinDir: '/opt/cni/bin',
      bridge: 'cni0',
      masquerade: false,
    });
    const top = {
      user: 'ubuntu',
      port: 2222,
      identityFile: '~/.ssh/id_ed25519',
      sudo: true,
      options: ['ConnectTimeout=5', 'ServerAliveInterval=10'],
      connectTimeout: 15,
      commandTimeout: 600,
      acceptNewHostKeys: false,
    };
    assert.deepEqual(inv.ssh, top);
    // resolved: ~ expanded (the paths reach ssh without a shell)
    const resolved = { ...top, identityFile: `${homedir()}/.ssh/id_ed25519` };
    assert.deepEqual(inv.nodes, [
      { name: 'node-1', address: '192.0.2.11', ip: '192.0.2.11', ips: { ipv4: '192.0.2.11' }, podCIDR: '10.244.5.0/24', podCIDRs: { ipv4: '10.244.5.0/24' }, ssh: resolved },
      // per-node keys win; a per-node options list replaces the top-level one
      { name: 'node-2', address: 'node-2.example.com', ip: '198.51.100.12', ips: { ipv4: '198.51.100.12' }, podCIDRs: {}, ssh: { ...resolved, user: 'admin', options: ['Compression=yes'] } },
    ]);
  });

  test('per-node ssh overrides only the keys it sets', () => {
    const inv = parseInventory(
      docWith((d) => {
        d.ssh = { user: 'ops', sudo: true, identityFile: '/keys/ops' };
        d.nodes[1].ssh = { port: 2200, sudo: false };
      }),
      'inv',
      { checkFiles: false },
    );
    assert.deepEqual(inv.nodes[0]!.ssh, { ...SSH_DEFAULTS, user: 'ops', sudo: true, identityFile: '/keys/ops' });
    assert.deepEqual(inv.nodes[1]!.ssh, { ...SSH_DEFAULTS, user: 'ops', sudo: false, port: 2200, identityFile: '/keys/ops' });
  });

  test('resolved nodes do not share the options array', () => {
    const inv = parseInventory(docWith((d) => (d.ssh = { options: ['ConnectTimeout=5'] })), 'inv');
    inv.nodes[0]!.ssh.options.push('X=1');
    assert.deepEqual(inv.nodes[1]!.ssh.options, ['ConnectTimeout=5']);
  });

  test('JSON input is accepted', () => {
    const json = JSON.stringify({
      apiVersion: 'podnet/v1alpha1',
      kind: 'Inventory',
      cluster: { podCIDR: '10.32.0.0/12', nodeMaskSize: 26 },
      nodes: [{ name: 'a', address: '192.0.2.1' }],
    }, null, 2);
    const inv = parseInventory(json, 'inventory.json');
    assert.equal(inv.cluster.podCIDR, '10.32.0.0/12');
    assert.equal(inv.cluster.nodeMaskSize, 26);
    assert.equal(inv.nodes[0]!.name, 'a');
    assert.equal(inv.source, 'inventory.json');
  });

  test('empty sections (only comments under them) count as absent', () => {
    const inv = parseInventory('cluster:\n  # nothing yet\nssh:\nnodes:\n  - name: a\n    address: h1\n    ssh:\n', 'inv');
    assert.equal(inv.cluster.podCIDR, '10.244.0.0/16');
    assert.deepEqual(inv.nodes[0]!.ssh, SSH_DEFAULTS);
  });

  test('IPv6 pod CIDR defaults nodeMaskSize to 64 and normalizes addresses', () => {
    const inv = parseInventory(
      stringify({
        cluster: { podCIDR: 'FD00:10:244::/48' },
        nodes: [{ name: 'a', address: '2001:DB8:0:0::11', ip: '2001:db8:0:0:0:0:0:11', podCIDR: 'fd00:10:244:7::/64' }],
      }),
      'inv',
    );
    assert.equal(inv.cluster.podCIDR, 'fd00:10:244::/48');
    assert.equal(inv.cluster.nodeMaskSize, 64);
    assert.deepEqual(
      { address: inv.nodes[0]!.address, ip: inv.nodes[0]!.ip, podCIDR: inv.nodes[0]!.podCIDR },
      { address: '2001:db8::11', ip: '2001:db8::11', podCIDR: 'fd00:10:244:7::/64' },
    );
  });

  test('hostnames are accepted as addresses and may sit next to IP literals', () => {
    const inv = parseInventory(docWith((d) => d.nodes.push({ name: 'node-3', address: 'node-3.lab.example' })), 'inv');
    assert.equal(inv.nodes[2]!.address, 'node-3.lab.example');
  });

  test('a cluster CIDR exactly as large as the node count is fine', () => {
    const inv = parseInventory(docWith((d) => (d.cluster = { podCIDR: '10.244.0.0/23', nodeMaskSize: 24 })), 'inv');
    assert.equal(inv.nodes.length, 2);
  });
});

describe('parseInventory: malformed YAML', () => {
  const cases: { name: string; text: string; pattern: RegExp }[] = [
    { name: 'unclosed flow sequence', text: 'nodes: [1, 2\nfoo: 3\n', pattern: /^inventory\.yaml: malformed YAML at line \d+: / },
    { name: 'tab indentation', text: 'nodes:\n\t- name: a\n', pattern: /^inventory\.yaml: malformed YAML at line 2: / },
    { name: 'duplicate key', text: 'nodes: []\nnodes: []\n', pattern: /^inventory\.yaml: malformed YAML at line 2: Map keys must be unique/ },
    { name: 'several documents', text: 'nodes: []\n---\nnodes: []\n', pattern: /^inventory\.yaml: malformed YAML.*multiple documents/ },
    { name: 'unresolved alias', text: 'nodes: *missing\n', pattern: /^inventory\.yaml: malformed YAML/ },
    { name: 'unterminated quote', text: 'nodes:\n  - name: "a\n', pattern: /^inventory\.yaml: malformed YAML/ },
  ];
  for (const c of cases) {
    test(c.name, () => assertUserError(() => parseInventory(c.text, 'inventory.yaml'), 'inventory.yaml: malformed YAML', c.pattern));
  }

  const notInventories: { name: string; text: string; pattern: RegExp }[] = [
    { name: 'empty file', text: '', pattern: /is empty/ },
    { name: 'only comments', text: '# nothing\n', pattern: /is empty/ },
    { name: 'a list', text: '- a\n- b\n', pattern: /^inventory\.yaml: a list is not a valid inventory; expected a mapping/ },
    { name: 'a scalar', text: 'hello\n', pattern: /^inventory\.yaml: "hello" is not a valid inventory/ },
  ];
  for (const c of notInventories) {
    test(c.name, () => assertUserError(() => parseInventory(c.text, 'inventory.yaml'), 'inventory.yaml: ', c.pattern));
  }
});

describe('parseInventory: schema errors name the field', () => {
  const cases: { name: string; patch: (d: Doc) => void; prefix: string; pattern?: RegExp }[] = [
    // top level
    { name: 'wrong apiVersion', patch: (d) => (d.apiVersion = 'podnet/v1'), prefix: 'apiVersion: "podnet/v1" is not a valid apiVersion; expected podnet/v1alpha1' },
    { name: 'wrong kind', patch: (d) => (d.kind = 'Cluster'), prefix: 'kind: "Cluster"', pattern: /expected Inventory$/ },
    { name: 'unknown top-level key', patch: (d) => (d.foo = 1), prefix: 'unknown key "foo" at the top level; expected one of: apiVersion, kind, cluster, ssh, kube, nodes' },
    { name: 'several unknown keys', patch: (d) => Object.assign(d, { a: 1, b: 2 }), prefix: 'unknown keys "a", "b" at the top level' },
    { name: '__proto__ key', patch: (d) => Object.defineProperty(d, '__proto__', { value: { x: 1 }, enumerable: true }), prefix: 'unknown key "__proto__"' },
    { name: 'cluster not a mapping', patch: (d) => (d.cluster = 'big'), prefix: 'cluster: "big" is not a valid cluster settings; expected a mapping' },
    // cluster
    { name: 'unknown key in cluster', patch: (d) => (d.cluster = { foo: 1 }), prefix: 'unknown key "foo" in cluster; expected one of: podCIDR,' },
    { name: 'camelCase typo in cluster', patch: (d) => (d.cluster = { podCidr: '10.0.0.0/16' }), prefix: 'unknown key "podCidr" in cluster' },
    { name: 'podCIDR host bits', patch: (d) => (d.cluster = { podCIDR: '10.244.1.5/16' }), prefix: 'cluster.podCIDR: "10.244.1.5/16" is not a valid CIDR; expected a network such as 10.244.0.0/16' },
    { name: 'podCIDR not a CIDR', patch: (d) => (d.cluster = { podCIDR: '10.244.0.0' }), prefix: 'cluster.podCIDR: "10.244.0.0" is not a valid CIDR' },
    { name: 'podCIDR number', patch: (d) => (d.cluster = { podCIDR: 10 }), prefix: 'cluster.podCIDR: 10 is not a valid CIDR' },
    { name: 'nodeMaskSize fraction', patch: (d) => (d.cluster = { nodeMaskSize: 24.5 }), prefix: 'cluster.nodeMaskSize: 24.5 is not a valid node mask size' },
    { name: 'nodeMaskSize string', patch: (d) => (d.cluster = { nodeMaskSize: '24' }), prefix: 'cluster.nodeMaskSize: "24" is not a valid node mask size' },
    { name: 'nodeMaskSize too long for IPv4', patch: (d) => (d.cluster = { nodeMaskSize: 31 }), prefix: 'cluster.nodeMaskSize: 31 does not fit cluster.podCIDR 10.244.0.0/16; expected an integer from 17 to 30' },
    { name: 'nodeMaskSize not longer than podCIDR prefix', patch: (d) => (d.cluster = { podCIDR: '10.244.0.0/24', nodeMaskSize: 24 }), prefix: 'cluster.nodeMaskSize: 24 does not fit' },
    { name: 'nodeMaskSize too long for IPv6', patch: (d) => (d.cluster = { podCIDR: 'fd00:10::/48', nodeMaskSize: 127 }), prefix: 'cluster.nodeMaskSize: 127 does not fit', pattern: /from 49 to 64 \(at most 16 bits longer than the cluster prefix/ },
    { name: 'default nodeMaskSize does not fit a small podCIDR', patch: (d) => (d.cluster = { podCIDR: '10.244.0.0/24' }), prefix: 'cluster.nodeMaskSize: 24 does not fit cluster.podCIDR 10.244.0.0/24' },
    { name: 'serviceCIDR invalid', patch: (d) => (d.cluster = { serviceCIDR: '10.96.0.0/40' }), prefix: 'cluster.serviceCIDR: "10.96.0.0/40" is not a valid CIDR; expected a network such as 10.96.0.0/12' },
    { name: 'serviceCIDR overlaps podCIDR', patch: (d) => (d.cluster = { podCIDR: '10.0.0.0/8', serviceCIDR: '10.96.0.0/12' }), prefix: 'cluster.serviceCIDR: 10.96.0.0/12 overlaps cluster.podCIDR 10.0.0.0/8' },
    { name: 'serviceCIDR other family', patch: (d) => (d.cluster = { serviceCIDR: 'fd00:96::/108' }), prefix: 'cluster.serviceCIDR: fd00:96::/108 is IPv6 but cluster.podCIDR has no IPv6 CIDR (10.244.0.0/16)' },
    { name: 'mode unknown', patch: (d) => (d.cluster = { mode: 'bgp' }), prefix: 'cluster.mode: "bgp" is not a valid mode; expected auto, host-gw, vxlan' },
    { name: 'vxlan port 0', patch: (d) => (d.cluster = { vxlan: { port: 0 } }), prefix: 'cluster.vxlan.port: 0 is not a valid VXLAN port; expected an integer from 1 to 65535' },
    { name: 'vxlan port too big', patch: (d) => (d.cluster = { vxlan: { port: 65536 } }), prefix: 'cluster.vxlan.port: 65536' },
    { name: 'vxlan vni 0', patch: (d) => (d.cluster = { vxlan: { vni: 0 } }), prefix: 'cluster.vxlan.vni: 0 is not a valid VXLAN VNI; expected an integer from 1 to 16777215' },
    { name: 'vxlan vni too big', patch: (d) => (d.cluster = { vxlan: { vni: 16777216 } }), prefix: 'cluster.vxlan.vni: 16777216' },
    { name: 'vxlan device too long', patch: (d) => (d.cluster = { vxlan: { device: 'a234567890123456' } }), prefix: 'cluster.vxlan.device: "a234567890123456" is not a valid interface name' },
    { name: 'unknown key in vxlan', patch: (d) => (d.cluster = { vxlan: { id: 1 } }), prefix: 'unknown key "id" in cluster.vxlan' },
    { name: 'mtu too small', patch: (d) => (d.cluster = { mtu: 575 }), prefix: 'cluster.mtu: 575 is not a valid MTU; expected an integer from 576 to 9000' },
    { name: 'mtu too big', patch: (d) => (d.cluster = { mtu: 9001 }), prefix: 'cluster.mtu: 9001' },
    { name: 'mtu too small for IPv6', patch: (d) => { d.cluster = { podCIDR: 'fd00:10::/48', mtu: 1200 }; d.nodes = [{ name: 'a', address: 'h' }]; }, prefix: 'cluster.mtu: 1200 is too small for an IPv6 pod network' },
    { name: 'cniBinDir relative', patch: (d) => (d.cluster = { cniBinDir: 'opt/cni/bin' }), prefix: 'cluster.cniBinDir: "opt/cni/bin" is not a valid CNI binary directory; expected an absolute path' },
    { name: 'cniBinDir with ..', patch: (d) => (d.cluster = { cniBinDir: '/opt/../etc' }), prefix: 'cluster.cniBinDir: "/opt/../etc"' },
    { name: 'bridge with a space', patch: (d) => (d.cluster = { bridge: 'cni 0' }), prefix: 'cluster.bridge: "cni 0" is not a valid interface name; expected 1-15 characters [A-Za-z0-9_.-] starting with a letter' },
    { name: 'bridge starting with a digit', patch: (d) => (d.cluster = { bridge: '0cni' }), prefix: 'cluster.bridge: "0cni"' },
    { name: 'bridge empty', patch: (d) => (d.cluster = { bridge: '' }), prefix: 'cluster.bridge: "" is not a valid interface name' },
    { name: 'masquerade string', patch: (d) => (d.cluster = { masquerade: 'yes' }), prefix: 'cluster.masquerade: "yes" is not a valid masquerade setting; expected true or false' },
    // ssh (top level)
    { name: 'ssh not a mapping', patch: (d) => (d.ssh = ['root']), prefix: 'ssh: a list is not a valid ssh settings' },
    { name: 'unknown key in ssh', patch: (d) => (d.ssh = { password: 'x' }), prefix: 'unknown key "password" in ssh; expected one of: user, port,' },
    { name: 'ssh user upper case', patch: (d) => (d.ssh = { user: 'Root' }), prefix: 'ssh.user: "Root" is not a valid ssh user' },
    { name: 'ssh user too long', patch: (d) => (d.ssh = { user: 'a'.repeat(33) }), prefix: 'ssh.user: "aaaa' },
    { name: 'ssh port string', patch: (d) => (d.ssh = { port: '22' }), prefix: 'ssh.port: "22" is not a valid port; expected an integer from 1 to 65535' },
    { name: 'ssh port 0', patch: (d) => (d.ssh = { port: 0 }), prefix: 'ssh.port: 0' },
    { name: 'ssh port too big', patch: (d) => (d.ssh = { port: 70000 }), prefix: 'ssh.port: 70000' },
    { name: 'identityFile with a space', patch: (d) => (d.ssh = { identityFile: '~/my key' }), prefix: 'ssh.identityFile: "~/my key" is not a valid identity file' },
    { name: 'identityFile like an option', patch: (d) => (d.ssh = { identityFile: '-oProxyCommand=x' }), prefix: 'ssh.identityFile: "-oProxyCommand=x"' },
    { name: 'configFile from an inventory', patch: (d) => (d.ssh = { configFile: './ssh_config' }), prefix: 'ssh.configFile: an ssh_config file is not accepted from an inventory (it can run programs and choose which host keys count); expected --ssh-config FILE' },
    { name: 'configFile of one node', patch: (d) => (d.nodes[1].ssh = { configFile: '/etc/ssh/ssh_config' }), prefix: 'nodes[1].ssh.configFile: an ssh_config file is not accepted from an inventory' },
    { name: 'acceptNewHostKeys true from an inventory', patch: (d) => (d.ssh = { acceptNewHostKeys: true }), prefix: 'ssh.acceptNewHostKeys: true is not accepted from an inventory (it would trust first-seen host keys for whoever runs it); expected the --accept-new-host-keys flag' },
    { name: 'sudo string', patch: (d) => (d.ssh = { sudo: 'true' }), prefix: 'ssh.sudo: "true" is not a valid sudo setting; expected true or false' },
    { name: 'options not a list', patch: (d) => (d.ssh = { options: 'ConnectTimeout=5' }), prefix: 'ssh.options: "ConnectTimeout=5" is not a valid ssh option list' },
    { name: 'option without =', patch: (d) => (d.ssh = { options: ['ConnectTimeout=5', 'Compression'] }), prefix: 'ssh.options[1]: "Compression" is not a valid ssh option' },
    { name: 'option with a space', patch: (d) => (d.ssh = { options: ['ProxyCommand=nc %h 22'] }), prefix: 'ssh.options[0]: "ProxyCommand=nc %h 22"' },
    { name: 'option like a flag', patch: (d) => (d.ssh = { options: ['-oFoo=bar'] }), prefix: 'ssh.options[0]: "-oFoo=bar"' },
    { name: 'connectTimeout 0', patch: (d) => (d.ssh = { connectTimeout: 0 }), prefix: 'ssh.connectTimeout: 0 is not a valid connect timeout (seconds); expected an integer from 1 to 300' },
    { name: 'connectTimeout too long', patch: (d) => (d.ssh = { connectTimeout: 301 }), prefix: 'ssh.connectTimeout: 301' },
    { name: 'commandTimeout too long', patch: (d) => (d.ssh = { commandTimeout: 3601 }), prefix: 'ssh.commandTimeout: 3601 is not a valid command timeout (seconds); expected an integer from 1 to 3600' },
    { name: 'acceptNewHostKeys number', patch: (d) => (d.ssh = { acceptNewHostKeys: 1 }), prefix: 'ssh.acceptNewHostKeys: 1 is not a valid acceptNewHostKeys setting' },
    // nodes
    { name: 'nodes missing', patch: (d) => delete d.nodes, prefix: 'nodes: missing; expected a list of at least one node' },
    { name: 'nodes empty', patch: (d) => (d.nodes = []), prefix: 'nodes: an empty list is not a valid node list; expected a list of at least one node' },
    { name: 'nodes a mapping', patch: (d) => (d.nodes = { 'node-1': {} }), prefix: 'nodes: a mapping is not a valid node list' },
    { name: 'node a string', patch: (d) => (d.nodes[1] = 'node-2'), prefix: 'nodes[1]: "node-2" is not a valid node; expected a mapping with keys name, address' },
    { name: 'unknown key in a node', patch: (d) => (d.nodes[1].role = 'master'), prefix: 'unknown key "role" in nodes[1]' },
    { name: 'unknown key in a node ssh', patch: (d) => (d.nodes[0].ssh = { host: 'x' }), prefix: 'unknown key "host" in nodes[0].ssh' },
    { name: 'node name missing', patch: (d) => delete d.nodes[1].name, prefix: 'nodes[1].name: missing; expected a Kubernetes node name' },
    { name: 'node name upper case', patch: (d) => (d.nodes[0].name = 'Node-1'), prefix: 'nodes[0].name: "Node-1" is not a valid node name; expected a Kubernetes node name' },
    { name: 'node name with underscore', patch: (d) => (d.nodes[0].name = 'node_1'), prefix: 'nodes[0].name: "node_1"' },
    { name: 'node name leading dash', patch: (d) => (d.nodes[0].name = '-node'), prefix: 'nodes[0].name: "-node"' },
    { name: 'node name trailing dash', patch: (d) => (d.nodes[0].name = 'node-'), prefix: 'nodes[0].name: "node-"' },
    { name: 'node name with an empty label', patch: (d) => (d.nodes[0].name = 'node..1'), prefix: 'nodes[0].name: "node..1"' },
    { name: 'node name 64 chars', patch: (d) => (d.nodes[0].name = 'a'.repeat(64)), prefix: 'nodes[0].name: "aaaa' },
    { name: 'node name number', patch: (d) => (d.nodes[0].name = 1), prefix: 'nodes[0].name: 1 is not a valid node name' },
    { name: 'address missing', patch: (d) => delete d.nodes[0].address, prefix: 'nodes[0].address: missing; expected an IP address or a hostname' },
    { name: 'address a bad IP', patch: (d) => (d.nodes[0].address = '999.1.1.1'), prefix: 'nodes[0].address: "999.1.1.1" is not a valid address' },
    { name: 'address with empty label', patch: (d) => (d.nodes[0].address = 'a..example'), prefix: 'nodes[0].address: "a..example"' },
    { name: 'address with a zone id', patch: (d) => (d.nodes[0].address = 'fe80::1%eth0'), prefix: 'nodes[0].address: "fe80::1%eth0"' },
    { name: 'address with a port', patch: (d) => (d.nodes[0].address = '192.0.2.11:22'), prefix: 'nodes[0].address: "192.0.2.11:22"' },
    { name: 'address like an option', patch: (d) => (d.nodes[0].address = '-oProxyCommand=x'), prefix: 'nodes[0].address: "-oProxyCommand=x"' },
    { name: 'user@host address', patch: (d) => (d.nodes[0].address = 'root@192.0.2.11'), prefix: 'nodes[0].address: "root@192.0.2.11"' },
    { name: 'ip is a hostname', patch: (d) => (d.nodes[0].ip = 'node-1.example.com'), prefix: 'nodes[0].ip: "node-1.example.com" is not a valid IP address; expected an IPv4 or IPv6 address' },
    { name: 'ip with a prefix', patch: (d) => (d.nodes[0].ip = '192.0.2.11/24'), prefix: 'nodes[0].ip: "192.0.2.11/24"' },
    { name: 'node podCIDR prefix too long', patch: (d) => (d.nodes[1].podCIDR = '10.1.0.0/33'), prefix: 'nodes[1].podCIDR: "10.1.0.0/33" is not a valid CIDR; expected a network such as 10.244.3.0/24' },
    { name: 'node ssh port', patch: (d) => (d.nodes[1].ssh = { port: -1 }), prefix: 'nodes[1].ssh.port: -1 is not a valid port' },
    { name: 'node ssh options item', patch: (d) => (d.nodes[1].ssh = { options: ['Port=1', 'Compression=no', 'C=$x'] }), prefix: 'nodes[1].ssh.options[2]: "C=$x"' },
    // special-purpose ranges (both families) as pod or service networks
    { name: 'loopback pod CIDR', patch: (d) => (d.cluster = { podCIDR: '127.0.0.0/8' }), prefix: 'cluster.podCIDR: 127.0.0.0/8 is inside 127.0.0.0/8, loopback (RFC 1122); expected a private range such as 10.244.0.0/16' },
    { name: 'multicast pod CIDR', patch: (d) => (d.cluster = { podCIDR: '224.0.0.0/16' }), prefix: 'cluster.podCIDR: 224.0.0.0/16 is inside 224.0.0.0/4, multicast' },
    { name: 'pod CIDR around a reserved range', patch: (d) => (d.cluster = { podCIDR: '168.0.0.0/6', nodeMaskSize: 24 }), prefix: 'cluster.podCIDR: 168.0.0.0/6 overlaps 169.254.0.0/16, link-local' },
    { name: 'class E pod CIDR', patch: (d) => (d.cluster = { podCIDR: '240.0.0.0/16' }), prefix: 'cluster.podCIDR: 240.0.0.0/16 is inside 240.0.0.0/4' },
    { name: 'documentation pod CIDR', patch: (d) => (d.cluster = { podCIDR: '203.0.113.0/24', nodeMaskSize: 26 }), prefix: 'cluster.podCIDR: 203.0.113.0/24 is inside 203.0.113.0/24, documentation' },
    { name: 'this-network service CIDR', patch: (d) => (d.cluster = { serviceCIDR: '0.0.0.0/12' }), prefix: 'cluster.serviceCIDR: 0.0.0.0/12 is inside 0.0.0.0/8' },
    { name: 'link-local service CIDR', patch: (d) => (d.cluster = { serviceCIDR: '169.254.0.0/16' }), prefix: 'cluster.serviceCIDR: 169.254.0.0/16 is inside 169.254.0.0/16' },
    { name: 'IPv6 link-local pod CIDR', patch: (d) => { d.cluster = { podCIDR: 'fe80::/48' }; d.nodes = [{ name: 'a', address: 'h' }]; }, prefix: 'cluster.podCIDR: fe80::/48 is inside fe80::/10, link-local unicast (RFC 4291); expected a private range such as fd00:10:244::/56' },
    { name: 'IPv6 multicast pod CIDR', patch: (d) => { d.cluster = { podCIDR: 'ff02::/48' }; d.nodes = [{ name: 'a', address: 'h' }]; }, prefix: 'cluster.podCIDR: ff02::/48 is inside ff00::/8' },
    { name: 'IPv6 documentation pod CIDR', patch: (d) => { d.cluster = { podCIDR: '2001:db8:1::/48' }; d.nodes = [{ name: 'a', address: 'h' }]; }, prefix: 'cluster.podCIDR: 2001:db8:1::/48 is inside 2001:db8::/32' },
    { name: 'IPv4-mapped pod CIDR', patch: (d) => { d.cluster = { podCIDR: '::ffff:10.0.0.0/104' }; d.nodes = [{ name: 'a', address: 'h' }]; }, prefix: 'cluster.podCIDR: ::ffff:a00:0/104 is inside ::ffff:0:0/96' },
    { name: 'NAT64 pod CIDR', patch: (d) => { d.cluster = { podCIDR: '64:ff9b::/96', nodeMaskSize: 112 }; d.nodes = [{ name: 'a', address: 'h' }]; }, prefix: 'cluster.podCIDR: 64:ff9b::/96 is inside 64:ff9b::/96' },
    // ssh options that run local programs, weaken host-key checks, or are podnet's own: refused by name
    { name: 'ProxyCommand', patch: (d) => (d.ssh = { options: ['ProxyCommand=touch%h'] }), prefix: 'ssh.options[0]: "ProxyCommand=touch%h": ProxyCommand can run programs on this machine', pattern: /ssh_config/ },
    { name: 'LocalCommand', patch: (d) => (d.ssh = { options: ['PermitLocalCommand=yes', 'LocalCommand=id'] }), prefix: 'ssh.options[0]: "PermitLocalCommand=yes": PermitLocalCommand can run programs' },
    { name: 'KnownHostsCommand', patch: (d) => (d.nodes[0].ssh = { options: ['KnownHostsCommand=/bin/true'] }), prefix: 'nodes[0].ssh.options[0]: "KnownHostsCommand=/bin/true": KnownHostsCommand can run programs' },
    { name: 'PKCS11Provider loads a library', patch: (d) => (d.ssh = { options: ['PKCS11Provider=/tmp/x.so'] }), prefix: 'ssh.options[0]: "PKCS11Provider=/tmp/x.so": PKCS11Provider can run programs' },
    { name: 'ControlPath', patch: (d) => (d.ssh = { options: ['ControlPath=/tmp/m'] }), prefix: 'ssh.options[0]: "ControlPath=/tmp/m": ControlPath can run programs' },
    { name: 'StrictHostKeyChecking=no', patch: (d) => (d.ssh = { options: ['StrictHostKeyChecking=no'] }), prefix: 'ssh.options[0]: "StrictHostKeyChecking=no": StrictHostKeyChecking can weaken host-key verification' },
    { name: 'case does not matter', patch: (d) => (d.ssh = { options: ['stricthostkeychecking=no'] }), prefix: 'ssh.options[0]: "stricthostkeychecking=no": stricthostkeychecking can weaken host-key verification' },
    { name: 'UserKnownHostsFile', patch: (d) => (d.ssh = { options: ['UserKnownHostsFile=/dev/null'] }), prefix: 'ssh.options[0]: "UserKnownHostsFile=/dev/null": UserKnownHostsFile can weaken' },
    { name: 'HostKeyAlias', patch: (d) => (d.ssh = { options: ['HostKeyAlias=other'] }), prefix: 'ssh.options[0]: "HostKeyAlias=other": HostKeyAlias can weaken' },
    { name: 'HostName', patch: (d) => (d.ssh = { options: ['HostName=192.0.2.99'] }), prefix: 'ssh.options[0]: "HostName=192.0.2.99": HostName is not accepted here; expected the node\'s address in nodes[].address' },
    { name: 'BatchMode is podnet\'s', patch: (d) => (d.ssh = { options: ['BatchMode=no'] }), prefix: 'ssh.options[0]: "BatchMode=no": BatchMode is set by podnet itself' },
    { name: 'unknown option', patch: (d) => (d.ssh = { options: ['ForwardAgent=yes'] }), prefix: 'ssh.options[0]: "ForwardAgent=yes": ForwardAgent is not an ssh option podnet accepts from an inventory; expected one of: AddressFamily,' },
    { name: 'ProxyJump to an option', patch: (d) => (d.ssh = { options: ['ProxyJump=-oProxyCommand=x'] }), prefix: 'ssh.options[0]: "ProxyJump=-oProxyCommand=x": ProxyJump value "-oProxyCommand=x" is not a list of [user@]host[:port]' },
  ];
  for (const c of cases) {
    test(c.name, () => assertUserError(() => parseInventory(docWith(c.patch), 'inventory.yaml', { checkFiles: false }), c.prefix, c.pattern));
  }

  test('the hint names the file', () => {
    assert.throws(
      () => parseInventory(docWith((d) => (d.ssh = { port: 0 })), 'lab/inventory.yaml'),
      (err: unknown) => err instanceof UserError && err.hint !== undefined && err.hint.includes('lab/inventory.yaml'),
    );
  });

  test('long values are cut in messages', () => {
    assert.throws(
      () => parseInventory(docWith((d) => (d.nodes[0].name = 'x'.repeat(500))), 'inv'),
      (err: unknown) => err instanceof UserError && err.message.length < 250 && err.message.includes('...'),
    );
  });
});

describe('parseInventory: hostile values are rejected by the patterns', () => {
  const hostile = ['$(reboot)', '; rm -rf /', '`reboot`', '"x"', "'x'", 'a\nb', 'a b', 'a|b', 'a&&b', 'a>b', '*', 'a\\b', 'a\tb', 'a\u0000b', 'a\u202eb'];
  const fields: { field: string; set: (d: Doc, v: string) => void }[] = [
    { field: 'nodes[0].name', set: (d, v) => (d.nodes[0].name = `n${v}`) },
    { field: 'nodes[0].address', set: (d, v) => (d.nodes[0].address = `h${v}`) },
    { field: 'nodes[0].ip', set: (d, v) => (d.nodes[0].ip = `192.0.2.11${v}`) },
    { field: 'nodes[0].podCIDR', set: (d, v) => (d.nodes[0].podCIDR = `10.244.1.0/24${v}`) },
    { field: 'cluster.bridge', set: (d, v) => (d.cluster = { bridge: `b${v}` }) },
    { field: 'cluster.vxlan.device', set: (d, v) => (d.cluster = { vxlan: { device: `v${v}` } }) },
    { field: 'cluster.cniBinDir', set: (d, v) => (d.cluster = { cniBinDir: `/opt/${v}` }) },
    { field: 'cluster.podCIDR', set: (d, v) => (d.cluster = { podCIDR: `${v}10.244.0.0/16` }) },
    { field: 'ssh.user', set: (d, v) => (d.ssh = { user: `u${v}` }) },
    { field: 'ssh.identityFile', set: (d, v) => (d.ssh = { identityFile: `~/.ssh/id${v}` }) },
    { field: 'ssh.options[0]', set: (d, v) => (d.ssh = { options: [`ProxyJump=${v}`] }) },
    { field: 'nodes[1].ssh.user', set: (d, v) => (d.nodes[1].ssh = { user: `${v}` }) },
  ];
  for (const { field, set } of fields) {
    for (const v of hostile) {
      test(`${field} = ${JSON.stringify(v)}`, () => {
        assertUserError(() => parseInventory(docWith((d) => set(d, v)), 'inv'), `${field}: `, /is not a valid .*; expected /);
      });
    }
  }
});

describe('parseInventory: cross-field rules', () => {
  const cases: { name: string; patch: (d: Doc) => void; prefix: string; pattern?: RegExp }[] = [
    {
      name: 'duplicate node name',
      patch: (d) => (d.nodes[1].name = 'node-1'),
      prefix: 'nodes[1].name: duplicate node name "node-1"',
    },
    {
      name: 'duplicate name further down',
      patch: (d) => d.nodes.push({ name: 'node-2', address: '192.0.2.13' }),
      prefix: 'nodes[2].name: duplicate node name "node-2"',
    },
    {
      name: 'duplicate address',
      patch: (d) => (d.nodes[1].address = '192.0.2.11'),
      prefix: 'nodes[1].address: duplicate address "192.0.2.11" (also nodes[0].address)',
    },
    {
      name: 'duplicate hostname address, different case',
      patch: (d) => {
        d.nodes[0].address = 'Node.example';
        d.nodes[1].address = 'node.EXAMPLE';
      },
      prefix: 'nodes[1].address: duplicate address "node.EXAMPLE"',
    },
    {
      name: 'duplicate IPv6 address spelled differently',
      patch: (d) => {
        d.cluster = { podCIDR: 'fd00:10::/48' };
        d.nodes[0].address = '2001:db8::11';
        d.nodes[1].address = '2001:DB8:0:0::11';
      },
      prefix: 'nodes[1].address: duplicate address "2001:db8::11"',
    },
    {
      name: 'duplicate ip',
      patch: (d) => {
        d.nodes[0].ip = '198.51.100.5';
        d.nodes[1].ip = '198.51.100.5';
      },
      prefix: 'nodes[1].ip: duplicate node IP 198.51.100.5 (also nodes[0].ip)',
    },
    {
      name: 'ip equal to another node\'s address',
      patch: (d) => (d.nodes[1].ip = '192.0.2.11'),
      prefix: 'nodes[1].ip: duplicate node IP 192.0.2.11 (also nodes[0].address)',
    },
    {
      name: 'duplicate pinned podCIDR',
      patch: (d) => {
        d.nodes[0].podCIDR = '10.244.5.0/24';
        d.nodes[1].podCIDR = '10.244.5.0/24';
      },
      prefix: 'nodes[1].podCIDR: 10.244.5.0/24 overlaps nodes[0].podCIDR; expected a distinct subnet per node',
    },
    {
      name: 'pinned podCIDR outside cluster.podCIDR',
      patch: (d) => (d.nodes[1].podCIDR = '10.1.0.0/24'),
      prefix: 'nodes[1].podCIDR: 10.1.0.0/24 is outside cluster.podCIDR 10.244.0.0/16; expected a /24 inside cluster.podCIDR 10.244.0.0/16',
    },
    {
      name: 'pinned podCIDR larger than the cluster',
      patch: (d) => (d.nodes[1].podCIDR = '10.0.0.0/8'),
      prefix: 'nodes[1].podCIDR: 10.0.0.0/8 is outside cluster.podCIDR',
    },
    {
      name: 'pinned podCIDR of another family',
      patch: (d) => (d.nodes[1].podCIDR = 'fd00::/24'),
      prefix: 'nodes[1].podCIDR: fd00::/24 is IPv6 but cluster.podCIDR 10.244.0.0/16 has no IPv6 CIDR',
    },
    {
      name: 'pinned podCIDR of the wrong size',
      patch: (d) => (d.nodes[0].podCIDR = '10.244.4.0/23'),
      prefix: 'nodes[0].podCIDR: 10.244.4.0/23 is a /23 but cluster.nodeMaskSize is 24; expected a /24',
    },
    {
      name: 'cluster CIDR too small for the nodes',
      patch: (d) => {
        d.cluster = { podCIDR: '10.244.0.0/24', nodeMaskSize: 25 };
        d.nodes.push({ name: 'node-3', address: '192.0.2.13' });
      },
      prefix: 'cluster.podCIDR: 10.244.0.0/24 holds 2 /25 subnets but 3 nodes need one each; expected a larger CIDR or a larger cluster.nodeMaskSize',
    },
    {
      name: 'address inside podCIDR',
      patch: (d) => (d.nodes[1].address = '10.244.3.4'),
      prefix: 'nodes[1].address: 10.244.3.4 is inside cluster.podCIDR 10.244.0.0/16',
    },
    {
      name: 'ip inside podCIDR',
      patch: (d) => (d.nodes[0].ip = '10.244.0.1'),
      prefix: 'nodes[0].ip: 10.244.0.1 is inside cluster.podCIDR 10.244.0.0/16',
    },
    {
      name: 'ip inside serviceCIDR',
      patch: (d) => {
        d.cluster = { serviceCIDR: '10.96.0.0/12' };
        d.nodes[0].ip = '10.96.0.10';
      },
      prefix: 'nodes[0].ip: 10.96.0.10 is inside cluster.serviceCIDR 10.96.0.0/12',
    },
    {
      name: 'IPv6 node IP with an IPv4 pod network',
      patch: (d) => (d.nodes[1].ip = '2001:db8::12'),
      prefix: 'nodes[1].ip: 2001:db8::12 is IPv6 but cluster.podCIDR 10.244.0.0/16 is IPv4',
      pattern: /expected an IPv4 node IP first/,
    },
    {
      name: 'IPv6 address literal as node IP with an IPv4 pod network',
      patch: (d) => (d.nodes[1].address = '2001:db8::12'),
      prefix: 'nodes[1].address: 2001:db8::12 is IPv6 but cluster.podCIDR 10.244.0.0/16 is IPv4',
    },
  ];
  for (const c of cases) {
    test(c.name, () => assertUserError(() => parseInventory(docWith(c.patch), 'inventory.yaml'), c.prefix, c.pattern));
  }

  test('an IPv6 SSH address is fine when an IPv4 node ip is given', () => {
    const inv = parseInventory(docWith((d) => Object.assign(d.nodes[1], { address: '2001:db8::12', ip: '192.0.2.12' })), 'inv');
    assert.equal(inv.nodes[1]!.address, '2001:db8::12');
  });

  test('distinct pinned CIDRs are kept, normalized', () => {
    const inv = parseInventory(
      docWith((d) => {
        d.nodes[0].podCIDR = '10.244.9.0/24';
        d.nodes[1].podCIDR = '10.244.0.0/24';
      }),
      'inv',
    );
    assert.deepEqual(inv.nodes.map((n) => n.podCIDR), ['10.244.9.0/24', '10.244.0.0/24']);
  });
});

describe('loadInventory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-inventory-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('reads a YAML file and records its path as the source', () => {
    const path = join(dir, 'inventory.yaml');
    writeFileSync(path, 'nodes:\n  - name: node-1\n    address: 192.0.2.11\n');
    const inv = loadInventory(path);
    assert.equal(inv.source, path);
    assert.equal(inv.nodes[0]!.name, 'node-1');
  });

  test('reads a JSON file', () => {
    const path = join(dir, 'inventory.json');
    writeFileSync(path, JSON.stringify({ nodes: [{ name: 'node-1', address: '192.0.2.11' }] }));
    assert.equal(loadInventory(path).nodes.length, 1);
  });

  test('a missing file is a UserError naming the path', () => {
    const path = join(dir, 'nope.yaml');
    assertUserError(() => loadInventory(path), `--inventory: cannot load "${path}": no such file; expected an inventory file`);
  });

  test('a directory is a UserError naming the path', () => {
    const path = join(dir, 'a-dir');
    mkdirSync(path);
    assertUserError(() => loadInventory(path), `--inventory: cannot load "${path}": a directory, not a regular file`);
  });

  test('a path with control characters is escaped in the message', () => {
    assertUserError(() => loadInventory(join(dir, 'a\u001b[31mb')), `--inventory: cannot load "${dir}/a\\u001b[31mb": no such file`);
  });

  test('errors inside the file carry the path as the YAML source', () => {
    const path = join(dir, 'broken.yaml');
    writeFileSync(path, 'nodes: [\n');
    assertUserError(() => loadInventory(path), `${path}: malformed YAML`);
  });
});

describe('parseInventory: ssh options and files', () => {
  test('options on the allow-list pass, whatever their case', () => {
    const opts = ['ProxyJump=admin@bastion.example.com:2222,jump2', 'ConnectTimeout=5', 'serveraliveinterval=10', 'Ciphers=aes128-gcm@openssh.com', 'IdentitiesOnly=yes'];
    const inv = parseInventory(docWith((d) => (d.ssh = { options: opts })), 'inv');
    assert.deepEqual(inv.nodes[0]!.ssh.options, opts);
  });

  const dir = mkdtempSync(join(tmpdir(), 'podnet-inv-files-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ssh_config'), 'Host *\n');
  writeFileSync(join(dir, 'key'), 'x');

  test('an identityFile that exists passes', () => {
    const inv = parseInventory(docWith((d) => (d.ssh = { identityFile: join(dir, 'key') })), 'inv');
    assert.equal(inv.nodes[1]!.ssh.identityFile, join(dir, 'key'));
  });

  const cases: { name: string; patch: (d: Doc) => void; prefix: string }[] = [
    { name: 'identityFile is a directory', patch: (d) => (d.ssh = { identityFile: dir }), prefix: `ssh.identityFile: "${dir}" is not a regular file` },
    { name: 'missing identityFile of one node', patch: (d) => (d.nodes[1].ssh = { identityFile: join(dir, 'nope') }), prefix: `nodes[1].ssh.identityFile: "${join(dir, 'nope')}" does not exist` },
    { name: 'missing identityFile', patch: (d) => (d.ssh = { identityFile: join(dir, 'nokey') }), prefix: `ssh.identityFile: "${join(dir, 'nokey')}" does not exist; expected a private key file` },
    { name: 'missing ~ path', patch: (d) => (d.ssh = { identityFile: '~/.ssh/podnet-test-does-not-exist' }), prefix: `ssh.identityFile: "${homedir()}/.ssh/podnet-test-does-not-exist" does not exist` },
  ];
  for (const c of cases) {
    test(c.name, () => assertUserError(() => parseInventory(docWith(c.patch), 'inv'), c.prefix));
  }
});

describe('parseInventory: dual-stack and IPv6-only', () => {
  const dual = (patch: (d: Doc) => void = () => {}) => {
    const d: Doc = {
      cluster: { podCIDR: ['10.244.0.0/16', 'fd00:10:244::/56'], serviceCIDR: ['10.96.0.0/12', 'fd00:96::/108'] },
      nodes: [
        { name: 'a', address: '192.0.2.11', ip: ['192.0.2.11', '2001:db8::11'] },
        { name: 'b', address: '192.0.2.12', podCIDR: ['10.244.7.0/24', 'fd00:10:244:7::/64'] },
      ],
    };
    patch(d);
    return parseInventory(JSON.stringify(d), 'inv');
  };

  test('two pod CIDRs: one network per family, the first the primary, default masks /24 and /64', () => {
    const inv = dual();
    assert.deepEqual(inv.cluster.networks, [
      { family: 'ipv4', podCIDR: '10.244.0.0/16', nodeMaskSize: 24, serviceCIDR: '10.96.0.0/12', masquerade: true },
      { family: 'ipv6', podCIDR: 'fd00:10:244::/56', nodeMaskSize: 64, serviceCIDR: 'fd00:96::/108', masquerade: false },
    ]);
    assert.equal(inv.cluster.podCIDR, '10.244.0.0/16');
    assert.deepEqual(inv.nodes[0]!.ips, { ipv4: '192.0.2.11', ipv6: '2001:db8::11' });
    assert.equal(inv.nodes[0]!.ip, '192.0.2.11');
    assert.deepEqual(inv.nodes[1]!.podCIDRs, { ipv4: '10.244.7.0/24', ipv6: 'fd00:10:244:7::/64' });
    assert.equal(inv.nodes[1]!.podCIDR, '10.244.7.0/24');
  });

  test('IPv6 first: IPv6 is the primary family', () => {
    const inv = dual((d) => {
      d.cluster.podCIDR = ['fd00:10:244::/56', '10.244.0.0/16'];
      d.nodes[0].ip = ['2001:db8::11', '192.0.2.11'];
    });
    assert.deepEqual(inv.cluster.networks.map((n) => n.family), ['ipv6', 'ipv4']);
    assert.equal(inv.cluster.podCIDR, 'fd00:10:244::/56');
    assert.equal(inv.nodes[0]!.ip, '2001:db8::11');
    assert.equal(inv.nodes[1]!.podCIDR, 'fd00:10:244:7::/64');
  });

  test('per-family node mask sizes', () => {
    const inv = dual((d) => {
      d.cluster.nodeMaskSize = { ipv4: 25, ipv6: 72 };
      delete d.nodes[1].podCIDR;
    });
    assert.deepEqual(inv.cluster.networks.map((n) => n.nodeMaskSize), [25, 72]);
  });

  test('IPv6-only: an IPv6 pod CIDR and IPv6 node addresses', () => {
    const inv = parseInventory(JSON.stringify({ cluster: { podCIDR: 'fd00:10:244::/56' }, nodes: [{ name: 'a', address: '2001:db8::11' }] }), 'inv');
    assert.deepEqual(inv.cluster.networks, [{ family: 'ipv6', podCIDR: 'fd00:10:244::/56', nodeMaskSize: 64, masquerade: false }]);
  });

  test('masquerade: absent → IPv4 only; a boolean → every family; a mapping → per family', () => {
    assert.deepEqual(dual().cluster.networks.map((n) => n.masquerade), [true, false]);
    assert.deepEqual(dual((d) => (d.cluster.masquerade = true)).cluster.networks.map((n) => n.masquerade), [true, true]);
    assert.deepEqual(dual((d) => (d.cluster.masquerade = { ipv6: true })).cluster.networks.map((n) => n.masquerade), [true, true]);
    assert.deepEqual(dual((d) => (d.cluster.masquerade = { ipv4: false })).cluster.networks.map((n) => n.masquerade), [false, false]);
    assert.throws(() => dual((d) => (d.cluster.masquerade = { ipv6: 'yes' })), /cluster\.masquerade\.ipv6: "yes" is not a valid IPv6 masquerade setting; expected true or false/);
  });

  const bad: { name: string; patch: (d: Doc) => void; message: string }[] = [
    { name: 'two CIDRs of one family', patch: (d) => (d.cluster.podCIDR = ['10.244.0.0/16', '10.245.0.0/16']), message: 'cluster.podCIDR[1]: 10.245.0.0/16 is IPv4 like cluster.podCIDR[0] 10.244.0.0/16; expected one CIDR per IP family (an IPv4 and an IPv6 one for dual-stack)' },
    { name: 'three CIDRs', patch: (d) => (d.cluster.podCIDR = ['10.244.0.0/16', 'fd00::/56', '10.1.0.0/16']), message: 'cluster.podCIDR: a list is not a valid CIDR list; expected one CIDR or a list of two, one per IP family (a network such as 10.244.0.0/16)' },
    { name: 'an empty list', patch: (d) => (d.cluster.podCIDR = []), message: 'cluster.podCIDR: an empty list is not a valid CIDR list' },
    { name: 'a bad item names its index', patch: (d) => (d.cluster.podCIDR = ['10.244.0.0/16', 'fd00::/999']), message: 'cluster.podCIDR[1]: "fd00::/999" is not a valid CIDR; expected a network such as 10.244.0.0/16' },
    { name: 'one mask for two families', patch: (d) => (d.cluster.nodeMaskSize = 24), message: 'cluster.nodeMaskSize: 24 is one number for a dual-stack cluster.podCIDR; expected one per family, such as {ipv4: 24, ipv6: 64}' },
    { name: 'the 16-bit rule', patch: (d) => (d.cluster.nodeMaskSize = { ipv6: 80 }), message: 'cluster.nodeMaskSize.ipv6: 80 does not fit cluster.podCIDR fd00:10:244::/56; expected an integer from 57 to 72 (at most 16 bits longer than the cluster prefix, as kube-controller-manager requires)' },
    { name: 'a mask key for a family the cluster lacks', patch: (d) => { d.cluster.podCIDR = '10.244.0.0/16'; d.cluster.serviceCIDR = '10.96.0.0/12'; d.cluster.nodeMaskSize = { ipv6: 64 }; d.nodes = [{ name: 'a', address: '192.0.2.11' }]; }, message: 'cluster.nodeMaskSize.ipv6: set, but cluster.podCIDR has no IPv6 CIDR' },
    { name: 'an unknown mask key', patch: (d) => (d.cluster.nodeMaskSize = { ipv5: 24 }), message: 'unknown key "ipv5" in cluster.nodeMaskSize; expected one of: ipv4, ipv6' },
    { name: 'two node IPs of one family', patch: (d) => (d.nodes[0].ip = ['192.0.2.11', '192.0.2.99']), message: 'nodes[0].ip[1]: 192.0.2.99 is IPv4 like 192.0.2.11; expected one node IP per IP family' },
    { name: 'a node IP inside the IPv6 pod CIDR', patch: (d) => (d.nodes[0].ip = ['192.0.2.11', 'fd00:10:244:1::5']), message: 'nodes[0].ip[1]: fd00:10:244:1::5 is inside cluster.podCIDR fd00:10:244::/56' },
    { name: 'a pin of the wrong size', patch: (d) => (d.nodes[1].podCIDR = ['10.244.7.0/24', 'fd00:10:244:7::/80']), message: 'nodes[1].podCIDR[1]: fd00:10:244:7::/80 is a /80 but cluster.nodeMaskSize.ipv6 is 64; expected a /64 inside cluster.podCIDR fd00:10:244::/56' },
    { name: 'two pins of one family', patch: (d) => (d.nodes[1].podCIDR = ['10.244.7.0/24', '10.244.8.0/24']), message: 'nodes[1].podCIDR[1]: 10.244.8.0/24 is IPv4 like 10.244.7.0/24; expected one pod CIDR per IP family' },
    { name: 'a shared IPv6 pin', patch: (d) => (d.nodes[0].podCIDR = 'fd00:10:244:7::/64'), message: 'nodes[1].podCIDR[1]: fd00:10:244:7::/64 overlaps nodes[0].podCIDR; expected a distinct subnet per node' },
    { name: 'a link-local node IP', patch: (d) => (d.nodes[0].ip = ['192.0.2.11', 'fe80::1']), message: 'nodes[0].ip[1]: fe80::1 is a link-local address (it names no node beyond its link, and needs an interface); expected a unicast address the node holds, such as 2001:db8::11' },
    { name: 'an IPv4-mapped node address', patch: (d) => (d.nodes[1].address = '::ffff:192.0.2.12'), message: 'nodes[1].address: ::ffff:c000:20c is an IPv4-mapped IPv6 address (write the IPv4 address)' },
    { name: 'a loopback node IP', patch: (d) => (d.nodes[0].ip = '127.0.0.1'), message: 'nodes[0].ip: 127.0.0.1 is a loopback address' },
    { name: 'a masquerade key for a family the cluster lacks', patch: (d) => { d.cluster = { podCIDR: 'fd00:10:244::/56' }; d.cluster.masquerade = { ipv4: true }; d.nodes = [{ name: 'a', address: '2001:db8::11' }]; }, message: 'cluster.masquerade.ipv4: set, but cluster.podCIDR has no IPv4 CIDR' },
    { name: 'an IPv6 service CIDR inside the IPv6 pods', patch: (d) => (d.cluster.serviceCIDR = ['10.96.0.0/12', 'fd00:10:244:ff::/108']), message: 'cluster.serviceCIDR[1]: fd00:10:244:ff::/108 overlaps cluster.podCIDR fd00:10:244::/56; expected disjoint ranges' },
  ];
  for (const c of bad) {
    test(`refused: ${c.name}`, () => {
      assert.throws(() => dual(c.patch), (e: Error) => {
        assert.ok(e.message.startsWith(c.message), `${e.message}\n  expected to start with\n${c.message}`);
        assert.ok(!e.message.includes('\n'));
        return true;
      });
    });
  }
});
