/**
 * The files podnet keeps on a node: the conflist, sysctl and module-load files, and the boot-time
 * restore script with its systemd unit. The restore script is the node's full desired state rendered
 * against an empty node, with the same idempotent renderer `up` uses.
 */
import { EMPTY_FACTS, type NodeFacts } from '../facts/parse.js';
import { renderNodeScript } from './node-script.js';
import { diffNode } from '../plan/diff.js';
import { CONFLIST_PATH, MODULES_FILE, RESTORE_SCRIPT, SYSCTL_FILE, UNIT_FILE, sha256, type FilePlan, type NodePlan } from '../plan/desired.js';

function file(path: string, content: string, mode = '0644'): FilePlan {
  return { path, content, mode, sha256: sha256(content) };
}

export function renderRestoreScript(plan: NodePlan): string {
  // At boot the module may not be loaded yet: start from "no bridge sysctls" so the script loads it.
  const boot: NodeFacts = { ...EMPTY_FACTS, sysctl: plan.modules.includes('br_netfilter') ? Object.fromEntries(Object.keys(plan.sysctls).filter((k) => k.startsWith('net.bridge.')).map((k) => [k, '-'])) : {} };
  const body = renderNodeScript(diffNode({ ...plan, files: [] }, boot), { files: false });
  return `#!/bin/sh\n# podnet: restores the pod network of node ${plan.name} (${plan.families.map((x) => x.podCIDR).join(', ')}) at boot. Written by podnet up; do not edit.\n${body}`;
}

export const UNIT_TEXT = `# Written by podnet up; removed by podnet down.
[Unit]
Description=podnet: restore the pod network (bridge, overlay, routes, iptables rules)
Wants=network-online.target
After=network-online.target
Before=kubelet.service containerd.service crio.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh ${RESTORE_SCRIPT}

[Install]
WantedBy=multi-user.target
`;

export function nodeFiles(plan: NodePlan): FilePlan[] {
  const sysctl = Object.entries(plan.sysctls).map(([k, v]) => `${k} = ${v}`);
  const files = [
    file(CONFLIST_PATH, `${JSON.stringify(plan.conflist, null, 2)}\n`),
    file(SYSCTL_FILE, `# Written by podnet up; removed by podnet down.\n${sysctl.join('\n')}\n`),
    file(RESTORE_SCRIPT, renderRestoreScript(plan), '0755'),
  ];
  if (plan.modules.length) files.push(file(MODULES_FILE, `# Written by podnet up; removed by podnet down.\n${plan.modules.join('\n')}\n`));
  if (plan.persistence === 'systemd') files.push(file(UNIT_FILE, UNIT_TEXT));
  return files;
}

export function withFiles(plan: NodePlan): NodePlan {
  return { ...plan, files: nodeFiles(plan) };
}

export { EMPTY_FACTS };
