import { BaseCommand } from '../cli/base-command.js';
import { inventoryFlags, withSession } from '../cli/session.js';
import { renderTable } from '../cli/output.js';
import { ChecksFailed, NodeFailure as NodeFailureError } from '../util/errors.js';

export default class Status extends BaseCommand {
  static override summary = 'Compare every node with its desired pod network; exit 1 on drift';
  static override description =
    'Reads facts from every node and lists what differs from the plan: missing, extra or wrong routes, a conflist that differs, the bridge address, sysctls, iptables rules, the overlay. Exit 0 when every node is converged, 1 on drift, 3 when a node cannot be read.';
  static override examples = ['<%= config.bin %> status -i inventory.yaml', '<%= config.bin %> status -i inventory.yaml --json', 'kubectl podnet status', '<%= config.bin %> status -i inventory.yaml --access kube'];
  static override flags = { ...inventoryFlags };

  async run(): Promise<void> {
    const { flags } = await this.parse(Status);
    const { runStatus } = await import('../services/bootstrap.js');
    const { result: report } = await withSession(flags, { quiet: this.jsonMode }, (s) => runStatus(s.inv, s.ctx));
    await this.emit('StatusReport', { ...report }, async () => {
      const table = await renderTable(
        ['node', 'pod CIDR', 'state', 'differences'],
        report.nodes.map((n) => [n.node, n.podCIDRs?.join('\n') ?? n.podCIDR ?? '-', n.state, n.state === 'failed' ? `${n.step}: ${n.error}` : n.drift.join('\n') || '-']),
      );
      return table;
    });
    const failed = report.nodes.filter((n) => n.state === 'failed');
    if (failed.length) throw new NodeFailureError(`${failed.length} node(s) could not be checked: ${failed.map((n) => n.node).join(', ')}`, failed[0]?.hint);
    const drift = report.nodes.filter((n) => n.state === 'drift');
    if (drift.length) throw new ChecksFailed(`${drift.length} node(s) drifted from the plan: ${drift.map((n) => n.node).join(', ')}; run ${this.binName} up to converge them`);
  }
}
