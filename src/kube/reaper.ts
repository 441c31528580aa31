/**
 * Run by KubeTransport beside podnet, detached, with podnet holding its stdin: when that pipe closes
 * without "done" (podnet was killed, SIGKILL included), it deletes the run's namespace, or the run's
 * helper pods in a namespace the user named, and exits. Its own small program: nothing of podnet's
 * command line loads here.
 */
import { connectKube, corePath, type FoundKubeconfig } from './client.js';
import { LABELS } from './objects.js';

/** The longest the reaper waits for the helper pods to end by themselves. */
const WAIT_S = 30;

interface Job {
  found: FoundKubeconfig;
  context?: string;
  namespace: string;
  owned: boolean;
  runId: string;
}

/** podnet's helper pods of the run that still run (their sessions may still be cleaning up on the nodes). */
async function running(api: Awaited<ReturnType<typeof connectKube>>, job: Job): Promise<number> {
  const list = await api.request<{ items?: { status?: { phase?: string } }[] }>('cluster', { verb: 'list', resource: 'pods', namespace: job.namespace, method: 'GET', path: corePath('pods', { namespace: job.namespace, query: { labelSelector: `${LABELS.run}=${job.runId}` } }) });
  return (list.items ?? []).filter((p) => p.status?.phase === 'Running' || p.status?.phase === 'Pending').length;
}

async function reap(job: Job): Promise<void> {
  const api = await connectKube(job.found, job.context);
  // First let the nodes clean up: with podnet's streams gone, the sessions' shells end, what they left
  // (a probe's pods) removes itself, and each helper pod ends by itself a few seconds later. Deleting
  // the pods before that would kill that cleanup with them.
  for (let waited = 0; waited < WAIT_S; waited++) {
    try {
      if ((await running(api, job)) === 0) break;
    } catch {
      break;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      if (job.owned) {
        await api.request('cluster', { verb: 'delete', resource: 'namespaces', method: 'DELETE', path: corePath('namespaces', { name: job.namespace }) });
      } else {
        const list = await api.request<{ items?: { metadata?: { name?: string } }[] }>('cluster', { verb: 'list', resource: 'pods', namespace: job.namespace, method: 'GET', path: corePath('pods', { namespace: job.namespace, query: { labelSelector: `${LABELS.run}=${job.runId}` } }) });
        for (const p of list.items ?? []) {
          const name = p.metadata?.name;
          if (name) await api.request('cluster', { verb: 'delete', resource: 'pods', namespace: job.namespace, method: 'DELETE', path: corePath('pods', { namespace: job.namespace, name, query: { gracePeriodSeconds: '0' } }) });
        }
      }
      return;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return;
      await new Promise((r) => setTimeout(r, 2000 * (attempt + 1)));
    }
  }
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d: string) => (input += d));
process.stdin.on('end', () => {
  if (input.includes('done')) process.exit(0);
  reap(job)
    .catch(() => undefined)
    .finally(() => process.exit(0));
});
process.stdin.on('error', () => undefined);
