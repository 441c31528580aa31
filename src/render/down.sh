# shellcheck shell=sh
# The `podnet down` script, after prelude.sh (rendered by render/down-script.ts, which assigns its
# parameters above both texts). It removes exactly what podnet installed and reports each removal on stdout.
#   PODNET_REMOVED_MARK   the marker of each removal on stdout ("MARKER WHAT")
#   PODNET_KEPT_MARK      the marker of what was left in place on stdout ("MARKER WHAT AND WHY")
#   PODNET_ROUTE_PROTO    the protocol number podnet's routes carry
#   PODNET_IP_FLAGS       iproute2's family flags of the families podnet routes, space-separated
#   PODNET_LINK_ALIAS     the alias that marks podnet's links (the bridge and the overlay device)
#   PODNET_VXLAN_DEVICE   the overlay device
#   PODNET_IPTABLES       the iptables tools of the families podnet filters, space-separated (iptables ip6tables)
#   PODNET_FILTER_CHAIN   podnet's chain in the filter table
#   PODNET_FILTER_JUMP    the rule that jumps to it, as iptables -S prints it ("-A BUILTIN ARG…")
#   PODNET_NAT_CHAIN      podnet's chain in the nat table
#   PODNET_NAT_JUMP       the rule that jumps to it, as iptables -S prints it
#   PODNET_UNIT_FILE      podnet's systemd unit
#   PODNET_FILES          podnet's other files, space-separated
#   PODNET_BRIDGE         the bridge
#   PODNET_NETWORK        the CNI network name (host-local keeps its IPAM state under it)
#   PODNET_FORCE          1: remove the bridge even with pods attached; 0: keep it then
step routes
# Each family podnet routes ($PODNET_IP_FLAGS: iproute2's family flags); a family the kernel lacks has none.
for fl in $PODNET_IP_FLAGS; do
  n=$(ip "$fl" route show proto "$PODNET_ROUTE_PROTO" 2>/dev/null | grep -c .)
  case $fl in -6) w=' (IPv6)' ;; *) w= ;; esac
  if [ "$n" -gt 0 ]; then ip "$fl" route flush proto "$PODNET_ROUTE_PROTO" || fail; echo "$PODNET_REMOVED_MARK $n route(s)$w with protocol $PODNET_ROUTE_PROTO"; fi
done
step overlay
if [ "$(cat "/sys/class/net/$PODNET_VXLAN_DEVICE/ifalias" 2>/dev/null)" = "$PODNET_LINK_ALIAS" ]; then ip link del dev "$PODNET_VXLAN_DEVICE" || fail; echo "$PODNET_REMOVED_MARK VXLAN device $PODNET_VXLAN_DEVICE"; fi
step iptables
# remove_chain TOOL TABLE CHAIN -A BUILTIN ARG…: every rule that jumps to podnet's chain (there may be
# duplicates), then the chain itself.
remove_chain() {
  ipt=$1 table=$2 chain=$3 builtin=$5
  shift 5
  n=0; while "$ipt" -w 5 -t "$table" -D "$builtin" "$@" 2>/dev/null; do n=$((n+1)); done
  [ "$n" -gt 0 ] && echo "$PODNET_REMOVED_MARK $ipt -t $table $builtin jump to $chain"
  if "$ipt" -w 5 -t "$table" -S "$chain" >/dev/null 2>&1; then "$ipt" -w 5 -t "$table" -F "$chain" || fail; "$ipt" -w 5 -t "$table" -X "$chain" || fail; echo "$PODNET_REMOVED_MARK $ipt -t $table chain $chain"; fi
}
# Each family's tool ($PODNET_IPTABLES); one that is not installed has nothing of podnet's.
for ipt in $PODNET_IPTABLES; do
  command -v "$ipt" >/dev/null 2>&1 || continue
  # shellcheck disable=SC2086 # the rule, split into its arguments (none of them holds a space)
  remove_chain "$ipt" filter "$PODNET_FILTER_CHAIN" $PODNET_FILTER_JUMP
  # shellcheck disable=SC2086 # the rule, split into its arguments (none of them holds a space)
  remove_chain "$ipt" nat "$PODNET_NAT_CHAIN" $PODNET_NAT_JUMP
done
step systemd
if [ -f "$PODNET_UNIT_FILE" ]; then
  if [ -d /run/systemd/system ]; then systemctl disable podnet.service >/dev/null 2>&1 || true; fi
  rm -f "$PODNET_UNIT_FILE" || fail
  [ -d /run/systemd/system ] && systemctl daemon-reload
  echo "$PODNET_REMOVED_MARK $PODNET_UNIT_FILE"
fi
step files
for f in $PODNET_FILES; do if [ -f "$f" ]; then rm -f "$f" || fail; echo "$PODNET_REMOVED_MARK $f"; fi; done
rmdir /etc/podnet 2>/dev/null || true
step bridge
br=/sys/class/net/$PODNET_BRIDGE
if [ -d "$br/bridge" ] && [ "$(cat "$br/ifalias" 2>/dev/null)" != "$PODNET_LINK_ALIAS" ]; then
  echo "$PODNET_KEPT_MARK bridge $PODNET_BRIDGE was not created by podnet (no podnet mark); left in place"
elif [ -d "$br/bridge" ]; then
  # The bridge's ports, counted by the shell with a glob (no process).
  ports=0; for p in "$br/brif"/*; do [ -e "$p" ] && ports=$((ports+1)); done
  if [ "$ports" -eq 0 ] || [ "$PODNET_FORCE" -eq 1 ]; then
    ip link del dev "$PODNET_BRIDGE" || fail
    echo "$PODNET_REMOVED_MARK bridge $PODNET_BRIDGE"
    ipam=/var/lib/cni/networks/${PODNET_NETWORK:?}
    if [ -d "$ipam" ]; then rm -rf "$ipam"; echo "$PODNET_REMOVED_MARK IPAM state $ipam"; fi
  else
    echo "$PODNET_KEPT_MARK bridge $PODNET_BRIDGE has $ports pod interface(s) attached; remove the pods or pass --force"
  fi
fi
# shellcheck disable=SC1010 # "done" is the name of the last step, an argument, not the keyword
step done
