/**
 * Server-side printing: the `Table` objects kubectl asks for (`Accept: application/json;as=Table;…`) for
 * `kubectl get`, with the real server's columns per resource (priority 1 columns are `-o wide`'s).
 */
import type { ContainerStatus, KObject, NodeObject, Pod } from './types.js';

export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

interface Printer {
  columns: [name: string, priority: number, description: string][];
  row: (o: KObject, now: number) => (string | number)[];
}

/** kubectl's short ages: 45s, 3m12s, 2h5m, 3d4h, 2y… (the rule of apimachinery's HumanDuration). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  const withRest = (big: number, unit: string, rest: number, restUnit: string) => (rest === 0 ? `${big}${unit}` : `${big}${unit}${rest}${restUnit}`);
  if (minutes < 10) return withRest(minutes, 'm', seconds % 60, 's');
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return withRest(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return withRest(days, 'd', hours % 24, 'h');
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return withRest(years, 'y', days % 365, 'd');
  return `${years}y`;
}

function age(ts: string | undefined, now: number): string {
  if (!ts) return '<unknown>';
  return humanDuration(now - Date.parse(ts));
}

const NAME_DESC = 'Name must be unique within a namespace.';
const AGE_DESC = 'CreationTimestamp is a timestamp representing the server time when this object was created.';

/** The STATUS column of `kubectl get pods`: the first container's waiting or terminated reason wins. */
export function podStatusText(pod: Pod): { ready: string; status: string; restarts: number; lastRestart?: string } {
  const statuses: ContainerStatus[] = pod.status?.containerStatuses ?? [];
  let reason = pod.status?.reason || pod.status?.phase || 'Pending';
  let restarts = 0;
  let ready = 0;
  let running = false;
  let lastRestart: string | undefined;
  for (const cs of [...statuses].reverse()) {
    restarts += cs.restartCount;
    const fin = cs.lastState?.terminated?.finishedAt;
    if (fin && (!lastRestart || fin > lastRestart)) lastRestart = fin;
    const s = cs.state ?? {};
    if (s.waiting?.reason) reason = s.waiting.reason;
    else if (s.terminated?.reason) reason = s.terminated.reason;
    else if (s.terminated) reason = `ExitCode:${s.terminated.exitCode}`;
    else if (cs.ready && s.running) {
      running = true;
      ready++;
    }
  }
  if (reason === 'Completed' && running) reason = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
  if (pod.metadata.deletionTimestamp) reason = 'Terminating';
  return { ready: `${ready}/${pod.spec.containers.length}`, status: reason, restarts, lastRestart };
}

