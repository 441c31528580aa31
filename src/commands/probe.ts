import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { integerFlag, textFlag } from '../cli/flags.js';
import { inventoryFlags, withSession } from '../cli/session.js';
import { paint, renderTable } from '../cli/output.js';
import { ChecksFailed, NodeFailure } from '../util/errors.js';
import type { ProbeReport } from '../services/probe.js';

const MARK = { pass: ['✔', 'green'], fail: ['✖', 'red'], warn: ['!', 'yellow'], skip: ['-', 'dim'] } as const;

async function renderMatrices(report: ProbeReport, nodes: string[]): Promise<string> {
  const { PROBE_CHECKS } = await import('../probe/plan.js');
  let out = '';
  for (const [check, spec] of Object.entries(PROBE_CHECKS)) {
    const cells = report.results.filter((r) => r.check === check);
    if (!cells.length) continue;
    if (check === 'localhost') {
      out += `${spec.label}: ${cells.map((c) => `${c.src} ${paint(MARK[c.status][0], MARK[c.status][1])}`).join('  ')}\n`;
      continue;
    }
    const rows = nodes.map((src) => [src, ...nodes.map((dst) => {
      const c = cells.find((x) => x.src === src && x.dst === dst);
      return c ? paint(MARK[c.status][0], MARK[c.status][1]) : ' ';
    })]);
    out += `${spec.label} (rows: from, columns: to)\n${await renderTable(['', ...nodes], rows)}`;
  }
  return out;
}

/** One row per check: passed, failed, warned, skipped (for large matrices). */
async function renderCheckSummary(report: ProbeReport): Promise<string> {
  const { PROBE_CHECKS } = await import('../probe/plan.js');
  const rows = Object.entries(PROBE_CHECKS).flatMap(([check, spec]) => {
    const cells = report.results.filter((r) => r.check === check);
    if (!cells.length) return [];
    const n = (st: string) => cells.filter((c) => c.status === st).length;
    return [[spec.label, String(n('pass')), n('fail') ? paint(String(n('fail')), 'red') : '0', String(n('warn')), String(n('skip'))]];
  });
  return renderTable(['check', 'passed', 'failed', 'warnings', 'skipped'], rows);
}

export default class Probe extends BaseCommand {
  static override summary = 'Prove pod↔pod, node→pod, hostNetwork→pod and hostPort connectivity with real traffic';
  static override description =
    "Creates a probe pod on every node through the node's live CNI config (netns + CNI ADD of the whole chain, with a hostPort), runs an echo service in it that reports the source address it saw, and checks in parallel: pod→pod TCP/UDP/ICMP for every ordered pair (and within each node), hostNetwork→pod, nodeIP:hostPort from pods and nodes (TCP and UDP), two processes in one pod over localhost, and the path MTU with don't-fragment. A pod→pod receiver that sees anything but the sender's pod IP is a failure (NAT). Failures are joined with the doctor findings that explain them. Everything created is removed afterwards, also on failure or Ctrl-C. Needs python3 on the nodes (for the echo service and the probes) besides iproute2 and the CNI plugins. Exit 1 on any failure, or when checks could not run.";
  static override examples = ['<%= config.bin %> probe -i inventory.yaml', '<%= config.bin %> probe -i inventory.yaml --sample 3 --json', '<%= config.bin %> probe -i inventory.yaml --strict'];
  static override flags = {
    ...inventoryFlags,
    sample: integerFlag({ description: 'probe K peers per node (ring order: every node is a source and a target) instead of the full mesh', min: 1 }),
    'host-port': integerFlag({ description: 'the hostPort the probe pods map, TCP and UDP (default: one of 31000-31999 per run); pick one your firewalls let through', min: 1, max: 65535 }),
    strict: Flags.boolean({ description: 'treat NAT on hostNetwork→pod traffic as a failure, not a warning', default: false }),
    junit: textFlag({ description: 'also write the results as JUnit XML to FILE (a test suite per check, a test case per cell), for CI', expected: 'a file path to write', helpValue: 'FILE' }),
    output: Flags.string({ char: 'o', description: 'wide: a node×node matrix per check; summary: counts per check and the failures only; auto: wide up to 16 nodes', options: ['auto', 'wide', 'summary'], default: 'auto' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Probe);
    const { runProbe } = await import('../services/probe.js');
    const junit = flags.junit ? await import('../cli/junit.js') : undefined;
    // A path that cannot be written is found before any probe pod is made.
    if (flags.junit) junit!.writeJunit(flags.junit, '');
    const { session, result: report } = await withSession(flags, { quiet: this.jsonMode }, (s) => runProbe(s.inv, s.ctx, { strict: flags.strict, sample: flags.sample, hostPort: flags['host-port'], onCleanup: (fn) => s.addCleanup(fn) }));
    const nodes = session.inv.nodes.map((n) => n.name);
    if (flags.junit) {
      const { PROBE_CHECKS } = await import('../probe/plan.js');
      junit!.writeJunit(flags.junit, junit!.probeJunit(report, Object.fromEntries(Object.entries(PROBE_CHECKS).map(([k, v]) => [k, v.label]))));
    }
    const wide = flags.output === 'wide' || (flags.output === 'auto' && nodes.length <= 16);
    await this.emit('ProbeReport', { ...report }, async () => {
      const { PROBE_CHECKS } = await import('../probe/plan.js');
      let out = wide ? await renderMatrices(report, nodes) : await renderCheckSummary(report);
      const broken = report.nodes.filter((n) => n.error);
      for (const n of broken) out += `${paint('✖', 'red')} ${n.node}: ${n.error}\n`;
      // Cells a broken node kept from running are counted under that node's error (printed above).
      for (const n of broken) {
        const blocked = report.failures.filter((f) => f.blockedBy === n.node).length;
        if (blocked) out += `    ${blocked} failed cell(s) could not run because of ${n.node}\n`;
      }
      const ran = report.failures.filter((f) => !f.blockedBy);
      if (ran.length) {
        out += `\nfailures (${ran.length}):\n`;
        for (const f of ran.slice(0, 50)) {
          const c = f.cell;
          out += `${paint('✖', 'red')} ${c.src} → ${c.dst} ${PROBE_CHECKS[c.check].label}${c.target ? ` (${c.target})` : ''}: ${c.reason ?? 'failed'}\n`;
          for (const e of f.explanations) out += `    ${e.node}: ${e.id}: ${e.message}\n`;
          if (f.unexplained) out += `    ${paint('unexplained', 'yellow')}: no doctor finding on ${c.src} or ${c.dst} explains it\n`;
        }
        if (ran.length > 50) out += `… and ${ran.length - 50} more (see --json)\n`;
      }
      const warns = report.results.filter((r) => r.status === 'warn');
      for (const w of warns.slice(0, 10)) out += `${paint('!', 'yellow')} ${w.src} → ${w.dst} ${PROBE_CHECKS[w.check].label}: ${w.reason}\n`;
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
