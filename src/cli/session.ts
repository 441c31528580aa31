/**
 * What every node-reading command shares: where the nodes come from (an inventory file, or the cluster's
 * Node objects), how they are reached (SSH, or the Kubernetes API through helper pods), loading and
 * checking all of it (bad input → exit 2 before any node is touched), progress, and undoing on Ctrl-C.
 * This is the one place that picks the transport: nothing above it knows which one it talks through.
 */
import { Flags } from '@oclif/core';
import type { Inventory } from '../inventory/load.js';
import type { KubeApi } from '../kube/client.js';
import type { KubeNode } from '../facts/kube.js';
import type { RunContext } from '../services/bootstrap.js';
import { IMAGE_PATTERN } from '../util/image-ref.js';
import { describeValue } from '../util/describe.js';
import { UserError } from '../util/errors.js';
import { integerFlag, textFlag } from './flags.js';
import { createProgress } from './progress.js';

export const inventoryFlags = {
  inventory: textFlag({ char: 'i', description: 'inventory file (YAML or JSON); without it the nodes come from the cluster\'s Node objects (see --kubeconfig)', expected: 'the path of an inventory file (YAML or JSON)' }),
  concurrency: integerFlag({ char: 'c', description: 'nodes worked on at once', default: 64, min: 1, max: 1024 }),
  'accept-new-host-keys': Flags.boolean({ description: 'trust host keys of nodes seen for the first time (never a changed key)', default: false }),
  'ssh-config': textFlag({ description: 'your ssh_config file for the connections to the nodes (default: $PODNET_SSH_CONFIG, else ssh\'s own ~/.ssh/config); never taken from an inventory', expected: 'the path of an ssh_config file', helpValue: 'FILE' }),
  access: Flags.string({ description: 'how nodes are reached: ssh, or kube (through the Kubernetes API: a short-lived privileged helper pod per node, no SSH). Default: kube when the nodes come from the cluster, ssh with an inventory', options: ['ssh', 'kube'] }),
  kubeconfig: textFlag({ description: 'kubeconfig file(s), ":"-separated as in KUBECONFIG (default as kubectl: $KUBECONFIG, ~/.kube/config, else the in-cluster service account)', expected: 'the path of a kubeconfig file', helpValue: 'FILE' }),
  context: textFlag({ description: 'kubeconfig context to use (default: its current context)', expected: 'the name of a context in the kubeconfig' }),
  selector: textFlag({ char: 'l', description: 'nodes from the cluster: only Nodes with these labels (a label selector, as kubectl -l)', expected: 'a label selector such as node-role.kubernetes.io/worker or zone=a' }),
  node: textFlag({ description: 'nodes from the cluster: only this Node (repeat for more)', expected: 'the name of a Node', multiple: true }),
  'pod-cidr': textFlag({ description: 'the cluster CIDR (two, comma-separated, for dual-stack) when the cluster\'s kubeadm-config does not name it and no inventory does', expected: 'a CIDR such as 10.244.0.0/16', helpValue: 'CIDR' }),
  image: textFlag({
    description: 'with --access kube: the helper pods\' image (it needs python3 only; default docker.io/library/python:3.13-alpine); also the inventory\'s kube.image',
    expected: 'an image reference such as registry.example.com/python:3.13-alpine',
    check: (v) => {
      if (!IMAGE_PATTERN.test(v)) throw new UserError(`--image: ${describeValue(v)} is not an image reference; expected an image reference such as registry.example.com/python:3.13-alpine`);
    },
  }),
  namespace: textFlag({
    char: 'n',
    check: (v) => {
      if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(v)) throw new UserError(`--namespace: ${describeValue(v)} is not a namespace name; expected a DNS label of [a-z0-9-]`);
    }, description: 'with --access kube: run the helper pods in this existing namespace (it must admit privileged pods) instead of a namespace podnet creates and deletes', expected: 'the name of an existing namespace' }),
};

export type SessionFlags = {
  inventory?: string;
  concurrency: number;
  'accept-new-host-keys': boolean;
  'ssh-config'?: string;
  access?: string;
  kubeconfig?: string;
  context?: string;
  selector?: string;
  node?: string[];
  'pod-cidr'?: string;
  image?: string;
  namespace?: string;
};

/** The ssh_config the operator chose: the flag, else PODNET_SSH_CONFIG; checked to be a readable regular file. */
async function sshConfigOf(flag: string | undefined): Promise<string | undefined> {
  const env = process.env.PODNET_SSH_CONFIG;
  const [path, label] = flag !== undefined ? [flag, '--ssh-config'] : env ? [env, 'PODNET_SSH_CONFIG'] : [undefined, ''];
  if (path === undefined) return undefined;
  const { checkInputFile } = await import('../util/files.js');
  checkInputFile(path, { label, what: 'an ssh_config file', maxBytes: 4 * 1024 * 1024 });
  return path;
}

