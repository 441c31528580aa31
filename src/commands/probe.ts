import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { integerFlag, textFlag } from '../cli/flags.js';
import { inventoryFlags, withSession } from '../cli/session.js';
import { paint, renderTable } from '../cli/output.js';
import { ChecksFailed, NodeFailure } from '../util/errors.js';
import type { ProbeReport } from '../services/probe.js';
import type { ProbeCheck } from '../probe/plan.js';
import type { IpFamily } from '../net/family.js';

const MARK = { pass: ['✔', 'green'], fail: ['✖', 'red'], warn: ['!', 'yellow'], skip: ['-', 'dim'] } as const;

/** Whether the output names families: not when IPv4 alone was probed (an IPv4 network's output is what it always was). */
function showsFamilies(report: ProbeReport): boolean {
  return report.families.length > 1 || report.families[0] !== 'ipv4';
}

/** The family as the tables name it: " [IPv6]" after every label, or nothing (see showsFamilies). */
async function familyTagger(report: ProbeReport): Promise<(f: IpFamily) => string> {
  const { FAMILY_LABEL } = await import('../probe/plan.js');
  const shown = showsFamilies(report);
  return (f) => (shown ? ` [${FAMILY_LABEL[f]}]` : '');
}

/** A node×node matrix per check, one family after the other. */
async function renderMatrices(report: ProbeReport, nodes: string[]): Promise<string> {
  const { PROBE_CHECKS } = await import('../probe/plan.js');
  const tag = await familyTagger(report);
  let out = '';
  for (const family of report.families) {
    for (const [check, spec] of Object.entries(PROBE_CHECKS)) {
      const cells = report.results.filter((r) => r.check === check && r.family === family);
      if (!cells.length) continue;
      if (check === 'localhost') {
        out += `${spec.label}${tag(family)}: ${cells.map((c) => `${c.src} ${paint(MARK[c.status][0], MARK[c.status][1])}`).join('  ')}\n`;
        continue;
      }
      const rows = nodes.map((src) => [src, ...nodes.map((dst) => {
        const c = cells.find((x) => x.src === src && x.dst === dst);
        return c ? paint(MARK[c.status][0], MARK[c.status][1]) : ' ';
      })]);
      out += `${spec.label}${tag(family)} (rows: from, columns: to)\n${await renderTable(['', ...nodes], rows)}`;
    }
  }
  return out;
}

/** One row per check (and family, when more than IPv4 was probed): passed, failed, warned, skipped (for large matrices). */
async function renderCheckSummary(report: ProbeReport): Promise<string> {
  const { PROBE_CHECKS, FAMILY_LABEL } = await import('../probe/plan.js');
  const byFamily = showsFamilies(report);
  const rows = report.families.flatMap((family) => Object.entries(PROBE_CHECKS).flatMap(([check, spec]) => {
    const cells = report.results.filter((r) => r.check === check && r.family === family);
    if (!cells.length) return [];
    const n = (st: string) => cells.filter((c) => c.status === st).length;
    return [[spec.label, ...(byFamily ? [FAMILY_LABEL[family]] : []), String(n('pass')), n('fail') ? paint(String(n('fail')), 'red') : '0', String(n('warn')), String(n('skip'))]];
  }));
  return renderTable(['check', ...(byFamily ? ['family'] : []), 'passed', 'failed', 'warnings', 'skipped'], rows);
}

