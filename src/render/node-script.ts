/**
 * Changes → one POSIX sh script per node. Kernel changes are batched: one `ip -batch` for all routes and
 * neighbours, one `bridge -batch` for all FDB entries, one `iptables-restore --noflush` per table, one
 * `sysctl` call. Every command is idempotent (replace, guarded create), so the same renderer produces
 * the boot-time restore script. The script marks its steps on stderr so a failure names the step; that
 * part, the same in every script that changes a node, is the fixed text of prelude.sh beside this module.
 */
import type { Change } from '../plan/diff.js';
import { ROUTE_PROTO, LINK_ALIAS } from '../plan/desired.js';
import { asset } from '../util/asset.js';
import { heredoc, sh, shScript, type ShParams } from '../util/shell.js';
import { familyByName, familyOf, hostCidr, IPV6 } from '../net/family.js';

export const STEP_MARK = '@@podnet:step';
export const FAIL_MARK = '@@podnet:failed';

const preludeText = asset(new URL('./prelude.sh', import.meta.url));

/**
 * A script that changes a node: prelude.sh (set -u, PATH, and the step/fail marks the services read), then
 * `body`; the parameters of both are assigned above them. The down script starts the same way.
 */
export function renderWithPrelude(body: string, params: ShParams = {}): string {
  return shScript({ PODNET_STEP_MARK: STEP_MARK, PODNET_FAIL_MARK: FAIL_MARK, ...params }, preludeText() + body);
}

function block(cmd: string, body: string, delim: string): string {
  const h = heredoc(delim, body);
  return `${cmd} ${h.open} || fail\n${h.body}${h.close}`;
}

function of<K extends Change['kind']>(changes: Change[], kind: K): Extract<Change, { kind: K }>[] {
  return changes.filter((c): c is Extract<Change, { kind: K }> => c.kind === kind);
}

export interface RenderOptions {
  /** include file writes and systemd (apply) or not (boot-time restore: the files are already there) */
  files: boolean;
}

