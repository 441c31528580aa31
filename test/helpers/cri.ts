/**
 * A real container runtime on one lab node, for tests: containerd with its CRI plugin, started inside the
 * node's namespaces (root and state under the node's private /run, the node's own CNI config and plugins,
 * runc with the cgroupfs driver), a sandbox ("pause") image built here from the host's static busybox and
 * imported with ctr, and a small CRI client (runtime.v1 over containerd's unix socket) that drives it as
 * kubelet does. Nothing is pulled: the image is local, the node has no route out, and containerd gets no
 * proxy settings; its streaming server listens on the node's loopback only.
 *
 * Boundary: owns the containerd it starts (and its shims and sandboxes), the cgroup parent its sandboxes
 * run under (/podnet-cri-<lab> in every cgroup hierarchy) and the cgroup mounts it adds inside the node.
 * `stop()` removes all of it; the node's mount namespace goes with the lab.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { TestLab } from './lab.js';
import { findNode, labExecArgv, CNI_BIN_DIRS, isExecutable } from '../../src/lab/service.js';
import { nodeMountNsFile } from '../../src/lab/render.js';
import { nsInode, pidsInNamespaces, processAlive, processName } from '../../src/lab/host.js';
import { sh } from '../../src/util/shell.js';

const PROTO = fileURLToPath(new URL('../fixtures/cri-runtime-v1.proto', import.meta.url));
/** containerd's private directory on the node (the node's /run is its own tmpfs) */
const DIR = '/run/podnet-cri';
const SOCKET = `${DIR}/containerd.sock`;
const PAUSE_IMAGE = 'podnet.test/pause:1';
/** The sandbox process sleeps this long, so that a sandbox orphaned by a crashed test ends by itself. */
const PAUSE_SECONDS = 3600;
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface CriPod {
  id: string;
  /** the pod IP the runtime reports (from the CNI result) */
  ip: string;
  /** the file the runtime pinned the pod's network namespace on */
  netns: string;
  state: string;
}

export interface CriRuntime {
  node: string;
  version(): Promise<{ runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }>;
  /** RunPodSandbox as kubelet calls it, then PodSandboxStatus (verbose, for the netns path) */
  runPod(name: string): Promise<CriPod>;
  stopPod(id: string): Promise<void>;
  removePod(id: string): Promise<void>;
  /** ids of the sandboxes the runtime still has */
  listPods(): Promise<string[]>;
  /** the end of containerd's log, for failure messages */
  log(lines?: number): Promise<string>;
  /** stop everything startCri started; idempotent, never throws */
  stop(): Promise<void>;
}

interface Tool {
  what: string;
  candidates: string[];
}

const TOOLS: Tool[] = [
  { what: 'containerd', candidates: ['/usr/bin/containerd'] },
  { what: 'ctr', candidates: ['/usr/bin/ctr'] },
  { what: 'containerd-shim-runc-v2', candidates: ['/usr/bin/containerd-shim-runc-v2'] },
  { what: 'runc', candidates: ['/usr/sbin/runc', '/usr/bin/runc'] },
];

/** The host's static busybox (the nodes' /usr is a copy-on-write view of the host's, so the same file). */
function staticBusybox(): string {
  const found = ['/usr/bin/busybox', '/bin/busybox'].find(isExecutable);
  assert.ok(found && isStaticElf(readFileSync(found)), 'the sandbox image needs a static busybox: apt-get install busybox-static (scripts/setup.sh installs it)');
  return found;
}

