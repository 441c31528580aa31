import { BaseCommand } from '../../cli/base-command.js';
import { textFlag } from '../../cli/flags.js';
import { validateLabName } from '../../lab/topology.js';
import { renderTable } from '../../cli/output.js';

export default class LabStatus extends BaseCommand {
  static override summary = 'Show the labs on this machine, or the nodes of one lab';
  static override examples = ['<%= config.bin %> lab status', '<%= config.bin %> lab status --name lab --json'];

  static override flags = {
    name: textFlag({ description: 'show the nodes of this lab', expected: 'the name of a lab', check: validateLabName }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(LabStatus);
    const { listLabs, readLabPlan, labInfo } = await import('../../lab/service.js');
    if (flags.name) {
      const info = labInfo(readLabPlan(flags.name));
      await this.emit('Lab', { lab: info }, async () => {
        const t = await renderTable(['node', 'address', 'segment', 'mtu', 'netns', 'sshd'], info.nodes.map((n) => [n.name, n.ip, n.segment, n.mtu, n.netns, n.sshd]));
        return `lab "${info.name}" (${info.topology}); operator ${info.operator.ip} in ${info.operator.netns}\n${t}inventory: ${info.inventory}\n`;
      });
      return;
    }
    const labs = listLabs();
    await this.emit('LabList', { labs }, async () => {
      if (labs.length === 0) return `no labs; start one with: ${this.binName} lab up\n`;
      return renderTable(
        ['lab', 'state', 'topology', 'nodes', 'sshd up', 'inventory'],
        labs.map((l) => [l.name, l.state, l.topology ?? '-', l.nodes, l.sshdRunning, l.inventory ?? `(leftover: run ${this.binName} lab down --name ${l.name})`]),
      );
    });
  }
}
