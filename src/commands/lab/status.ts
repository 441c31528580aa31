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
        // A dual-stack lab shows each node's IPv6 address beside its (primary) IPv4 one.
        const dual = info.ipFamily === 'dual';
        const t = await renderTable(
          ['node', 'address', ...(dual ? ['ipv6'] : []), 'segment', 'mtu', 'netns', 'sshd'],
          info.nodes.map((n) => [n.name, n.ip, ...(dual ? [n.ips?.[1] ?? ''] : []), n.segment, n.mtu, n.netns, n.sshd]),
        );
        const family = info.ipFamily ? `, ${info.ipFamily}` : '';
        const operator = (info.operator.ips ?? [info.operator.ip]).join(', ');
        const api = info.api ? `api: ${info.api.server} (${info.api.state}; podnet's stand-in, only what podnet needs)\nkubeconfig: ${info.api.kubeconfig}\n` : '';
        return `lab "${info.name}" (${info.topology}${family}); operator ${operator} in ${info.operator.netns}\n${t}inventory: ${info.inventory}\n${api}`;
      });
      return;
    }
    const labs = listLabs();
    await this.emit('LabList', { labs }, async () => {
      if (labs.length === 0) return `no labs; start one with: ${this.binName} lab up\n`;
      // The family column appears once a lab with IPv6 exists (an IPv4 lab's row is what it always was).
      const families = labs.some((l) => l.ipFamily);
      // and the api column once a lab with the stand-in API exists
      const apis = labs.some((l) => l.api);
      return renderTable(
        ['lab', 'state', 'topology', ...(families ? ['family'] : []), 'nodes', 'sshd up', ...(apis ? ['api'] : []), 'inventory'],
        labs.map((l) => [
          l.name,
          l.state,
          l.topology ?? '-',
          ...(families ? [l.ipFamily ?? (l.topology ? 'ipv4' : '-')] : []),
          l.nodes,
          l.sshdRunning,
          ...(apis ? [l.api ?? '-'] : []),
          l.inventory ?? `(leftover: run ${this.binName} lab down --name ${l.name})`,
        ]),
      );
    });
  }
}
