/**
 * The probe service: proves the network model with real traffic. On every node it creates a probe pod
 * through the node's live CNI config (netns + CNI ADD of the whole chain, with a hostPort), runs an echo
 * service in it, then fires every check of the matrix from pods and from the nodes themselves, in
 * parallel, and records what each receiver saw. Round trips per node: facts, setup, probe, teardown.
 * The matrix runs once per IP family the probe pods got addresses of (dual-stack: IPv4 and IPv6), each
 * family's cells over that family's pod and node addresses.
 * Teardown always runs (success, failure, timeout, Ctrl-C) and removes netns, IPs, portmap rules and
 * processes.
 */
import { randomBytes } from 'node:crypto';
import type { Inventory, InventoryNode } from '../inventory/load.js';
import type { NodeFacts } from '../facts/parse.js';
import { PROBE_POD_PREFIX } from '../facts/marks.js';
import { duplicateMachine, gatherFacts, type RunContext } from './bootstrap.js';
import { doctorFromFacts, nodeViews, type DoctorReport } from './doctor.js';
import type { Finding, NodeView } from '../checks/index.js';
import { cniAddError, podIpsFromResult, renderCniAdd, renderCniDel, renderNetnsDelete, resultFromOutput, type Conflist, type PodSpec } from '../cni/runtime.js';
import { ECHO_PY } from '../probe/echo.js';
import { FAMILY_LABEL, familiesToProbe, PROBE_CHECKS, probeCells, type ProbeCell, type ProbeCheck } from '../probe/plan.js';
import { mapLimit } from '../util/concurrency.js';
import { errorMessage, UserError } from '../util/errors.js';
import { sh } from '../util/shell.js';
import { familyByName, familyOf, FAMILIES, type FamilyTable, type IpFamily } from '../net/family.js';
import { normalizeIp } from '../net/cidr.js';
import type { NodePrograms } from '../transport/types.js';

/** Headers around an echo payload: IP (40 bytes for IPv6, 20 for IPv4) and ICMP. */
const icmpEchoOverhead = (f: FamilyTable) => f.ipHeader + f.icmpHeader;
/** where the localhost check connects, per family */
const LOOPBACK: Record<IpFamily, string> = { ipv4: '127.0.0.1', ipv6: '::1' };

export const ECHO_PORT = 8080;
/** the echo service exits by itself after this long, whatever happens to podnet */
const ECHO_TTL_S = 600;
const PROBE_TIMEOUT_S = 2;
/** probes in flight at once per node (echo.py's window) */
const PROBE_WINDOW = 64;

export interface ProbeResult extends ProbeCell {
  status: 'pass' | 'fail' | 'warn' | 'skip';
  target?: string;
  observed?: string;
  reason?: string;
}

export interface ProbeReport {
  runId: string;
  strict: boolean;
  sample?: number;
  /** the IP families probed: each one's cells over that family's addresses */
  families: IpFamily[];
  /**
   * podIP: the pod's IPv4 address (its IPv6 one on an IPv6-only network); podIPs: one per family it got;
   * familyErrors: why a family's cells of this node could not run although the node's probe pod exists
   */
  nodes: { node: string; podIP?: string; podIPs?: Partial<Record<IpFamily, string>>; podMtu?: number; error?: string; familyErrors?: Partial<Record<IpFamily, string>> }[];
  results: ProbeResult[];
  /**
   * Every failed cell with the doctor findings on its nodes; `blockedBy` names a node whose error (no
   * facts, no probe pod) kept the cell from running, or that has no address of the cell's family;
   * `unexplained` when neither explains it.
   */
  failures: { cell: ProbeResult; explanations: Finding[]; blockedBy?: string; unexplained: boolean }[];
  findings: Finding[];
  /** nodes where removing the probe pods failed: reported, never hidden */
  cleanupErrors: { node: string; error: string }[];
  summary: { pass: number; fail: number; warn: number; skip: number; unexplained: number };
}

interface ProbeNode {
  inv: InventoryNode;
  view: NodeView;
  conflist?: Conflist;
  binDir?: string;
  pod: PodSpec;
  /** the probe pod's address per family (from the CNI ADD result) */
  podIPs: Partial<Record<IpFamily, string>>;
  /** the node's address per family: the hostPort probes' target */
  nodeIPs: Partial<Record<IpFamily, string>>;
  podMtu: number;
  error?: string;
  /** a probed family this node cannot take part in, or not as a hostPort target: why */
  familyErrors: Partial<Record<IpFamily, string>>;
  /** the error is a tool missing on the node (its cells are skipped, not failed) */
  missingTool?: boolean;
  setUp: boolean;
}