export default class Probe extends BaseCommand {
  static override summary = 'Prove pod↔pod, node→pod, hostNetwork→pod and hostPort connectivity with real traffic';
  static override description =
    "Creates a probe pod on every node through the node's live CNI config (netns + CNI ADD of the whole chain, with a hostPort), runs an echo service in it that reports the source address it saw, and checks in parallel: pod→pod TCP/UDP/ICMP for every ordered pair (and within each node), hostNetwork→pod, nodeIP:hostPort from pods and nodes (TCP and UDP), two processes in one pod over localhost, and the path MTU with don't-fragment. A pod→pod receiver that sees anything but the sender's pod IP is a failure (NAT). On a dual-stack pod network every check runs once per IP family, over that family's pod and node addresses (--family: one of them). Failures are joined with the doctor findings that explain them. Everything created is removed afterwards, also on failure or Ctrl-C. Needs python3 on the nodes (for the echo service and the probes) besides iproute2 and the CNI plugins. Exit 1 on any failure, or when checks could not run.";
  static override examples = ['<%= config.bin %> probe -i inventory.yaml', '<%= config.bin %> probe -i inventory.yaml --sample 3 --json', '<%= config.bin %> probe -i inventory.yaml --strict', '<%= config.bin %> probe -i inventory.yaml --family ipv6', 'kubectl podnet probe', '<%= config.bin %> probe --kubeconfig admin.conf --node worker-1 --node worker-2 --image registry.example.com/python:3.13-alpine'];
  static override flags = {
    ...inventoryFlags,
    sample: integerFlag({ description: 'probe K peers per node (ring order: every node is a source and a target) instead of the full mesh', min: 1 }),
    'host-port': integerFlag({ description: 'the hostPort the probe pods map, TCP and UDP (default: one of 31000-31999 per run); pick one your firewalls let through', min: 1, max: 65535 }),
    strict: Flags.boolean({ description: 'treat NAT on hostNetwork→pod traffic as a failure, not a warning', default: false }),
    junit: textFlag({ description: 'also write the results as JUnit XML to FILE (a test suite per check, a test case per cell), for CI', expected: 'a file path to write', helpValue: 'FILE' }),
    family: Flags.string({ description: 'probe one IP family only (default: every family the probe pods get addresses of; on a dual-stack network the matrix runs once per family)', options: ['ipv4', 'ipv6'] }),
    output: Flags.string({ char: 'o', description: 'wide: a node×node matrix per check; summary: counts per check and the failures only; auto: wide up to 16 nodes', options: ['auto', 'wide', 'summary'], default: 'auto' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Probe);
    const { runProbe } = await import('../services/probe.js');
    const junit = flags.junit ? await import('../cli/junit.js') : undefined;
    // A path that cannot be written is found before any probe pod is made.
    if (flags.junit) junit!.writeJunit(flags.junit, '');
    const { session, result: report } = await withSession(flags, { quiet: this.jsonMode }, (s) => runProbe(s.inv, s.ctx, { strict: flags.strict, sample: flags.sample, hostPort: flags['host-port'], family: flags.family as IpFamily | undefined, onCleanup: (fn) => s.addCleanup(fn) }));
    const nodes = session.inv.nodes.map((n) => n.name);
    if (flags.junit) {
      const { PROBE_CHECKS } = await import('../probe/plan.js');
      const tag = await familyTagger(report);
      // a suite per check and family (pod-tcp.ipv6, "pod→pod TCP [IPv6]") once more than IPv4 is probed
      const byFamily = (r: ProbeReport['results'][number]) => (tag(r.family) ? `${r.check}.${r.family}` : r.check) as ProbeCheck;
      const cells = new Map(report.results.map((r) => [r, { ...r, check: byFamily(r) }]));
      const labels = Object.fromEntries(report.families.flatMap((f) => Object.entries(PROBE_CHECKS).map(([k, v]) => [tag(f) ? `${k}.${f}` : k, `${v.label}${tag(f)}`])));
      const forJunit: ProbeReport = { ...report, results: [...cells.values()], failures: report.failures.map((x) => ({ ...x, cell: cells.get(x.cell)! })) };
      junit!.writeJunit(flags.junit, junit!.probeJunit(forJunit, labels));
    }
    const wide = flags.output === 'wide' || (flags.output === 'auto' && nodes.length <= 16);
    await this.emit('ProbeReport', { ...report }, async () => {
      const { PROBE_CHECKS, FAMILY_LABEL } = await import('../probe/plan.js');
      const tag = await familyTagger(report);
      let out = wide ? await renderMatrices(report, nodes) : await renderCheckSummary(report);
      const broken = report.nodes.filter((n) => n.error);
      for (const n of broken) out += `${paint('✖', 'red')} ${n.node}: ${n.error}\n`;
      // Cells a broken node kept from running are counted under that node's error (printed above).
      for (const n of broken) {
        const blocked = report.failures.filter((f) => f.blockedBy === n.node).length;
        if (blocked) out += `    ${blocked} failed cell(s) could not run because of ${n.node}\n`;
      }
      // A node whose pod works but that one family's cells could not use (no address of that family).
      for (const n of report.nodes.filter((x) => !x.error && x.familyErrors)) {
        for (const [family, error] of Object.entries(n.familyErrors!) as [IpFamily, string][]) {
          out += `${paint('✖', 'red')} ${n.node} (${FAMILY_LABEL[family]}): ${error}\n`;
          const blocked = report.failures.filter((f) => f.blockedBy === n.node && f.cell.family === family).length;
          if (blocked) out += `    ${blocked} failed ${FAMILY_LABEL[family]} cell(s) could not run because of ${n.node}\n`;
        }
      }
      const ran = report.failures.filter((f) => !f.blockedBy);
      if (ran.length) {
        out += `\nfailures (${ran.length}):\n`;
        for (const f of ran.slice(0, 50)) {
          const c = f.cell;
          out += `${paint('✖', 'red')} ${c.src} → ${c.dst} ${PROBE_CHECKS[c.check].label}${tag(c.family)}${c.target ? ` (${c.target})` : ''}: ${c.reason ?? 'failed'}\n`;
          for (const e of f.explanations) out += `    ${e.node}: ${e.id}: ${e.message}\n`;
          if (f.unexplained) out += `    ${paint('unexplained', 'yellow')}: no doctor finding on ${c.src} or ${c.dst} explains it\n`;
        }
        if (ran.length > 50) out += `… and ${ran.length - 50} more (see --json)\n`;
      }
      const warns = report.results.filter((r) => r.status === 'warn');
      for (const w of warns.slice(0, 10)) out += `${paint('!', 'yellow')} ${w.src} → ${w.dst} ${PROBE_CHECKS[w.check].label}${tag(w.family)}: ${w.reason}\n`;
      for (const c of report.cleanupErrors) out += `${paint('✖', 'red')} ${c.node}: ${c.error}\n`;
      out += `${report.summary.pass} passed, ${report.summary.fail} failed (${report.summary.unexplained} unexplained), ${report.summary.warn} warnings, ${report.summary.skip} skipped\n`;
      return out;
    });
    if (report.summary.fail) throw new ChecksFailed(`${report.summary.fail} probe(s) failed${report.summary.unexplained ? `, ${report.summary.unexplained} of them unexplained by any doctor finding` : ''}`);
    // Unproven is not proven: cells that could not run (a node without python3) fail the run too.
    if (report.summary.skip) throw new ChecksFailed(`${report.summary.skip} probe(s) could not run: ${report.nodes.filter((n) => n.error).map((n) => n.node).join(', ')} (see above)`);
    if (report.cleanupErrors.length) throw new NodeFailure(`probe pods could not be removed on ${report.cleanupErrors.map((c) => c.node).join(', ')}`);
  }
}
