/**
 * What a previous CNI leaves on a node once it is uninstalled: its interfaces (with addresses and the
 * routes the kernel derives from them) and libcni's cached results, which runtimes replay on CNI DEL.
 */
import { defineCheck } from '../types.js';
import { CNI_OF_PLUGIN } from '../cnis.js';
import type { AddrFact } from '../../facts/parse.js';
import { cidrContainsIp } from '../../net/cidr.js';
import { IPV4 } from '../../net/family.js';

/** Interface names by the CNI that creates them. */
const LEFTOVER_LINKS: [RegExp, string][] = [
  [/^flannel(\.\d+|-wg|-v6\.\d+|-wg-v6)$/, 'flannel'],
  [/^(vxlan\.calico|vxlan-v6\.calico|wireguard\.cali|cali[0-9a-f]{11})$/, 'Calico'],
  [/^(cilium_host|cilium_net|cilium_vxlan|cilium_geneve|cilium_wg0)$/, 'Cilium'],
  [/^(weave|datapath|vxlan-6784|vethwe-\S+)$/, 'Weave Net'],
  [/^(kube-bridge|kube-dummy-if)$/, 'kube-router'],
  [/^(antrea-gw0|antrea-tun0|genev_sys_6081)$/, 'Antrea'],
];

export const leftoverLinks = defineCheck({
  findings: { 'leftover-links': { severity: 'warning', title: 'interfaces left behind by a previous CNI' } },
  needs: ['links', 'addrs', 'routes', 'routes6'],
  run(n, ctx, emit) {
    // The CNI the live config belongs to is not a previous one: its devices are in use.
    const live = new Set((n.live?.plugins ?? []).map((p) => CNI_OF_PLUGIN[String(p.type)]).filter(Boolean));
    const byCni = new Map<string, { ifname: string; addrs: AddrFact[] }[]>();
    for (const l of n.facts.links) {
      const tunl = l.ifname === 'tunl0' && n.facts.addrs.some((a) => a.ifname === 'tunl0');
      const who = tunl ? 'Calico' : LEFTOVER_LINKS.find(([re]) => re.test(l.ifname))?.[1];
      if (!who || live.has(who)) continue;
      // A device routes go through, or the live bridge, is in use whoever made it.
      if (l.ifname === n.live?.bridge?.name || [...n.facts.routes, ...n.facts.routes6].some((r) => r.dev === l.ifname)) continue;
      const label = tunl ? 'Calico (IPIP)' : who;
      byCni.set(label, [...(byCni.get(label) ?? []), { ifname: l.ifname, addrs: n.facts.addrs.filter((a) => a.ifname === l.ifname && (a.family === IPV4.inet || a.scope === 'global')) }]);
    }
    for (const [who, links] of byCni) {
      const inCluster = links.some((l) => l.addrs.some((a) => cidrContainsIp(ctx.clusterCIDR, a.local)));
      const shown = links.map((l) => `${l.ifname}${l.addrs.length ? ` (${l.addrs.map((a) => `${a.local}/${a.prefixlen}`).join(', ')})` : ''}`);
      emit('leftover-links', `${who} left ${links.length} interface${links.length > 1 ? 's' : ''} on this node${inCluster ? `, with addresses inside the cluster CIDR ${ctx.clusterCIDR}` : ''}: their addresses, routes and open VXLAN ports can take pod traffic or clash with podnet's overlay`, shown.slice(0, 6).join(', ') + (shown.length > 6 ? ', …' : ''), `if ${who} is gone: ${links.slice(0, 4).map((l) => `ip link del ${l.ifname}`).join('; ')}${links.length > 4 ? '; …' : ''} (a reboot also clears them)`, inCluster ? 'error' : 'warning');
    }
  },
});

/** libcni's cache: /var/lib/cni/results/<network>-<container id>-<ifname>. */
export function cachedNetwork(file: string): string | undefined {
  return /^(.+)-([0-9a-f]{64})-[^-]+$/.exec(file)?.[1];
}

export const staleCniCache = defineCheck({
  findings: { 'stale-cni-cache': { severity: 'warning', title: 'cached CNI results of a network no config defines' } },
  needs: ['cniCache', 'cniConfFiles'],
  run(n, _ctx, emit) {
    const names = new Set<string>();
    for (const c of n.facts.cniConfFiles) {
      const m = /"name"\s*:\s*"([^"]+)"/.exec(c.text);
      if (m) names.add(m[1]!);
    }
    const stale = new Map<string, number>();
    for (const f of n.facts.cniCache) {
      const net = cachedNetwork(f);
      if (net && !names.has(net)) stale.set(net, (stale.get(net) ?? 0) + 1);
    }
    if (!stale.size) return;
    const list = [...stale].map(([k, v]) => `${k} (${v})`).join(', ');
    emit('stale-cni-cache', `cached CNI results of network${stale.size > 1 ? 's' : ''} ${[...stale.keys()].join(', ')}, which no config in the conf dir defines: when the runtime removes those sandboxes it runs CNI DEL with the old plugins, and pods hang in Terminating if they are gone ("failed to destroy network for sandbox")`, `/var/lib/cni/results: ${list}`, 'remove the stopped sandboxes (crictl rmp -a after checking crictl pods), then the cache files of that network: rm /var/lib/cni/results/<network>-*');
  },
});

export const LEFTOVERS = [leftoverLinks, staleCniCache] as const;
