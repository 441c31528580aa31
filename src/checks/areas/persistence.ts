/**
 * What the node will do at its next boot: the kernel settings the pod network needs, as the sysctl
 * configuration files set them (a later file overrides podnet's), not only as they are now.
 */
import { defineCheck } from '../types.js';
import { familyOf, IPV4, IPV6 } from '../../net/family.js';

/** Settings the pod network needs, and the value, per family (IPv6's only where pods get IPv6). */
const NEEDED: Record<'ipv4' | 'ipv6', Record<string, string>> = {
  ipv4: { [IPV4.forwarding]: '1', 'net.ipv4.conf.all.forwarding': '1', [IPV4.bridgeNf]: '1' },
  ipv6: { [IPV6.forwarding]: '1', [IPV6.bridgeNf]: '1' },
};

/** systemd-sysctl's order: by file name; for one name, /etc over /run over /usr/lib; /etc/sysctl.conf last. */
export function sysctlOrder(files: string[]): string[] {
  const rank = (p: string) => (p.startsWith('/etc/') ? 0 : p.startsWith('/run/') ? 1 : p.startsWith('/usr/local/') ? 2 : p.startsWith('/usr/lib/') ? 3 : 4);
  const byName = new Map<string, string>();
  for (const f of files) {
    if (f === '/etc/sysctl.conf') continue;
    const name = f.split('/').pop()!;
    const cur = byName.get(name);
    if (!cur || rank(f) < rank(cur)) byName.set(name, f);
  }
  const ordered = [...byName.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, f]) => f);
  return files.includes('/etc/sysctl.conf') ? [...ordered, '/etc/sysctl.conf'] : ordered;
}

export const sysctlReverts = defineCheck({
  findings: { 'sysctl-reverts': { severity: 'warning', title: 'a sysctl file sets a needed kernel setting back at boot' } },
  needs: ['sysctlFiles', 'sysctl'],
  run(n, _ctx, emit) {
    // The files systemd-sysctl applies, in its order (a same-named file in an earlier directory hides the others).
    const order = sysctlOrder(n.facts.sysctlFiles.files);
    const settings = n.facts.sysctlFiles.settings;
    const v6 = (n.live?.bridge?.subnets ?? []).some((c) => familyOf(c) === IPV6);
    for (const [key, want] of Object.entries({ ...NEEDED.ipv4, ...(v6 ? NEEDED.ipv6 : {}) })) {
      let last: { file: string; value: string } | undefined;
      for (const file of order) for (const s of settings) if (s.file === file && s.key === key) last = s;
      if (!last || last.value === want) continue;
      const setters = order.filter((f) => settings.some((s) => s.file === f && s.key === key && s.value === want));
      emit('sysctl-reverts', `${last.file} sets ${key} = ${last.value}${setters.length ? ` after ${setters.map((f) => f.split('/').pop()).join(', ')}` : ''}: at the next boot (or sysctl --system) it is ${last.value}${n.facts.sysctl[key] === want ? `, though it is ${want} now` : ''}`, `${last.file}: ${key} = ${last.value}; files in the order systemd-sysctl applies them: ${order.filter((f) => settings.some((s) => s.file === f && s.key === key)).join(', ')}`, `remove that line from ${last.file} (the last file that sets a key wins)`);
    }
  },
});

export const PERSISTENCE = [sysctlReverts] as const;