export function renderNodeScript(changes: Change[], opts: RenderOptions = { files: true }): string {
  const out: string[] = [];

  const modules = of(changes, 'module');
  const sysctls = of(changes, 'sysctl');
  if (modules.length || sysctls.length) {
    out.push('step kernel');
    for (const m of modules) out.push(`modprobe ${sh(m.name)} 2>/dev/null || [ -d /proc/sys/net/bridge ] || fail`);
    if (sysctls.length) out.push(`sysctl -qw ${sysctls.map((s) => sh(`${s.key}=${s.to}`)).join(' ')} || fail`);
  }

  if (opts.files) {
    const writes = of(changes, 'file-write');
    const removes = of(changes, 'file-remove');
    if (writes.length || removes.length) out.push('step files');
    for (const w of writes) {
      const p = w.file.path;
      const dir = p.slice(0, p.lastIndexOf('/'));
      // $$ (this script's PID) makes the name unique per run, so two runs never share a half-written file.
      const tmp = `${sh(`${dir}/.${p.slice(p.lastIndexOf('/') + 1)}.podnet-tmp`)}.$$`;
      // Write beside the target and rename: readers (the container runtime) never see half a file.
      out.push(`mkdir -p ${sh(dir)} || fail`);
      out.push(block(`cat > ${tmp}`, w.file.content, 'PODNET_FILE'));
      out.push(`chmod ${sh(w.file.mode)} ${tmp} && mv -f ${tmp} ${sh(p)} || { rm -f ${tmp}; fail; }`);
    }
    for (const r of removes) out.push(`rm -f ${sh(r.path)} || fail`);
  }

  const links: string[] = [];
  for (const c of changes) {
    switch (c.kind) {
      case 'bridge-create':
        links.push(`ip link show dev ${sh(c.bridge)} >/dev/null 2>&1 || ip link add name ${sh(c.bridge)} type bridge || fail`);
        links.push(`ip link set dev ${sh(c.bridge)} mtu ${c.mtu} alias ${LINK_ALIAS} up || fail`);
        break;
      case 'bridge-adopt':
        links.push(`ip link set dev ${sh(c.bridge)} alias ${LINK_ALIAS} || fail`);
        break;
      case 'bridge-set':
        links.push(`ip link set dev ${sh(c.bridge)} mtu ${c.mtu} up 2>/dev/null || ip link set dev ${sh(c.bridge)} up || fail`);
        break;
      case 'bridge-addr-del':
        links.push(`ip addr del ${sh(c.address)} dev ${sh(c.bridge)} 2>/dev/null || true`);
        break;
      case 'bridge-addr-add':
        // An IPv6 gateway skips duplicate address detection: podnet owns the address, and a tentative
        // gateway would leave the pods without a next hop for a second or, on a port-less bridge, for good.
        links.push(`ip addr replace ${sh(c.address)} dev ${sh(c.bridge)}${familyOf(c.address) === IPV6 ? ' nodad' : ''} || fail`);
        break;
      case 'vxlan-create':
        if (c.recreate) links.push(`ip link del dev ${sh(c.device)} 2>/dev/null || true`);
        links.push(
          `ip link show dev ${sh(c.device)} >/dev/null 2>&1 || ip link add name ${sh(c.device)} type vxlan id ${c.vni} local ${sh(c.local)} dev ${sh(c.uplink)} dstport ${c.port} nolearning || fail`,
          `ip link set dev ${sh(c.device)} address ${sh(c.mac)} mtu ${c.mtu} alias ${LINK_ALIAS} up || fail`,
          ...c.addresses.map((a) => `ip addr replace ${sh(hostCidr(a))} dev ${sh(c.device)}${familyOf(a) === IPV6 ? ' nodad' : ''} || fail`),
        );
        break;
      case 'vxlan-delete':
        links.push(`ip link del dev ${sh(c.device)} 2>/dev/null || true`);
        break;
      default:
        break;
    }
  }
  if (links.length) out.push('step links', ...links);

  const fdb: string[] = [];
  for (const c of changes) {
    if (c.kind === 'fdb-set') fdb.push(`fdb replace ${c.mac} dev ${c.device} dst ${c.dst} self permanent`);
    if (c.kind === 'fdb-del') fdb.push(`fdb del ${c.mac} dev ${c.device} dst ${c.dst} self`);
  }
  if (fdb.length) out.push('step fdb', block('bridge -force -batch -', fdb.join('\n'), 'PODNET_FDB'));

  const batch: string[] = [];
  for (const c of changes) {
    if (c.kind === 'neigh-set') batch.push(`neigh replace ${c.address} lladdr ${c.mac} dev ${c.device} nud permanent`);
    if (c.kind === 'neigh-del') batch.push(`neigh del ${c.address} dev ${c.device}`);
  }
  for (const c of changes) {
    if (c.kind === 'route-set') {
      const r = c.route;
      batch.push(`route replace ${r.podCIDR} via ${r.via} dev ${r.dev}${r.onlink ? ' onlink' : ''} proto ${ROUTE_PROTO}`);
    }
    if (c.kind === 'route-del') batch.push(`route del ${c.dst} proto ${ROUTE_PROTO}`);
  }
  // -force: one route that cannot be added (a next hop not reachable yet at boot) does not stop the others;
  // the step still fails, and says so.
  if (batch.length) out.push('step routes', block('ip -force -batch -', batch.join('\n'), 'PODNET_IP'));

  for (const c of of(changes, 'iptables')) {
    const fam = familyByName(c.family);
    const ipt = fam.iptables;
    const input = [`*${c.table}`, `:${c.chain} - [0:0]`, ...c.rules, 'COMMIT', ''].join('\n');
    const [, builtin, ...jumpArgs] = c.jump.split(' ');
    const args = jumpArgs.map(sh).join(' ');
    const t = `-t ${c.table}`;
    out.push(
      `step ${fam === IPV6 ? 'ip6tables' : 'iptables'}-${c.table}`,
      // Declaring our chain in --noflush mode empties it first: the chain's content is replaced atomically.
      block(`${fam.iptablesRestore} -w 5 --noflush`, input, 'PODNET_RULES'),
      ...(c.moveFirst ? [`${ipt} -w 5 ${t} -D ${builtin} ${args} 2>/dev/null; ${ipt} -w 5 ${t} -I ${builtin} 1 ${args} || fail`] : []),
      `${ipt} -w 5 ${t} -C ${builtin} ${args} 2>/dev/null || ${ipt} -w 5 ${t} -I ${builtin} 1 ${args} || fail`,
      `while [ "$(${ipt} -w 5 ${t} -S ${builtin} | grep -c -x -F -- ${sh(c.jump)})" -gt 1 ]; do ${ipt} -w 5 ${t} -D ${builtin} ${args} || fail; done`,
    );
  }

  for (const c of of(changes, 'iptables-remove')) {
    const ipt = familyByName(c.family).iptables;
    const [, builtin, ...jumpArgs] = c.jump.split(' ');
    const t = `-t ${c.table}`;
    out.push(
      `step ${ipt}-${c.table}`,
      `while ${ipt} -w 5 ${t} -D ${builtin} ${jumpArgs.map(sh).join(' ')} 2>/dev/null; do :; done`,
      `if ${ipt} -w 5 ${t} -S ${sh(c.chain)} >/dev/null 2>&1; then ${ipt} -w 5 ${t} -F ${sh(c.chain)} && ${ipt} -w 5 ${t} -X ${sh(c.chain)} || fail; fi`,
    );
  }

  const release = of(changes, 'ipam-release');
  if (release.length) {
    // Only while the file still names the gone probe pod (host-local ends the id with CR LF): a
    // reservation made since is left alone.
    out.push('step ipam', `CR=$(printf '\\r')`);
    for (const c of release) for (const r of c.reservations) out.push(`f=${sh(`${c.dir}/${r.ip}`)}; o=; read -r o < "$f" 2>/dev/null; [ "\${o%"$CR"}" = ${sh(r.owner)} ] && { rm -f "$f" || fail; }`);
  }

  if (opts.files && of(changes, 'unit-enable').length) {
    out.push('step systemd', 'systemctl daemon-reload || fail', 'systemctl enable podnet.service >/dev/null 2>&1 || fail');
  }
  out.push('step done');
  return renderWithPrelude(`${out.join('\n')}\n`);
}
