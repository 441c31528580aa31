/**
 * The objects podnet creates in a cluster to reach its nodes through the API (kube access): a namespace
 * that admits privileged pods, and per node a short-lived helper pod pinned to that node, with the host's
 * network and PID namespaces and a privileged container whose only job is to let podnet's sessions enter
 * the node (helper.py). Pure: plain JSON objects, validated against the Kubernetes OpenAPI schema in
 * test/unit/kube-objects.test.ts.
 */
import { readFileSync } from 'node:fs';

/** The helper program: in the pod's command and in each exec, never installed. */
export const HELPER_PY = readFileSync(new URL('./helper.py', import.meta.url), 'utf8');

/** The documented default image: python3 (3.8 or later) is all podnet needs from it (no shell: the node's runs the scripts). */
export const DEFAULT_HELPER_IMAGE = 'docker.io/library/python:3.13-alpine';

export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  component: 'app.kubernetes.io/component',
  run: 'podnet.io/run',
} as const;

export const ANNOTATIONS = {
  node: 'podnet.io/node',
  owner: 'podnet.io/owner',
  /** when the run's objects are stale for sure (a later run removes them if podnet died without doing so) */
  expires: 'podnet.io/expires',
} as const;

export const CONTAINER = 'node-access';

/** A helper pod with no session this long after it started ends (podnet's run never came). */
export const WATCH_GRACE_S = 120;
/** ... and this long after its last session ended. */
export const WATCH_LINGER_S = 3;

export interface HelperSettings {
  runId: string;
  namespace: string;
  image: string;
  /** who runs podnet: user@host pid N */
  owner: string;
  /** the pod's activeDeadlineSeconds: the longest a run may take */
  deadlineSeconds: number;
  /** the Node's name */
  node: string;
  /** the pod's name */
  name: string;
}

export function pythonArgv(mode: string, ...args: string[]): string[] {
  return ['python3', '-I', '-S', '-c', HELPER_PY, mode, ...args];
}

/** The argv of a session's exec: enter the node and read scripts on stdin. */
export const SESSION_ARGV = pythonArgv('enter');

export function helperNamespace(s: Pick<HelperSettings, 'namespace' | 'runId' | 'owner' | 'deadlineSeconds'>, now = new Date()): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: s.namespace,
      labels: {
        // The helper pods are privileged with the host's namespaces: only the privileged level admits them.
        'pod-security.kubernetes.io/enforce': 'privileged',
        'pod-security.kubernetes.io/warn': 'privileged',
        'pod-security.kubernetes.io/audit': 'privileged',
        [LABELS.managedBy]: 'podnet',
        [LABELS.run]: s.runId,
      },
      annotations: { [ANNOTATIONS.owner]: s.owner, [ANNOTATIONS.expires]: expiry(now, s.deadlineSeconds) },
    },
  };
}

function expiry(now: Date, deadlineSeconds: number): string {
  return new Date(now.getTime() + (deadlineSeconds + 60) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

export function helperPod(s: HelperSettings, now = new Date()): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: s.name,
      namespace: s.namespace,
      labels: { [LABELS.managedBy]: 'podnet', [LABELS.component]: 'node-access', [LABELS.run]: s.runId },
      annotations: { [ANNOTATIONS.node]: s.node, [ANNOTATIONS.owner]: s.owner, [ANNOTATIONS.expires]: expiry(now, s.deadlineSeconds) },
    },
    spec: {
      // As a DaemonSet pins its pods: the scheduler still checks the node (and says why it cannot run there).
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [s.node] }] }] } } },
      // Every taint: NotReady nodes (no pod network yet), cordoned and control-plane nodes are podnet's too.
      tolerations: [{ operator: 'Exists' }],
      hostNetwork: true,
      hostPID: true,
      dnsPolicy: 'ClusterFirstWithHostNet',
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 2,
      activeDeadlineSeconds: s.deadlineSeconds,
      containers: [
        {
          name: CONTAINER,
          image: s.image,
          imagePullPolicy: 'IfNotPresent',
          // a python3 that fails (too old, missing) leaves its last words in the pod's status
          terminationMessagePolicy: 'FallbackToLogsOnError',
          command: pythonArgv('watch', String(WATCH_GRACE_S), String(WATCH_LINGER_S)),
          securityContext: { privileged: true },
          resources: { requests: { cpu: '10m', memory: '32Mi' } },
        },
      ],
    },
  };
}