const PRINTERS: Record<string, Printer> = {
  pods: {
    columns: [
      ['Name', 0, NAME_DESC],
      ['Ready', 0, 'The aggregate readiness state of this pod for accepting traffic.'],
      ['Status', 0, 'The aggregate status of the containers in this pod.'],
      ['Restarts', 0, 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'],
      ['Age', 0, AGE_DESC],
      ['IP', 1, 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.'],
      ['Node', 1, 'NodeName is a request to schedule this pod onto a specific node.'],
      ['Nominated Node', 1, 'nominatedNodeName is set only when this pod preempts other pods on the node.'],
      ['Readiness Gates', 1, 'If specified, all readiness gates will be evaluated for pod readiness.'],
    ],
    row: (o, now) => {
      const pod = o as Pod;
      const s = podStatusText(pod);
      const restarts = s.restarts > 0 && s.lastRestart ? `${s.restarts} (${age(s.lastRestart, now)} ago)` : String(s.restarts);
      return [pod.metadata.name ?? '', s.ready, s.status, restarts, age(pod.metadata.creationTimestamp, now), pod.status?.podIP || '<none>', pod.spec.nodeName || '<none>', '<none>', '<none>'];
    },
  },
  nodes: {
    columns: [
      ['Name', 0, NAME_DESC],
      ['Status', 0, 'The status of the node'],
      ['Roles', 0, 'The roles of the node'],
      ['Age', 0, AGE_DESC],
      ['Version', 0, 'Kubelet Version reported by the node.'],
      ['Internal-IP', 1, 'List of addresses reachable to the node.'],
      ['External-IP', 1, 'List of addresses reachable to the node.'],
      ['OS-Image', 1, 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).'],
      ['Kernel-Version', 1, "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."],
      ['Container-Runtime', 1, 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).'],
    ],
    row: (o, now) => {
      const n = o as NodeObject;
      const ready = n.status.conditions?.find((c) => c.type === 'Ready');
      const status = (ready?.status === 'True' ? 'Ready' : ready?.status === 'False' ? 'NotReady' : 'Unknown') + (n.spec.unschedulable ? ',SchedulingDisabled' : '');
      const roles = Object.keys(n.metadata.labels ?? {})
        .filter((l) => l.startsWith('node-role.kubernetes.io/'))
        .map((l) => l.slice('node-role.kubernetes.io/'.length))
        .sort();
      const addr = (t: string) => n.status.addresses?.find((a) => a.type === t)?.address ?? '<none>';
      const info = n.status.nodeInfo ?? {};
      return [n.metadata.name ?? '', status, roles.join(',') || '<none>', age(n.metadata.creationTimestamp, now), info.kubeletVersion ?? '', addr('InternalIP'), addr('ExternalIP'), info.osImage ?? '<unknown>', info.kernelVersion ?? '<unknown>', info.containerRuntimeVersion ?? '<unknown>'];
    },
  },
  namespaces: {
    columns: [
      ['Name', 0, NAME_DESC],
      ['Status', 0, 'The status of the namespace'],
      ['Age', 0, AGE_DESC],
    ],
    row: (o, now) => [o.metadata.name ?? '', String((o.status as { phase?: string } | undefined)?.phase ?? ''), age(o.metadata.creationTimestamp, now)],
  },
  configmaps: {
    columns: [
      ['Name', 0, NAME_DESC],
      ['Data', 0, 'Data contains the configuration data.'],
      ['Age', 0, AGE_DESC],
    ],
    row: (o, now) => [o.metadata.name ?? '', Object.keys((o.data as object | undefined) ?? {}).length + Object.keys((o.binaryData as object | undefined) ?? {}).length, age(o.metadata.creationTimestamp, now)],
  },
  events: {
    columns: [
      ['Last Seen', 0, 'The last time the event was seen'],
      ['Type', 0, 'Type of this event (Normal, Warning), new types could be added in the future.'],
      ['Reason', 0, 'This should be a short, machine understandable string that gives the reason for this event being generated.'],
      ['Object', 0, 'The object that this event is about.'],
      ['Subobject', 1, 'The subobject (such as a container) that this event is about.'],
      ['Source', 1, 'The component reporting this event.'],
      ['Message', 0, 'A human-readable description of the status of this operation.'],
      ['First Seen', 1, 'The first time the event was seen'],
      ['Count', 1, 'The number of times this event has occurred.'],
      ['Name', 1, NAME_DESC],
    ],
    row: (o, now) => {
      const e = o as KObject & { involvedObject?: Record<string, string>; count?: number; firstTimestamp?: string; lastTimestamp?: string; source?: { component?: string; host?: string } };
      const count = e.count ?? 1;
      const last = age(e.lastTimestamp ?? e.metadata.creationTimestamp, now);
      const lastSeen = count > 1 ? `${last} (x${count} over ${age(e.firstTimestamp, now)})` : last;
      const obj = `${(e.involvedObject?.kind ?? '').toLowerCase()}/${e.involvedObject?.name ?? ''}`;
      const source = [e.source?.component, e.source?.host].filter(Boolean).join(', ');
      return [lastSeen, String(e.type ?? ''), String(e.reason ?? ''), obj, e.involvedObject?.fieldPath ?? '', source, String(e.message ?? ''), age(e.firstTimestamp, now), count, e.metadata.name ?? ''];
    },
  },
};

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** A Table of objects of one resource, as `kubectl get` prints it. */
export function toTable(resource: string, objects: KObject[], resourceVersion: string, include: IncludeObject, now = Date.now()): Record<string, unknown> {
  const p = PRINTERS[resource];
  if (!p) throw new Error(`no table for ${resource}`);
  const columnDefinitions: ColumnDefinition[] = p.columns.map(([name, priority, description]) => ({ name, type: name === 'Count' ? 'integer' : 'string', format: name === 'Name' ? 'name' : '', description, priority }));
  const rows = objects.map((o) => ({
    cells: p.row(o, now),
    object: include === 'None' ? null : include === 'Object' ? o : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
  }));
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion }, columnDefinitions, rows };
}

export function hasTable(resource: string): boolean {
  return resource in PRINTERS;
}
