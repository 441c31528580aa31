import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { inventoryFlags, withSession } from '../cli/session.js';
import { renderTable } from '../cli/output.js';
import { NodeFailure as NodeFailureError } from '../util/errors.js';

export default class Down extends BaseCommand {
  static override summary = 'Remove exactly what podnet installed on every node';
  static override description =
    "Removes podnet's routes (by route protocol), its VXLAN device, its iptables rules and chains (by comment), its conflist, sysctl and module files, restore script and unit, and the bridge when no pod is attached (or with --force). Routes, rules, conflists and bridges that podnet did not create are left alone. Runtime sysctl values are not reset.";
  static override examples = ['<%= config.bin %> down -i inventory.yaml', '<%= config.bin %> down -i inventory.yaml --force'];
  static override flags = {
    ...inventoryFlags,
    force: Flags.boolean({ description: 'remove the bridge even when pods are attached to it', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Down);
    const { runDown } = await import('../services/bootstrap.js');
    const { result: nodes } = await withSession(flags, { quiet: this.jsonMode }, (s) => runDown(s.inv, s.ctx, { force: flags.force }));
    await this.emit('DownReport', { nodes }, () =>
      renderTable(
        ['node', 'result', 'removed', 'kept'],
        nodes.map((n) => [n.node, n.result === 'failed' ? `failed at ${n.step}: ${n.error}` : n.result, n.removed.join('\n') || '-', n.kept.join('\n') || '-']),
      ),
    );
    const failed = nodes.filter((n) => n.result === 'failed');
    if (failed.length) throw new NodeFailureError(`${failed.length} node(s) failed: ${failed.map((n) => n.node).join(', ')}`, failed[0]?.hint);
  }
}
