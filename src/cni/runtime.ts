/**
 * A minimal CNI runtime, rendered as POSIX sh that runs on a node: it executes a conflist's plugin chain
 * exactly as a container runtime does (ADD in order, each plugin given the previous result; DEL in
 * reverse order with the ADD result), so probe pods and test pods get their network from the node's
 * real, live configuration. Needs only sh and the plugins themselves.
 */
import { sh } from '../util/shell.js';

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

export interface PodSpec {
  /** container id, also used for the saved result */
  id: string;
  /**
   * Path of the file the pod's network namespace is pinned on (a bind mount of nsfs). Never under
   * /run/netns: \`ip netns add\` there re-mounts that directory recursively onto itself the first time,
   * copying the container runtime's own namespace mounts so it can no longer remove them.
   */
  netns: string;
  ifname?: string;
  portMappings?: PortMapping[];
}

export interface Conflist {
  cniVersion?: string;
  name?: string;
  plugins?: Record<string, unknown>[];
  /** a single-plugin .conf file has its plugin at the top level */
  type?: string;
}

export const RESULT_DIR = '/run/podnet-cni';
export const RESULT_MARK = '@@podnet:cni-result';

/** The per-plugin network configs: name and cniVersion from the list, runtimeConfig for declared capabilities. */
export function pluginConfigs(list: Conflist, pod: PodSpec): { type: string; config: string }[] {
  const plugins = list.plugins ?? (list.type ? [list as Record<string, unknown>] : []);
  return plugins.map((p) => {
    const caps = (p.capabilities ?? {}) as Record<string, boolean>;
    const runtimeConfig: Record<string, unknown> = {};
    if (caps.portMappings && pod.portMappings?.length) runtimeConfig.portMappings = pod.portMappings;
    const conf: Record<string, unknown> = { ...p, name: list.name, cniVersion: list.cniVersion };
    delete conf.capabilities;
    if (Object.keys(runtimeConfig).length) conf.runtimeConfig = runtimeConfig;
    return { type: String(p.type), config: JSON.stringify(conf) };
  });
}

function envFor(command: 'ADD' | 'DEL', binDir: string, pod: PodSpec): string {
  return `CNI_COMMAND=${command} CNI_CONTAINERID=${sh(pod.id)} CNI_NETNS=${sh(pod.netns)} CNI_IFNAME=${sh(pod.ifname ?? 'eth0')} CNI_PATH=${sh(binDir)}`;
}

/**
 * sh that creates a network namespace pinned on the file \`netns\` (one bind mount of nsfs on a file
 * podnet owns, no change to any mount the node already has) with lo up. The namespace's own process binds
 * /proc/self/ns/net (as `ip netns add` does) rather than `unshare --net=FILE`, which names its child by
 * PID in /proc and so fails where /proc belongs to another PID namespace than the shell (a hostPID helper
 * pod whose PID namespace is not the one of the node's /proc).
 */
export function renderNetnsCreate(netns: string): string {
  const f = sh(netns);
  const dir = sh(netns.slice(0, netns.lastIndexOf('/')) || '/');
  return `mkdir -p ${dir} && : > ${f} && unshare --net sh -c 'mount --bind /proc/self/ns/net "$1"' podnet-netns ${f} && nsenter --net=${f} ip link set lo up || { echo "cannot create the pod network namespace ${netns.replace(/[^A-Za-z0-9_./-]/g, '?')} (needs unshare and nsenter from util-linux)" >&2; umount -l ${f} 2>/dev/null; rm -f ${f}; exit 1; }`;
}

/**
 * sh that removes a namespace made by renderNetnsCreate: detach the pin lazily (as `ip netns del` does; a
 * probe still holding the file open, say one interrupted by Ctrl-C, must not keep it), remove the file.
 */
export function renderNetnsDelete(netns: string): string {
  const f = sh(netns);
  return `umount -l ${f} 2>/dev/null; rm -f ${f} 2>/dev/null`;
}

/**
 * sh that creates the pod's netns and runs ADD through the chain. On success prints the final result
 * after RESULT_MARK and saves it for DEL; on a failing plugin, undoes what ran (DEL in reverse) and exits 1.
 */
