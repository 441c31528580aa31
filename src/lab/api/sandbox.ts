/**
 * How the stand-in's kubelet runs a container on a lab node, as argument vectors and one shell script
 * (pure; values quoted with sh()): enter the node's network and UTS namespaces and a private copy of its
 * mount namespace, a PID namespace of the pod's own (the node's with hostPID: the stand-in's, whose PID 1
 * is in the node's namespaces) and an IPC namespace of its own unless hostIPC, mount the
 * image's copy-on-write root filesystem with /proc, /sys, /dev and the pod's volumes, then drop to the
 * container's capability set and change root into it. `pods/exec` enters the same namespaces and root.
 */
import { sh } from '../../util/shell.js';

/** The capabilities a container has unless it is privileged (containerd's and CRI-O's default set). */
export const DEFAULT_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE'];

export interface SandboxMount {
  /** a path on the node (hostPath) or in the lab's pod dir (emptyDir) */
  source: string;
  /** where it appears in the container */
  target: string;
  readOnly: boolean;
  /** create the source if it is missing (hostPath DirectoryOrCreate / FileOrCreate, emptyDir) */
  create?: 'directory' | 'file';
}

export interface SandboxSpec {
  /** the node's namespaces: network namespace name, and the files holding its mount and UTS namespaces */
  netns: string;
  mntFile: string;
  utsFile: string;
  /** the node's PID namespace (a /proc/PID/ns/pid_for_children file), joined with hostPID */
  pidNsFile: string;
  /** this container instance's directory as the node sees it: upper, work, root, pid, setup.err */
  dir: string;
  /** the image's root filesystem as the node sees it */
  imageDir: string;
  hostPID: boolean;
  hostIPC: boolean;
  privileged: boolean;
  /** capabilities added to (or, with ALL in drop, kept from) the default set */
  capAdd: string[];
  capDrop: string[];
  runAsUser?: number;
  runAsGroup?: number;
  readOnlyRootFilesystem: boolean;
  mounts: SandboxMount[];
  hostname: string;
  /** lines of the container's /etc/hosts */
  hosts: string[];
  env: [string, string][];
  workingDir: string;
  argv: string[];
}

