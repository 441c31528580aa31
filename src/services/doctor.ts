/**
 * The doctor service: facts from every node (one round trip each, read-only), then the static checks.
 * It reads the live CNI config and kernel state and does not assume podnet set the node up.
 */
import type { Inventory } from '../inventory/load.js';
import type { NodeFacts } from '../facts/parse.js';
import { checkDistinctMachines, gatherFacts, type RunContext } from './bootstrap.js';
import { liveConfig, observedPodCidr } from '../checks/live-config.js';
import { runChecks, type CheckContext, type Finding, type NodeView } from '../checks/index.js';
import { familyIP, nodeIPOf } from '../plan/desired.js';
import { familyByName } from '../net/family.js';
import { kubeApiFailure, kubeChecks } from '../checks/kube.js';
import type { KubeNode } from '../facts/kube.js';
import { errorMessage } from '../util/errors.js';

export function nodeViews(inv: Inventory, facts: Map<string, NodeFacts>): NodeView[] {
  return inv.nodes.flatMap((n) => {
    const f = facts.get(n.name);
    if (!f) return [];
    const nodeIP = nodeIPOf(n, f);
    const a = nodeIP ? f.addrs.find((x) => x.local === nodeIP) : undefined;
    const live = liveConfig(f);
    const byFamily: NodeView['byFamily'] = {};
    for (const net of inv.cluster.networks) {
      const fam = familyByName(net.family);
      // (an inventory IP no interface holds is still the node's IP of its family: the checks say so)
      byFamily[net.family] = { nodeIP: familyIP(n, f, nodeIP, a?.ifname, fam), podCIDR: observedPodCidr(f, live, fam) };
    }
    const primary = byFamily[inv.cluster.networks[0]!.family]!;
    return [{ name: n.name, facts: f, nodeIP: primary.nodeIP ?? nodeIP, uplink: a ? f.links.find((l) => l.ifname === a.ifname) : undefined, live, podCIDR: primary.podCIDR, byFamily }];
  });
}

/** One check context per IP family of the cluster, the primary first. */
export function checkContext(inv: Inventory, views: NodeView[]): CheckContext[] {
  const families = inv.cluster.networks.map((net) => familyByName(net.family));
  return inv.cluster.networks.map((net) => ({ family: familyByName(net.family), families, clusterCIDR: net.podCIDR, serviceCIDR: net.serviceCIDR, vxlanPort: inv.cluster.vxlan.port, nodes: views }));
}

export interface DoctorReport {
  clusterCIDR: string;
  /** every family's cluster CIDR, the primary first */
  clusterCIDRs: string[];
  nodes: { node: string; reachable: boolean; podCIDR?: string; nodeIP?: string; liveConfig?: string }[];
  findings: Finding[];
  summary: { errors: number; warnings: number; info: number };
}

export function doctorFromFacts(inv: Inventory, facts: Map<string, NodeFacts>, unreachable: { node: string; error: string; hint?: string; reached?: boolean }[], kube?: KubeView): DoctorReport {
  const views = nodeViews(inv, facts);
  const findings = [
    ...unreachable.map((u): Finding =>
      u.reached
        ? { id: 'facts-failed', node: u.node, severity: 'error', message: u.error, evidence: 'the node answered, but its facts could not be read', fix: u.hint ?? 'the error above is what the node answered: podnet needs a POSIX sh, iproute2 with JSON output (ip -j) and iptables on the node' }
        : { id: 'unreachable', node: u.node, severity: 'error', message: u.error, evidence: 'facts could not be read', fix: u.hint ?? 'check that the node is up and reachable over SSH' },
    ),
    ...runChecks(checkContext(inv, views)),
    ...(kube === undefined ? [] : 'error' in kube ? [kubeApiFailure(kube.error)] : kubeChecks(inv.nodes.map((n) => n.name), views, kube.nodes, inv.cluster.podCIDR)),
  ];
  const order = new Map(inv.nodes.map((n, i) => [n.name, i]));
  const sev = { error: 0, warning: 1, info: 2 };
  findings.sort((a, b) => (order.get(a.node) ?? order.size) - (order.get(b.node) ?? order.size) || sev[a.severity] - sev[b.severity] || a.id.localeCompare(b.id));
  return {
    clusterCIDR: inv.cluster.podCIDR,
    clusterCIDRs: inv.cluster.networks.map((x) => x.podCIDR),
    nodes: inv.nodes.map((n) => {
      const v = views.find((x) => x.name === n.name);
      return { node: n.name, reachable: Boolean(v), podCIDR: v?.podCIDR, nodeIP: v?.nodeIP, liveConfig: v?.live?.file.name };
    }),
    findings,
    summary: {
      errors: findings.filter((x) => x.severity === 'error').length,
      warnings: findings.filter((x) => x.severity === 'warning').length,
      info: findings.filter((x) => x.severity === 'info').length,
    },
  };
}

/** The Kubernetes API's nodes, or why they could not be read. */
export type KubeView = { nodes: KubeNode[] } | { error: string };

/** With `listKubeNodes`, the API is read while the nodes are (its failure is a finding, not an abort). */
export async function runDoctor(inv: Inventory, ctx: RunContext, listKubeNodes?: () => Promise<KubeNode[]>): Promise<DoctorReport> {
  const kube: Promise<KubeView | undefined> = listKubeNodes
    ? listKubeNodes().then(
        (nodes) => ({ nodes }),
        (err: unknown) => ({ error: errorMessage(err) }),
      )
    : Promise.resolve(undefined);
  const { facts, failures } = await gatherFacts(inv, ctx);
  checkDistinctMachines(inv, facts);
  for (const n of inv.nodes) if (facts.has(n.name)) ctx.progress.done(n.name, true, 'facts read');
  return doctorFromFacts(inv, facts, failures.map((f) => ({ node: f.node, error: f.error, hint: f.hint, reached: f.reached })), await kube);
}
