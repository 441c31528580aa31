/**
 * What the diagnose lab tests share: doctor and probe through the real CLI (JSON), a clean-network check,
 * probe leftovers on the nodes, and `exercise`, which injects one failure mode on one node and asserts
 * what doctor finds, which probe cells fail (and that every one of them is explained), and that `up`
 * heals it or the injection is undone.
 */
import assert from 'node:assert/strict';
import type { TestLab } from './lab.js';

export interface Cell {
  check: string;
  src: string;
  dst: string;
  family?: string;
  status: string;
  reason?: string;
}
export interface Finding {
  id: string;
  node: string;
  severity: string;
  message?: string;
  family?: string;
}

/** The nodes to work on: the lab's inventory over SSH, unless the lab says otherwise (through its API). */
export const target = (lab: TestLab) => lab.target ?? ['-i', lab.inventory];

export async function probe(lab: TestLab, extra: string[] = []): Promise<{ exitCode: number; results: Cell[]; failures: { cell: Cell; explanations: Finding[]; unexplained: boolean }[] }> {
  const r = await lab.podnet(['probe', ...target(lab), '--json', ...extra]);
  const doc = JSON.parse(r.stdout) as { results: Cell[]; failures: { cell: Cell; explanations: Finding[]; unexplained: boolean }[] };
  return { exitCode: r.exitCode, ...doc };
}

export async function doctor(lab: TestLab): Promise<{ exitCode: number; findings: Finding[] }> {
  const r = await lab.podnet(['doctor', ...target(lab), '--json']);
  return { exitCode: r.exitCode, findings: (JSON.parse(r.stdout) as { findings: Finding[] }).findings };
}

/** "pod-tcp node-1→node-2" (an IPv6 cell: "pod-tcp/ipv6 node-1→node-2"). */
export const key = (c: Pick<Cell, 'check' | 'src' | 'dst' | 'family'>) => `${c.check}${c.family === 'ipv6' ? '/ipv6' : ''} ${c.src}→${c.dst}`;

export async function assertClean(lab: TestLab, cells: number): Promise<void> {
  const d = await doctor(lab);
  assert.deepEqual(d.findings.filter((f) => f.severity === 'error'), [], 'doctor found errors on a clean network');
  assert.equal(d.exitCode, 0);
  const p = await probe(lab);
  assert.deepEqual(p.results.filter((r) => r.status !== 'pass').map((r) => `${key(r)}: ${r.reason}`), []);
  assert.equal(p.results.length, cells);
  assert.equal(p.exitCode, 0);
}

export async function assertNoProbeLeftovers(lab: TestLab): Promise<void> {
  for (const n of lab.plan.nodes) {
    // pgrep sees every process of the machine (the lab shares one PID namespace): only this node's network namespace counts.
    const r = await lab.shOnNode(n.name, 'ip netns list; grep podnet-probe /proc/self/mountinfo; me=$(readlink /proc/self/ns/net); for p in $(pgrep -f podnet-probe); do [ "$(readlink /proc/$p/ns/net 2>/dev/null)" = "$me" ] && tr "\\0" " " < /proc/$p/cmdline && echo; done; iptables -t nat -S | grep -- "-A CNI-DN-"; ls /var/lib/cni/networks/podnet 2>/dev/null | grep -v -e lock -e last_reserved; ls -d /run/podnet-probe-* 2>/dev/null');
    assert.equal(r.stdout.trim(), '', `${n.name} has probe leftovers:\n${r.stdout}`);
  }
}

export interface Fault {
  name: string;
  node: string;
  inject: string;
  finding: string;
  /** cells that must fail */
  mustFail: string[];
  /** every failing cell must satisfy this */
  scope: (c: Cell) => boolean;
  heals: boolean;
  undo?: string;
  /** false when the probe itself repairs the fault (the bridge plugin turns ip_forward on at CNI ADD) */
  probeFails?: boolean;
  /** extra probe flags (a fixed --host-port) */
  probeArgs?: string[];
  /** every failed cell must be explained by this finding (not only some) */
  explainsAll?: boolean;
  /** the finding's severity */
  severity?: 'error' | 'warning';
  /** run on the node after healing (what up leaves alone but the test must not leave behind) */
  after?: string;
  /** the family the finding must name (per-family checks) */
  family?: 'ipv4' | 'ipv6';
}

