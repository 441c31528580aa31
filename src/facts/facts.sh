# shellcheck shell=sh
# podnet's facts script (rendered by facts/gather.ts, which assigns its parameters above this text):
#   PODNET_SECTION       the marker line that starts each section ("MARKER NAME")
#   PODNET_FILE_MARK     the marker line before each CNI conf file's content ("MARKER PATH")
#   PODNET_TOOLS         the tools to look for, space-separated
#   PODNET_SYSCTL_PATHS  the /proc/sys files of the sysctls worth knowing, space-separated
#   PODNET_CONF_DIR      the CNI conf dir
#   PODNET_CNI_PATH      the CNI bin dirs to look in, ':'-separated (like CNI_PATH)
#   PODNET_KNOWN         the VERSION answers podnet remembers ("|identity=answer|…", or empty)
#   PODNET_FILES         podnet's own files, space-separated
# It changes nothing on the node.
export LC_ALL=C PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
section() { echo "$PODNET_SECTION $1"; }
section meta
read -r h < /proc/sys/kernel/hostname 2>/dev/null || h=$(hostname); echo "hostname=$h"
read -r k < /proc/sys/kernel/osrelease 2>/dev/null || k=$(uname -r); echo "kernel=$k"
# The machine's architecture (kernel ≥ 6.1 has it in /proc; older kernels leave it unknown, no process).
a=; read -r a < /proc/sys/kernel/arch 2>/dev/null; [ -n "$a" ] && echo "arch=$a"
echo "ssh_connection=$SSH_CONNECTION"
# Which machine (boot id) and which network stack (netns inode) this is: two inventory entries that
# reach the same pair are one machine listed twice (an IP and an ssh_config alias, say).
read -r b < /proc/sys/kernel/random/boot_id 2>/dev/null && echo "boot_id=$b"
echo "netns=$(readlink /proc/self/ns/net 2>/dev/null)"
# The uid from /proc (the shell reads it: no process; id(1) where /proc/self/status has no Uid line).
u=; while read -r k v _; do [ "$k" = Uid: ] && { u=$v; break; }; done 2>/dev/null < /proc/self/status; echo "uid=${u:-$(id -u)}"
[ -d /run/systemd/system ] && echo systemd=yes || echo systemd=no
# shellcheck disable=SC1091 # the node's os-release, read on the node
. /etc/os-release 2>/dev/null && echo "os=$ID $VERSION_ID"
# Where each tool is, by walking PATH with test(1) (a builtin): no process per tool.
for t in $PODNET_TOOLS; do IFS=:; for d in $PATH; do [ -f "$d/$t" ] && [ -x "$d/$t" ] && { echo "tool.$t=$d/$t"; break; }; done; unset IFS; done
echo "iptables_version=$(iptables -V 2>/dev/null)"
section ip
# Links, addresses, the main table's IPv4 routes, permanent neighbours and IPv4 policy rules from one ip
# process (ip -batch; one JSON array per line, in this order): each ip start costs a few ms.
# An ip that fails one of them (too old for `ip -j rule`, say) is asked one by one, '[]' for what it cannot answer.
if ! ipo=$(printf 'link show\naddr show\nroute show table main\nneigh show nud permanent\nrule show\n' | ip -j -d -batch - 2>/dev/null); then
  # shellcheck disable=SC2086 # each question is split into ip's arguments
  ipo=$(for q in 'link show' 'addr show' 'route show table main' 'neigh show nud permanent' 'rule show'; do ip -j -d $q 2>/dev/null || echo '[]'; done)
