/**
 * The lab service: build, inspect, enter and tear down labs of simulated nodes. Commands stay thin and
 * call these functions; the pure plan lives in topology.ts and the scripts in render.ts.
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PodnetError, ExitCode, UserError } from '../util/errors.js';
import { runLocal, runLocalScript } from '../transport/local.js';
import { sh } from '../util/shell.js';
import { normalizeIp } from '../net/cidr.js';
import {
  LAB_ROOT,
  labDir,
  labFamilies,
  labHasIpv6,
  labNetnsPrefix,
  hostIps,
  normalizeLabPlan,
  planLab,
  validateLabName,
  type LabHost,
  type LabIpFamily,
  type LabOptions,
  type LabPlan,
} from './topology.js';
import { nodeEnterArgv, renderKnownHosts, renderLabInventory, renderLabUpScript, renderSshConfig } from './render.js';
import { hostNeighIoFor, releaseNeighbours, reserveNeighbours, type NeighChange } from './neigh.js';
import { cgroup2Root, cgroupPids, listNetns, mountsUnder, netnsInodeOf, nsInode, pidsInNamespaces, processAlive, processName } from './host.js';
import { apiPreflight, labApiInfo, startLabApi, type LabApiInfo } from './api/setup.js';
import { labKubeconfigPath } from './api/paths.js';

export const CNI_BIN_DIRS = ['/opt/cni/bin', '/usr/lib/cni'];

interface Requirement {
  what: string;
  candidates: string[];
  pkg: string;
}

const REQUIREMENTS: Requirement[] = [
  { what: 'sshd', candidates: ['/usr/sbin/sshd'], pkg: 'openssh-server' },
  { what: 'ssh', candidates: ['/usr/bin/ssh'], pkg: 'openssh-client' },
  { what: 'ssh-keygen', candidates: ['/usr/bin/ssh-keygen'], pkg: 'openssh-client' },
  { what: 'ip', candidates: ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'], pkg: 'iproute2' },
  { what: 'bridge', candidates: ['/usr/sbin/bridge', '/sbin/bridge', '/usr/bin/bridge'], pkg: 'iproute2' },
  { what: 'nsenter', candidates: ['/usr/bin/nsenter', '/bin/nsenter'], pkg: 'util-linux' },
  { what: 'unshare', candidates: ['/usr/bin/unshare', '/bin/unshare'], pkg: 'util-linux' },
  { what: 'iptables', candidates: ['/usr/sbin/iptables', '/sbin/iptables'], pkg: 'iptables' },
  ...['bridge', 'host-local', 'portmap', 'loopback'].map((p) => ({
    what: `CNI plugin ${p}`,
    candidates: CNI_BIN_DIRS.map((d) => `${d}/${p}`),
    pkg: 'containernetworking-plugins',
  })),
];

export function preflight(ipFamily: LabIpFamily = 'ipv4'): void {
  if (process.platform !== 'linux') throw new UserError('the lab needs Linux (network and mount namespaces)');
  if (process.getuid?.() !== 0) {
    throw new UserError('the lab needs root: it creates network namespaces, mounts and sshd processes', 'run it with sudo');
  }
  checkTools();
  if (labHasIpv6(ipFamily)) checkIpv6(readSysctl);
}

function readSysctl(path: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${path}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * An IPv6 underlay needs IPv6 in the kernel, and new namespaces that start with it enabled: they do
 * unless net.core.devconf_inherit_init_net copies the host's disable_ipv6=1 into them. Only read here;
 * the host's settings are never changed for it.
 */
export function checkIpv6(read: (path: string) => string | undefined): void {
  if (read('net/ipv6/conf/default/disable_ipv6') === undefined) {
    throw new UserError('--ip-family: this kernel has no IPv6 (booted with ipv6.disable=1?)', 'use --ip-family ipv4, or boot without ipv6.disable=1');
  }
  const inherit = read('net/core/devconf_inherit_init_net');
  if ((inherit === '1' || inherit === '3') && read('net/ipv6/conf/default/disable_ipv6') === '1') {
    throw new UserError(
      '--ip-family: new network namespaces inherit disable_ipv6=1 from the host (net.core.devconf_inherit_init_net)',
      'use --ip-family ipv4, or set net.core.devconf_inherit_init_net=0 (or enable IPv6 on the host)',
    );
  }
}