export function renderCniAdd(list: Conflist, binDir: string, pod: PodSpec): string {
  const confs = pluginConfigs(list, pod);
  const lines = [
    `mkdir -p ${RESULT_DIR}`,
    renderNetnsCreate(pod.netns),
    'prev=',
  ];
  confs.forEach((c, i) => {
    lines.push(
      `conf=${sh(c.config)}`,
      // Inject prevResult into the config: drop the closing brace, append the key, close again.
      `[ -n "$prev" ] && conf="\${conf%\\}},\\"prevResult\\":$prev}"`,
      // Only stdout is the result (and, on failure, the plugin's error JSON); stderr is log noise.
      `if ! out=$(printf '%s' "$conf" | ${envFor('ADD', binDir, pod)} ${sh(`${binDir}/${c.type}`)} 2>/dev/null); then`,
      `  echo "CNI ADD failed in plugin ${i + 1} (${c.type}): $out" >&2`,
      ...confs.slice(0, i + 1).reverse().map((d) => `  printf '%s' ${sh(d.config)} | ${envFor('DEL', binDir, pod)} ${sh(`${binDir}/${d.type}`)} >/dev/null 2>&1`),
      '  exit 1',
      'fi',
      'prev=$out',
    );
  });
  lines.push(`printf '%s' "$prev" > ${RESULT_DIR}/${sh(pod.id)}.json`, `echo ${RESULT_MARK}`, `printf '%s\\n' "$prev"`);
  return `${lines.join('\n')}\n`;
}

/** sh that runs DEL through the chain in reverse order (with the saved ADD result) and removes the netns. */
export function renderCniDel(list: Conflist, binDir: string, pod: PodSpec): string {
  const confs = pluginConfigs(list, pod).reverse();
  const lines = [`prev=$(cat ${RESULT_DIR}/${sh(pod.id)}.json 2>/dev/null)`, 'rc=0'];
  for (const c of confs) {
    lines.push(
      `conf=${sh(c.config)}`,
      `[ -n "$prev" ] && conf="\${conf%\\}},\\"prevResult\\":$prev}"`,
      `printf '%s' "$conf" | ${envFor('DEL', binDir, pod)} ${sh(`${binDir}/${c.type}`)} >/dev/null 2>&1 || rc=1`,
    );
  }
  lines.push(`rm -f ${RESULT_DIR}/${sh(pod.id)}.json`, renderNetnsDelete(pod.netns), 'exit $rc');
  return `${lines.join('\n')}\n`;
}

/**
 * What a failing CNI ADD said, as one line: the plugin, and the error object the CNI spec has it print
 * on stdout (code, msg, details) — instead of the last line of its pretty-printed JSON.
 */
export function cniAddError(stderr: string): string | undefined {
  const m = /CNI ADD failed in plugin (\d+) \(([^)]*)\): ([\s\S]*)$/.exec(stderr);
  if (!m) return undefined;
  const [, index, type, rest] = m;
  const text = rest!.trim();
  const flat = (v: unknown) => String(v).replace(/\s+/g, ' ').trim();
  try {
    // The JSON object first; anything the runtime printed after it is not part of the plugin's answer.
    const end = text.lastIndexOf('}');
    const e = JSON.parse(text.slice(0, end + 1)) as { code?: number; msg?: string; details?: string };
    const parts = [e.code !== undefined ? `code ${e.code}` : '', e.msg ? flat(e.msg) : '', e.details ? `(${flat(e.details)})` : ''].filter(Boolean);
    return `CNI ADD failed in plugin ${index} (${type}): ${parts.join(' ') || flat(text)}`;
  } catch {
    return `CNI ADD failed in plugin ${index} (${type}): ${flat(text) || 'no output'}`;
  }
}

/**
 * The pod's addresses from a CNI result, the first of each family: a result lists every address the
 * pod got (`ips`), one per range set of host-local, so a dual-stack pod has an IPv4 and an IPv6 one.
 */
export function podIpsFromResult(result: string): { ipv4?: string; ipv6?: string } {
  const out: { ipv4?: string; ipv6?: string } = {};
  let r: { ips?: unknown } | null;
  try {
    r = JSON.parse(result) as { ips?: unknown } | null;
  } catch {
    return out;
  }
  if (!Array.isArray(r?.ips)) return out;
  for (const i of r.ips as ({ address?: unknown } | null)[]) {
    const ip = typeof i?.address === 'string' ? i.address.split('/')[0]! : '';
    // (the family by its spelling: this layer parses no addresses; CNI results carry well-formed ones)
    const family = ip.includes(':') ? 'ipv6' : /^\d+\.\d+\.\d+\.\d+$/.test(ip) ? 'ipv4' : undefined;
    if (family && !out[family]) out[family] = ip;
  }
  return out;
}

/** The pod's IPv4 address from a CNI result. */
export function podIpFromResult(result: string): string | undefined {
  return podIpsFromResult(result).ipv4;
}

export function resultFromOutput(stdout: string): string | undefined {
  const i = stdout.indexOf(RESULT_MARK);
  return i < 0 ? undefined : stdout.slice(i + RESULT_MARK.length).trim();
}