/** An ELF executable without a program interpreter (PT_INTERP) runs in an empty root filesystem. */
function isStaticElf(bin: Buffer): boolean {
  if (bin.length < 64 || bin.readUInt32BE(0) !== 0x7f454c46 || bin[4] !== 2 || bin[5] !== 1) return false; // 64-bit little-endian ELF
  const phoff = Number(bin.readBigUInt64LE(0x20));
  const phentsize = bin.readUInt16LE(0x36);
  const phnum = bin.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (bin.readUInt32LE(phoff + i * phentsize) === 3) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------------
// The sandbox image: an OCI image layout in a tar archive, made here (no registry, no docker).

interface TarEntry {
  name: string;
  data?: Buffer;
  mode: number;
}

/** A POSIX ustar archive of regular files and directories (a name ending in "/"), owned by root. */
function tarArchive(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    const h = Buffer.alloc(512);
    const put = (offset: number, width: number, s: string) => h.write(s, offset, width, 'ascii');
    const octal = (offset: number, width: number, n: number) => put(offset, width, `${n.toString(8).padStart(width - 1, '0')}\0`);
    assert.ok(Buffer.byteLength(e.name) < 100, `tar entry name too long: ${e.name}`);
    put(0, 100, e.name);
    octal(100, 8, e.mode);
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, data.length);
    octal(136, 12, 0);
    put(148, 8, '        ');
    put(156, 1, e.name.endsWith('/') ? '5' : '0');
    put(257, 8, 'ustar\u000000');
    put(265, 32, 'root');
    put(297, 32, 'root');
    let sum = 0;
    for (const b of h) sum += b;
    put(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function blob(content: Buffer | string): { bytes: Buffer; digest: string; size: number } {
  const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content);
  return { bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length };
}

const OCI_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/**
 * The pause image: one layer holding busybox, whose entrypoint sleeps. An OCI image layout (oci-layout,
 * index.json, blobs/) as `ctr images import` reads it, named `name` by the containerd name annotation.
 */
function buildPauseImage(busybox: Buffer, name = PAUSE_IMAGE): Buffer {
  const platform = { architecture: OCI_ARCH[process.arch] ?? process.arch, os: 'linux' };
  const layer = blob(
    tarArchive([
      { name: 'busybox', data: busybox, mode: 0o755 },
      ...['dev/', 'proc/', 'sys/', 'etc/', 'tmp/'].map((d) => ({ name: d, mode: 0o755 })),
    ]),
  );
  const config = blob(
    JSON.stringify({
      ...platform,
      config: { Entrypoint: ['/busybox', 'sleep', String(PAUSE_SECONDS)], WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
    }),
  );
  const manifest = blob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest, size: layer.size }],
    }),
  );
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: manifest.digest,
        size: manifest.size,
        platform,
        annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.split(':').pop() },
      },
    ],
  });
  const blobEntry = (b: { bytes: Buffer; digest: string }) => ({ name: `blobs/sha256/${b.digest.slice('sha256:'.length)}`, data: b.bytes, mode: 0o644 });
  return tarArchive([
    { name: 'oci-layout', data: Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })), mode: 0o644 },
    { name: 'index.json', data: Buffer.from(index), mode: 0o644 },
    { name: 'blobs/', mode: 0o755 },
    { name: 'blobs/sha256/', mode: 0o755 },
    blobEntry(layer),
    blobEntry(config),
    blobEntry(manifest),
  ]);
}

// ---------------------------------------------------------------------------------------------------
// Cgroups: a lab node mounts a fresh sysfs, which hides the host's cgroup mounts under /sys/fs/cgroup;
// runc (cgroupfs driver) needs them, so the node gets the same hierarchies mounted again.

interface HostMount {
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

interface MountEntry extends HostMount {
  id: number;
  parent: number;
  line: string;
}

function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    const [id, parent, , , mountPoint] = left?.split(' ') ?? [];
    const [fsType, , superOptions] = (right ?? '').split(' ');
    if (!mountPoint || !fsType) continue;
    out.push({
      line,
      id: Number(id),
      parent: Number(parent),
      mountPoint: mountPoint.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))),
      fsType,
      superOptions: (superOptions ?? '').split(','),
    });
  }
  return out;
}

const atOrBelow = (path: string, dir: string) => dir === '/' || path === dir || path.startsWith(`${dir}/`);

/**
 * The mounts a process in this mount namespace can reach: without those that a later mount on the same
 * place or above it covers (a lab node's copies of the host's mounts under its own /run, /sys, …), unless
 * they sit on that later mount. mountinfo lists a namespace's mounts in the order they were made.
 */
function visibleMounts(mounts: MountEntry[]): MountEntry[] {
  const byId = new Map(mounts.map((m) => [m.id, m]));
  const onTopOf = (m: MountEntry, base: MountEntry) => {
    for (let p = byId.get(m.parent); p; p = p.id === p.parent ? undefined : byId.get(p.parent)) if (p.id === base.id) return true;
    return false;
  };
  return mounts.filter((m, i) => !mounts.slice(i + 1).some((later) => atOrBelow(m.mountPoint, later.mountPoint) && !onTopOf(m, later)));
}

