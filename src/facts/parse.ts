/**
 * Facts script output → typed NodeFacts. Parse, don't scrape: the sections are `ip -j` JSON,
 * `iptables -S` lines, key=value pairs and file contents. Pure; unit-tested on captured output.
 */
import { FILE, SECTION, SYSCTL_KEYS } from './gather.js';
import { parseNftTable, type NftTable } from './nftables.js';

export interface LinkFact {
  ifindex: number;
  ifname: string;
  mtu: number;
  address?: string;
  operstate?: string;
  flags: string[];
  kind?: string;
  master?: string;
  alias?: string;
  vxlan?: { id?: number; port?: number; local?: string; link?: string; learning?: boolean };
}

export interface AddrFact {
  ifname: string;
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope: string;
  /** IPv6 duplicate address detection still running, or failed */
  tentative?: boolean;
  dadfailed?: boolean;
  /** IPv6: a privacy address (RFC 8981), one past its preferred lifetime, one with a lifetime (SLAAC, DHCPv6) */
  temporary?: boolean;
  deprecated?: boolean;
  dynamic?: boolean;
}

export interface RouteFact {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  type?: string;
  flags: string[];
}

export interface NeighFact {
  dst: string;
  dev: string;
  lladdr?: string;
}

export interface FdbFact {
  mac: string;
  dev?: string;
  dst?: string;
}

export interface ConfFile {
  path: string;
  name: string;
  text: string;
}

export interface PluginFact {
  dir: string;
  name: string;
  supportedVersions?: string[];
  /** the binary's identity (path:inode:size:mtime:ctime) and its raw VERSION answer, to remember */
  key?: string;
  answer?: string;
  /** named by a config but cannot run: not executable, or no answer to VERSION (wrong arch, corrupt) */
  broken?: 'noexec' | 'noversion';
}

/** An `ip rule` (IPv4): priority, selectors and what it does. */
export interface RuleFact {
  priority: number;
  src?: string;
  dst?: string;
  table?: string;
  /** lookup (absent), or blackhole / unreachable / prohibit / goto / nop */
  action?: string;
  /** selectors podnet does not evaluate (fwmark, iif, oif, uidrange, ipproto, ports, not, …) */
  selectors: string[];
}

/** One host-local reservation: the address (the file's name), when it was made, the container id in it. */
export interface IpamReservation {
  ip: string;
  mtime: number;
  owner: string;
}

export interface IpamFact {
  dataDir: string;
  /** when the node booted (seconds since the epoch, /proc/stat btime) */
  bootTime?: number;
  /** network name → reservations */
  networks: Record<string, IpamReservation[]>;
  /** run ids of podnet probes in progress on the node */
  probeRuns: string[];
}

/** What a container runtime's own configuration says about CNI (only settings that are set). */
export interface RuntimeCni {
  runtime: 'containerd' | 'crio';
  /** the file that set them ('' when the runtime is installed with no CNI settings) */
  file: string;
  confDir?: string;
  confDirLine?: string;
  binDirs?: string[];
  binDirLine?: string;
  internalLoopback?: boolean;
}


/** A setting in a sysctl configuration file. */
export interface SysctlFileFact {
  file: string;
  key: string;
  value: string;
}