function dirOf(runId: string): string {
  return `/run/podnet-probe-${runId}`;
}

/**
 * How the scripts start the probe program: the transport's python3 (the node's over SSH, the helper
 * image's through the API), isolated (-I) and without site (-S): nothing from the node's environment,
 * ~10 ms less per start. `R` is where that python3 sees the node's files.
 */
function py(programs: NodePrograms): { PY: string; R: string; fd: string } {
  return { PY: programs.python, R: programs.nodeRoot, fd: programs.rootFdRedirect };
}

function setupScript(p: ProbeNode, runId: string, programs: NodePrograms): string {
  const dir = dirOf(runId);
  const { PY, R, fd } = py(programs);
  return `set -u
mkdir -p ${dir} && cat > ${dir}/echo.py <<'PODNET_PY'
${ECHO_PY}
PODNET_PY
cat > ${dir}/teardown.sh <<'PODNET_TEARDOWN'
${teardownScript(p, runId)}PODNET_TEARDOWN
${renderCniAdd(p.conflist!, p.binDir!, p.pod).replace(/\n$/, '')} || exit 1
# Binds in the pod, detaches and prints "ready PID" (the PID also goes to echo.pid for the teardown).
# It is the dead man's switch too: should this session ($PPID is its shell, over SSH or the API) end
# before podnet's own teardown (podnet killed), it runs teardown.sh by itself, on the node's root.
ready=$(${PY} ${R}${dir}/echo.py serve ${ECHO_PORT} ${ECHO_TTL_S} ${R}${dir}/echo.pid $PPID ${dir}/teardown.sh ${sh(R + p.pod.netns)} ${fd ? '7' : ''} ${fd} 2>&1) || { echo "the echo service did not start: $ready" >&2; exit 1; }
`;
}

function teardownScript(p: ProbeNode, runId: string): string {
  const dir = dirOf(runId);
  // Run by podnet, or by the echo service as the switch (exec'd in its place: it must not kill its own PID).
  return `[ -f ${dir}/echo.pid ] && pid=$(cat ${dir}/echo.pid) && [ "$pid" != "$$" ] && kill "$pid" 2>/dev/null
(
${p.conflist && p.binDir ? renderCniDel(p.conflist, p.binDir, p.pod) : renderNetnsDelete(p.pod.netns)}
)
rc=$?
rm -rf ${dir}
rmdir /run/podnet-cni 2>/dev/null
exit $rc
`;
}

interface Wire {
  id: number;
  /** where the probe's socket lives: the probe pod's netns or the node's own */
  ns: 'pod' | 'host';
  proto: 'tcp' | 'udp' | 'icmp' | 'mtu';
  host: string;
  port?: number;
  size?: number;
}

function probeScript(runId: string, podNetns: string, probes: Wire[], programs: NodePrograms): string {
  const dir = dirOf(runId);
  const { PY, R } = py(programs);
  return `D=${dir}
cat > $D/probes.json <<'PODNET_J'
${JSON.stringify(probes)}
PODNET_J
${PY} ${R}$D/echo.py batch ${R}$D/probes.json ${PROBE_TIMEOUT_S} ${sh(R + podNetns)} ${PROBE_WINDOW}
`;
}

export interface ProbeOptions {
  strict: boolean;
  sample?: number;
  /** the hostPort the probe pods map (default: one of 31000-31999 chosen per run) */
  hostPort?: number;
  /** probe this family only (default: every family the probe pods get addresses of) */
  family?: IpFamily;
  /** called with a function that tears down whatever is set up; the caller runs it on SIGINT */
  onCleanup?: (fn: () => Promise<void>) => void;
}

