/**
 * Lab plan → the bash script that builds it, plus the files the lab hands to its users (ssh_config,
 * known_hosts, inventory). Pure: strings in, strings out. All values are quoted with sh().
 */
import { addressIp, hostIps, labFamilies, labHasIpv6, type LabHost, type LabPlan } from './topology.js';
import { sh } from '../util/shell.js';
import { familyOf } from '../net/family.js';

/** Directories each node gets a private copy-on-write view of (overlayfs on the host's tree). */
export const NODE_OVERLAY_DIRS = ['/etc', '/var', '/opt', '/usr', '/home'] as const;
/**
 * Directories each node gets empty and private (tmpfs). /root is one of them: a node is a freshly
 * installed machine, so root's home holds only the distribution's skeleton files. Sharing the host's
 * /root would hand every node the host's shell start-up files (the login shell sshd runs reads
 * ~/.bashrc; a version manager hook there costs ~100 processes per SSH session) and its secrets.
 */
export const NODE_TMPFS_DIRS = ['/run', '/tmp', '/root'] as const;
/**
 * Directories a node starts with empty, whatever the host has there: the CNI config and state, and the
 * container runtimes' configuration (a node is not told where to look for plugins by the host's containerd).
 */
export const NODE_OWN_DIRS = ['/etc/cni/net.d', '/var/lib/cni', '/etc/containerd', '/etc/crio', '/opt/cni'] as const;
const TMPFS_MODE: Record<(typeof NODE_TMPFS_DIRS)[number], string> = { '/run': '0755', '/tmp': '1777', '/root': '0700' };
/** Where a node finds its sshd config, host key and authorized_keys (inside its own /etc overlay). */
export const NODE_SSH_DIR = '/etc/ssh/podnet-lab';

/**
 * Where a node of a lab with the stand-in API (lab up --api) finds its container runtime's files: the
 * lab's images (read-only) and its own pods' root filesystems, logs and volumes. The lab directory
 * itself is under /run, which a node has empty; these two are bound into the node when it is made.
 */
export const NODE_RUNTIME_DIR = '/run/podnet-lab';

/** The host's side of a node's runtime directory (its pods). */
export function nodeRuntimeHostDir(plan: LabPlan, node: LabHost): string {
  return `${plan.dir}/api/nodes/${node.name}`;
}

export function labImagesDir(plan: LabPlan): string {
  return `${plan.dir}/images`;
}

export function nodeMountNsFile(plan: LabPlan, node: LabHost): string {
  return `${plan.dir}/ns/${node.name}.mnt`;
}

export function nodeUtsNsFile(plan: LabPlan, node: LabHost): string {
  return `${plan.dir}/ns/${node.name}.uts`;
}

/**
 * With the stand-in API, a node has a PID namespace of its own too (pinned on this file): its /proc shows
 * that namespace and everything on the node (sshd, its sessions, what `lab exec` runs, hostPID pods) lives
 * in it, as on a real machine, so PID 1 is the node's own init (`nsenter -t 1` from a hostPID pod enters
 * the node, never the host) and /proc/PID agrees with every PID a node process sees (the CNI plugins open
 * /proc/PID/task/TID/ns/net).
 */
export function nodePidNsFile(plan: LabPlan, node: LabHost): string {
  return `${plan.dir}/ns/${node.name}.pid`;
}

/** The nsenter prefix that puts a command inside a node: its network, mount, UTS (and PID) namespaces. */
export function nodeEnterArgv(plan: LabPlan, node: LabHost): string[] {
  return ['nsenter', `--net=/run/netns/${node.netns}`, `--mount=${nodeMountNsFile(plan, node)}`, `--uts=${nodeUtsNsFile(plan, node)}`, ...(plan.api ? [`--pid=${nodePidNsFile(plan, node)}`] : [])];
}

function nodeEnter(plan: LabPlan, node: LabHost): string {
  return nodeEnterArgv(plan, node).map(sh).join(' ');
}

export function nodeDir(plan: LabPlan, node: LabHost): string {
  return `${plan.dir}/nodes/${node.name}`;
}

function ipBatch(netns: string, lines: string[]): string {
  return `ip -n ${sh(netns)} -batch - <<'EOF_IP'\n${lines.join('\n')}\nEOF_IP`;
}

/**
 * `ip addr add` of an underlay address. IPv6 ones skip duplicate address detection (nodad): the lab
 * hands out every address itself, and a tentative address would make sshd's bind and the first
 * connections fail for a second or two.
 */
function addrAdd(cidr: string, dev: string): string {
  return `addr add ${cidr} dev ${dev}${familyOf(addressIp(cidr))?.version === 6 ? ' nodad' : ''}`;
}

