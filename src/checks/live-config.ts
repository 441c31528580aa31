/**
 * What a node's container runtime would actually use: the first CNI config in name order (.conflist,
 * .conf or .json), parsed into the few facts the checks need. Works for any bridge-based CNI, not just
 * podnet's own config.
 */
import type { ConfFile, NodeFacts } from '../facts/parse.js';
import { hostAddress, networkOf, parseCidr } from '../net/cidr.js';
import { familyOf, IPV4, type FamilyTable } from '../net/family.js';

export interface LiveConfig {
  file: ConfFile;
  /** a .conflist (libcni reads a plugin list only from those) */
  isList: boolean;
  /** the network name (host-local keeps its state under it) */
  name?: string;
  cniVersion?: string;
  plugins: Record<string, unknown>[];
  bridge?: { name: string; ipMasq: boolean; mtu?: number; isGateway: boolean; ipamType?: string; subnet?: string; gateway?: string; ipamDataDir?: string; subnets: string[]; ranges: { subnet: string; gateway?: string }[] };
  portmap: boolean;
  parseError?: string;
  /** why a runtime cannot load it although it is JSON: a list in a .conf, or a .conflist without plugins */
  kindError?: string;
}

export function liveConfig(f: NodeFacts): LiveConfig | undefined {
  const file = f.cniConfFiles.find((c) => /\.(conflist|conf|json)$/.test(c.name));
  if (!file) return undefined;
  const isList = file.name.endsWith('.conflist');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(file.text) as Record<string, unknown>;
  } catch (e) {
    return { file, isList, plugins: [], portmap: false, parseError: (e as Error).message };
  }
  const name = typeof raw.name === 'string' ? raw.name : undefined;
  if (isList && !Array.isArray(raw.plugins)) return { file, isList, name, plugins: [], portmap: false, kindError: 'a .conflist needs a "plugins" list' };
  if (!isList && typeof raw.type !== 'string') {
    return { file, isList, name, plugins: [], portmap: false, kindError: Array.isArray(raw.plugins) ? 'it holds a plugin list, but libcni reads lists only from .conflist files ("no \'type\'; perhaps this is a .conflist?")' : 'it has no "type"' };
  }
  const plugins = (isList ? (raw.plugins as Record<string, unknown>[] | undefined) ?? [] : [raw]).filter((p) => typeof p === 'object' && p !== null);
  const br = plugins.find((p) => p.type === 'bridge');
  let bridge: LiveConfig['bridge'];
  if (br) {
    const ipam = (br.ipam ?? {}) as Record<string, unknown>;
    const ranges = ipam.ranges as { subnet?: string; gateway?: string }[][] | undefined;
    const subnet = ranges?.[0]?.[0]?.subnet ?? (ipam.subnet as string | undefined);
    const c = subnet ? parseCidr(subnet) ?? networkOf(subnet.split('/')[0] ?? '', Number(subnet.split('/')[1])) : undefined;
    bridge = {
      name: (br.bridge as string | undefined) ?? 'cni0',
      ipMasq: br.ipMasq === true,
      mtu: typeof br.mtu === 'number' ? br.mtu : undefined,
      isGateway: br.isGateway === true,
      ipamType: ipam.type as string | undefined,
      subnet: c?.text,
      gateway: (ranges?.[0]?.[0]?.gateway ?? (ipam.gateway as string | undefined)) ?? (c ? hostAddress(c, 1) : undefined),
      // Every range set's subnets (a dual-stack config has one set per family).
      subnets: [...new Set((ranges ?? []).flat().map((r) => (r?.subnet ? parseCidr(r.subnet)?.text : undefined)).filter((x): x is string => Boolean(x)).concat(c ? [c.text] : []))],
      // The first range of each range set, with its gateway (the bridge plugin's default: the first address).
      ranges: (ranges ?? [])
        .map((set) => set?.[0])
        .flatMap((r) => {
          const sc = r?.subnet ? parseCidr(r.subnet) ?? networkOf(r.subnet.split('/')[0] ?? '', Number(r.subnet.split('/')[1])) : undefined;
          return sc ? [{ subnet: sc.text, gateway: r?.gateway ?? hostAddress(sc, 1) }] : [];
        })
        .concat(!ranges?.length && c ? [{ subnet: c.text, gateway: (ipam.gateway as string | undefined) ?? hostAddress(c, 1) }] : []),
      ...(typeof ipam.dataDir === 'string' && ipam.dataDir.replace(/\/+$/, '') !== '/var/lib/cni/networks' ? { ipamDataDir: ipam.dataDir } : {}),
    };
  }
  const portmap = plugins.some((p) => p.type === 'portmap' && (p.capabilities as Record<string, unknown> | undefined)?.portMappings === true);
  return { file, isList, name, cniVersion: raw.cniVersion as string | undefined, plugins, bridge, portmap };
}

/** A meta-plugin (Multus) that delegates to the cluster's network: the checks of one network do not apply to it. */
export function isMetaConfig(live: LiveConfig | undefined): boolean {
  return Boolean(live?.plugins.some((p) => /^multus/.test(String(p.type)) || 'delegates' in p || 'clusterNetwork' in p));
}

/** The node's pod CIDR as the node itself shows it: the live config's subnet, else the bridge's address. */
export function observedPodCidr(f: NodeFacts, live: LiveConfig | undefined, family: FamilyTable = IPV4): string | undefined {
  const range = live?.bridge?.ranges.find((r) => familyOf(r.subnet) === family)?.subnet ?? (family === IPV4 ? live?.bridge?.subnet : undefined);
  if (range) return range;
  const name = live?.bridge?.name ?? 'cni0';
  const a = f.addrs.find((x) => x.ifname === name && x.family === family.inet && x.scope !== 'link');
  return a ? networkOf(a.local, a.prefixlen)?.text : undefined;
}