/** The host's cgroup hierarchies (and the tmpfs holding them), in mount order. */
function hostCgroupMounts(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): HostMount[] {
  return visibleMounts(parseMountinfo(mountinfo)).filter(
    (m) => (m.mountPoint === '/sys/fs/cgroup' || m.mountPoint.startsWith('/sys/fs/cgroup/')) && ['tmpfs', 'cgroup', 'cgroup2'].includes(m.fsType),
  );
}

/** sh that mounts the given cgroup hierarchies at the same places (in the caller's mount namespace). */
function renderCgroupMounts(mounts: HostMount[], controllers: Set<string>): string {
  const lines: string[] = [];
  for (const m of mounts) {
    const at = sh(m.mountPoint);
    const opts = m.superOptions.filter((o) => o !== 'rw' && o !== 'ro' && o !== '');
    if (m.fsType === 'tmpfs') {
      lines.push(`mkdir -p ${at} && mount -t tmpfs -o mode=755 tmpfs ${at}`);
    } else if (m.fsType === 'cgroup') {
      // A named hierarchy without controllers (name=systemd) must say "none", or the kernel attaches all free ones.
      if (!opts.some((o) => controllers.has(o))) opts.unshift('none');
      lines.push(`mkdir -p ${at} && mount -t cgroup -o ${sh(opts.join(','))} cgroup ${at}`);
    } else {
      lines.push(`mkdir -p ${at} && mount -t cgroup2 ${opts.length ? `-o ${sh(opts.join(','))} ` : ''}cgroup2 ${at}`);
    }
  }
  return lines.join('\n');
}

function cgroupControllers(): Set<string> {
  return new Set(
    readFileSync('/proc/cgroups', 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split('\t')[0]!),
  );
}

/** Remove a cgroup directory tree (cgroupfs directories go with rmdir, children first). */
function removeCgroupTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeCgroupTree(`${dir}/${e.name}`);
  try {
    rmdirSync(dir);
  } catch {
    /* a process still inside: reported by the caller's leftover check */
  }
}