/** The container's bounding set: undefined when privileged (everything). */
export function capabilitySet(spec: Pick<SandboxSpec, 'privileged' | 'capAdd' | 'capDrop'>): string[] | undefined {
  if (spec.privileged) return undefined;
  const norm = (c: string) => c.toUpperCase().replace(/^CAP_/, '');
  const drop = spec.capDrop.map(norm);
  const base = drop.includes('ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c));
  const add = spec.capAdd.map(norm);
  return add.includes('ALL') ? undefined : [...new Set([...base, ...add])];
}

/** env -i, the credentials and capabilities, then chroot and chdir: the tail of both start and exec. */
function enterArgv(spec: SandboxSpec, argv: string[]): string[] {
  const caps = capabilitySet(spec);
  const setpriv: string[] = [];
  if (spec.runAsGroup !== undefined || spec.runAsUser !== undefined) {
    setpriv.push(`--regid=${spec.runAsGroup ?? spec.runAsUser ?? 0}`, '--clear-groups', `--reuid=${spec.runAsUser ?? 0}`);
  }
  if (caps) setpriv.push('--inh-caps=-all', `--bounding-set=-all${caps.map((c) => `,+${c.toLowerCase()}`).join('')}`);
  return [
    '/usr/bin/env',
    '-i',
    ...spec.env.map(([k, v]) => `${k}=${v}`),
    ...(setpriv.length ? ['/usr/bin/setpriv', ...setpriv, '--'] : []),
    '/usr/bin/unshare',
    `--root=${spec.dir}/root`,
    `--wd=${spec.workingDir || '/'}`,
    '--',
    ...argv,
  ];
}

function devLines(privileged: boolean): string[] {
  if (privileged) return ['mount --rbind /dev "$R/dev"'];
  return [
    'mount -t tmpfs -o mode=755,nosuid,size=65536k tmpfs "$R/dev"',
    'for d in null zero full random urandom tty; do : > "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done',
    'ln -s /proc/self/fd "$R/dev/fd"; ln -s /proc/self/fd/0 "$R/dev/stdin"; ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"',
    'mkdir -p "$R/dev/pts" "$R/dev/shm" && mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/dev/shm"',
  ];
}

function mountLines(m: SandboxMount): string[] {
  const src = sh(m.source);
  const dst = `"$R"${sh(m.target)}`;
  const out: string[] = [];
  if (m.create === 'directory') out.push(`[ -e ${src} ] || mkdir -p ${src}`);
  if (m.create === 'file') out.push(`[ -e ${src} ] || { mkdir -p "$(dirname ${src})" && : > ${src}; }`);
  out.push(`[ -e ${src} ] || { echo ${sh(`hostPath ${m.source} does not exist on the node`)} >&2; exit 1; }`);
  out.push(`if [ -d ${src} ]; then mkdir -p ${dst}; else mkdir -p "$(dirname ${dst})" && { [ -e ${dst} ] || : > ${dst}; }; fi`);
  out.push(`mount --rbind ${src} ${dst}`);
  if (m.readOnly) out.push(`mount -o remount,bind,ro ${dst}`);
  return out;
}

/** The script that sets up the container's root and execs the container (its argv follows as "$@"). */
export function renderSandboxScript(spec: SandboxSpec): string {
  const C = sh(spec.dir);
  return [
    'set -eu',
    'export PATH=/usr/sbin:/usr/bin:/sbin:/bin',
    `C=${C}`,
    'R="$C/root"',
    // errors before the container runs are the runtime's (CreateContainerError), kept apart from its log
    'exec 3>&2 2>"$C/setup.err"',
    `mount -t overlay overlay -o ${sh(`lowerdir=${spec.imageDir},upperdir=${spec.dir}/upper,workdir=${spec.dir}/work`)} "$R"`,
    'mkdir -p "$R/proc" "$R/sys" "$R/dev" "$R/etc" "$R/tmp"',
    'mount -t proc -o nosuid,nodev,noexec proc "$R/proc"',
    `mount -t sysfs -o ${spec.privileged ? 'rw' : 'ro'},nosuid,nodev,noexec sysfs "$R/sys"`,
    ...devLines(spec.privileged),
    ...spec.mounts.flatMap(mountLines),
    `printf '%s\\n' ${sh(spec.hostname)} > "$R/etc/hostname"`,
    `printf '%s\\n' ${spec.hosts.map(sh).join(' ')} > "$R/etc/hosts"`,
    'cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || : > "$R/etc/resolv.conf"',
    ...(spec.readOnlyRootFilesystem ? ['mount -o remount,ro "$R"'] : []),
    // the host PID of this shell (the container's process once exec'd): /proc here is the node's
    'read -r pid _ < /proc/self/stat',
    'echo "$pid" > "$C/pid"',
    'exec 2>&3 3>&-',
    `exec ${enterArgv(spec, []).map(sh).join(' ')} "$@"`,
    '',
  ].join('\n');
}

/** The argv that starts a container: spawned by the kubelet on the host, it ends as the container's process. */
export function sandboxStartArgv(spec: SandboxSpec): string[] {
  const unshare = ['/usr/bin/unshare', '--mount', '--propagation', 'private'];
  if (!spec.hostIPC) unshare.push('--ipc');
  if (!spec.hostPID) unshare.push('--pid', '--fork', '--kill-child');
  return [
    '/usr/bin/nsenter',
    `--net=/run/netns/${spec.netns}`,
    `--mount=${spec.mntFile}`,
    `--uts=${spec.utsFile}`,
    // the node's PID namespace: a hostPID pod's own, and the parent of a pod's own (so that every PID the
    // pod's processes see also shows in the node's /proc)
    `--pid=${spec.pidNsFile}`,
    '--',
    ...unshare,
    '--',
    '/bin/sh',
    '-c',
    renderSandboxScript(spec),
    'podnet-container',
    ...spec.argv,
  ];
}

/** The argv of `pods/exec`: the running container's namespaces (by its PID), credentials and root. */
export function sandboxExecArgv(spec: SandboxSpec, pid: number, argv: string[]): string[] {
  return ['/usr/bin/nsenter', '-t', String(pid), '-m', '-u', '-n', '-i', '-p', '--', ...enterArgv(spec, argv)];
}

/**
 * argv run inside a container's cgroup: the process joins it before it runs anything of the container,
 * so everything started from it stays there (setns into other namespaces does not leave a cgroup).
 */
export function cgroupJoinArgv(cgroupDir: string, argv: string[]): string[] {
  return ['/bin/sh', '-c', 'echo $$ > "$1/cgroup.procs" || exit 125; shift; exec "$@"', 'podnet-cgroup', cgroupDir, ...argv];
}