/** Throws a UserError naming what is missing and the Debian packages that provide it. */
export function checkTools(exists: (path: string) => boolean = isExecutable): void {
  const missing = REQUIREMENTS.filter((r) => !r.candidates.some(exists));
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((m) => m.pkg))];
    throw new UserError(
      `missing ${missing.map((m) => m.what).join(', ')}`,
      `install the Debian package${pkgs.length > 1 ? 's' : ''}: apt-get install -y ${pkgs.join(' ')}`,
    );
  }
}

export function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function labExists(name: string): boolean {
  const prefix = labNetnsPrefix(name);
  return existsSync(labDir(name)) || listNetns().some((n) => n.startsWith(prefix));
}

export interface LabInfo {
  name: string;
  dir: string;
  topology: LabPlan['topology'];
  /** the underlay's address families; absent for an IPv4 lab */
  ipFamily?: Exclude<LabIpFamily, 'ipv4'>;
  inventory: string;
  sshConfig: string;
  /** ip: the primary address; ips (labs with IPv6 only): every address, primary first */
  operator: { netns: string; ip: string; ips?: string[] };
  nodes: { name: string; ip: string; ips?: string[]; netns: string; segment: string; mtu: number; sshd: 'running' | 'stopped' }[];
  /** host settings lab up changed for this lab (neighbour-table limits for big labs; see neigh.ts) */
  hostChanges?: NeighChange[];
  /** the stand-in Kubernetes API server (lab up --api) */
  api?: LabApiInfo;
}

export async function labUp(opts: LabOptions): Promise<LabInfo> {
  const plan = planLab(opts);
  preflight(plan.ipFamily);
  if (plan.api) apiPreflight();
  if (labExists(plan.name)) {
    throw new UserError(`lab "${plan.name}" already exists`, `tear it down first: podnet lab down --name ${plan.name} (or pick another --name)`);
  }
  const cg = cgroup2Root();
  const cgroupDir = cg ? `${cg}/${plan.cgroupName}` : undefined;
  // One neighbour table per family of the underlay (ARP, NDP), both shared by every namespace.
  const hostChanges = labFamilies(plan.ipFamily).flatMap((f) => reserveNeighbours(plan.name, plan.nodes.length, hostNeighIoFor(f.name)));
  const r = await runLocalScript(renderLabUpScript(plan, cgroupDir), { timeoutMs: 120_000 });
  if (r.exitCode !== 0) {
    await labDown(plan.name).catch(() => undefined);
    throw new PodnetError(`lab "${plan.name}" could not be built: ${lastLine(r.stderr) || `exit ${r.exitCode}`}`, ExitCode.NODE, 'the partial lab was removed; run with --verbose for details');
  }
  const keys = new Map<string, string>();
  for (const n of plan.nodes) keys.set(n.name, readFileSync(`${plan.dir}/nodes/${n.name}/ssh/ssh_host_ed25519_key.pub`, 'utf8'));
  writeFileSync(`${plan.dir}/known_hosts`, renderKnownHosts(plan, keys));
  writeFileSync(`${plan.dir}/ssh_config`, renderSshConfig(plan));
  writeFileSync(`${plan.dir}/inventory.yaml`, renderLabInventory(plan));
  writeFileSync(`${plan.dir}/lab.json`, `${JSON.stringify(plan, null, 2)}\n`);
  if (plan.api) {
    try {
      await startLabApi(plan, cgroupDir);
    } catch (err) {
      await labDown(plan.name).catch(() => undefined);
      throw err;
    }
  }
  return { ...labInfo(plan), hostChanges };
}

export function readLabPlan(name: string): LabPlan {
  validateLabName(name);
  const file = `${labDir(name)}/lab.json`;
  if (!existsSync(file)) {
    throw new UserError(`no lab named "${name}"`, 'start one with: podnet lab up (see podnet lab status for the labs that exist)');
  }
  return normalizeLabPlan(JSON.parse(readFileSync(file, 'utf8')) as LabPlan);
}