fi
printf '%s\n' "$ipo"
section route6
ip -j -6 route show table main 2>/dev/null || echo '[]'
section fdb
ip -o link show type vxlan 2>/dev/null | while IFS=' ' read -r _ d _; do d=${d%:}; d=${d%@*}; printf '%s ' "$d"; bridge -j fdb show dev "$d" 2>/dev/null || printf '[]'; echo; done
section sysctl
# One grep for every value ("/proc/sys/net/ipv4/ip_forward:1"); a key that does not exist is absent.
# (Not the shell's read: dash reads byte by byte, and /proc/sys answers only the first read.)
# shellcheck disable=SC2086 # a list of paths, split into one argument each
grep -H . $PODNET_SYSCTL_PATHS /proc/sys/net/ipv4/conf/*/rp_filter /proc/sys/net/ipv6/conf/*/accept_ra 2>/dev/null
section iptables-filter
iptables -S 2>&1 || echo '#error'
section iptables-nat
iptables -t nat -S 2>&1 || echo '#error'
section ip6tables-filter
# IPv6: ip6tables where it is installed (an IPv4-only node may lack it; the checks read no IPv6 rules there).
if command -v ip6tables >/dev/null 2>&1; then ip6tables -S 2>&1 || echo '#error'; fi
section ip6tables-nat
if command -v ip6tables >/dev/null 2>&1; then ip6tables -t nat -S 2>&1 || echo '#error'; fi
section iptables-backends
# Rules in both backends is the failure mode; legacy tables exist only where the kernel lists some in
# /proc/net/ip_tables_names (read by the shell), so the two save commands run only then.
t=; read -r t 2>/dev/null < /proc/net/ip_tables_names; if [ -n "$t" ]; then for b in legacy nft; do command -v iptables-$b-save >/dev/null 2>&1 && echo "$b=$(iptables-$b-save 2>/dev/null | grep -c '^-A')"; done; else echo legacy=0; fi
section cni-conf
echo "dir=$PODNET_CONF_DIR"
for f in "$PODNET_CONF_DIR"/*; do [ -f "$f" ] || continue; echo "$PODNET_FILE_MARK" "$f"; cat "$f"; echo; done
section runtime
# Installed runtimes (builtins), then one grep for what podnet reads from other files: the boot time
# (/proc/stat), the runtimes' CNI settings and the sysctl files' forwarding settings; the path of each line
# tells which. The runtimes' plugin dirs are looked into below too.
command -v containerd >/dev/null 2>&1 && echo runtime=containerd
command -v crio >/dev/null 2>&1 && echo runtime=crio
g=$(grep -Hs -E '^(btime |[[:space:]]*(bin_dirs?|conf_dir|use_internal_loopback|imports|network_dir|plugin_dirs?)[[:space:]]*=|[[:space:]]*-?[[:space:]]*net[./](ipv4[./]ip_forward|ipv4[./]conf[./]all[./]forwarding|ipv6[./]conf[./]all[./]forwarding|bridge[./]bridge-nf-call-ip6?tables)[[:space:]]*=)' /proc/stat /etc/containerd/config.toml /etc/containerd/conf.d/*.toml /etc/crio/crio.conf /etc/crio/crio.conf.d/* /etc/sysctl.d/*.conf /run/sysctl.d/*.conf /usr/local/lib/sysctl.d/*.conf /usr/lib/sysctl.d/*.conf /lib/sysctl.d/*.conf /etc/sysctl.conf)
printf '%s\n' "$g"
extra=
while IFS= read -r l; do case "$l" in /etc/containerd/*bin_dir*|/etc/crio/*plugin_dir*) v=${l#*=}; IFS='"'; set -f; for w in $v; do case "$w" in /*) extra="$extra:${w%/}";; esac; done; set +f; unset IFS;; esac; done <<RUNTIME_DIRS
$g
RUNTIME_DIRS
section cni-bin
# Ask VERSION only of the plugins that matter (the ones podnet uses and the ones the conflists name):
# running every binary in the directory would cost more than the rest of the script.
types='"bridge" "host-local" "portmap" "loopback" '"$(grep -oh '"type"[[:space:]]*:[[:space:]]*"[A-Za-z0-9_.-]*"' "$PODNET_CONF_DIR"/* 2>/dev/null)"
# A binary podnet asked before (same path, inode, size, mtime and ctime) is not asked again: the answers
# podnet remembers travel in $PODNET_KNOWN ("|identity=answer|…"); a plugin costs a Go start-up of 20-40 ms.
# The bin dirs are split on ':' (as PATH is walked above); IFS is back to normal for the loop's body.
seen=':'; IFS=:; for d in $PODNET_CNI_PATH$extra; do unset IFS; case "$seen" in *":$d:"*) continue;; esac; seen="$seen$d:"; [ -d "$d" ] || { echo "nodir=$d"; continue; }; echo "dir=$d"; stat -L -c '%i %s %Y %Z %n' "$d"/* 2>/dev/null | while read -r i z m c p; do n=${p##*/}; if [ ! -x "$p" ]; then case "$types" in *'"'"$n"'"'*) echo "plugin=$d $n !noexec";; esac; continue; fi; v=; case "$types" in *'"'"$n"'"'*) k="$p:$i:$z:$m:$c"; echo "pluginkey=$d $n $k"; case "$PODNET_KNOWN" in *"|$k="*) v=${PODNET_KNOWN#*"|$k="}; v=${v%%"|"*};; *) v=$(CNI_COMMAND=VERSION "$p" </dev/null 2>/dev/null | tr -d '\n');; esac;; esac; echo "plugin=$d $n $v"; done; done; unset IFS
section files
# shellcheck disable=SC2086 # a list of paths, split into one argument each
sha256sum $PODNET_FILES 2>/dev/null
section bridge-ports
bridge -j link show 2>/dev/null || echo '[]'
section netmgr
# Network managers that may claim CNI links or clean up foreign routes (only asked where they run).
command -v nmcli >/dev/null 2>&1 && nm=$(nmcli -t -f DEVICE,STATE device 2>/dev/null) && { echo nm=running; printf '%s\n' "$nm" | while IFS= read -r l; do echo "nm.device=$l"; done; }
[ -d /run/systemd/system ] && systemctl is-active --quiet systemd-networkd 2>/dev/null && { echo networkd=running; grep -hs '^[[:space:]]*ManageForeignRoutes' /etc/systemd/networkd.conf /etc/systemd/networkd.conf.d/*.conf /run/systemd/networkd.conf.d/*.conf /usr/lib/systemd/networkd.conf.d/*.conf | while IFS= read -r l; do echo "networkd.conf=$l"; done; }
section route-tables
# The routes of each table a policy rule looks up besides local, main and default (one process per such
# table; the shell finds the table names in the rules' JSON, the last line of the ip section).
r=${ipo##*"
"}
seen=' local main default '; rest=$r
while :; do case "$rest" in *'"table":"'*) rest=${rest#*'"table":"'}; t=${rest%%'"'*}; case "$seen" in *" $t "*) ;; *) seen="$seen$t "; printf '%s ' "$t"; ip -j -4 route show table "$t" 2>/dev/null || printf '[]'; echo;; esac;; *) break;; esac; done
section ipam
# host-local's state: one file per reserved address (named by it, holding the container id): their times
# (one stat) and owners (one grep) for every network at once, and the probes in progress (the boot time
# is in the runtime section).
d=/var/lib/cni/networks; echo "dir=$d"
for p in /run/podnet-probe-*; do [ -d "$p" ] && echo "probe.run=${p#/run/podnet-probe-}"; done
set -- "$d"/*/*.*.*; if [ -e "$1" ]; then stat -c 'mtime %Y %n' "$@" 2>/dev/null; grep -H -m1 '' "$@" 2>/dev/null; fi
section cni-cache
# libcni's cached results, by name only (<network>-<container id>-<ifname>): the shell lists them.
for f in /var/lib/cni/results/*; do [ -f "$f" ] && echo "${f##*/}"; done
section nft
# Native nftables tables with a forward-hook base chain (firewalld's, a hand-written ruleset), whole, so
# the checks can follow their jumps. iptables-nft's own FORWARD chain is skipped: iptables -S shows it.
# Only where something manages native nftables rules (firewalld running, the nftables service enabled):
# nft costs 10-40 ms a run, more than any other section. And only where nf_tables is there already (a
# kernel without modules, or the module loaded: listing would load it) and nft is installed.
nftm=; for f in /run/firewalld /etc/systemd/system/sysinit.target.wants/nftables.service /etc/systemd/system/multi-user.target.wants/nftables.service; do [ -e "$f" ] && nftm=1; done
if [ -n "$nftm" ] && { [ ! -e /proc/modules ] || [ -d /sys/module/nf_tables ]; } && command -v nft >/dev/null 2>&1; then seen=' '; nft list chains 2>/dev/null | while read -r l; do case "$l" in
  'table '*) fam=${l#table }; tab=${fam#* }; fam=${fam%% *}; tab=${tab%% *};;
  'chain '*) ch=${l#chain }; ch=${ch%% *};;
  *'hook forward'*) case "$fam $tab $ch" in 'ip filter FORWARD'|'ip6 filter FORWARD') ;; *) case "$seen" in *" $fam/$tab "*) ;; *) seen="$seen$fam/$tab "; echo "table=$fam $tab"; nft list table "$fam" "$tab" 2>/dev/null;; esac;; esac;;
esac; done; fi
section sysctl-files
# Every sysctl configuration file by name (the shell lists them): a file of the same name in an earlier
# directory hides a later one, even one that sets nothing or links to /dev/null. What they set is read by
# the grep of the runtime section.
for d in /etc/sysctl.d /run/sysctl.d /usr/local/lib/sysctl.d /usr/lib/sysctl.d /lib/sysctl.d; do for f in "$d"/*.conf; do [ -e "$f" ] || [ -L "$f" ] && echo "file=$f"; done; done
[ -e /etc/sysctl.conf ] && echo "file=/etc/sysctl.conf"
section end
