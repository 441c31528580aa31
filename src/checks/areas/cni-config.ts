/**
 * What a container runtime reads before it can start a pod: the CNI config directory (the first file is
 * the live one; libcni's rules for .conf and .conflist), the plugins the config names (present, runnable,
 * supporting its cniVersion, plus loopback), and where the runtime itself looks for both.
 */
import { defineCheck } from '../types.js';
import { PODNET_CONFLIST } from '../../facts/marks.js';
import { isMetaConfig } from '../live-config.js';
import { CNI_OF_PLUGIN } from '../cnis.js';

function pluginTypes(text: string): string[] {
  return [...text.matchAll(/"type"\s*:\s*"([A-Za-z0-9_.-]+)"/g)].map((m) => m[1]!);
}

export const cniConfig = defineCheck({
  findings: {
    'no-cni-config': { severity: 'error', title: 'no CNI config in the conf dir' },
    'cni-config-invalid': { severity: 'error', title: 'the live CNI config is not valid JSON' },
    'cni-config-kind': { severity: 'error', title: 'a .conf file holding a plugin list, or a .conflist without one' },
    'no-hostport': { severity: 'error', title: 'no portmap plugin with the portMappings capability in the live config' },
  },
  needs: ['cniConfDir', 'cniConfFiles'],
  run(n, _ctx, emit) {
    const live = n.live;
    if (!live) {
      emit('no-cni-config', 'no CNI config in the conf dir: pods cannot start', `${n.facts.cniConfDir} has no .conflist/.conf/.json`, 'write a conflist (podnet up writes 10-podnet.conflist)');
      return;
    }
    if (live.parseError) {
      emit('cni-config-invalid', `the live CNI config ${live.file.name} is not valid JSON`, live.parseError, 'fix or remove the file');
      return;
    }
    if (live.kindError) {
      emit('cni-config-kind', `the live CNI config ${live.file.name} cannot be loaded: ${live.kindError}`, `${live.file.path}: ${live.isList ? 'a .conflist' : 'a single-plugin file'}`, live.isList ? 'give it a "plugins" list' : `rename it to ${live.file.name.replace(/\.(conf|json)$/, '.conflist')} (libcni reads a plugin list only from .conflist files)`);
      return;
    }
    if (!live.portmap && !isMetaConfig(live)) {
      emit('no-hostport', `hostPorts do not work: the live config ${live.file.name} has no portmap plugin with the portMappings capability`, live.isList ? `plugins: ${live.plugins.map((p) => String(p.type)).join(', ')}` : `${live.file.name} is a single-plugin .conf`, 'add {"type":"portmap","capabilities":{"portMappings":true}} to a .conflist (podnet up writes one)');
    }
  },
});

export const configDir = defineCheck({
  findings: {
    'cni-config-shadowed': { severity: 'error', title: "another CNI config sorts before podnet's and is the one runtimes use" },
    'cni-config-leftover': { severity: 'warning', title: "another CNI's config left in the conf dir" },
  },
  needs: ['cniConfFiles', 'cniConfDir'],
  run(n, _ctx, emit) {
    const live = n.live;
    const files = n.facts.cniConfFiles.filter((c) => /\.(conflist|conf|json)$/.test(c.name));
    const order = files.map((c) => c.name).join(', ');
    const ours = files.find((c) => c.name === PODNET_CONFLIST);
    // A meta-plugin (Multus) that sorts first delegates to the cluster network: it does not shadow it.
    const meta = isMetaConfig(live);
    if (live && ours && live.file.name !== ours.name && !meta) {
      const who = pluginTypes(live.file.text).map((t) => CNI_OF_PLUGIN[t]).find(Boolean);
      emit('cni-config-shadowed', `${live.file.name}${who ? ` (${who})` : ''} sorts before ${ours.name}: container runtimes use the first config in name order, so new pods get its network, not podnet's`, `${n.facts.cniConfDir}: ${order}`, `if ${who ?? 'that CNI'} is gone, move the file out of ${n.facts.cniConfDir} (mv ${live.file.path} /root/), then restart pods created since`);
      return;
    }
    for (const c of files) {
      if (c === live?.file || meta) continue;
      const who = pluginTypes(c.text).map((t) => CNI_OF_PLUGIN[t]).find(Boolean);
      if (who) emit('cni-config-leftover', `${c.name} is ${who}'s config, left in the conf dir: unused while ${live?.file.name ?? 'another file'} sorts first, it becomes the live config as soon as that file is renamed or removed, and its IPAM and cached results outlive it`, `${n.facts.cniConfDir}: ${order}`, `if ${who} is gone, move it out: mv ${c.path} /root/`);
    }
  },
});