export async function runProbe(inv: Inventory, ctx: RunContext, opts: ProbeOptions): Promise<ProbeReport> {
  const runId = randomBytes(3).toString('hex');
  const hostPort = opts.hostPort ?? 31000 + (parseInt(runId, 16) % 1000);
  const nodes: ProbeNode[] = [];
  const byName = new Map<string, ProbeNode>();
  let tornDown = false;
  /** pod set-ups started so far (each node's starts as soon as its own facts are in) */
  const setups: Promise<void>[] = [];
  let teardownDone: Promise<void> | undefined;
  const cleanupErrors: { node: string; error: string }[] = [];
  // One teardown, shared: the interrupt handler and the normal path both wait for the same run, so
  // nobody closes the SSH connections while it is still removing pods.
  const teardown = (): Promise<void> => (teardownDone ??= removeProbePods());
  const removeProbePods = async () => {
    tornDown = true;
    // An interrupt can land while pods are being created: let those scripts finish (no new ones start
    // once tornDown is set), then undo them all.
    for (let started = -1; started !== setups.length; ) {
      started = setups.length;
      await Promise.allSettled(setups);
    }
    await mapLimit(nodes.filter((n) => n.setUp), ctx.concurrency, async (n) => {
      ctx.progress.update(n.view.name, 'cleaning up');
      try {
        const r = await ctx.transport.run(n.inv, teardownScript(n, runId));
        if (r.exitCode !== 0) cleanupErrors.push({ node: n.view.name, error: `cleanup exited ${r.exitCode}: ${r.stderr.trim().split('\n').pop() ?? ''}` });
      } catch (err) {
        cleanupErrors.push({ node: n.view.name, error: `cleanup failed: ${errorMessage(err)}; on the node run: umount -l /run/podnet-probe-${runId}/netns; rm -rf /run/podnet-probe-${runId}` });
      }
    });
  };
  opts.onCleanup?.(teardown);

  const setUpPod = async (n: ProbeNode): Promise<void> => {
    if (n.error || tornDown) return;
    ctx.progress.update(n.view.name, 'creating probe pod');
    n.setUp = true;
    try {
      const r = await ctx.transport.run(n.inv, setupScript(n, runId, ctx.transport.programs));
      n.podIPs = podIpsFromResult(resultFromOutput(r.stdout) ?? '');
      if (r.exitCode !== 0 || !Object.keys(n.podIPs).length) n.error = `probe pod could not be created: ${cniAddError(r.stderr) ?? r.stderr.trim().split('\n').filter(Boolean).pop() ?? `exit ${r.exitCode}`}`;
    } catch (err) {
      n.error = `probe pod could not be created: ${errorMessage(err)}`;
    }
  };

  const results: ProbeResult[] = [];
  /** cells that could not run, and the node that kept each from running */
  const blocked = new Map<ProbeResult, string>();
  let families: IpFamily[] = ['ipv4'];
  let doctor: DoctorReport;
  try {
    // Each node's probe pod is made right after its own facts are read (a node's view depends on its
    // facts only): a slow node does not hold the others back.
    // One machine listed twice would get two probe pods in one run directory: no pod for the second entry.
    const machines = new Map<string, string>();
    let twins: [string, string] | undefined;
    const { facts, failures } = await gatherFacts(inv, ctx, inv.nodes, async (inode, f) => {
      const twin = f.identity ? machines.get(f.identity) : undefined;
      if (twin) {
        twins ??= [twin, inode.name];
        return;
      }
      if (f.identity) machines.set(f.identity, inode.name);
      const view = nodeViews(inv, new Map([[inode.name, f]]))[0]!;
      const n = prepare(inv, view, f, runId, hostPort, ctx.transport.programs);
      nodes.push(n);
      byName.set(inode.name, n);
      const setup = setUpPod(n);
      setups.push(setup);
      await setup;
    });
    if (twins) throw duplicateMachine(inv, twins[0], twins[1], 'same boot id and network namespace');
    doctor = doctorFromFacts(inv, facts, failures.map((f) => ({ node: f.node, error: f.error, hint: f.hint, reached: f.reached })));
    await Promise.all(setups);

    const made = nodes.filter((n) => !n.error);
    const declared = nodes.flatMap((n) => (n.view.live?.bridge?.subnets ?? []).map((c) => familyOf(c)?.name)).filter((f): f is IpFamily => f !== undefined);
    families = familiesToProbe(made.map((n) => n.podIPs), declared);
    if (opts.family) {
      // Only the pods' addresses say which families the network has: with no probe pod made, the
      // family asked for is probed (its cells fail, blocked by the nodes that had no pod).
      if (made.length && !families.includes(opts.family)) {
        throw new UserError(`--family: the pod network has no ${FAMILY_LABEL[opts.family]} pods (the probe pods got ${families.map((f) => FAMILY_LABEL[f]).join(' and ')} addresses only); expected ${families.join(' or ')}, or leave out --family`);
      }
      families = [opts.family];
    }
    for (const n of made) n.familyErrors = familyErrors(n, families);

    const cells = probeCells(inv.nodes.map((n) => n.name), opts.sample, families);
    const wires = new Map<string, { cell: ProbeCell; wire: Wire }[]>();
    let id = 0;
    for (const cell of cells) {
      const src = byName.get(cell.src);
      const dst = byName.get(cell.dst);
      const spec = PROBE_CHECKS[cell.check];
      const fam = familyByName(cell.family);
      // A cell needs its source node's probe pod, and (unless it stays inside that pod) its target's;
      // then, for its family, an address of that family in both pods, and the target node's for a hostPort.
      const blocker = !src || src.error ? cell.src : spec.to !== 'localhost' && (!dst || dst.error) ? cell.dst : undefined;
      if (blocker) {
        const b = byName.get(blocker);
        // A node without the tools for a probe pod leaves its cells unproven (skip); a node whose
        // facts could not be read or whose pod could not be created is a failure.
        const r: ProbeResult = { ...cell, status: b?.missingTool ? 'skip' : 'fail', reason: `${blocker}: ${b ? b.error : 'facts could not be read'}` };
        results.push(r);
        blocked.set(r, blocker);
        continue;
      }
      const podLess = [src!, dst!].find((n) => !n.podIPs[cell.family]);
      const nodeLess = spec.to === 'hostport' && !dst!.nodeIPs[cell.family] ? dst! : undefined;
      const familyBlocker = podLess ?? nodeLess;
      if (familyBlocker) {
        const r: ProbeResult = { ...cell, status: 'fail', reason: `${familyBlocker.view.name}: ${familyBlocker.familyErrors[cell.family]}` };
        results.push(r);
        blocked.set(r, familyBlocker.view.name);
        continue;
      }
      const host = spec.to === 'pod' ? dst!.podIPs[cell.family]! : spec.to === 'hostport' ? dst!.nodeIPs[cell.family]! : LOOPBACK[cell.family];
      const port = spec.to === 'hostport' ? hostPort : ECHO_PORT;
      const wire: Wire = { id: id++, ns: spec.from, proto: spec.proto, host, port, size: spec.proto === 'mtu' ? Math.min(src!.podMtu, dst!.podMtu) - icmpEchoOverhead(fam) : undefined };
      const list = wires.get(cell.src) ?? [];
      list.push({ cell, wire });
      wires.set(cell.src, list);
    }

    await mapLimit([...wires.entries()], ctx.concurrency, async ([nodeName, list]) => {
      if (tornDown) return; // interrupted: the pods are being removed
      const n = byName.get(nodeName)!;
      ctx.progress.update(nodeName, `probing (${list.length} checks)`);
      const seen = new Map<number, { ok: boolean; observed?: string; reason?: string }>();
      try {
        // Worst case every probe times out twice (first try and retry), PROBE_WINDOW at a time.
        const worstMs = 2 * Math.ceil(list.length / PROBE_WINDOW) * PROBE_TIMEOUT_S * 1000;
        const r = await ctx.transport.run(n.inv, probeScript(runId, n.pod.netns, list.map((x) => x.wire), ctx.transport.programs), { timeoutMs: worstMs + 30_000 });
        for (const line of r.stdout.split('\n')) {
          if (!line.startsWith('{')) continue;
          const x = JSON.parse(line) as { id: number; ok: boolean; observed?: string; reason?: string };
          seen.set(x.id, x);
        }
      } catch (err) {
        for (const x of list) seen.set(x.wire.id, { ok: false, reason: `probe run failed: ${errorMessage(err)}` });
      }
      const judged = list.map((x) => judge(x.cell, x.wire, seen.get(x.wire.id), byName, opts.strict));
      results.push(...judged);
      const failedHere = judged.filter((r) => r.status === 'fail').length;
      ctx.progress.done(nodeName, failedHere === 0, `${list.length} checks${failedHere ? `, ${failedHere} failed` : ''}`);
    });
  } finally {
    await teardown();
  }

  const order = new Map(inv.nodes.map((n, i) => [n.name, i]));
  const checkOrder = new Map(Object.keys(PROBE_CHECKS).map((c, i) => [c, i]));
  const familyOrder = new Map(FAMILIES.map((f, i) => [f.name, i]));
  results.sort((a, b) => familyOrder.get(a.family)! - familyOrder.get(b.family)! || checkOrder.get(a.check)! - checkOrder.get(b.check)! || order.get(a.src)! - order.get(b.src)! || order.get(a.dst)! - order.get(b.dst)!);
  // Errors and warnings can explain a failed cell (a low uplink MTU is a warning that breaks big packets).
  const errorsOf = (node: string) => doctor.findings.filter((f) => f.node === node && f.severity !== 'info');
  const failed = results.filter((r) => r.status === 'fail');
  const failures = failed.map((cell) => {
    const explanations = [...new Set([cell.src, cell.dst])].flatMap(errorsOf);
    const blockedBy = blocked.get(cell);
    // Explained: a node blocked the cell (its cause is named), or doctor found an error on either end.
    return { cell, explanations, ...(blockedBy ? { blockedBy } : {}), unexplained: !blockedBy && explanations.length === 0 };
  });
  return {
    runId,
    strict: opts.strict,
    sample: opts.sample,
    families,
    nodes: inv.nodes.map((n) => {
      const p = byName.get(n.name);
      const podIPs = p && Object.keys(p.podIPs).length ? p.podIPs : undefined;
      const familyErrors = p && Object.keys(p.familyErrors).length ? p.familyErrors : undefined;
      return { node: n.name, podIP: podIPs?.ipv4 ?? podIPs?.ipv6, podIPs, podMtu: p?.podMtu, error: p ? p.error : 'facts could not be read', familyErrors };
    }),
    results,
    failures,
    findings: doctor.findings,
    cleanupErrors,
    summary: {
      pass: results.filter((r) => r.status === 'pass').length,
      fail: failed.length,
      warn: results.filter((r) => r.status === 'warn').length,
      skip: results.filter((r) => r.status === 'skip').length,
      unexplained: failures.filter((x) => x.unexplained).length,
    },
  };
}

