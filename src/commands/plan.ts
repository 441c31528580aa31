import { BaseCommand } from '../cli/base-command.js';
import { inventoryFlags, withSession } from '../cli/session.js';
import { renderTable } from '../cli/output.js';
import { NodeFailure as NodeFailureError } from '../util/errors.js';
import type { NodePlan } from '../plan/desired.js';

export default class Plan extends BaseCommand {
  static override summary = 'Show the desired pod network of every node, without changing anything';
  static override description =
    'Reads facts from every node (one SSH round trip each, read-only) and prints per node: the pod CIDR (kept from what the node has, pinned in the inventory, or allocated), bridge gateway, MTU, the CNI conflist, and for each peer whether its pod CIDR is routed directly (on-link) or through the VXLAN overlay.';
  static override examples = ['<%= config.bin %> plan -i inventory.yaml', '<%= config.bin %> plan -i inventory.yaml --json'];
  static override flags = { ...inventoryFlags };

  async run(): Promise<void> {
    const { flags } = await this.parse(Plan);
    const { planFromNodes } = await import('../services/bootstrap.js');
    const { result } = await withSession(flags, { quiet: this.jsonMode }, (s) => planFromNodes(s.inv, s.ctx));
    const { plan, failures } = result;
    await this.emit('Plan', { clusterCIDR: plan.clusterCIDR, clusterCIDRs: plan.clusterCIDRs, mode: plan.mode, mtu: plan.mtu, nodes: plan.nodes.map((n) => ({ ...n, files: n.files.map((f) => ({ path: f.path, sha256: f.sha256 })) })), failures }, async () => {
      const nodes = await renderTable(
        ['node', 'node IP', 'pod CIDR', 'source', 'gateway', 'mtu', 'cni', 'direct', 'overlay'],
        plan.nodes.map((n) => {
          // One line per family in a cell (a dual-stack node has two pod CIDRs and gateways).
          const each = (f: (x: NodePlan['families'][number]) => string) => n.families.map(f).join('\n');
          const peers = (kind: string) => [...new Set(n.routes.filter((r) => r.kind === kind).map((r) => r.peer))].join(' ') || '-';
          return [n.name, n.nodeIP, each((x) => x.podCIDR), each((x) => x.podCIDRSource), each((x) => x.gateway), n.mtu, `${n.cniVersion} ${n.cniBinDir}`, peers('direct'), peers('overlay')];
        }),
      );
      const routes = await renderTable(
        ['node', 'peer', 'pod CIDR', 'route'],
        plan.nodes.flatMap((n) => n.routes.map((r) => [n.name, r.peer, r.podCIDR, `${r.kind}: via ${r.via} dev ${r.dev}${r.onlink ? ' onlink' : ''}`])),
      );
      const first = plan.nodes[0];
      const conf = first ? `conflist of ${first.name} (/etc/cni/net.d/10-podnet.conflist):\n${JSON.stringify(first.conflist, null, 2)}\n` : '';
      const fails = failures.map((f) => `✖ ${f.node}: ${f.step}: ${f.error}${f.hint ? `\n  hint: ${f.hint}` : ''}\n`).join('');
      return `cluster ${plan.clusterCIDRs.join(', ')}, mode ${plan.mode}, pod MTU ${plan.mtu}\n${nodes}${routes.length > 0 && plan.nodes.some((n) => n.routes.length) ? routes : ''}${conf}${fails}`;
    });
    if (failures.length) throw new NodeFailureError(`${failures.length} node(s) could not be planned: ${failures.map((f) => f.node).join(', ')}`);
  }
}
