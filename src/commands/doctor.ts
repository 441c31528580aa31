import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { textFlag } from '../cli/flags.js';
import { inventoryFlags, withSession } from '../cli/session.js';
import { paint, renderTable } from '../cli/output.js';
import { ChecksFailed } from '../util/errors.js';
import type { DoctorReport } from '../services/doctor.js';

export async function renderFindings(report: Pick<DoctorReport, 'findings'> & Partial<Pick<DoctorReport, 'clusterCIDRs'>>): Promise<string> {
  if (report.findings.length === 0) return 'no findings: every check passed\n';
  const color = { error: 'red', warning: 'yellow', info: 'blue' } as const;
  // A per-family finding names its family where there is more than IPv4 to tell apart.
  const tagged = (report.clusterCIDRs?.length ?? 1) > 1 || report.findings.some((x) => x.family === 'ipv6');
  const tag = (x: DoctorReport['findings'][number]) => (x.family && tagged ? ` [${x.family === 'ipv6' ? 'IPv6' : 'IPv4'}]` : '');
  return renderTable(
    ['node', 'severity', 'finding', 'evidence', 'fix'],
    report.findings.map((x) => [x.node, paint(x.severity, color[x.severity]), `${x.id}${tag(x)}: ${x.message}`, x.evidence, x.fix]),
  );
}

/** One line per node: how many errors and warnings, and which checks found them (for many nodes). */
export async function renderFindingsSummary(report: Pick<DoctorReport, 'findings' | 'nodes'>): Promise<string> {
  const rows = report.nodes.map((n) => {
    const mine = report.findings.filter((f) => f.node === n.node);
    const ids = (sev: string) => [...new Set(mine.filter((f) => f.severity === sev).map((f) => f.id))].join(' ') || '-';
    const errors = mine.filter((f) => f.severity === 'error').length;
    return [n.node, errors ? paint(String(errors), 'red') : '0', String(mine.filter((f) => f.severity === 'warning').length), ids('error'), ids('warning')];
  });
  return renderTable(['node', 'errors', 'warnings', 'error checks', 'warning checks'], rows);
}

export default class Doctor extends BaseCommand {
  static override summary = 'Check every node for the ways pod networks break, and say how to fix them';
  static override description =
    'Reads each node over SSH or through the Kubernetes API (in parallel, one round trip, read-only) and checks the ways pod networks break: forwarding, the FORWARD path (policy, REJECT rules, native nftables chains), br_netfilter, rp_filter, MTUs, CIDR overlaps and duplicates, routes to every peer pod CIDR (missing, stale, foreign, blackholed, diverted by policy rules), the bridge, the CNI config directory as a container runtime reads it (the first file, its kind and plugins, cniVersion, portmap, ipMasq, configs of previous CNIs, plugins that do not run, loopback, the runtime\'s own CNI dirs), IPAM state (exhausted or leaked ranges), stale hostPort rules, cached results, leftover interfaces, NAT, the VXLAN port, VTEP entries, conntrack, iptables backends, network managers and sysctl files that undo settings at boot. Works on any bridge-based pod network, not only podnet\'s. --list-checks prints the catalogue (docs/FAILURE-MODES.md has causes and sources). Exit 1 on any error finding.';
  static override examples = ['<%= config.bin %> doctor -i inventory.yaml', '<%= config.bin %> doctor --list-checks', '<%= config.bin %> doctor -i inventory.yaml --json', '<%= config.bin %> doctor -i inventory.yaml --kubeconfig ~/.kube/config', 'kubectl podnet doctor', '<%= config.bin %> doctor --context prod -l node-role.kubernetes.io/worker='];
  static override flags = {
    ...inventoryFlags,
    kubeconfig: {
      ...inventoryFlags.kubeconfig,
      description:
        'the cluster (default as kubectl: $KUBECONFIG, ~/.kube/config, in-cluster). Without -i the nodes come from its Node objects; with -i it is also compared with the nodes: each Node\'s spec.podCIDR against the pod CIDR its node really uses, NetworkUnavailable and NotReady Nodes, Nodes missing from the inventory and machines missing from the cluster (doctor never needs the API). Several files separated by ":" are merged as in KUBECONFIG',
    },
    junit: textFlag({ description: 'also write the findings as JUnit XML to FILE (a test suite per node, a test case per finding), for CI', expected: 'a file path to write', helpValue: 'FILE' }),
    output: Flags.string({ char: 'o', description: 'wide: every finding with evidence and fix; summary: one line per node', options: ['wide', 'summary'], default: 'wide' }),
    'list-checks': Flags.boolean({ description: 'print the catalogue of findings doctor can report (id, severity, what it means) and exit; reads no node', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Doctor);
    if (flags['list-checks']) {
      const { catalogue } = await import('../checks/index.js');
      const list = catalogue();
      await this.emit('DoctorCatalogue', { checks: list }, async () => `${await renderTable(['finding', 'severity', 'what it means'], list.map((c) => [c.id, c.severity, c.title]))}${list.length} findings; causes, evidence and sources: docs/FAILURE-MODES.md\n`);
      return;
    }
    const { runDoctor } = await import('../services/doctor.js');
    const junit = flags.junit ? await import('../cli/junit.js') : undefined;
    // A path that cannot be written is found before any node is read.
    if (flags.junit) junit!.writeJunit(flags.junit, '');
    // The kubeconfig is loaded before any node is touched: a bad one is bad input (exit 2).
    const { result: report } = await withSession(flags, { quiet: this.jsonMode, wantsApi: true }, async (s) => {
      const { listKubeNodes } = await import('../kube/node-object.js');
      // Nodes picked from the cluster (-l, --node) are compared with their own Node objects only: the
      // others are not "missing from the inventory".
      const mine = new Set(s.inv.nodes.map((n) => n.name));
      // (from the cluster, the session has just read them)
      const list = async () => (s.nodesFrom === 'cluster' ? s.kube!.nodes : (await listKubeNodes(s.kube!.api)).filter((k) => mine.has(k.name) || s.nodesFrom === 'inventory'));
      return runDoctor(s.inv, s.ctx, s.kube ? list : undefined);
    });
    if (flags.junit) junit!.writeJunit(flags.junit, junit!.doctorJunit(report));
    const render = flags.output === 'summary' ? renderFindingsSummary : renderFindings;
    await this.emit('DoctorReport', { ...report }, async () => `${await render(report)}${report.summary.errors} error(s), ${report.summary.warnings} warning(s) on ${report.nodes.length} node(s)\n`);
    if (report.summary.errors) throw new ChecksFailed(`doctor found ${report.summary.errors} error(s)`);
  }
}