export interface NodeFacts {
  hostname: string;
  kernel: string;
  os?: string;
  uid: number;
  systemd: boolean;
  /** the server address of this SSH connection: the address the operator reached the node on */
  sshServerAddress?: string;
  /** boot id and network namespace: the same pair means the same network stack of the same machine */
  identity?: string;
  tools: Record<string, string>;
  iptablesVersion?: string;
  links: LinkFact[];
  addrs: AddrFact[];
  routes: RouteFact[];
  routes6: RouteFact[];
  neigh: NeighFact[];
  fdb: FdbFact[];
  sysctl: Record<string, string>;
  iptablesFilter: string[];
  iptablesNat: string[];
  /** `ip6tables -S` of the filter and nat tables (empty where ip6tables is not installed) */
  ip6tablesFilter: string[];
  ip6tablesNat: string[];
  iptablesBackends: Record<string, number>;
  cniConfDir: string;
  cniConfFiles: ConfFile[];
  cniBinDirs: string[];
  /** bin dirs podnet looked for (candidates, the runtimes' own) that do not exist */
  cniBinDirsAbsent: string[];
  plugins: PluginFact[];
  /** path → sha256 of podnet's own files that exist on the node */
  files: Record<string, string>;
  /** bridge ports: ifname → master bridge */
  bridgePorts: { ifname: string; master?: string }[];
  /** network managers running on the node */
  netmgr: NetMgrFact;
  /** uname -m */
  arch?: string;
  rules: RuleFact[];
  /** routes of the tables policy rules look up, other than main, local and default */
  routeTables: Record<string, RouteFact[]>;
  ipam: IpamFact;
  /** file names in libcni's result cache (/var/lib/cni/results) */
  cniCache: string[];
  runtimeCni: RuntimeCni[];
  /** native nftables tables that have a forward-hook base chain */
  nftTables: NftTable[];
  /** sysctl configuration files (every one, in /etc, /run, /usr/local/lib, /usr/lib, /lib and /etc/sysctl.conf) and the needed keys they set */
  sysctlFiles: { files: string[]; settings: SysctlFileFact[] };
}

export interface NetMgrFact {
  /** NetworkManager runs: device → state as `nmcli -t -f DEVICE,STATE device` prints it */
  networkManager?: Record<string, string>;
  /** systemd-networkd runs: the last ManageForeignRoutes= value set in its configuration, if any */
  networkd?: { manageForeignRoutes?: string };
}

/** The netmgr section: "nm=running", "nm.device=cni0:unmanaged", "networkd=running", "networkd.conf=ManageForeignRoutes=no". */
export function parseNetMgr(text: string | undefined): NetMgrFact {
  const out: NetMgrFact = {};
  for (const line of (text ?? '').split('\n')) {
    if (line === 'nm=running') out.networkManager ??= {};
    else if (line.startsWith('nm.device=')) {
      const v = line.slice('nm.device='.length);
      const i = v.lastIndexOf(':');
      if (i > 0) (out.networkManager ??= {})[v.slice(0, i).replace(/\\:/g, ':')] = v.slice(i + 1);
    } else if (line === 'networkd=running') out.networkd ??= {};
    else if (line.startsWith('networkd.conf=')) {
      const m = /ManageForeignRoutes\s*=\s*(\S+)/.exec(line);
      if (m) (out.networkd ??= {}).manageForeignRoutes = m[1]!.toLowerCase();
    }
  }
  return out;
}

/** `ip -j rule show` entries → RuleFact. */
export function parseRules(text: string | undefined): RuleFact[] {
  const KNOWN = new Set(['priority', 'src', 'srclen', 'dst', 'dstlen', 'table', 'action', 'protocol', 'l3mdev']);
  let raw: Record<string, unknown>[];
  try {
    raw = jsonArray<Record<string, unknown>>(text, 'ip rule');
  } catch {
    // An iproute2 too old for `ip -j rule`: policy routing stays unjudged rather than the node unread.
    return [];
  }
  return raw.map((r) => {
    const cidr = (a: unknown, len: unknown) => (typeof a === 'string' && a !== 'all' ? `${a}/${typeof len === 'number' ? len : 32}` : undefined);
    return {
      priority: Number(r.priority ?? 0),
      src: cidr(r.src, r.srclen),
      dst: cidr(r.dst, r.dstlen),
      table: r.table === undefined ? undefined : String(r.table),
      action: typeof r.action === 'string' ? r.action : undefined,
      selectors: Object.keys(r).filter((k) => !KNOWN.has(k)),
    };
  });
}