export function labInfo(plan: LabPlan): LabInfo {
  const running = sshdByNetns(plan);
  // An IPv4 lab reports exactly what it always did; one with IPv6 adds its family and every address.
  const v6 = plan.ipFamily !== 'ipv4';
  const ips = (h: LabHost) => (v6 ? { ips: hostIps(h) } : {});
  return {
    name: plan.name,
    dir: plan.dir,
    topology: plan.topology,
    ...(plan.ipFamily !== 'ipv4' ? { ipFamily: plan.ipFamily } : {}),
    inventory: `${plan.dir}/inventory.yaml`,
    sshConfig: `${plan.dir}/ssh_config`,
    operator: { netns: plan.operator.netns, ip: plan.operator.ip, ...ips(plan.operator) },
    nodes: plan.nodes.map((n) => ({
      name: n.name,
      ip: n.ip,
      ...ips(n),
      netns: n.netns,
      segment: n.segment,
      mtu: n.mtu,
      sshd: running.has(n.netns) ? 'running' : 'stopped',
    })),
    ...(plan.api ? { api: labApiInfo(plan) } : {}),
  };
}

function sshdByNetns(plan: LabPlan): Set<string> {
  const byInode = new Map<number, string>();
  for (const n of plan.nodes) {
    const ino = nsInode(`/run/netns/${n.netns}`);
    if (ino !== undefined) byInode.set(ino, n.netns);
  }
  const out = new Set<string>();
  for (const pid of pidsInNamespaces(new Set(byInode.keys()), new Set())) {
    if (processName(pid) !== 'sshd') continue;
    const ns = byInode.get(netnsInodeOf(pid) ?? -1);
    if (ns) out.add(ns);
  }
  return out;
}

export interface LabSummary {
  name: string;
  state: 'up' | 'degraded' | 'leftover';
  topology?: string;
  /** the underlay's address families; absent for an IPv4 lab */
  ipFamily?: Exclude<LabIpFamily, 'ipv4'>;
  nodes: number;
  sshdRunning: number;
  inventory?: string;
  /** the stand-in API server's state, for labs started with --api */
  api?: LabApiInfo['state'];
}

/** Every lab on this machine, including leftovers of a crashed run (namespaces without a lab directory). */
export function listLabs(): LabSummary[] {
  const names = new Set<string>();
  try {
    for (const d of readdirSync(LAB_ROOT)) names.add(d);
  } catch {
    /* no labs */
  }
  for (const ns of listNetns()) {
    const m = /^podnet-([a-z][a-z0-9]*)-/.exec(ns);
    if (m?.[1]) names.add(m[1]);
  }
  return [...names].sort().map((name) => {
    const file = `${labDir(name)}/lab.json`;
    if (!existsSync(file)) return { name, state: 'leftover', nodes: listNetns().filter((n) => n.startsWith(labNetnsPrefix(name))).length, sshdRunning: 0 };
    const info = labInfo(normalizeLabPlan(JSON.parse(readFileSync(file, 'utf8')) as LabPlan));
    const up = info.nodes.filter((n) => n.sshd === 'running').length;
    return {
      name,
      state: up === info.nodes.length ? 'up' : 'degraded',
      topology: info.topology,
      ...(info.ipFamily ? { ipFamily: info.ipFamily } : {}),
      nodes: info.nodes.length,
      sshdRunning: up,
      inventory: info.inventory,
      ...(info.api ? { api: info.api.state } : {}),
    };
  });
}

export interface LabDownResult {
  name: string;
  killedProcesses: number;
  removedNetns: string[];
  removedMounts: number;
  existed: boolean;
  /** host settings put back now that the lab is gone */
  hostChanges: NeighChange[];
}

/**
 * Remove everything a lab created, found by name so that it also cleans up after a crashed run:
 * processes (by cgroup and by namespace), namespace files, mounts, the lab directory and the cgroup.
 * Idempotent.
 */
