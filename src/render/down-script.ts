/**
 * The `podnet down` script: removes exactly what podnet installed — routes by protocol, the overlay
 * device and the bridge by their alias, iptables rules by comment (and podnet's own chains), podnet's files and unit,
 * and the bridge when no pod is attached (or when forced) — and reports each removal on stdout.
 */
import type { ClusterSettings } from '../inventory/load.js';
import {
  CONFLIST_NAME,
  CONFLIST_PATH,
  FORWARD_CHAIN,
  JUMP_RULES,
  LINK_ALIAS,
  MODULES_FILE,
  POSTROUTING_CHAIN,
  RESTORE_SCRIPT,
  ROUTE_PROTO,
  SYSCTL_FILE,
  UNIT_FILE,
} from '../plan/desired.js';
import { sh } from '../util/shell.js';

export const REMOVED_MARK = '@@podnet:removed';
export const KEPT_MARK = '@@podnet:kept';

export function renderDownScript(cluster: Pick<ClusterSettings, 'bridge' | 'vxlan'>, opts: { force: boolean }): string {
  const br = sh(cluster.bridge);
  const vx = sh(cluster.vxlan.device);
  const iptables = ([['filter', 'FORWARD', FORWARD_CHAIN, JUMP_RULES.filter], ['nat', 'POSTROUTING', POSTROUTING_CHAIN, JUMP_RULES.nat]] as const)
    .map(([table, builtin, chain, jump]) => {
      const args = jump.split(' ').slice(2).map(sh).join(' ');
      return `n=0; while iptables -w 5 -t ${table} -D ${builtin} ${args} 2>/dev/null; do n=$((n+1)); done
[ "$n" -gt 0 ] && echo "${REMOVED_MARK} iptables -t ${table} ${builtin} jump to ${chain}"
if iptables -w 5 -t ${table} -S ${chain} >/dev/null 2>&1; then iptables -w 5 -t ${table} -F ${chain} && iptables -w 5 -t ${table} -X ${chain} || fail; echo "${REMOVED_MARK} iptables -t ${table} chain ${chain}"; fi`;
    })
    .join('\n');
  const files = [CONFLIST_PATH, SYSCTL_FILE, MODULES_FILE, RESTORE_SCRIPT];
  return `set -u
export LC_ALL=C PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
STEP=start
step() { STEP=$1; echo "@@podnet:step $1" >&2; }
fail() { echo "@@podnet:failed $STEP" >&2; exit 1; }
step routes
n=$(ip -4 route show proto ${ROUTE_PROTO} | grep -c .)
if [ "$n" -gt 0 ]; then ip -4 route flush proto ${ROUTE_PROTO} || fail; echo "${REMOVED_MARK} $n route(s) with protocol ${ROUTE_PROTO}"; fi
step overlay
if [ "$(cat /sys/class/net/${vx}/ifalias 2>/dev/null)" = ${LINK_ALIAS} ]; then ip link del dev ${vx} || fail; echo "${REMOVED_MARK} VXLAN device "${vx}; fi
step iptables
${iptables}
step systemd
if [ -f ${UNIT_FILE} ]; then
  if [ -d /run/systemd/system ]; then systemctl disable podnet.service >/dev/null 2>&1 || true; fi
  rm -f ${UNIT_FILE} || fail
  [ -d /run/systemd/system ] && systemctl daemon-reload
  echo "${REMOVED_MARK} ${UNIT_FILE}"
fi
step files
for f in ${files.join(' ')}; do if [ -f "$f" ]; then rm -f "$f" || fail; echo "${REMOVED_MARK} $f"; fi; done
rmdir /etc/podnet 2>/dev/null || true
step bridge
if [ -d /sys/class/net/${br}/bridge ] && [ "$(cat /sys/class/net/${br}/ifalias 2>/dev/null)" != ${LINK_ALIAS} ]; then
  echo "${KEPT_MARK} bridge "${br}" was not created by podnet (no podnet mark); left in place"
elif [ -d /sys/class/net/${br}/bridge ]; then
  ports=$(ls /sys/class/net/${br}/brif 2>/dev/null | grep -c .)
  if [ "$ports" -eq 0 ] || [ ${opts.force ? 1 : 0} -eq 1 ]; then
    ip link del dev ${br} || fail
    echo "${REMOVED_MARK} bridge "${br}
    if [ -d /var/lib/cni/networks/${CONFLIST_NAME} ]; then rm -rf /var/lib/cni/networks/${CONFLIST_NAME}; echo "${REMOVED_MARK} IPAM state /var/lib/cni/networks/${CONFLIST_NAME}"; fi
  else
    echo "${KEPT_MARK} bridge "${br}" has $ports pod interface(s) attached; remove the pods or pass --force"
  fi
fi
step done
`;
}