export interface Session {
  inv: Inventory;
  ctx: RunContext;
  /** the cluster, when the nodes came from it or are reached through it (or --kubeconfig named it) */
  kube?: { api: KubeApi; nodes: KubeNode[] };
  access: 'ssh' | 'kube';
  /** where the node list came from: the inventory file, or the cluster's Node objects (-l/--node picked) */
  nodesFrom: 'inventory' | 'cluster';
  /** work to undo on the nodes if the run is interrupted (Ctrl-C, SIGTERM) */
  addCleanup(fn: () => Promise<void>): void;
  close(): Promise<void>;
}

export interface SessionOptions {
  quiet: boolean;
  /** the command reads the API itself when a kubeconfig is named (doctor, up): connect even with -i and SSH */
  wantsApi?: boolean;
}

function runId(): string {
  return (Math.floor(Math.random() * 36 ** 5) + 36 ** 5).toString(36).slice(1);
}

async function owner(): Promise<string> {
  const { hostname, userInfo } = await import('node:os');
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER || `uid ${process.getuid?.() ?? '?'}`;
  }
  return `${user}@${hostname()} pid ${process.pid}`;
}

export async function openSession(flags: SessionFlags, opts: SessionOptions): Promise<Session> {
  const fromCluster = !flags.inventory || flags.selector !== undefined || (flags.node?.length ?? 0) > 0;
  const access = (flags.access ?? (flags.inventory ? 'ssh' : 'kube')) as 'ssh' | 'kube';
  const clusterNamed = flags.kubeconfig !== undefined || flags.context !== undefined;
  const needApi = fromCluster || access === 'kube' || (clusterNamed && opts.wantsApi === true);
  if (access === 'ssh') {
    if (flags.image !== undefined) throw new UserError('--image: only with --access kube (the helper pods\' image); expected --access kube, or no --image');
    if (flags.namespace !== undefined) throw new UserError('--namespace: only with --access kube (where the helper pods run); expected --access kube, or no --namespace');
  }
  if (!fromCluster && flags['pod-cidr'] !== undefined) throw new UserError('--pod-cidr: the inventory file names the cluster CIDR (cluster.podCIDR); expected --pod-cidr only when the nodes come from the cluster');

  let api: KubeApi | undefined;
  if (needApi) {
    const { connectKube, findKubeconfig } = await import('../kube/client.js');
    const found = findKubeconfig(flags.kubeconfig);
    if (!found) {
      if (!flags.inventory) throw new UserError('--inventory: missing, and no cluster to read the nodes from; expected -i with an inventory file (YAML or JSON), or a kubeconfig (--kubeconfig, KUBECONFIG, ~/.kube/config)');
      if (access === 'kube') throw new UserError('--access: kube needs a cluster, and no kubeconfig was found; expected --kubeconfig FILE, KUBECONFIG or ~/.kube/config');
      throw new UserError('--context: no kubeconfig to pick a context from; expected --kubeconfig FILE, KUBECONFIG or ~/.kube/config');
    }
    api = await connectKube(found, flags.context);
  }

  const { loadInventory, readInventoryData, resolveInventory } = await import('../inventory/load.js');
  let inv: Inventory;
  let kubeNodes: KubeNode[] = [];
  if (api && (fromCluster || access === 'kube')) {
    const { clusterInventory } = await import('../kube/inventory.js');
    let file: { path: string; data: unknown } | undefined;
    if (flags.inventory) {
      const { readInputFile } = await import('../util/files.js');
      const text = readInputFile(flags.inventory, { label: '--inventory', what: 'an inventory file (YAML or JSON)', maxBytes: 4 * 1024 * 1024, hint: 'pass the path of an existing inventory file' });
      file = { path: flags.inventory, data: readInventoryData(text, flags.inventory) };
      // Checked whole first: a bad file is reported as such, not as a disagreement with the cluster.
      resolveInventory(structuredClone(file.data), flags.inventory, { checkFiles: false });
    }
    const r = await clusterInventory(api, { selector: flags.selector, names: flags.node, podCIDR: flags['pod-cidr'], onlyFileNodes: !fromCluster }, file, (raw, source) => resolveInventory(raw, source)).catch(async (err: unknown) => {
      // The API's answer about the nodes: a selector it cannot parse is bad input; the rest is explained.
      const { KubeApiError } = await import('../kube/client.js');
      if (!(err instanceof KubeApiError)) throw err;
      if (err.code === 400 && flags.selector !== undefined) throw new UserError(`--selector: ${describeValue(flags.selector)}: ${err.status?.message ?? err.message}; expected a label selector such as node-role.kubernetes.io/worker or zone=a`);
      const { explainApiError } = await import('../kube/explain.js');
      const { NodeFailure } = await import('../util/errors.js');
      const x = explainApiError({ code: err.code, body: err.status, message: err.message }, { verb: err.verb, resource: err.resource, namespace: err.namespace, what: 'read the nodes from the cluster' });
      throw new NodeFailure(x.message, x.hint);
    });
    inv = r.inventory;
    kubeNodes = r.kubeNodes;
  } else {
    inv = loadInventory(flags.inventory!);
  }

  const sshConfig = await sshConfigOf(flags['ssh-config']);
  for (const n of inv.nodes) {
    if (flags['accept-new-host-keys']) n.ssh.acceptNewHostKeys = true;
    if (sshConfig !== undefined) n.ssh.configFile = sshConfig;
  }
  let transport: RunContext['transport'];
  const namespace = flags.namespace ?? inv.kube?.namespace;
  if (access === 'kube' && namespace !== undefined) {
    // A namespace the user names must exist (podnet creates only its own): bad input, before anything is created.
    const { corePath, KubeApiError } = await import('../kube/client.js');
    await api!.request('cluster', { verb: 'get', resource: 'namespaces', method: 'GET', path: corePath('namespaces', { name: namespace }) }).catch((err: unknown) => {
      if (err instanceof KubeApiError && err.code === 404) throw new UserError(`${flags.namespace !== undefined ? '--namespace' : 'kube.namespace'}: no namespace ${describeValue(namespace)} in the cluster; expected an existing namespace that admits privileged pods (or leave it out: podnet makes its own)`);
    });
  }
  if (access === 'kube') {
    const { KubeTransport } = await import('../transport/kube.js');
    const { DEFAULT_HELPER_IMAGE } = await import('../kube/objects.js');
    transport = new KubeTransport(api!, {
      image: flags.image ?? inv.kube?.image ?? DEFAULT_HELPER_IMAGE,
      namespace,
      runId: runId(),
      owner: await owner(),
      deadlineSeconds: 3600,
      startTimeoutMs: 120_000,
      commandTimeoutMs: Math.max(...inv.nodes.map((n) => n.ssh.commandTimeout)) * 1000,
      reaper: process.env.PODNET_NO_REAPER !== '1',
      nodeReady: (name) => kubeNodes.find((k) => k.name === name)?.conditions?.find((c) => c.type === 'Ready'),
    });
  } else {
    const { SshTransport, nodesThatForgetHostKeys } = await import('../transport/ssh.js');
    const forgetful = (await nodesThatForgetHostKeys(inv.nodes))[0];
    if (forgetful) {
      throw new UserError(
        `--accept-new-host-keys: the ssh settings of ${forgetful.node} keep known hosts first in ${forgetful.file}, where ssh records new keys, so every host key would count as new and a changed key would be accepted; expected a real known_hosts file first`,
        `remove UserKnownHostsFile ${forgetful.file} from your ssh_config, or add the node's key to known_hosts yourself and run without accepting new keys`,
      );
    }
    transport = new SshTransport();
  }
  const progress = await createProgress(inv.nodes.map((n) => n.name), opts);
  const cleanups: (() => Promise<void>)[] = [];
  const close = async () => {
    progress.stop();
    await transport.close();
    api?.close();
    // For benchmarks: what the run cost each node (round trips, and API requests through the API).
    const statsFile = process.env.PODNET_STATS_FILE;
    if (statsFile) {
      const { writeFileSync } = await import('node:fs');
      const obj = (m: ReadonlyMap<string, number> | undefined) => (m ? Object.fromEntries(m) : undefined);
      writeFileSync(statsFile, `${JSON.stringify({ access, nodes: inv.nodes.length, roundTrips: obj(transport.roundTrips), apiRequests: obj(api?.requests) })}\n`);
    }
  };
  // Ctrl-C: undo what the run set up on the nodes, close the connections (and helper pods), then exit.
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130); // a second Ctrl-C: stop waiting
    interrupted = true;
    process.stderr.write('\ninterrupted: cleaning up on the nodes …\n');
    void Promise.allSettled(cleanups.map((fn) => fn()))
      .then(close)
      .finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    inv,
    ctx: { transport, concurrency: flags.concurrency, progress },
    ...(api ? { kube: { api, nodes: kubeNodes } } : {}),
    access,
    nodesFrom: fromCluster ? 'cluster' : 'inventory',
    addCleanup: (fn) => cleanups.push(fn),
    close: async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await close();
    },
  };
}

/** Open a session, run `fn`, and always close it (progress stopped, connections and helper pods closed). */
export async function withSession<T>(flags: SessionFlags, opts: SessionOptions, fn: (session: Session) => Promise<T>): Promise<{ session: Session; result: T }> {
  const session = await openSession(flags, opts);
  try {
    return { session, result: await fn(session) };
  } finally {
    await session.close();
  }
}