/** Lines "<table> <ip -j route show table T>". */
function parseRouteTables(text: string | undefined): Record<string, RouteFact[]> {
  const out: Record<string, RouteFact[]> = {};
  for (const line of (text ?? '').split('\n')) {
    const i = line.indexOf(' ');
    if (i <= 0) continue;
    try {
      out[line.slice(0, i)] = (JSON.parse(line.slice(i + 1)) as RouteFact[]).map(routeOf);
    } catch {
      /* a table that vanished mid-read */
    }
  }
  return out;
}

function routeOf(r: RouteFact & { flags?: string[] }): RouteFact {
  return { ...r, protocol: r.protocol === undefined ? undefined : String(r.protocol), flags: r.flags ?? [] };
}

/**
 * The ipam section: "dir=…", "btime=…", "probe.run=ID", then per network `stat` lines
 * ("mtime <epoch> <dir>/<network>/<ip>") and `grep -H` lines ("<dir>/<network>/<ip>:<container id>").
 */
export function parseIpam(text: string | undefined): IpamFact {
  const out: IpamFact = { dataDir: '/var/lib/cni/networks', networks: {}, probeRuns: [] };
  const byPath = new Map<string, IpamReservation & { network: string }>();
  const entry = (path: string) => {
    let e = byPath.get(path);
    if (!e) {
      const parts = path.split('/');
      const ip = parts.at(-1) ?? '';
      const network = parts.at(-2) ?? '';
      if (!/^[0-9a-f.:]+$/i.test(ip) || !network) return undefined;
      byPath.set(path, (e = { ip, network, mtime: 0, owner: '' }));
    }
    return e;
  };
  for (const line of (text ?? '').split('\n')) {
    if (line.startsWith('dir=')) out.dataDir = line.slice(4);
    else if (line.startsWith('btime=')) out.bootTime = Number(line.slice(6)) || undefined;
    else if (line.startsWith('probe.run=')) out.probeRuns.push(line.slice(10));
    else if (line.startsWith('mtime ')) {
      const m = /^mtime (\d+) (\/.+)$/.exec(line);
      const e = m && entry(m[2]!);
      if (e) e.mtime = Number(m[1]);
    } else if (line.startsWith('/')) {
      const i = line.indexOf(':', line.lastIndexOf('/'));
      const e = i > 0 ? entry(line.slice(0, i)) : undefined;
      if (e) e.owner = line.slice(i + 1).trim();
    }
  }
  for (const e of byPath.values()) (out.networks[e.network] ??= []).push({ ip: e.ip, mtime: e.mtime, owner: e.owner });
  return out;
}

/**
 * The runtime section: "runtime=containerd|crio" for each installed runtime, then `grep -H` lines of their
 * configuration ("/etc/containerd/config.toml:  bin_dir = \"/usr/lib/cni\""); the path tells the runtime.
 * containerd reads /etc/containerd/conf.d only through an `imports` line of its main file.
 */