export const plugins = defineCheck({
  findings: {
    'plugin-missing': { severity: 'error', title: 'a plugin the live config names is not in the bin dir' },
    'plugin-broken': { severity: 'error', title: 'a plugin the live config names is there but does not run' },
    'cni-version': { severity: 'error', title: "the live config's cniVersion is not supported by its plugins" },
  },
  needs: ['plugins', 'cniBinDirs', 'arch'],
  run(n, _ctx, emit) {
    const live = n.live;
    if (!live || live.parseError || live.kindError) return;
    const bin = n.facts.cniBinDirs;
    const types = live.plugins.flatMap((p) => [String(p.type), ...(p.ipam && typeof p.ipam === 'object' ? [String((p.ipam as Record<string, unknown>).type)] : [])]).filter((t) => t && t !== 'undefined');
    const found = (t: string) => n.facts.plugins.filter((p) => p.name === t);
    const missing = types.filter((t) => !found(t).length);
    if (missing.length) {
      emit('plugin-missing', `CNI plugin${missing.length > 1 ? 's' : ''} ${missing.join(', ')} named in ${live.file.name} not found: sandbox creation fails ("failed to find plugin")`, `bin dirs: ${bin.join(', ') || 'none found'}`, "install the CNI plugins (Debian: containernetworking-plugins) into the runtime's bin dir");
    }
    const broken = [...new Set(types)].flatMap((t) => {
      const all = found(t);
      // Broken only when no bin dir has a runnable copy.
      return all.length && all.every((p) => p.broken) ? [all[0]!] : [];
    });
    for (const p of broken) {
      const why = p.broken === 'noexec' ? 'is not executable ("permission denied")' : 'does not run: it gave no answer to CNI_COMMAND=VERSION (wrong CPU architecture — "exec format error" —, truncated or corrupt)';
      emit('plugin-broken', `CNI plugin ${p.name} in ${p.dir} ${why}: sandbox creation fails on this node`, `${p.dir}/${p.name}: ${p.broken === 'noexec' ? 'not executable' : 'CNI_COMMAND=VERSION gave nothing'}`, `reinstall the CNI plugins for this machine's architecture (${n.facts.arch ?? 'uname -m'}) into ${p.dir}`);
    }
    if (live.cniVersion) {
      const unsupported = [...new Set(types)].filter((t) => {
        const p = found(t).find((x) => !x.broken);
        return p?.supportedVersions && !p.supportedVersions.includes(live.cniVersion!);
      });
      if (unsupported.length) {
        const sv = found(unsupported[0]!).find((x) => x.supportedVersions)?.supportedVersions ?? [];
        emit('cni-version', `cniVersion ${live.cniVersion} in ${live.file.name} is not supported by ${unsupported.join(', ')}: "incompatible CNI versions"`, `${unsupported[0]} supports ${sv.join(', ')}`, `set cniVersion to ${sv[sv.length - 1] ?? 'a supported version'} (podnet up picks the highest the plugins support)`);
      }
    }
  },
});

export const runtimeDirs = defineCheck({
  findings: {
    'runtime-cni-dirs': { severity: 'error', title: "the container runtime looks for CNI configs or plugins somewhere else" },
    'loopback-missing': { severity: 'error', title: 'no loopback plugin where the runtime looks for plugins' },
  },
  needs: ['runtimeCni', 'plugins', 'cniBinDirs', 'cniBinDirsAbsent', 'cniConfDir', 'tools'],
  run(n, _ctx, emit) {
    const live = n.live;
    const types = live?.plugins.map((p) => String(p.type)) ?? [];
    const norm = (d: string) => d.replace(/\/+$/, '') || '/';
    const holds = (dir: string, t: string) => n.facts.plugins.some((p) => norm(p.dir) === norm(dir) && p.name === t && !p.broken);
    // Only dirs the facts looked into can be judged; a runtime dir podnet did not list is unknown, not empty.
    const absent = (dir: string) => n.facts.cniBinDirsAbsent.some((d) => norm(d) === norm(dir));
    const listed = (dir: string) => absent(dir) || n.facts.cniBinDirs.some((d) => norm(d) === norm(dir));
    for (const rt of n.facts.runtimeCni) {
      const label = rt.runtime === 'crio' ? 'CRI-O' : 'containerd';
      if (rt.confDir && norm(rt.confDir) !== norm(n.facts.cniConfDir)) {
        emit('runtime-cni-dirs', `${label} reads CNI configs from ${rt.confDir}, not ${n.facts.cniConfDir} where ${live ? `${live.file.name} is` : 'podnet looks'}: its pods get no network ("cni plugin not initialized", "no networks found")`, `${rt.file}: ${rt.confDirLine ?? rt.confDir}`, `point ${label} at ${n.facts.cniConfDir} in ${rt.file} and restart it, or set cluster.cniConfDir to ${rt.confDir} in the inventory`);
      }
      if (rt.binDirs?.length && types.length && rt.binDirs.every(listed)) {
        const lacking = types.filter((t) => !rt.binDirs!.some((d) => holds(d, t)));
        if (lacking.length) {
          const where = n.facts.cniBinDirs.find((d) => lacking.every((t) => holds(d, t)));
          emit('runtime-cni-dirs', `${label} looks for CNI plugins in ${rt.binDirs.join(', ')}, which ${rt.binDirs.every(absent) ? 'does not exist' : `lacks ${lacking.join(', ')}`}: sandbox creation fails ("failed to find plugin")`, `${rt.file}: ${rt.binDirLine ?? rt.binDirs.join(', ')}${where ? `; the plugins are in ${where}` : ''}`, where ? `set the bin dir in ${rt.file} to include ${where} and restart ${label}` : `install the CNI plugins into ${rt.binDirs[0]}`);
        }
      }
      const binDirs = (rt.binDirs?.length ? rt.binDirs : rt.runtime === 'crio' ? ['/opt/cni/bin', '/usr/libexec/cni'] : ['/opt/cni/bin']).map(norm);
      if (rt.runtime === 'containerd' && !rt.internalLoopback && binDirs.every(listed) && n.facts.plugins.some((p) => binDirs.includes(norm(p.dir))) && !binDirs.some((d) => holds(d, 'loopback'))) {
        emit('loopback-missing', `containerd sets up every pod's loopback with the loopback plugin, and ${binDirs.join(', ')} has none: every sandbox fails ("failed to find plugin \\"loopback\\"")`, `${binDirs.join(', ')}: ${[...new Set(n.facts.plugins.filter((p) => binDirs.includes(norm(p.dir))).map((p) => p.name))].join(', ')}`, `install the loopback plugin into ${binDirs[0]} (it ships with the standard CNI plugins), or set use_internal_loopback = true (containerd ≥ 2.0)`);
      }
    }
  },
});

export const CNI_CONFIG = [cniConfig, configDir, plugins, runtimeDirs] as const;
