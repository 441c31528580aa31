/**
 * The facts script: one POSIX sh script that reads everything podnet needs from a node in one round
 * trip, printed as marked sections of machine-readable output (ip -j, iptables -S, sysctl values, file
 * contents). It changes nothing on the node. Parsing lives in facts/parse.ts.
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
}

export function renderFactsScript(opts: GatherOptions = {}): string {
  const confDir = opts.confDir ?? '/etc/cni/net.d';
  const binDirs = opts.cniBinDir ? [opts.cniBinDir] : CNI_BIN_CANDIDATES;
  const s = (name: string) => `echo ${sh(`${SECTION} ${name}`)}`;
  return `export LC_ALL=C PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
${s('meta')}
echo "hostname=$(hostname 2>/dev/null || cat /etc/hostname)"
echo "kernel=$(uname -r)"
echo "ssh_connection=$SSH_CONNECTION"
echo "uid=$(id -u)"
[ -d /run/systemd/system ] && echo systemd=yes || echo systemd=no
. /etc/os-release 2>/dev/null && echo "os=$ID $VERSION_ID"
for t in ip bridge iptables iptables-save iptables-restore sysctl modprobe python3 ping socat nsenter sha256sum; do command -v "$t" >/dev/null 2>&1 && echo "tool.$t=$(command -v "$t")"; done
iptables -V 2>/dev/null | sed 's/^/iptables_version=/'
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
for d in $(ip -o link show type vxlan 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do printf '%s ' "$d"; bridge -j fdb show dev "$d" 2>/dev/null || printf '[]'; echo; done
${s('sysctl')}
${SYSCTL_KEYS.map((k) => `printf '%s=%s\\n' ${k} "$(cat /proc/sys/${k.replace(/\./g, '/')} 2>/dev/null || echo -)"`).join('\n')}
for f in /proc/sys/net/ipv4/conf/*/rp_filter; do i=\${f#/proc/sys/net/ipv4/conf/}; printf 'net.ipv4.conf.%s.rp_filter=%s\\n' "\${i%/rp_filter}" "$(cat "$f")"; done
${s('iptables-filter')}
iptables -S 2>&1 || echo '#error'
${s('iptables-nat')}
iptables -t nat -S 2>&1 || echo '#error'
${s('iptables-backends')}
for b in legacy nft; do command -v iptables-$b-save >/dev/null 2>&1 && echo "$b=$(iptables-$b-save 2>/dev/null | grep -c '^-A')"; done
${s('cni-conf')}
echo ${sh(`dir=${confDir}`)}
for f in ${sh(confDir)}/*; do [ -f "$f" ] || continue; echo ${sh(FILE)} "$f"; cat "$f"; echo; done
${s('cni-bin')}
# Ask VERSION only of the plugins that matter (the ones podnet uses and the ones the conflists name):
# running every binary in the directory would cost more than the rest of the script.
types="bridge host-local portmap loopback $(cat ${sh(confDir)}/* 2>/dev/null | tr ',{' '\\n\\n' | sed -n 's/^[[:space:]]*"type"[[:space:]]*:[[:space:]]*"\\([A-Za-z0-9_.-]*\\)".*/\\1/p' | sort -u | tr '\\n' ' ')"
for d in ${binDirs.map(sh).join(' ')}; do [ -d "$d" ] || continue; echo "dir=$d"; for p in "$d"/*; do [ -x "$p" ] || continue; n=${'${p##*/}'}; v=; case " $types " in *" $n "*) v=$(CNI_COMMAND=VERSION "$p" </dev/null 2>/dev/null | tr -d '\\n');; esac; echo "plugin=$d $n $v"; done; done
${s('files')}
for f in ${PODNET_FILES.join(' ')}; do [ -f "$f" ] && echo "$f $(sha256sum "$f" | cut -d' ' -f1)"; done
${s('bridge-ports')}
bridge -j link show 2>/dev/null || echo '[]'
${s('end')}
`;
}
