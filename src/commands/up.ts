import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { inventoryFlags, withSession } from '../cli/session.js';
import { formatMs, paint, renderTable } from '../cli/output.js';
import { NodeFailure as NodeFailureError } from '../util/errors.js';

export default class Up extends BaseCommand {
  static override summary = 'Bootstrap the pod network on every node in the inventory';
  static override description =
    'One round trip per node (over SSH or through the Kubernetes API) reads its facts; one more applies a single idempotent script with only the changes the node needs: sysctls, the bridge and its gateway address, the CNI conflist, routes to every peer (direct or VXLAN), iptables rules, and a boot-time restore unit on systemd nodes. Converged nodes are not touched. A node that fails does not stop the others.';
  static override examples = [
    '<%= config.bin %> up -i inventory.yaml',
    '<%= config.bin %> up -i inventory.yaml --dry-run',
    '<%= config.bin %> up -i inventory.yaml --json --concurrency 16',
    'kubectl podnet up --pod-cidr 10.244.0.0/16',
  ];
  static override flags = {
    ...inventoryFlags,
    // No default: dependsOn counts a defaulted false as given.
    'dry-run': Flags.boolean({ description: 'print what would change on each node and change nothing' }),
    'show-scripts': Flags.boolean({ description: 'with --dry-run: also print the script each node would run', dependsOn: ['dry-run'] }),
    'no-node-status': Flags.boolean({ description: 'with a cluster: do not set the NetworkUnavailable=False condition (reason PodnetIsUp) on the Nodes podnet brought up', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Up);
    const { runUp } = await import('../services/bootstrap.js');
    const t0 = performance.now();
    const { result: report } = await withSession(flags, { quiet: this.jsonMode, wantsApi: true }, async (s) => {
      const r = await runUp(s.inv, s.ctx, { dryRun: flags['dry-run'] ?? false, showScripts: flags['show-scripts'] ?? false });
      // With a cluster, the Nodes that are up say so (as flannel and Calico do), unless told not to.
      if (s.kube && !r.dryRun && !flags['no-node-status']) await (await import('../services/node-status.js')).markNodesUp(r, s.kube);
      return r;
    });
    const elapsedMs = Math.round(performance.now() - t0);
    await this.emit('UpReport', { ...report, elapsedMs }, async () => {
      const table = await renderTable(
        ['node', 'pod CIDR', 'changes', 'result', 'time'],
        report.nodes.map((n) => [n.node, n.podCIDRs?.join('\n') ?? n.podCIDR ?? '-', n.changes.length, n.result === 'failed' ? paint(`failed at ${n.step}`, 'red') : n.result, formatMs(n.durationMs)]),
      );
      const details = report.nodes
        .map((n) => {
          if (n.result === 'failed') return `✖ ${n.node}: ${n.step}: ${n.error}${n.hint ? `\n  hint: ${n.hint}` : ''}\n`;
          if (report.dryRun && n.changes.length) return `${n.node} would change:\n${n.changes.map((c) => `  + ${c}`).join('\n')}\n${report.scripts?.[n.node] ? `--- script ---\n${report.scripts[n.node]}` : ''}`;
          return '';
        })
        .join('');
      const none = report.persistence.filter((p) => p.persistence === 'none').map((p) => p.node);
      const persist = none.length && !report.dryRun ? `note: ${none.join(', ')} run${none.length === 1 ? 's' : ''} no systemd: nothing restores the network after a reboot there (the restore script is kept at /etc/podnet/restore.sh)\n` : '';
      return `${table}${details}${persist}cluster ${report.clusterCIDRs.join(', ')}, mode ${report.mode}, pod MTU ${report.mtu}; ${formatMs(elapsedMs)}\n`;
    });
    const failed = report.nodes.filter((n) => n.result === 'failed');
    if (failed.length) throw new NodeFailureError(`${failed.length} of ${report.nodes.length} node(s) failed: ${failed.map((n) => n.node).join(', ')}`, `fix the cause and run ${this.binName} up again: converged nodes are left alone`);
  }
}
