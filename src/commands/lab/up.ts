import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { integerFlag, textFlag } from '../../cli/flags.js';
import { LAB_IP_FAMILIES, MAX_NODES_PER_SEGMENT, planLab, validateLabName, type LabIpFamily } from '../../lab/topology.js';
import { formatMs, logErr, renderTable } from '../../cli/output.js';
import { describeValue } from '../../util/describe.js';
import { UserError } from '../../util/errors.js';

export default class LabUp extends BaseCommand {
  static override summary = 'Start a local lab of simulated nodes';
  static override description = `Each node is a network namespace with a private mount namespace (its own /etc, /var, /opt, /usr, /home views, an empty /run and /tmp, a fresh /root), running Debian's OpenSSH server on its underlay addresses with key-only login. Nodes share one L2 segment (flat) or sit on two segments joined by a router (routed). Underlay addresses are IPv4 (192.0.2.0/24, 198.51.100.0/24), IPv6 (2001:db8:0:a::/64, 2001:db8:0:b::/64) or both (--ip-family dual: IPv4 first), and the inventory's pod network follows. The lab has no link to the host's network namespace. Labs bigger than ~16 nodes raise the kernel's shared neighbour-table limits (net.ipv4.neigh.default.gc_thresh2/3, and net.ipv6's for labs with IPv6) while they exist; lab down restores them. Needs root. Writes an inventory, ssh_config and known_hosts under /run/podnet/labs/NAME. With --api it also starts podnet's stand-in Kubernetes API server inside the operator namespace (HTTPS on the operator's lab address, port 6443; it serves only what podnet needs, and runs hostNetwork pods on the lab's nodes) and writes a kubeconfig there; lab exec then sets KUBECONFIG.`;

  static override examples = [
    '<%= config.bin %> lab up',
    '<%= config.bin %> lab up --nodes 8 --topology routed --name big',
    '<%= config.bin %> lab up --nodes 3 --node-mtu node-2=1400',
    '<%= config.bin %> lab up --ip-family dual --topology routed',
    '<%= config.bin %> lab up --api --nodes 2',
  ];

  static override flags = {
    // The ranges depend on the topology: the lab checks them (src/lab/topology.ts).
    nodes: integerFlag({ char: 'n', description: 'number of nodes', default: 3, expected: `a whole number of nodes (1 to ${MAX_NODES_PER_SEGMENT} per segment)` }),
    topology: Flags.string({ char: 't', description: 'flat: one L2 segment; routed: two segments joined by a router', options: ['flat', 'routed'], default: 'flat' }),
    name: textFlag({ description: 'lab name (labs with different names coexist)', default: 'lab', expected: 'a lab name: 1-10 lowercase letters or digits, starting with a letter', check: validateLabName }),
    mtu: integerFlag({ description: 'uplink MTU of every node', default: 1500, expected: 'an MTU from 1280 to 9000' }),
    'node-mtu': textFlag({ description: 'uplink MTU of one node, NODE=MTU (repeatable)', multiple: true, expected: 'NODE=MTU such as node-2=1400' }),
    'ip-family': Flags.string({
      description: 'underlay and pod address families: ipv4, ipv6 (IPv6 only) or dual (both, IPv4 first)',
      options: [...LAB_IP_FAMILIES],
      default: 'ipv4',
    }),
    api: Flags.boolean({
      description: 'also start a stand-in Kubernetes API server in the operator namespace (only what podnet needs) and write a kubeconfig next to the inventory',
      default: false,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(LabUp);
    const nodeMtu: Record<string, number> = {};
    for (const kv of flags['node-mtu'] ?? []) {
      const m = /^(node-\d+)=(\d+)$/.exec(kv);
      if (!m) throw new UserError(`--node-mtu: ${describeValue(kv)} is not NODE=MTU; expected NODE=MTU such as node-2=1400`);
      nodeMtu[m[1]!] = Number(m[2]);
    }
    const { labUp } = await import('../../lab/service.js');
    const t0 = performance.now();
    const ipFamily = flags['ip-family'] as LabIpFamily;
    const opts = { name: flags.name, nodes: flags.nodes, topology: flags.topology as 'flat' | 'routed', ipFamily, mtu: flags.mtu, nodeMtu, ...(flags.api ? { api: true } : {}) };
    planLab(opts); // bad values are refused before the first line of progress
    const family = ipFamily === 'ipv4' ? '' : ` (${ipFamily})`;
    if (!this.jsonMode) logErr(`starting lab "${flags.name}": ${flags.nodes} ${flags.topology} nodes${family} …`);
    const info = await labUp(opts);
    const ms = performance.now() - t0;
    await this.emit('Lab', { lab: info, elapsedMs: Math.round(ms) }, async () => {
      // A dual-stack lab shows each node's IPv6 address beside its (primary) IPv4 one.
      const dual = info.ipFamily === 'dual';
      const table = await renderTable(
        ['node', 'address', ...(dual ? ['ipv6'] : []), 'segment', 'mtu', 'sshd'],
        info.nodes.map((n) => [n.name, n.ip, ...(dual ? [n.ips?.[1] ?? ''] : []), n.segment, n.mtu, n.sshd]),
      );
      const nameFlag = info.name === 'lab' ? '' : ` --name ${info.name}`;
      const { describeNeighChange } = await import('../../lab/neigh.js');
      const changes = info.hostChanges ?? [];
      const host = changes.length ? `host:       raised ${changes.map(describeNeighChange).join(', ')} (the nodes share one neighbour table; lab down restores it)\n` : '';
      const api = info.api
        ? `api:        ${info.api.server} (podnet's stand-in API server: only what podnet needs; context ${info.api.contexts.viewer} is read-only)
kubeconfig: ${info.api.kubeconfig}
`
        : '';
      const tryApi = info.api
        ? `            ${this.binName} lab exec${nameFlag} -- kubectl get nodes -o wide
            ${this.binName} lab exec${nameFlag} -- kubectl podnet doctor          (through the API: no SSH)
`
        : '';
      return `${table}lab "${info.name}" is up (${info.topology}${info.ipFamily ? `, ${info.ipFamily}` : ''}, ${info.nodes.length} nodes) in ${formatMs(ms)}
${host}inventory:  ${info.inventory}
${api}try:        ${this.binName} lab ssh node-1${nameFlag}
            ${this.binName} lab exec${nameFlag} -- ${this.binName} up -i ${info.inventory}
${tryApi}tear down:  ${this.binName} lab down${nameFlag}
`;
    });
  }
}
