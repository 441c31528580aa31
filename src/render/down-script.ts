/**
 * The `podnet down` script: removes exactly what podnet installed — routes by protocol, the overlay
 * device and the bridge by their alias, iptables rules by comment (and podnet's own chains), podnet's files and unit,
 * and the bridge when no pod is attached (or when forced) — and reports each removal on stdout. The
 * script's text is down.sh beside this module (after the prelude every node-changing script starts with);
 * this module owns its parameters: podnet's marks, names and paths, assigned above that text.
 */
import type { ClusterSettings } from '../inventory/load.js';
import {
  CONFLIST_NAME,
  CONFLIST_PATH,
  FORWARD_CHAIN,
  JUMP_RULES,
  LINK_ALIAS,
  MODULES_FILE,
  POSTROUTING_CHAIN,
  RESTORE_SCRIPT,
  ROUTE_PROTO,
  SYSCTL_FILE,
  UNIT_FILE,
} from '../plan/desired.js';
import { asset } from '../util/asset.js';
import { shList } from '../util/shell.js';
import { renderWithPrelude } from './node-script.js';
import { FAMILIES } from '../net/family.js';

export const REMOVED_MARK = '@@podnet:removed';
export const KEPT_MARK = '@@podnet:kept';

const downText = asset(new URL('./down.sh', import.meta.url));

/** The down script: prelude.sh and down.sh (the fixed texts) with their parameters assigned above them. */
export function renderDownScript(cluster: Pick<ClusterSettings, 'bridge' | 'vxlan'>, opts: { force: boolean }): string {
  return renderWithPrelude(downText(), {
    PODNET_REMOVED_MARK: REMOVED_MARK,
    PODNET_KEPT_MARK: KEPT_MARK,
    PODNET_ROUTE_PROTO: ROUTE_PROTO,
    PODNET_IP_FLAGS: shList(FAMILIES.map((f) => f.ipFlag)),
    PODNET_IPTABLES: shList(FAMILIES.map((f) => f.iptables)),
    PODNET_LINK_ALIAS: LINK_ALIAS,
    PODNET_VXLAN_DEVICE: cluster.vxlan.device,
    PODNET_FILTER_CHAIN: FORWARD_CHAIN,
    PODNET_FILTER_JUMP: shList(JUMP_RULES.filter.split(' ')),
    PODNET_NAT_CHAIN: POSTROUTING_CHAIN,
    PODNET_NAT_JUMP: shList(JUMP_RULES.nat.split(' ')),
    PODNET_UNIT_FILE: UNIT_FILE,
    PODNET_FILES: shList([CONFLIST_PATH, SYSCTL_FILE, MODULES_FILE, RESTORE_SCRIPT]),
    PODNET_BRIDGE: cluster.bridge,
    PODNET_NETWORK: CONFLIST_NAME,
    PODNET_FORCE: opts.force ? 1 : 0,
  });
}