/** PIDs of processes in `parent` (or below it) in any cgroup hierarchy. */
function pidsInCgroup(parent: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cg = readFileSync(`/proc/${entry}/cgroup`, 'utf8');
      if (cg.split('\n').some((l) => l.endsWith(`:/${parent}`) || l.includes(`:/${parent}/`))) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/** SIGKILL the processes `find` returns until it returns none (at most ~5 s); `first` gets a SIGTERM first. */
async function killAll(find: () => number[], first?: number): Promise<void> {
  for (let round = 0; round < 100; round++) {
    const pids = find().filter(processAlive);
    if (pids.length === 0) return;
    for (const p of pids) {
      try {
        process.kill(p, round === 0 && p === first ? 'SIGTERM' : 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** End every sandbox process under `parent` and remove its cgroups, in every hierarchy. */
async function clearCgroupParent(parent: string, mounts: HostMount[]): Promise<void> {
  await killAll(() => pidsInCgroup(parent));
  for (const m of mounts) if (m.fsType !== 'tmpfs') removeCgroupTree(`${m.mountPoint}/${parent}`);
}

// ---------------------------------------------------------------------------------------------------
// containerd on the node.

function renderContainerdConfig(cniBinDir: string): string {
  return `# containerd for podnet's container-runtime lab test; everything under ${DIR} on one lab node
version = 2
root = "${DIR}/root"
state = "${DIR}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "${SOCKET}"

[ttrpc]
  address = "${SOCKET}.ttrpc"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  disable_apparmor = true
  # sandboxes get oom_score_adj -998, which needs CAP_SYS_RESOURCE; some machines (VMs, containers) withhold
  # it even from root, and runc then fails ("failed to update /proc/self/oom_score_adj"): stay at containerd's
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${cniBinDir}"
    conf_dir = "/etc/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    # plain copies: no overlay mounts on top of the node's own overlay and tmpfs views
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
`;
}

interface RpcClient extends grpc.Client {
  [method: string]: unknown;
}

function loadClients(address: string): { runtime: RpcClient; images: RpcClient } {
  const def = protoLoader.loadSync(PROTO, { keepCase: false, longs: String, enums: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { runtime: { v1: Record<string, grpc.ServiceClientConstructor> } };
  const make = (svc: string) => new pkg.runtime.v1[svc]!(address, grpc.credentials.createInsecure()) as unknown as RpcClient;
  return { runtime: make('RuntimeService'), images: make('ImageService') };
}

function rpc<T>(client: RpcClient, method: string, request: object, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = client[method] as (req: object, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: T) => void) => void;
    fn.call(client, request, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(new Error(`CRI ${method}: ${err.details || err.message}`)) : resolve(res)));
  });
}

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number, why: () => Promise<string>): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) assert.fail(`${what} (waited ${timeoutMs / 1000}s)\n${await why()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Where the runtime pinned a sandbox's network namespace: the network namespace path of its OCI spec. */
function netnsFromInfo(info: Record<string, string>): string | undefined {
  try {
    const doc = JSON.parse(info.info ?? '{}') as { runtimeSpec?: { linux?: { namespaces?: { type: string; path?: string }[] } } };
    return doc.runtimeSpec?.linux?.namespaces?.find((n) => n.type === 'network')?.path;
  } catch {
    return undefined;
  }
}

/**
 * Start containerd (CRI) on `node` of a running lab whose CNI config is in place, import the pause image
 * and wait until the CRI knows it. Call `stop()` in an after hook.
 */
export async function startCri(lab: TestLab, node: string): Promise<CriRuntime> {
  const missing = TOOLS.filter((t) => !t.candidates.some(isExecutable)).map((t) => t.what);
  assert.deepEqual(missing, [], `missing ${missing.join(', ')}: apt-get install containerd runc (scripts/setup.sh installs them)`);
  const busybox = readFileSync(staticBusybox());
  const cniBinDir = CNI_BIN_DIRS.find((d) => isExecutable(`${d}/bridge`));
  assert.ok(cniBinDir, 'no CNI plugins on this machine: apt-get install containernetworking-plugins');

  const host = findNode(lab.plan, node);
  const mntInode = nsInode(nodeMountNsFile(lab.plan, host));
  const cgroupParent = `podnet-cri-${lab.plan.name}`;
  const cgroupMounts = hostCgroupMounts();
  const firstHierarchy = cgroupMounts.find((m) => m.fsType !== 'tmpfs');
  assert.ok(firstHierarchy, 'no cgroup hierarchy is mounted under /sys/fs/cgroup on this machine: runc needs one');
  // Sandboxes of an earlier run that was killed outright (their containerd went with its lab).
  await clearCgroupParent(cgroupParent, cgroupMounts);

  const prep = await lab.shOnNode(
    node,
    `set -e
[ -e ${sh(`${firstHierarchy.mountPoint}/cgroup.procs`)} ] || {
${renderCgroupMounts(cgroupMounts, cgroupControllers())}
}
mkdir -p ${DIR}
cat > ${DIR}/config.toml <<'EOF_TOML'
${renderContainerdConfig(cniBinDir)}EOF_TOML
`,
  );
  assert.equal(prep.exitCode, 0, `preparing containerd on ${node}: ${prep.stderr}`);

  // labExecArgv joins the lab's cgroup and execs nsenter, which execs containerd: the child is containerd.
  const [file, ...args] = labExecArgv(lab.plan, { kind: 'node', node }, ['sh', '-c', `exec containerd --config ${DIR}/config.toml >>${DIR}/containerd.log 2>&1`]);
  const child = spawn(file!, args, { detached: true, stdio: 'ignore', env: { PATH } });
  let exited: string | undefined;
  child.on('exit', (code, signal) => {
    exited = `containerd exited (${signal ?? code})`;
  });
  child.unref();
  const pid = child.pid!;
  const log = async (lines = 40) => {
    const r = await lab.onNode(node, ['tail', '-n', String(lines), `${DIR}/containerd.log`]);
    return r.stdout;
  };
  const socket = `/proc/${pid}/root${SOCKET}`;
  let clients: { runtime: RpcClient; images: RpcClient } | undefined;
  let stopped = false;

  const listPods = async (timeoutMs = 30_000) => (await rpc<{ items: { id: string }[] }>(clients!.runtime, 'listPodSandbox', {}, timeoutMs)).items.map((i) => i.id);

  const runtime: CriRuntime = {
    node,
    version: () => rpc(clients!.runtime, 'version', { version: 'v1' }),
    async runPod(name) {
      const r = await rpc<{ podSandboxId: string }>(
        clients!.runtime,
        'runPodSandbox',
        {
          config: {
            metadata: { name, uid: randomUUID(), namespace: 'podnet-test', attempt: 0 },
            hostname: name,
            labels: { 'podnet.test/name': name },
            linux: { cgroupParent: `/${cgroupParent}`, securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
          },
        },
        120_000,
      ).catch(async (err: Error) => assert.fail(`${err.message}\ncontainerd log:\n${await log()}`));
      const s = await rpc<{ status: { state: string; network?: { ip: string } }; info: Record<string, string> }>(clients!.runtime, 'podSandboxStatus', {
        podSandboxId: r.podSandboxId,
        verbose: true,
      });
      const netns = netnsFromInfo(s.info);
      assert.ok(netns, `the runtime did not say where sandbox ${r.podSandboxId} has its network namespace: ${JSON.stringify(s.info).slice(0, 500)}`);
      return { id: r.podSandboxId, ip: s.status.network?.ip ?? '', netns, state: s.status.state };
    },
    stopPod: async (id) => void (await rpc(clients!.runtime, 'stopPodSandbox', { podSandboxId: id }, 60_000)),
    removePod: async (id) => void (await rpc(clients!.runtime, 'removePodSandbox', { podSandboxId: id }, 60_000)),
    listPods: () => listPods(),
    log,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Let containerd undo what it can (CNI DEL, unmounts) while it runs; failures are the test's business.
      if (clients && !exited) {
        for (const id of await listPods(10_000).catch(() => [] as string[])) {
          await rpc(clients.runtime, 'stopPodSandbox', { podSandboxId: id }, 10_000).catch(() => undefined);
          await rpc(clients.runtime, 'removePodSandbox', { podSandboxId: id }, 10_000).catch(() => undefined);
        }
      }
      clients?.runtime.close();
      clients?.images.close();
      // containerd and its shims (in the node's mount namespace); then the sandboxes (in our cgroup parent).
      const shims = () => (mntInode === undefined ? [] : pidsInNamespaces(new Set(), new Set([mntInode])).filter((p) => processName(p).startsWith('containerd-shim')));
      // containerd's PID only while it is our unreaped child: a PID can be reused once it is reaped.
      await killAll(() => [...(exited ? [] : [pid]), ...shims()], pid);
      await clearCgroupParent(cgroupParent, cgroupMounts);
    },
  };

  try {
    await waitFor(`containerd did not open ${SOCKET} on ${node}`, () => Boolean(exited) || existsSync(socket), 20_000, log);
    assert.ok(!exited, `${exited} on ${node}:\n${await log()}`);
    clients = loadClients(`unix://${socket}`);
    await runtime.version();

    // The image goes in through containerd's own root (the node's /run is private to the node).
    writeFileSync(`/proc/${pid}/root${DIR}/pause.tar`, buildPauseImage(busybox));
    const imp = await lab.onNode(node, ['ctr', '--address', SOCKET, '--namespace', 'k8s.io', 'images', 'import', '--snapshotter', 'native', `${DIR}/pause.tar`]);
    assert.equal(imp.exitCode, 0, `ctr images import on ${node}: ${imp.stderr}`);
    // The CRI learns of imported images from events: wait until it knows the sandbox image, so that
    // RunPodSandbox never tries to pull it.
    await waitFor(
      `the CRI does not know ${PAUSE_IMAGE} after the import`,
      async () => (await rpc<{ image?: { id: string } | null }>(clients!.images, 'imageStatus', { image: { image: PAUSE_IMAGE } })).image?.id !== undefined,
      10_000,
      log,
    );
  } catch (err) {
    await runtime.stop();
    throw err;
  }
  return runtime;
}

/** The mounts a process on the node sees (mountinfo lines), optionally only those at or below `under`. */
export async function nodeMounts(lab: TestLab, node: string, under?: string): Promise<string[]> {
  const r = await lab.onNode(node, ['cat', '/proc/self/mountinfo']);
  assert.equal(r.exitCode, 0, r.stderr);
  return visibleMounts(parseMountinfo(r.stdout))
    .filter((m) => under === undefined || atOrBelow(m.mountPoint, under))
    .map((m) => m.line);
}