function prepare(inv: Inventory, view: NodeView, f: NodeFacts, runId: string, hostPort: number, programs: NodePrograms): ProbeNode {
  const pod: PodSpec = {
    id: `${PROBE_POD_PREFIX}${runId}`,
    netns: `${dirOf(runId)}/netns`,
    portMappings: [
      { hostPort, containerPort: ECHO_PORT, protocol: 'tcp' },
      { hostPort, containerPort: ECHO_PORT, protocol: 'udp' },
    ],
  };
  const podMtu = view.live?.bridge?.mtu ?? view.uplink?.mtu ?? 1500;
  const base: ProbeNode = { inv: inv.nodes.find((n) => n.name === view.name)!, view, pod, podIPs: {}, nodeIPs: nodeAddresses(view), podMtu, familyErrors: {}, setUp: false };
  if (programs.needsNodePython && !f.tools.python3) return { ...base, missingTool: true, error: 'python3 is missing on the node: the probe pod and its echo service need it (Debian/Ubuntu: apt-get install python3-minimal; RHEL: dnf install python3)' };
  const noUtil = (['unshare', 'nsenter'] as const).filter((t) => !f.tools[t]);
  if (noUtil.length) return { ...base, missingTool: true, error: `${noUtil.join(' and ')} ${noUtil.length > 1 ? 'are' : 'is'} missing on the node: the probe pod's network namespace needs util-linux (Debian/Ubuntu: apt-get install util-linux)` };
  if (!view.live || view.live.parseError) return { ...base, error: `no usable CNI config in ${f.cniConfDir}` };
  if (view.live.kindError) return { ...base, error: `the live CNI config ${view.live.file.name} cannot be loaded: ${view.live.kindError}` };
  if (!view.nodeIP) return { ...base, error: 'the node IP is unknown (set nodes[].ip)' };
  const types = view.live.plugins.map((p) => String(p.type));
  const binDir = inv.cluster.cniBinDir ?? f.cniBinDirs.find((d) => types.every((t) => f.plugins.some((p) => p.dir === d && p.name === t))) ?? f.cniBinDirs[0];
  if (!binDir) return { ...base, error: 'no CNI bin dir found' };
  const raw = JSON.parse(view.live.file.text) as Conflist;
  return { ...base, conflist: view.live.isList ? raw : { cniVersion: raw.cniVersion, name: raw.name, plugins: [raw as Record<string, unknown>] }, binDir };
}

