/**
 * The facts script: one POSIX sh script that reads everything podnet needs from a node in one round
 * trip, printed as marked sections of machine-readable output (ip -j, iptables -S, sysctl values, file
 * contents). It changes nothing on the node. Parsing lives in facts/parse.ts. Every process it starts
 * costs a few ms of node CPU on every command, so what the shell can read itself (/proc files), it does.
 */
import { sh } from '../util/shell.js';

export const SECTION = '@@podnet:section';
export const FILE = '@@podnet:file';

/** sysctls worth knowing; `IF` is replaced per interface below. */
export const SYSCTL_KEYS = [
  'net.ipv4.ip_forward',
  'net.ipv6.conf.all.forwarding',
  'net.bridge.bridge-nf-call-iptables',
  'net.bridge.bridge-nf-call-ip6tables',
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

export function renderFactsScript(opts: GatherOptions = {}): string {
  const confDir = opts.confDir ?? '/etc/cni/net.d';
  const binDirs = opts.cniBinDir ? [opts.cniBinDir] : CNI_BIN_CANDIDATES;
  const s = (name: string) => `echo ${sh(`${SECTION} ${name}`)}`;
  return `export LC_ALL=C PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
${s('meta')}
read -r h < /proc/sys/kernel/hostname 2>/dev/null || h=$(hostname); echo "hostname=$h"
read -r k < /proc/sys/kernel/osrelease 2>/dev/null || k=$(uname -r); echo "kernel=$k"
echo "ssh_connection=$SSH_CONNECTION"
# Which machine (boot id) and which network stack (netns inode) this is: two inventory entries that
# reach the same pair are one machine listed twice (an IP and an ssh_config alias, say).
read -r b < /proc/sys/kernel/random/boot_id 2>/dev/null && echo "boot_id=$b"
echo "netns=$(readlink /proc/$$/ns/net 2>/dev/null)"
# The uid from /proc (the shell reads it: no process; id(1) where /proc/self/status has no Uid line).
u=; while read -r k v _; do [ "$k" = Uid: ] && { u=$v; break; }; done 2>/dev/null < /proc/self/status; echo "uid=\${u:-$(id -u)}"
[ -d /run/systemd/system ] && echo systemd=yes || echo systemd=no
. /etc/os-release 2>/dev/null && echo "os=$ID $VERSION_ID"
# Where each tool is, by walking PATH with test(1) (a builtin): no process per tool.
for t in ${TOOLS.join(' ')}; do IFS=:; for d in $PATH; do [ -f "$d/$t" ] && [ -x "$d/$t" ] && { echo "tool.$t=$d/$t"; break; }; done; unset IFS; done
echo "iptables_version=$(iptables -V 2>/dev/null)"
${s('link')}
ip -j -d link show 2>/dev/null || echo '[]'
${s('addr')}
ip -j addr show 2>/dev/null || echo '[]'
${s('route')}
ip -j -4 route show table main 2>/dev/null || echo '[]'
${s('route6')}
ip -j -6 route show table main 2>/dev/null || echo '[]'
${s('neigh')}
ip -j neigh show nud permanent 2>/dev/null || echo '[]'
${s('fdb')}
ip -o link show type vxlan 2>/dev/null | while IFS=' ' read -r _ d _; do d=\${d%:}; d=\${d%@*}; printf '%s ' "$d"; bridge -j fdb show dev "$d" 2>/dev/null || printf '[]'; echo; done
${s('sysctl')}
# One grep for every value ("/proc/sys/net/ipv4/ip_forward:1"); a key that does not exist is absent.
# (Not the shell's read: dash reads byte by byte, and /proc/sys answers only the first read.)
grep -H . ${SYSCTL_KEYS.map((k) => `/proc/sys/${k.replace(/\./g, '/')}`).join(' ')} /proc/sys/net/ipv4/conf/*/rp_filter 2>/dev/null
${s('iptables-filter')}
iptables -S 2>&1 || echo '#error'
${s('iptables-nat')}
iptables -t nat -S 2>&1 || echo '#error'
${s('iptables-backends')}
# Rules in both backends is the failure mode; legacy tables exist only where the kernel lists some in
# /proc/net/ip_tables_names (read by the shell), so the two save commands run only then.
t=; read -r t 2>/dev/null < /proc/net/ip_tables_names; if [ -n "$t" ]; then for b in legacy nft; do command -v iptables-$b-save >/dev/null 2>&1 && echo "$b=$(iptables-$b-save 2>/dev/null | grep -c '^-A')"; done; else echo legacy=0; fi
${s('cni-conf')}
echo ${sh(`dir=${confDir}`)}
for f in ${sh(confDir)}/*; do [ -f "$f" ] || continue; echo ${sh(FILE)} "$f"; cat "$f"; echo; done
${s('cni-bin')}
# Ask VERSION only of the plugins that matter (the ones podnet uses and the ones the conflists name):
# running every binary in the directory would cost more than the rest of the script.
types='"bridge" "host-local" "portmap" "loopback" '"$(grep -oh '"type"[[:space:]]*:[[:space:]]*"[A-Za-z0-9_.-]*"' ${sh(confDir)}/* 2>/dev/null)"
# A binary podnet asked before (same path, inode, size, mtime and ctime) is not asked again: the answers
# podnet remembers travel in $known ("|identity=answer|…"); a plugin costs a Go start-up of 20-40 ms.
known=${sh(knownAnswers(opts.known))}
for d in ${binDirs.map(sh).join(' ')}; do [ -d "$d" ] || continue; echo "dir=$d"; stat -L -c '%i %s %Y %Z %n' "$d"/* 2>/dev/null | while read -r i z m c p; do [ -x "$p" ] || continue; n=${'${p##*/}'}; v=; case "$types" in *'"'"$n"'"'*) k="$p:$i:$z:$m:$c"; echo "pluginkey=$d $n $k"; case "$known" in *"|$k="*) v=${'${known#*"|$k="}'}; v=${'${v%%"|"*}'};; *) v=$(CNI_COMMAND=VERSION "$p" </dev/null 2>/dev/null | tr -d '\\n');; esac;; esac; echo "plugin=$d $n $v"; done; done
${s('files')}
sha256sum ${PODNET_FILES.join(' ')} 2>/dev/null
${s('bridge-ports')}
bridge -j link show 2>/dev/null || echo '[]'
${s('netmgr')}
# Network managers that may claim CNI links or clean up foreign routes (only asked where they run).
command -v nmcli >/dev/null 2>&1 && nm=$(nmcli -t -f DEVICE,STATE device 2>/dev/null) && { echo nm=running; printf '%s\\n' "$nm" | while IFS= read -r l; do echo "nm.device=$l"; done; }
[ -d /run/systemd/system ] && systemctl is-active --quiet systemd-networkd 2>/dev/null && { echo networkd=running; grep -hs '^[[:space:]]*ManageForeignRoutes' /etc/systemd/networkd.conf /etc/systemd/networkd.conf.d/*.conf /run/systemd/networkd.conf.d/*.conf /usr/lib/systemd/networkd.conf.d/*.conf | while IFS= read -r l; do echo "networkd.conf=$l"; done; }
${s('end')}
`;
}