export async function labDown(name: string): Promise<LabDownResult> {
  validateLabName(name);
  preflightRootOnly();
  const dir = labDir(name);
  const prefix = labNetnsPrefix(name);
  const netns = listNetns().filter((n) => n.startsWith(prefix));
  const netInodes = new Set(netns.map((n) => nsInode(`/run/netns/${n}`)).filter((x): x is number => x !== undefined));
  const mntFiles = existsSync(`${dir}/ns`) ? readdirSync(`${dir}/ns`).map((f) => `${dir}/ns/${f}`) : [];
  const mntInodes = new Set(mntFiles.map(nsInode).filter((x): x is number => x !== undefined));
  const cg = cgroup2Root();
  const cgroupDir = cg ? `${cg}/podnet-lab-${name}` : undefined;

  let killed = 0;
  for (let round = 0; round < 50; round++) {
    const pids = new Set([...pidsInNamespaces(netInodes, mntInodes), ...(cgroupDir ? cgroupPids(cgroupDir) : [])]);
    pids.delete(process.pid);
    const alive = [...pids].filter(processAlive);
    if (alive.length === 0) break;
    for (const pid of alive) {
      try {
        process.kill(pid, 'SIGKILL');
        if (round === 0) killed++;
      } catch {
        /* already gone */
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }

  const existed = netns.length > 0 || existsSync(dir);
  const mounts = existsSync(dir) ? mountsUnder(dir) : [];
  const script = [
    ...mounts.map((m) => `umount -l ${sh(m)} 2>/dev/null || true`),
    ...netns.map((n) => `ip netns del ${sh(n)} 2>/dev/null || rm -f ${sh(`/run/netns/${n}`)}`),
    `rm -rf ${sh(dir)}`,
    // the stand-in kubelet's container cgroups are below the lab's: innermost first
    cgroupDir ? `[ -d ${sh(cgroupDir)} ] && find ${sh(cgroupDir)} -depth -type d -exec rmdir {} + 2>/dev/null || true` : 'true',
  ].join('\n');
  const r = await runLocalScript(script, { timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new PodnetError(`lab "${name}" teardown failed: ${lastLine(r.stderr)}`, ExitCode.NODE);
  // Whatever the lab's families were (its lab.json may be gone after a crash): releasing is a no-op
  // for a table the lab was not counted in.
  const hostChanges = [...releaseNeighbours(name), ...releaseNeighbours(name, hostNeighIoFor('ipv6'))];
  for (const d of [LAB_ROOT, dirname(LAB_ROOT)]) {
    try {
      rmdirSync(d);
    } catch {
      /* not empty (other labs) or gone */
    }
  }
  return { name, killedProcesses: killed, removedNetns: netns, removedMounts: mounts.length, existed: existed || hostChanges.length > 0, hostChanges };
}

function preflightRootOnly(): void {
  if (process.getuid?.() !== 0) throw new UserError('the lab needs root', 'run it with sudo');
}

export type ExecTarget = { kind: 'operator' } | { kind: 'node'; node: string };

/** The argv that runs `command` inside the lab: in the operator namespace, or on a node (netns + mount ns). */
export function labExecArgv(plan: LabPlan, target: ExecTarget, command: string[]): string[] {
  const cg = cgroup2Root();
  const join = cg ? `echo $$ > ${sh(`${cg}/${plan.cgroupName}/cgroup.procs`)} 2>/dev/null || true; ` : '';
  let ns: string[];
  if (target.kind === 'operator') {
    // podnet in the operator namespace connects with the lab's ssh_config (an inventory may not name one);
    // with the stand-in API, kubectl there finds the lab's kubeconfig and caches discovery in the lab.
    const kube = plan.api ? [`KUBECONFIG=${labKubeconfigPath(plan.dir)}`, `KUBECACHEDIR=${plan.dir}/kube-cache`] : [];
    ns = ['nsenter', `--net=/run/netns/${plan.operator.netns}`, '--', 'env', `PODNET_SSH_CONFIG=${plan.dir}/ssh_config`, ...kube];
  } else {
    const node = findNode(plan, target.node);
    ns = nodeEnterArgv(plan, node);
  }
  return ['sh', '-c', `${join}exec "$@"`, 'podnet-lab-exec', ...ns, ...(target.kind === 'operator' ? [] : ['--']), ...command];
}

export function findNode(plan: LabPlan, name: string): LabHost {
  const ip = normalizeIp(name);
  const node = plan.nodes.find((n) => n.name === name || (ip !== undefined && hostIps(n).includes(ip)));
  if (!node) throw new UserError(`--node: no node "${name}" in lab "${plan.name}"; expected one of ${plan.nodes.map((n) => n.name).join(', ')}`);
  return node;
}

/** PATH for commands run in the lab: podnet's own bin directory first, so `podnet` resolves to this build. */
export function labExecEnv(): Record<string, string> {
  const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin');
  return { ...process.env, PATH: `${bin}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` } as Record<string, string>;
}

/** Run a command inside the lab and capture its output (tests and the demo use this). */
export async function labRun(plan: LabPlan, target: ExecTarget, command: string[], opts: { input?: string; timeoutMs?: number } = {}) {
  const [file, ...args] = labExecArgv(plan, target, command);
  return runLocal(file!, args, { ...opts, env: labExecEnv() });
}

function lastLine(s: string): string {
  return s.trim().split('\n').filter(Boolean).pop() ?? '';
}
