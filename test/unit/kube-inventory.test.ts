/**
 * The cluster as the inventory (src/kube/inventory.ts): nodes from the Node objects (InternalIPs as node
 * IPs per family, spec.podCIDRs as pins), the cluster CIDR from kubeadm-config, else --pod-cidr, else the
 * inventory file; selectors and --node; an inventory file adding settings; every disagreement exit 2
 * naming both sides. The API is a fake that answers the two reads.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clusterInventory, kubeadmNetworking } from '../../src/kube/inventory.js';
import type { KubeApi } from '../../src/kube/client.js';
import { UserError } from '../../src/util/errors.js';

interface FakeNode {
  name: string;
  ips?: string[];
  podCIDRs?: string[];
  labels?: Record<string, string>;
}

function fakeApi(nodes: FakeNode[], podSubnet?: string, serviceSubnet?: string): KubeApi & { calls: string[] } {
  const calls: string[] = [];
  const core = {
    listNode: async (o: { labelSelector?: string }) => {
      const [k, v] = (o.labelSelector ?? '').split('=');
      return {
        items: nodes
          .filter((n) => !o.labelSelector || n.labels?.[k!] === v)
          .map((n) => ({ metadata: { name: n.name, labels: n.labels }, spec: n.podCIDRs ? { podCIDR: n.podCIDRs[0], podCIDRs: n.podCIDRs } : {}, status: { addresses: [...(n.ips ?? []).map((a) => ({ type: 'InternalIP', address: a })), { type: 'Hostname', address: n.name }] } })),
      };
    },
    readNamespacedConfigMap: async () => {
      if (!podSubnet) throw Object.assign(new Error('not found'), { code: 404 });
      return { data: { ClusterConfiguration: `apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: ${podSubnet}\n${serviceSubnet ? `  serviceSubnet: ${serviceSubnet}\n` : ''}` } };
    },
  };
  return {
    calls,
    server: 'https://192.0.2.2:6443',
    request: async (_key: string, r: { verb: string; resource: string; path: string }) => {
      calls.push(`${r.verb} ${r.resource}`);
      const url = new URL(`https://x${r.path}`);
      if (r.resource === 'nodes') return core.listNode({ labelSelector: url.searchParams.get('labelSelector') ?? undefined });
      return core.readNamespacedConfigMap();
    },
  } as unknown as KubeApi & { calls: string[] };
}

const NODES: FakeNode[] = [
  { name: 'cp-1.example.com', ips: ['192.0.2.11'], podCIDRs: ['10.244.0.0/24'], labels: { role: 'cp' } },
  { name: 'worker-1.example.com', ips: ['192.0.2.12'], podCIDRs: ['10.244.1.0/24'], labels: { role: 'worker' } },
  { name: 'worker-2.example.com', ips: ['192.0.2.13'], labels: { role: 'worker' } },
];

const userError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);

describe('clusterInventory: the Node objects as the inventory', () => {
  it('names, InternalIPs and spec.podCIDRs; the cluster CIDR from kubeadm-config; two reads in all', async () => {
    const api = fakeApi(NODES, '10.244.0.0/16', '10.96.0.0/12');
    const r = await clusterInventory(api, {});
    assert.deepEqual(r.inventory.nodes.map((n) => [n.name, n.address, n.ip, n.podCIDR]), [
      ['cp-1.example.com', '192.0.2.11', '192.0.2.11', '10.244.0.0/24'],
      ['worker-1.example.com', '192.0.2.12', '192.0.2.12', '10.244.1.0/24'],
      ['worker-2.example.com', '192.0.2.13', '192.0.2.13', undefined],
    ]);
    assert.equal(r.inventory.cluster.podCIDR, '10.244.0.0/16');
    assert.equal(r.inventory.cluster.serviceCIDR, '10.96.0.0/12');
    assert.equal(r.podCIDRSource, 'the kubeadm-config ConfigMap');
    assert.deepEqual(api.calls.sort(), ['get configmaps', 'list nodes']);
  });

  it('-l and --node pick nodes; a selector or name that matches none is exit 2 naming the flag', async () => {
    const api = fakeApi(NODES, '10.244.0.0/16');
    assert.deepEqual((await clusterInventory(api, { selector: 'role=worker' })).inventory.nodes.map((n) => n.name), ['worker-1.example.com', 'worker-2.example.com']);
    assert.deepEqual((await clusterInventory(api, { names: ['worker-2.example.com'] })).inventory.nodes.map((n) => n.name), ['worker-2.example.com']);
    await assert.rejects(clusterInventory(api, { selector: 'role=gpu' }), userError(/^--selector: "role=gpu" matches no Node/));
    await assert.rejects(clusterInventory(api, { names: ['nope'] }), userError(/^--node: no Node "nope" in the cluster at https:\/\/192\.0\.2\.2:6443; expected one of cp-1/));
  });

  it('without kubeadm-config: --pod-cidr, else the inventory file, else exit 2 saying what to give', async () => {
    const api = fakeApi(NODES);
    assert.equal((await clusterInventory(api, { podCIDR: '10.244.0.0/16' })).podCIDRSource, '--pod-cidr');
    const file = { path: 'inv.yaml', data: { cluster: { podCIDR: '10.244.0.0/16' }, nodes: [{ name: 'worker-1.example.com', address: 'w1' }] } };
    const r = await clusterInventory(api, { names: ['worker-1.example.com'] }, file);
    assert.equal(r.inventory.cluster.podCIDR, '10.244.0.0/16');
    assert.equal(r.inventory.nodes[0]!.address, 'w1', 'the file adds the SSH address');
    await assert.rejects(clusterInventory(api, {}), userError(/^cluster\.podCIDR: not known: .*expected --pod-cidr CIDR/));
  });

  it('a pin in the file that disagrees with spec.podCIDRs, or a cluster CIDR that disagrees with kubeadm-config, is exit 2 naming both', async () => {
    const api = fakeApi(NODES, '10.244.0.0/16');
    const pin = { path: 'inv.yaml', data: { nodes: [{ name: 'worker-1.example.com', address: '192.0.2.12', podCIDR: '10.244.7.0/24' }] } };
    await assert.rejects(clusterInventory(api, { onlyFileNodes: true }, pin), userError(/^nodes\[0\]\.podCIDR: 10\.244\.7\.0\/24 pinned in inv\.yaml for worker-1\.example\.com, but the cluster assigned 10\.244\.1\.0\/24 \(spec\.podCIDRs\)/));
    const cidr = { path: 'inv.yaml', data: { cluster: { podCIDR: '10.200.0.0/16' }, nodes: [{ name: 'worker-1.example.com', address: '192.0.2.12' }] } };
    await assert.rejects(clusterInventory(api, { onlyFileNodes: true }, cidr), userError(/^cluster\.podCIDR: 10\.200\.0\.0\/16 in inv\.yaml but the cluster's kubeadm-config says networking\.podSubnet 10\.244\.0\.0\/16/));
    await assert.rejects(clusterInventory(api, { podCIDR: '10.9.0.0/16' }), userError(/^--pod-cidr: 10\.9\.0\.0\/16 but the cluster's kubeadm-config says/));
  });

  it('with the file listing the nodes (--access kube with -i): only its nodes, each must be a Node', async () => {
    const api = fakeApi(NODES, '10.244.0.0/16');
    const file = { path: 'inv.yaml', data: { nodes: [{ name: 'worker-2.example.com', address: '192.0.2.13' }] } };
    assert.deepEqual((await clusterInventory(api, { onlyFileNodes: true }, file)).inventory.nodes.map((n) => n.name), ['worker-2.example.com']);
    const stranger = { path: 'inv.yaml', data: { nodes: [{ name: 'old-node', address: '192.0.2.99' }] } };
    await assert.rejects(clusterInventory(api, { onlyFileNodes: true }, stranger), userError(/^nodes\[0\]\.name: "old-node" in inv\.yaml is not a Node in the cluster/));
  });

  it('dual-stack: InternalIPs ordered as the cluster CIDRs, both pod CIDRs pinned', async () => {
    const api = fakeApi([{ name: 'n1', ips: ['2001:db8::11', '192.0.2.11'], podCIDRs: ['10.244.0.0/24', 'fd00:10:244::/64'] }], '10.244.0.0/16,fd00:10:244::/56');
    const n = (await clusterInventory(api, {})).inventory.nodes[0]!;
    assert.deepEqual(n.ips, { ipv4: '192.0.2.11', ipv6: '2001:db8::11' });
    assert.deepEqual(n.podCIDRs, { ipv4: '10.244.0.0/24', ipv6: 'fd00:10:244::/64' });
  });

  it('kubeadm-config: one CIDR, two, or none readable', () => {
    assert.deepEqual(kubeadmNetworking({ data: { ClusterConfiguration: 'networking:\n  podSubnet: 10.244.0.0/16,fd00::/56\n' } }), { podSubnet: ['10.244.0.0/16', 'fd00::/56'], serviceSubnet: undefined });
    assert.deepEqual(kubeadmNetworking({ data: { ClusterConfiguration: ': not yaml: [' } }), {});
    assert.deepEqual(kubeadmNetworking(undefined), {});
  });
});

describe('findKubeconfig: the cluster as kubectl finds it', () => {
  it('--kubeconfig, else KUBECONFIG, else ~/.kube/config, else the in-cluster service account, else none', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { findKubeconfig } = await import('../../src/kube/client.js');
    const home = mkdtempSync(`${tmpdir()}/podnet-home-`);
    const sa = mkdtempSync(`${tmpdir()}/podnet-sa-`);
    const inCluster = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    assert.equal(findKubeconfig(undefined, {}, home, sa), undefined);
    assert.equal(findKubeconfig(undefined, inCluster, home, sa), undefined, 'no token: not in a pod');
    writeFileSync(`${sa}/token`, 't');
    assert.deepEqual(findKubeconfig(undefined, inCluster, home, sa), { kind: 'in-cluster' });
    mkdirSync(`${home}/.kube`);
    writeFileSync(`${home}/.kube/config`, '{}');
    assert.deepEqual(findKubeconfig(undefined, inCluster, home, sa), { kind: 'files', value: `${home}/.kube/config`, label: 'the default kubeconfig ~/.kube/config' });
    assert.deepEqual(findKubeconfig(undefined, { ...inCluster, KUBECONFIG: '/a:/b' }, home, sa), { kind: 'files', value: '/a:/b', label: 'KUBECONFIG' });
    assert.deepEqual((findKubeconfig(undefined, { KUBECONFIG: ':' }, home, sa) as { label?: string } | undefined)?.label, 'the default kubeconfig ~/.kube/config', 'an empty KUBECONFIG is no KUBECONFIG');
    assert.deepEqual(findKubeconfig('/x', { KUBECONFIG: '/a' }, home, sa), { kind: 'files', value: '/x', label: '--kubeconfig' });
  });
});

describe('the review\'s fixes, each pinned', () => {
  it('Nodes that are not Linux, or virtual, are left out unless named; named, they are exit 2', async () => {
    const api = fakeApi([...NODES, { name: 'win-1', ips: ['192.0.2.21'], labels: { 'kubernetes.io/os': 'windows' } }, { name: 'vk-1', ips: ['192.0.2.22'], labels: { type: 'virtual-kubelet' } }], '10.244.0.0/16');
    assert.deepEqual((await clusterInventory(api, {})).inventory.nodes.map((n) => n.name), NODES.map((n) => n.name));
    await assert.rejects(clusterInventory(api, { names: ['win-1'] }), userError(/^--node: "win-1" is not a Linux node \(kubernetes\.io\/os=windows\)/));
  });

  it('a KUBECONFIG entry that does not exist is skipped, as kubectl does; a --kubeconfig that does not is bad input', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { readKubeconfigs } = await import('../../src/kube/kubeconfig.js');
    const dir = mkdtempSync(`${tmpdir()}/podnet-kc-`);
    writeFileSync(`${dir}/config`, 'apiVersion: v1\nkind: Config\n');
    assert.deepEqual(readKubeconfigs(`${dir}/nope:${dir}/config`, 'KUBECONFIG').map((f) => f.path), [`${dir}/config`]);
    assert.throws(() => readKubeconfigs(`${dir}/nope:${dir}/config`), (e: unknown) => e instanceof UserError && /^--kubeconfig: .*nope/.test(e.message));
  });

  it('NetworkUnavailable already False keeps its transition time; from True (or unknown) it is now', async () => {
    const { networkAvailablePatch } = await import('../../src/kube/node-status.js');
    const now = new Date('2026-12-02T10:00:00.123Z');
    assert.equal(networkAvailablePatch(now, { status: 'False', lastTransitionTime: '2026-11-01T00:00:00Z' }).status.conditions[0]!.lastTransitionTime, '2026-11-01T00:00:00Z');
    assert.equal(networkAvailablePatch(now, { status: 'True', lastTransitionTime: '2026-11-01T00:00:00Z' }).status.conditions[0]!.lastTransitionTime, '2026-12-02T10:00:00Z');
    assert.equal(networkAvailablePatch(now).status.conditions[0]!.lastHeartbeatTime, '2026-12-02T10:00:00Z');
  });

  it('an API message cannot drive the terminal: control characters are replaced', async () => {
    const { explainApiError } = await import('../../src/kube/explain.js');
    const x = explainApiError({ code: 400, body: { kind: 'Status', reason: 'BadRequest', message: 'admission webhook "v.example.com" denied the request: no \u001b[2J\u009b31m here', code: 400 } }, { verb: 'create', resource: 'pods', namespace: 'x', what: 'create the helper pod on n1' });
    assert.match(x.message, /denied it: no \?\[2J\?31m here/);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(`${x.message} ${x.hint}`, /[\u0000-\u001f\u007f-\u009f]/);
  });
});