/**
 * The node's address of each family: the node IP for its own family; for the other, the first global
 * address of that family on the interface that holds the node IP (a dual-stack node carries both on its
 * uplink), never one that is tentative or failed duplicate address detection.
 */
function nodeAddresses(view: NodeView): Partial<Record<IpFamily, string>> {
  const out: Partial<Record<IpFamily, string>> = {};
  const own = view.nodeIP ? familyOf(view.nodeIP) : undefined;
  if (!view.nodeIP || !own) return out;
  out[own.name] = view.nodeIP;
  for (const f of FAMILIES) {
    if (f === own || !view.uplink) continue;
    const a = view.facts.addrs.find((x) => x.ifname === view.uplink!.ifname && x.family === f.inet && x.scope === 'global' && !x.tentative && !x.dadfailed);
    if (a) out[f.name] = a.local;
  }
  return out;
}

/** Why a node with a probe pod cannot take part in a family's cells (all of them, or as a hostPort target). */
function familyErrors(n: ProbeNode, families: readonly IpFamily[]): Partial<Record<IpFamily, string>> {
  const out: Partial<Record<IpFamily, string>> = {};
  for (const f of families) {
    const label = FAMILY_LABEL[f];
    if (!n.podIPs[f]) out[f] = `the probe pod got no ${label} address from ${n.view.live?.file.name ?? 'the live CNI config'} (other probe pods did): no ${label} cells to or from this node`;
    else if (!n.nodeIPs[f]) out[f] = `no global ${label} address on ${n.view.uplink?.ifname ?? 'the interface'} of the node IP ${n.view.nodeIP}: nothing to send ${label} hostPort probes to`;
  }
  return out;
}

