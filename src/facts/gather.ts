/**
 * The facts script: one POSIX sh script that reads everything podnet needs from a node in one round
 * trip, printed as marked sections of machine-readable output (ip -j, iptables -S, sysctl values, file
 * contents). It changes nothing on the node. Parsing lives in facts/parse.ts. Every process it starts
 * costs a few ms of node CPU on every command, so what the shell can read itself (/proc files), it does.
 * The script's text is facts.sh beside this module; this module owns what it is given (markers, tools,
 * sysctls, dirs, remembered plugin answers), passed as variables assigned above that text.
 */
import { asset } from '../util/asset.js';
import { shList, shScript } from '../util/shell.js';
import { FAMILIES } from '../net/family.js';

export const SECTION = '@@podnet:section';
export const FILE = '@@podnet:file';

/** sysctls worth knowing; `IF` is replaced per interface below. */
export const SYSCTL_KEYS = [
  ...FAMILIES.map((f) => f.forwarding),
  ...FAMILIES.map((f) => f.bridgeNf),
  // IPv6 switched off: a bridge podnet makes inherits default's (no IPv6 gateway can be added)
  'net.ipv6.conf.all.disable_ipv6',
  'net.ipv6.conf.default.disable_ipv6',
  'net.ipv4.conf.all.rp_filter',
  'net.ipv4.conf.default.rp_filter',
  'net.netfilter.nf_conntrack_max',
  'net.netfilter.nf_conntrack_count',
] as const;

/** tools podnet looks for on a node */
export const TOOLS = ['ip', 'bridge', 'iptables', 'iptables-save', 'iptables-restore', 'sysctl', 'modprobe', 'python3', 'ping', 'socat', 'nsenter', 'unshare', 'sha256sum'] as const;

export const PODNET_FILES = [
  '/etc/sysctl.d/90-podnet.conf',
  '/etc/modules-load.d/podnet.conf',
  '/etc/podnet/restore.sh',
  '/etc/systemd/system/podnet.service',
] as const;

export const CNI_BIN_CANDIDATES = ['/opt/cni/bin', '/usr/lib/cni', '/usr/libexec/cni'];

export interface GatherOptions {
  /** bin dir set in the inventory; otherwise candidates are probed */
  cniBinDir?: string;
  confDir?: string;
  /** VERSION answers remembered for this node: binary identity → answer (see facts/plugin-cache.ts) */
  known?: ReadonlyMap<string, string>;
}

/** Identities and answers that can travel in the script: printable, without the separators. */
export function cacheable(key: string, answer: string): boolean {
  return /^[A-Za-z0-9_./:+-]{1,512}$/.test(key) && /^[\x20-\x7b\x7d\x7e]{1,2048}$/.test(answer) && !answer.includes("'") && answer.startsWith('{');
}

function knownAnswers(known: ReadonlyMap<string, string> | undefined): string {
  const parts = [...(known ?? [])].filter(([k, v]) => cacheable(k, v)).map(([k, v]) => `${k}=${v}`);
  return parts.length ? `|${parts.join('|')}|` : '';
}

const factsText = asset(new URL('./facts.sh', import.meta.url));

/** The facts script: facts.sh (the fixed text) with its parameters assigned above it. */
export function renderFactsScript(opts: GatherOptions = {}): string {
  return shScript(
    {
      PODNET_SECTION: SECTION,
      PODNET_FILE_MARK: FILE,
      PODNET_TOOLS: shList(TOOLS),
      PODNET_SYSCTL_PATHS: shList(SYSCTL_KEYS.map((k) => `/proc/sys/${k.replace(/\./g, '/')}`)),
      PODNET_CONF_DIR: opts.confDir ?? '/etc/cni/net.d',
      PODNET_CNI_PATH: shList(opts.cniBinDir ? [opts.cniBinDir] : CNI_BIN_CANDIDATES, ':'),
      PODNET_KNOWN: knownAnswers(opts.known),
      PODNET_FILES: shList(PODNET_FILES),
    },
    factsText(),
  );
}