export function parseRuntimeCni(text: string | undefined): RuntimeCni[] {
  const byKey = new Map<string, RuntimeCni>();
  const get = (runtime: RuntimeCni['runtime'], file: string) => {
    const k = `${runtime} ${file}`;
    let r = byKey.get(k);
    if (!r) byKey.set(k, (r = { runtime, file }));
    return r;
  };
  const installed = new Set<RuntimeCni['runtime']>();
  const strings = (v: string) => [...v.matchAll(/["']([^"']+)["']/g)].map((m) => m[1]!);
  const lines = (text ?? '').split('\n');
  const importsConfD = lines.some((l) => /^\/etc\/containerd\/config\.toml:\s*imports\s*=.*conf\.d/.test(l));
  for (const line of lines) {
    const inst = /^runtime=(containerd|crio)$/.exec(line);
    if (inst) {
      installed.add(inst[1] as RuntimeCni['runtime']);
      continue;
    }
    const m = /^(\/etc\/(containerd|crio)\/[^:]+):(.*)$/.exec(line);
    if (!m) continue;
    const runtime = (m[2] === 'crio' ? 'crio' : 'containerd') as RuntimeCni['runtime'];
    const file = m[1]!;
    if (runtime === 'containerd' && file.startsWith('/etc/containerd/conf.d/') && !importsConfD) continue;
    const setting = m[3]!.trim();
    if (setting.startsWith('#')) continue;
    const kv = /^([A-Za-z_]+)\s*=\s*(.*)$/.exec(setting);
    if (!kv) continue;
    const [key, value] = [kv[1]!, kv[2]!];
    if (key === 'imports') continue;
    const r = get(runtime, file);
    if ((runtime === 'containerd' && key === 'conf_dir') || (runtime === 'crio' && key === 'network_dir')) {
      r.confDir = strings(value)[0];
      r.confDirLine = setting;
    } else if ((runtime === 'containerd' && (key === 'bin_dir' || key === 'bin_dirs')) || (runtime === 'crio' && (key === 'plugin_dir' || key === 'plugin_dirs'))) {
      r.binDirs = strings(value);
      r.binDirLine = setting;
    } else if (key === 'use_internal_loopback') r.internalLoopback = /true/.test(value);
  }
  for (const rt of installed) if (![...byKey.values()].some((r) => r.runtime === rt)) get(rt, '');
  // Later files override earlier ones (drop-ins after the main file): one entry per runtime, merged in order.
  const merged = new Map<RuntimeCni['runtime'], RuntimeCni>();
  for (const r of byKey.values()) {
    const m = merged.get(r.runtime);
    if (!m) merged.set(r.runtime, { ...r });
    else {
      if (r.confDir !== undefined) Object.assign(m, { confDir: r.confDir, confDirLine: r.confDirLine, file: r.file });
      if (r.binDirs !== undefined) Object.assign(m, { binDirs: r.binDirs, binDirLine: r.binDirLine, file: r.file });
      if (r.internalLoopback !== undefined) m.internalLoopback = r.internalLoopback;
    }
  }
  return [...merged.values()];
}

/** The nft section: "table=<family> <name>" followed by what `nft list table` printed for it. */
export function parseNft(text: string | undefined): NftTable[] {
  const out: NftTable[] = [];
  let cur: { family: string; name: string; lines: string[] } | undefined;
  const flush = () => cur && out.push(parseNftTable(cur.family, cur.name, cur.lines.join('\n')));
  for (const line of (text ?? '').split('\n')) {
    const t = /^table=(\S+) (\S+)$/.exec(line);
    if (t) {
      flush();
      cur = { family: t[1]!, name: t[2]!, lines: [] };
    } else cur?.lines.push(line);
  }
  flush();
  return out;
}

/**
 * The sysctl-files section: "file=<path>" for every sysctl configuration file, then `grep -H` lines of the
 * ones that set a key ("/etc/sysctl.d/99-x.conf:net.ipv4.ip_forward = 0", also the slash form).
 */
