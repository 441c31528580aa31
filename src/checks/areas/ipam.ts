/**
 * The IPAM plugin's state on disk (host-local: one file per reserved address under
 * /var/lib/cni/networks/<network>/, holding the container id). Reservations outlive the pods when a
 * runtime crashes, a node reboots or a sandbox is torn down without CNI DEL, until the range runs dry.
 */
import { defineCheck } from '../types.js';
import { cidrContainsIp, cidrSize, parseCidr } from '../../net/cidr.js';
import { PODNET_NETWORK, PROBE_POD_PREFIX } from '../../facts/marks.js';
import type { IpamReservation } from '../../facts/parse.js';
import { familyOf, IPV4 } from '../../net/family.js';

/** Addresses host-local can hand out in the live range: the subnet less network, broadcast and gateway. */
function capacity(subnet: string): number | undefined {
  const c = parseCidr(subnet);
  if (!c || familyOf(subnet) !== IPV4) return undefined;
  return Math.max(0, Number(cidrSize(c)) - 3);
}

export const ipamState = defineCheck({
  findings: {
    'ipam-exhausted': { severity: 'error', title: "host-local's range is full of reservations" },
    'ipam-leak': { severity: 'warning', title: 'IPAM reservations held by pods that no longer exist' },
  },
  needs: ['ipam'],
  run(n, _ctx, emit) {
    const live = n.live;
    const net = live?.name;
    // A config with its own dataDir keeps state where podnet did not look: nothing to judge.
    if (!live?.bridge?.subnet || live.bridge.ipamType !== 'host-local' || !net || live.bridge.ipamDataDir) return;
    const subnet = live.bridge.subnet;
    const all = n.facts.ipam.networks[net] ?? [];
    const inRange = all.filter((r) => cidrContainsIp(subnet, r.ip));
    const dir = `${n.facts.ipam.dataDir}/${net}`;
    const cap = capacity(subnet);
    const boot = n.facts.ipam.bootTime;
    const preBoot = boot ? inRange.filter((r) => r.mtime < boot) : [];
    const probes = inRange.filter((r) => r.owner.startsWith(PROBE_POD_PREFIX) && !n.facts.ipam.probeRuns.includes(r.owner.slice(PROBE_POD_PREFIX.length)));
    const sample = (rs: IpamReservation[]) => rs.slice(0, 3).map((r) => `${r.ip} (${r.owner.slice(0, 12) || '?'})`).join(', ') + (rs.length > 3 ? ', …' : '');
    if (cap !== undefined && inRange.length >= cap) {
      emit('ipam-exhausted', `all ${cap} addresses of ${subnet} are reserved in ${dir}: new pods fail with "no IP addresses available in range set"`, `${inRange.length} reservations${preBoot.length ? `, ${preBoot.length} of them made before the node last booted` : ''}: ${sample(inRange)}`, `remove the reservations of pods that no longer run: compare the container ids in ${dir} with crictl pods -q --no-trunc and delete the other files${preBoot.length ? ` (the ${preBoot.length} made before the last boot cannot belong to a running pod)` : ''}`);
    } else if (cap !== undefined && cap > 0 && inRange.length / cap >= 0.9) {
      emit('ipam-exhausted', `${inRange.length} of ${cap} addresses of ${subnet} are reserved in ${dir}: the range is nearly full`, `${inRange.length} reservations: ${sample(inRange)}`, `check for leaked reservations (compare ${dir} with crictl pods -q --no-trunc), or give the node a larger pod CIDR`, 'warning');
    }
    if (probes.length) {
      emit('ipam-leak', `${probes.length} address${probes.length > 1 ? 'es' : ''} of ${subnet} still reserved for podnet probe pods that are gone`, sample(probes), net === PODNET_NETWORK ? 'podnet up releases them' : `rm ${probes.map((r) => `${dir}/${r.ip}`).join(' ')}`);
    }
    if (preBoot.length) {
      emit('ipam-leak', `${preBoot.length} address${preBoot.length > 1 ? 'es' : ''} of ${subnet} reserved before the node last booted: pods do not survive a reboot, so these most likely leaked (a runtime that did not run CNI DEL; a clock set after boot can also date live ones early)`, `${sample(preBoot)}; boot at ${new Date(boot! * 1000).toISOString()}`, `list the reservations no running sandbox holds, then remove those files: for f in ${dir}/*.*.*.*; do id=$(head -n1 "$f" | tr -d '\\r'); crictl inspectp "$id" >/dev/null 2>&1 || echo "$f"; done`);
    }
  },
});

export const IPAM = [ipamState] as const;