function hostLinkLines(h: LabHost): string[] {
  return [
    'link set lo up',
    ...h.addresses.map((a) => addrAdd(a, 'eth0')),
    `link set eth0 mtu ${h.mtu} up`,
    ...h.routes.map((r) => `route add ${r.to} via ${r.via} dev eth0`),
  ];
}

export function sshdConfig(node: LabHost): string {
  return [
    `# sshd for lab node ${node.name}; written by podnet lab up`,
    // One line per underlay address: IPv4, IPv6 or both (a bare IPv6 address is valid here).
    ...hostIps(node).map((ip) => `ListenAddress ${ip}`),
    'Port 22',
    `HostKey ${NODE_SSH_DIR}/ssh_host_ed25519_key`,
    `AuthorizedKeysFile ${NODE_SSH_DIR}/authorized_keys .ssh/authorized_keys`,
    'PidFile /run/sshd.pid',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'UseDNS no',
    'StrictModes no',
    // Every simulated node shares the host's few cores: the post-quantum hybrid key exchange
    // (sntrup761x25519, OpenSSH's default) costs ~130 ms of CPU per connection, 4 s for a 32-node run.
    // Lab traffic never leaves the machine, so the lab offers the classic X25519 exchange only.
    'KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org',
    'MaxSessions 64',
    'MaxStartups 200',
    'PrintMotd no',
    'AcceptEnv LANG LC_*',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}

/** The script that builds the whole lab. It runs as root on the host; `cgroupDir` collects every process. */
export function renderLabUpScript(plan: LabPlan, cgroupDir: string | undefined): string {
  const L = sh(plan.dir);
  const all = [plan.operator, ...plan.nodes];
  const routed = plan.topology === 'routed';
  const out: string[] = [
    'set -euo pipefail',
    'umask 022',
    `L=${L}`,
  ];
  if (cgroupDir) out.push(`mkdir -p ${sh(cgroupDir)}`, `echo $$ > ${sh(cgroupDir)}/cgroup.procs`);
  out.push(
    // The whole lab lives in one private tmpfs: `lab down` is an unmount, and nothing is written to disk.
    'mkdir -p "$L"',
    `mount -t tmpfs -o mode=0711,size=256m ${sh(`podnet-lab-${plan.name}`)} "$L"`,
    'mount --make-private "$L"',
    'mkdir -p "$L/ns" "$L/nodes"',
    `ssh-keygen -q -t ed25519 -N '' -C ${sh(`podnet-lab-${plan.name}`)} -f "$L/id_ed25519"`,
    ipBatchNetnsAdd([plan.fabricNetns, ...all.map((h) => h.netns)]),
  );

  const ipv6 = labHasIpv6(plan.ipFamily);
  const fabric: string[] = ['link set lo up'];
  for (const s of plan.segments) {
    // IPv6 neighbour discovery is multicast: without a querier the bridge's MLD snooping may drop a
    // solicitation for a group it has not yet seen a report of. The lab's segments flood instead.
    fabric.push(`link add ${s.bridge} type bridge${ipv6 ? ' mcast_snooping 0' : ''}`, `link set ${s.bridge} up`);
    (s.gateways ?? []).forEach((gw, i) => fabric.push(addrAdd(`${gw}/${s.cidrs[i]!.split('/')[1]}`, s.bridge)));
  }
  for (const h of all) {
    const bridge = plan.segments.find((s) => s.name === h.segment)!.bridge;
    fabric.push(`link add ${h.port} type veth peer name eth0 netns ${h.netns}`, `link set ${h.port} master ${bridge} up`);
  }
  out.push(ipBatch(plan.fabricNetns, fabric));
  // The router forwards every family of the lab; nothing else in the lab does (or needs to).
  if (routed) out.push(`nsenter --net=/run/netns/${sh(plan.fabricNetns)} sysctl -qw ${labFamilies(plan.ipFamily).map((f) => `${f.forwarding}=1`).join(' ')}`);
  for (const h of all) out.push(ipBatch(h.netns, hostLinkLines(h)));

  // Nodes: a private mount namespace each (persisted as a bind-mounted nsfs file), then sshd in it.
  out.push('pids=()');
  for (const n of plan.nodes) {
    const nd = nodeDir(plan, n);
    const mnt = nodeMountNsFile(plan, n);
    const uts = nodeUtsNsFile(plan, n);
    const overlays = NODE_OVERLAY_DIRS.map((d) => {
      const base = `${nd}/overlay${d.replace(/\//g, '_')}`;
      return `mkdir -p ${sh(base)}/upper ${sh(base)}/work && mount -t overlay overlay -o ${sh(`lowerdir=${d},upperdir=${base}/upper,workdir=${base}/work`)} ${d}`;
    });
    // With the stand-in API, the node keeps a handle on the lab's images and its own pods' directory
    // (both in the lab's tmpfs under /run) and binds them below its own empty /run.
    const runtime = plan.api ? { images: labImagesDir(plan), pods: nodeRuntimeHostDir(plan, n) } : undefined;
    const inner = [
      'set -e',
      'mount -t sysfs sysfs /sys',
      ...overlays,
      `mkdir -p ${NODE_SSH_DIR} && cp ${sh(nd)}/ssh/* ${NODE_SSH_DIR}/ && chmod 600 ${NODE_SSH_DIR}/ssh_host_ed25519_key`,
      ...(runtime ? [`exec 8<${sh(runtime.images)} 9<${sh(runtime.pods)}`] : []),
      ...NODE_TMPFS_DIRS.map((d) => `mount -t tmpfs -o mode=${TMPFS_MODE[d]} tmpfs ${d}`),
      // CNI state of its own: through the /etc and /var overlays a node would see every conflist and
      // IPAM lease a package drops on the host (podman's does).
      ...NODE_OWN_DIRS.map((d) => `mkdir -p ${d} && mount -t tmpfs -o mode=0755 tmpfs ${d}`),
      ...(runtime
        ? [
            `mkdir -p ${NODE_RUNTIME_DIR}/images ${NODE_RUNTIME_DIR}/pods`,
            `mount --bind /proc/self/fd/8 ${NODE_RUNTIME_DIR}/images && mount -o remount,bind,ro ${NODE_RUNTIME_DIR}/images`,
            `mount --bind /proc/self/fd/9 ${NODE_RUNTIME_DIR}/pods`,
            'exec 8<&- 9<&-',
          ]
        : []),
      'cp -a /etc/skel/. /root/ 2>/dev/null || true',
      'mkdir -p /run/sshd /run/netns /etc/cni/net.d /var/lib/cni',
      `printf '%s\\n' ${sh(n.name)} > /etc/hostname`,
      `hostname ${sh(n.name)}`,
    ].join('\n');
    out.push(
      '(',
      `  mkdir -p ${sh(nd)}/ssh${runtime ? ` ${sh(runtime.images)} ${sh(runtime.pods)}` : ''}`,
      `  ssh-keygen -q -t ed25519 -N '' -C ${sh(n.name)} -f ${sh(nd)}/ssh/ssh_host_ed25519_key`,
      `  cp "$L/id_ed25519.pub" ${sh(nd)}/ssh/authorized_keys`,
      `  printf '%s' ${sh(sshdConfig(n))} > ${sh(nd)}/ssh/sshd_config`,
      `  touch ${sh(mnt)} ${sh(uts)}`,
      `  nsenter --net=/run/netns/${sh(n.netns)} unshare --mount=${sh(mnt)} --uts=${sh(uts)} --propagation private sh -c ${sh(inner)}`,
      ...(plan.api ? nodeInitLines(plan, n) : []),
      `  ${nodeEnter(plan, n)} /usr/sbin/sshd -f ${NODE_SSH_DIR}/sshd_config`,
      ') &',
      'pids+=($!)',
    );
  }
  out.push('rc=0', 'for p in "${pids[@]}"; do wait "$p" || rc=1; done', 'exit $rc');
  return `${out.join('\n')}\n`;
}

/**
 * The node's init (PID 1 of its PID namespace, sleeping for good), started detached, with the node's own
 * /proc mounted by it; the namespace is pinned on nodePidNsFile once /proc is in place.
 */
function nodeInitLines(plan: LabPlan, n: LabHost): string[] {
  const pidFile = nodePidNsFile(plan, n);
  const enter = ['nsenter', `--net=/run/netns/${n.netns}`, `--mount=${nodeMountNsFile(plan, n)}`, `--uts=${nodeUtsNsFile(plan, n)}`].map(sh).join(' ');
  // SIGCHLD ignored, and kept so across exec: the kernel reaps the orphans this init adopts (no zombies)
  const init = "mount -t proc -o nosuid,nodev,noexec proc /proc && : > /run/podnet-lab-init && trap '' CHLD && exec sleep 2147483647";
  return [
    `  touch ${sh(pidFile)}`,
    `  setsid ${enter} unshare --pid --fork --kill-child sh -c ${sh(init)} </dev/null >/dev/null 2>&1 &`,
    '  init=$!',
    `  for _ in $(seq 200); do ${enter} test -e /run/podnet-lab-init && break; sleep 0.02; done`,
    `  mount --bind /proc/$init/ns/pid_for_children ${sh(pidFile)}`,
  ];
}

function ipBatchNetnsAdd(names: string[]): string {
  return `ip -batch - <<'EOF_IP'\n${names.map((n) => `netns add ${n}`).join('\n')}\nEOF_IP`;
}

export function renderSshConfig(plan: LabPlan): string {
  const lines = [`# ssh_config for lab "${plan.name}"; written by podnet lab up`];
  for (const n of plan.nodes) lines.push(`Host ${n.name}`, `  HostName ${n.ip}`);
  lines.push(
    `Host ${plan.nodes.map((n) => n.name).join(' ')} ${plan.segments.flatMap((s) => s.cidrs.map(hostPattern)).join(' ')}`,
    '  User root',
    `  IdentityFile ${plan.dir}/id_ed25519`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${plan.dir}/known_hosts`,
    '  GlobalKnownHostsFile /dev/null',
    '  StrictHostKeyChecking yes',
    '  LogLevel ERROR',
    '',
  );
  return lines.join('\n');
}

/** An ssh_config Host pattern for every address of a segment subnet: 192.0.2.*, 2001:db8:0:a::*. */
function hostPattern(cidr: string): string {
  return cidr.replace(/\.0\/24$/, '.*').replace(/::\/64$/, '::*');
}

/** known_hosts lines: "<name>,<ip>[,<ipv6>] <key>" for every node, from the public host keys. */
export function renderKnownHosts(plan: LabPlan, publicKeys: Map<string, string>): string {
  return plan.nodes.map((n) => `${[n.name, ...hostIps(n)].join(',')} ${publicKeys.get(n.name)!.trim().split(/\s+/).slice(0, 2).join(' ')}`).join('\n') + '\n';
}

/** The cluster's pod and service networks in a lab inventory, by the lab's address families. */
const LAB_CLUSTER_LINES: Record<LabPlan['ipFamily'], string[]> = {
  ipv4: ['  podCIDR: 10.244.0.0/16', '  nodeMaskSize: 24', '  serviceCIDR: 10.96.0.0/12'],
  ipv6: ['  podCIDR: fd00:10:244::/56', '  nodeMaskSize: 64', '  serviceCIDR: fd00:10:96::/112'],
  // One node mask size cannot fit both families: each takes its default (/24 for IPv4, /64 for IPv6).
  dual: ['  podCIDR: [10.244.0.0/16, fd00:10:244::/56]', '  serviceCIDR: 10.96.0.0/12'],
};

/**
 * The same networks as data (the stand-in API's kubeadm-config and Node pod CIDRs): pod and service
 * networks, primary family first, and each pod network's per-node mask (the inventory's nodeMaskSize, or
 * each family's default in a dual-stack lab).
 */
export const LAB_CLUSTER_NETWORKS: Record<LabPlan['ipFamily'], { podCIDRs: string[]; serviceCIDRs: string[]; nodeMaskSizes: number[] }> = {
  ipv4: { podCIDRs: ['10.244.0.0/16'], serviceCIDRs: ['10.96.0.0/12'], nodeMaskSizes: [24] },
  ipv6: { podCIDRs: ['fd00:10:244::/56'], serviceCIDRs: ['fd00:10:96::/112'], nodeMaskSizes: [64] },
  dual: { podCIDRs: ['10.244.0.0/16', 'fd00:10:244::/56'], serviceCIDRs: ['10.96.0.0/12'], nodeMaskSizes: [24, 64] },
};

export function renderLabInventory(plan: LabPlan): string {
  const family = plan.ipFamily === 'ipv4' ? '' : `, ${plan.ipFamily}`;
  const lines = [
    `# Inventory of lab "${plan.name}" (${plan.topology}${family}, ${plan.nodes.length} nodes); written by podnet lab up.`,
    `# Use it from the lab's operator namespace: podnet lab exec --name ${plan.name} -- podnet up -i ${plan.dir}/inventory.yaml`,
    'apiVersion: podnet/v1alpha1',
    'kind: Inventory',
    'cluster:',
    ...LAB_CLUSTER_LINES[plan.ipFamily],
    'ssh:',
    '  user: root',

    'nodes:',
  ];
  for (const n of plan.nodes) {
    lines.push(`  - name: ${n.name}`, `    address: ${n.ip}`);
    // A dual-stack node names its IP of each family, primary first.
    if (n.addresses.length > 1) lines.push(`    ip: [${hostIps(n).join(', ')}]`);
  }
  return `${lines.join('\n')}\n`;
}