function sameIp(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && (a === b || (normalizeIp(a) ?? a) === (normalizeIp(b) ?? b));
}

function judge(cell: ProbeCell, wire: Wire, r: { ok: boolean; observed?: string; reason?: string } | undefined, nodes: Map<string, ProbeNode>, strict: boolean): ProbeResult {
  const fam = familyByName(cell.family);
  const withPort = wire.port && wire.proto !== 'icmp' && wire.proto !== 'mtu';
  const base = { ...cell, target: withPort ? (fam.version === 6 ? `[${wire.host}]:${wire.port}` : `${wire.host}:${wire.port}`) : wire.host };
  if (!r) return { ...base, status: 'fail', reason: 'no result' };
  if (!r.ok) {
    const bytes = (wire.size ?? 0) + icmpEchoOverhead(fam);
    // IPv4 sets don't-fragment; IPv6 routers never fragment, the sender alone could (and does not here)
    const packet = fam.version === 6 ? `unfragmented IPv6 packet of ${bytes} bytes` : `DF packet of ${bytes} bytes`;
    return { ...base, status: 'fail', reason: wire.proto === 'mtu' ? `${packet}: ${r.reason ?? 'no reply'}` : r.reason ?? 'no reply' };
  }
  const spec = PROBE_CHECKS[cell.check];
  const src = nodes.get(cell.src)!;
  const podIP = src.podIPs[cell.family];
  if (spec.nat === 'fail' && !sameIp(r.observed, podIP)) return { ...base, status: 'fail', observed: r.observed, reason: `NAT: the receiver saw ${r.observed}, not the sender pod IP ${podIP}` };
  if (spec.nat === 'warn') {
    const own = src.view.facts.addrs.filter((a) => a.family === fam.inet).map((a) => a.local);
    if (r.observed && !own.some((a) => sameIp(a, r.observed))) return { ...base, status: strict ? 'fail' : 'warn', observed: r.observed, reason: `NAT: the receiver saw ${r.observed}, not an address of ${cell.src}` };
  }
  return { ...base, status: 'pass', observed: r.observed };
}

export function checkLabel(c: ProbeCheck): string {
  return PROBE_CHECKS[c].label;
}