export function parseSysctlFiles(text: string | undefined): { files: string[]; settings: SysctlFileFact[] } {
  const files: string[] = [];
  const settings: SysctlFileFact[] = [];
  for (const line of (text ?? '').split('\n')) {
    if (line.startsWith('file=')) {
      files.push(line.slice(5));
      continue;
    }
    const m = /^([^:]+):\s*-?\s*(net[./][A-Za-z0-9_./-]+)\s*=\s*(\S*)/.exec(line);
    if (m && !m[1]!.startsWith('/etc/containerd/') && !m[1]!.startsWith('/etc/crio/') && m[1] !== '/proc/stat') settings.push({ file: m[1]!, key: m[2]!.replace(/\//g, '.'), value: m[3]! });
  }
  // From older scripts, only the settings: their files are the ones named.
  for (const st of settings) if (!files.includes(st.file)) files.push(st.file);
  return { files, settings };
}

export class FactsParseError extends Error {}

export function splitSections(out: string): Map<string, string> {
  const sections = new Map<string, string>();
  let current: string | undefined;
  let buf: string[] = [];
  for (const line of out.split('\n')) {
    if (line.startsWith(`${SECTION} `)) {
      if (current) sections.set(current, buf.join('\n'));
      current = line.slice(SECTION.length + 1).trim();
      buf = [];
    } else if (current) {
      buf.push(line);
    }
  }
  if (current) sections.set(current, buf.join('\n'));
  return sections;
}

function kv(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of (text ?? '').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/**
 * The sysctl section: `grep -H` lines ("/proc/sys/net/ipv4/ip_forward:1") or, from older scripts,
 * "key=value". Keys use sysctl's dotted names; a key podnet asks for that the node does not have
 * (a module not loaded) reads "-".
 */
export function parseSysctl(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of (text ?? '').split('\n')) {
    if (line.startsWith('/proc/sys/')) {
      const i = line.indexOf(':');
      if (i > 0) out[line.slice('/proc/sys/'.length, i).split('/').join('.')] = line.slice(i + 1);
    } else {
      const i = line.indexOf('=');
      if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
    }
  }
  if (text !== undefined) for (const k of SYSCTL_KEYS) out[k] ??= '-';
  return out;
}

function jsonArray<T>(text: string | undefined, what: string): T[] {
  const t = (text ?? '').trim();
  if (t === '') return [];
  try {
    const v = JSON.parse(t) as unknown;
    return Array.isArray(v) ? (v as T[]) : [];
  } catch {
    throw new FactsParseError(`could not parse ${what} output`);
  }
}

/** FDB entries: one line per VXLAN device, "<device> <bridge -j fdb show dev device>". */
function fdbLines(text: string | undefined): FdbFact[] {
  const out: FdbFact[] = [];
  for (const line of (text ?? '').split('\n')) {
    const i = line.indexOf(' ');
    if (i <= 0) continue;
    const dev = line.slice(0, i);
    try {
      for (const e of JSON.parse(line.slice(i + 1)) as { mac: string; dst?: string }[]) out.push({ mac: e.mac, dev, dst: e.dst });
    } catch {
      /* a device vanished mid-read */
    }
  }
  return out;
}

interface RawLink {
  ifindex: number;
  ifname: string;
  mtu: number;
  address?: string;
  operstate?: string;
  flags?: string[];
  master?: string;
  ifalias?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number; port?: number; local?: string; local6?: string; link?: string; learning?: boolean } };
}

/** The ip section's lines, in the order the facts script asks ip -batch: one JSON array each. */
const IP_BATCH = ['link', 'addr', 'route', 'neigh', 'rules'] as const;

/** One of the ip -batch answers, or (from older scripts) the section of its own. */
function ipPart(s: Map<string, string>, part: (typeof IP_BATCH)[number]): string | undefined {
  const batch = s.get('ip');
  if (batch === undefined) return s.get(part);
  const lines = batch.split('\n').filter((l) => l.startsWith('['));
  if (lines.length === 0) return undefined;
  // A command ip could not answer leaves its line out: the answers cannot be matched to the questions.
  if (lines.length !== IP_BATCH.length) throw new FactsParseError(`ip -batch gave ${lines.length} answers to ${IP_BATCH.length} questions (is iproute2 older than 4.17?)`);
  return lines[IP_BATCH.indexOf(part)];
}

export function parseFacts(out: string): NodeFacts {
  const s = splitSections(out);
  if (!s.has('end')) throw new FactsParseError('the facts script did not run to the end');
  const meta = kv(s.get('meta'));
  const tools: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) if (k.startsWith('tool.')) tools[k.slice(5)] = v;
  const sshConn = (meta.ssh_connection ?? '').trim().split(/\s+/);

  const links = jsonArray<RawLink>(ipPart(s, 'link'), 'ip link').map(
    (l): LinkFact => ({
      ifindex: l.ifindex,
      ifname: l.ifname,
      mtu: l.mtu,
      address: l.address,
      operstate: l.operstate,
      flags: l.flags ?? [],
      master: l.master,
      alias: l.ifalias,
      kind: l.linkinfo?.info_kind,
      vxlan:
        l.linkinfo?.info_kind === 'vxlan'
          ? {
              id: l.linkinfo.info_data?.id,
              port: l.linkinfo.info_data?.port,
              // (iproute2 names an IPv6 local end "local6")
              local: l.linkinfo.info_data?.local ?? l.linkinfo.info_data?.local6,
              link: l.linkinfo.info_data?.link,
              learning: l.linkinfo.info_data?.learning,
            }
          : undefined,
    }),
  );
  const addrs: AddrFact[] = [];
  for (const l of jsonArray<{ ifname: string; addr_info?: { family: 'inet' | 'inet6'; local: string; prefixlen: number; scope: string; tentative?: boolean; dadfailed?: boolean; temporary?: boolean; deprecated?: boolean; dynamic?: boolean }[] }>(ipPart(s, 'addr'), 'ip addr')) {
    for (const a of l.addr_info ?? []) {
      const flags = { tentative: a.tentative, dadfailed: a.dadfailed, temporary: a.temporary, deprecated: a.deprecated, dynamic: a.dynamic };
      addrs.push({ ifname: l.ifname, family: a.family, local: a.local, prefixlen: a.prefixlen, scope: a.scope, ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v)) });
    }
  }
  const route = routeOf;

  const conf: ConfFile[] = [];
  let confDir = '/etc/cni/net.d';
  let cur: ConfFile | undefined;
  for (const line of (s.get('cni-conf') ?? '').split('\n')) {
    if (!cur && line.startsWith('dir=')) {
      confDir = line.slice(4);
      continue;
    }
    if (line.startsWith(`${FILE} `)) {
      const path = line.slice(FILE.length + 1);
      cur = { path, name: path.split('/').pop() ?? path, text: '' };
      conf.push(cur);
      continue;
    }
    if (cur) cur.text += `${line}\n`;
  }
  for (const c of conf) c.text = c.text.replace(/\n+$/, '\n');

  const plugins: PluginFact[] = [];
  const binDirs: string[] = [];
  const absentDirs: string[] = [];
  const keys = new Map<string, string>();
  for (const line of (s.get('cni-bin') ?? '').split('\n')) {
    if (line.startsWith('dir=')) binDirs.push(line.slice(4));
    if (line.startsWith('nodir=')) absentDirs.push(line.slice(6));
    const k = /^pluginkey=(\S+) (\S+) (\S+)$/.exec(line);
    if (k) {
      keys.set(`${k[1]} ${k[2]}`, k[3]!);
      continue;
    }
    const m = /^plugin=(\S+) (\S+) ?(.*)$/.exec(line);
    if (!m) continue;
    if (m[3] === '!noexec') {
      plugins.push({ dir: m[1]!, name: m[2]!, broken: 'noexec' });
      continue;
    }
    let supportedVersions: string[] | undefined;
    if (m[3]) {
      try {
        supportedVersions = (JSON.parse(m[3]) as { supportedVersions?: string[] }).supportedVersions;
      } catch {
        supportedVersions = undefined;
      }
    }
    const key = keys.get(`${m[1]} ${m[2]}`);
    // Asked (it has an identity line) and gave nothing: it does not run.
    const broken = key !== undefined && !m[3] ? { broken: 'noversion' as const } : {};
    plugins.push({ dir: m[1]!, name: m[2]!, supportedVersions, ...(key !== undefined && m[3] ? { key, answer: m[3] } : {}), ...broken });
  }

  const files: Record<string, string> = {};
  for (const line of (s.get('files') ?? '').split('\n')) {
    // sha256sum's "HASH  PATH" (older scripts: "PATH HASH")
    const now = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    const old = /^(\S+) ([0-9a-f]{64})$/.exec(line);
    if (now) files[now[2]!] = now[1]!;
    else if (old) files[old[1]!] = old[2]!;
  }
  const backends: Record<string, number> = {};
  for (const [k, v] of Object.entries(kv(s.get('iptables-backends')))) backends[k] = Number(v);

  const lines = (t: string | undefined) => (t ?? '').split('\n').filter((l) => l.startsWith('-'));
  // The boot time comes from the runtime section's grep ("/proc/stat:btime N").
  const ipam = parseIpam(s.get('ipam'));
  const btime = /^\/proc\/stat:btime (\d+)$/m.exec(s.get('runtime') ?? '');
  if (btime) ipam.bootTime = Number(btime[1]) || undefined;
  return {
    hostname: meta.hostname ?? '',
    kernel: meta.kernel ?? '',
    os: meta.os,
    uid: Number(meta.uid ?? -1),
    systemd: meta.systemd === 'yes',
    sshServerAddress: sshConn.length >= 4 ? sshConn[2] : undefined,
    identity: meta.boot_id ? `${meta.boot_id} ${meta.netns ?? ''}` : undefined,
    tools,
    iptablesVersion: meta.iptables_version || undefined,
    links,
    addrs,
    routes: jsonArray<RouteFact>(ipPart(s, 'route'), 'ip route').map(route),
    routes6: jsonArray<RouteFact>(s.get('route6'), 'ip -6 route').map(route),
    neigh: jsonArray<NeighFact>(ipPart(s, 'neigh'), 'ip neigh'),
    fdb: fdbLines(s.get('fdb')),
    sysctl: parseSysctl(s.get('sysctl')),
    iptablesFilter: lines(s.get('iptables-filter')),
    iptablesNat: lines(s.get('iptables-nat')),
    ip6tablesFilter: lines(s.get('ip6tables-filter')),
    ip6tablesNat: lines(s.get('ip6tables-nat')),
    iptablesBackends: backends,
    cniConfDir: confDir,
    cniConfFiles: conf.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    cniBinDirs: binDirs,
    cniBinDirsAbsent: absentDirs,
    plugins,
    files,
    bridgePorts: jsonArray<{ ifname: string; master?: string }>(s.get('bridge-ports'), 'bridge link').map((p) => ({ ifname: p.ifname, master: p.master })),
    netmgr: parseNetMgr(s.get('netmgr')),
    arch: meta.arch || undefined,
    rules: parseRules(ipPart(s, 'rules')),
    routeTables: parseRouteTables(s.get('route-tables')),
    ipam,
    cniCache: (s.get('cni-cache') ?? '').split('\n').filter((l) => l !== '' && !l.includes('/')),
    runtimeCni: parseRuntimeCni(s.get('runtime')),
    nftTables: parseNft(s.get('nft')),
    // The sysctl files are named in their section; what they set comes from the runtime section's grep.
    sysctlFiles: parseSysctlFiles(`${s.get('sysctl-files') ?? ''}\n${s.get('runtime') ?? ''}`),
  };
}

/** A node with nothing on it: the starting point of the boot-time restore script, and of tests. */
export const EMPTY_FACTS: NodeFacts = {
  hostname: '',
  kernel: '',
  uid: 0,
  systemd: false,
  tools: {},
  links: [],
  addrs: [],
  routes: [],
  routes6: [],
  neigh: [],
  fdb: [],
  sysctl: {},
  iptablesFilter: [],
  iptablesNat: [],
  ip6tablesFilter: [],
  ip6tablesNat: [],
  iptablesBackends: {},
  cniConfDir: '/etc/cni/net.d',
  cniConfFiles: [],
  cniBinDirs: [],
  cniBinDirsAbsent: [],
  plugins: [],
  files: {},
  bridgePorts: [],
  netmgr: {},
  rules: [],
  routeTables: {},
  ipam: { dataDir: '/var/lib/cni/networks', networks: {}, probeRuns: [] },
  cniCache: [],
  runtimeCni: [],
  nftTables: [],
  sysctlFiles: { files: [], settings: [] },
};