export const involves = (node: string) => (c: Cell) => c.src === node || c.dst === node;


export async function exercise(lab: TestLab, fault: Fault, cells: number): Promise<void> {
  const inj = await lab.shOnNode(fault.node, fault.inject);
  assert.equal(inj.exitCode, 0, `inject: ${inj.stderr}`);
  const d = await doctor(lab);
  const found = d.findings.filter((f) => f.id === fault.finding && f.node === fault.node && (fault.family === undefined || f.family === fault.family));
  assert.ok(found.length, `doctor: no ${fault.finding} on ${fault.node}: ${JSON.stringify(d.findings)}`);
  if (fault.severity) assert.ok(found.every((f) => f.severity === fault.severity), `${fault.finding} severity: ${JSON.stringify(found)}`);
  if (fault.finding !== 'mtu') assert.equal(d.exitCode, fault.severity === 'warning' && !d.findings.some((f) => f.severity === 'error') ? 0 : 1);
  const p = await probe(lab, fault.probeArgs);
  const failing = p.results.filter((r) => r.status === 'fail');
  const outOfScope = failing.filter((c) => !fault.scope(c)).map((c) => `${key(c)}: ${c.reason}`);
  assert.deepEqual(outOfScope, [], 'cells not affected by the fault failed');
  const failed = new Set(failing.map(key));
  for (const m of fault.mustFail) assert.ok(failed.has(m), `${m} should fail; failing: ${[...failed].join(', ')}`);
  if (fault.probeFails !== false) {
    assert.equal(p.exitCode, 1, 'probe passed despite the fault');
    // failures are explained by the doctor's findings on the nodes involved, every one of them
    assert.ok(p.failures.some((f) => f.explanations.some((e) => e.id === fault.finding)), 'no failure was joined with the finding');
    const unexplained = p.failures.filter((f) => f.unexplained).map((f) => `${key(f.cell)}: ${f.cell.reason}`);
    assert.deepEqual(unexplained, [], 'failed cells that no doctor finding explains');
    if (fault.explainsAll) {
      const other = p.failures.filter((f) => !f.explanations.some((e) => e.id === fault.finding && e.node === fault.node)).map((f) => `${key(f.cell)}: ${f.cell.reason}`);
      assert.deepEqual(other, [], `failed cells not explained by ${fault.finding} on ${fault.node}`);
    }
  } else {
    assert.deepEqual(failing.map((c) => `${key(c)}: ${c.reason}`), [], 'no cell may fail for this fault');
    assert.equal(p.exitCode, 0);
  }
  if (fault.undo) await lab.shOnNode(fault.node, fault.undo);
  if (fault.heals) {
    const up = await lab.podnet(['up', ...target(lab)]);
    assert.equal(up.exitCode, 0, up.stderr);
  }
  if (fault.after) await lab.shOnNode(fault.node, fault.after);
  const again = await doctor(lab);
  // Gone (an uplink left at a low MTU is still worth its mtu warning once up has sized the pods for it).
  const left = again.findings.filter((f) => f.id === fault.finding && !(fault.finding === 'mtu' && f.severity === 'warning'));
  assert.deepEqual(left.map((f) => `${f.node}: ${f.severity}: ${f.message}`), [], `${fault.finding} is still there after ${fault.heals ? 'up' : 'the undo'}`);
  if (fault.heals) {
    // Healed means converged: a second run changes nothing.
    const st = await lab.podnet(['status', ...target(lab)]);
    assert.equal(st.exitCode, 0, `status after up: ${st.stdout}${st.stderr}`);
  }
  // A fault the probe could not see changes nothing the probe could: doctor clean is enough.
  if (fault.probeFails === false && fault.mustFail.length === 0) {
    assert.deepEqual(again.findings.filter((f) => f.severity === 'error').map((f) => `${f.node}: ${f.id}`), []);
  } else await assertClean(lab, cells);
}
