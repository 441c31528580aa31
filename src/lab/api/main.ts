/**
 * The stand-in API server's process: `node main.js --lab-dir /run/podnet/labs/NAME`, started by
 * `lab up --api` inside the lab's operator network namespace (it refuses to run anywhere else, so it
 * can never listen in the host's). It serves the lab's API over HTTPS on the operator's addresses and
 * runs the kubelet part for every node; `lab down` kills it with the rest of the lab.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cgroup2Root, nsInode } from '../host.js';
import { normalizeLabPlan, type LabPlan } from '../topology.js';
import { Controllers } from './controllers.js';
import { EventRecorder } from './events.js';
import { ApiHandler } from './handler.js';
import { loadImages } from './images.js';
import { Kubelet } from './kubelet.js';
import { NodeMonitor } from './nodemonitor.js';
import { buildNode, machineFacts } from './nodes.js';
import { apiPaths } from './paths.js';
import { seedStore } from './seed.js';
import { ApiServer } from './server.js';
import { Store, timestamp } from './store.js';

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}

/** The server runs only in the lab's operator namespace: never in the host's (or any other) network namespace. */
function checkNetns(plan: LabPlan): void {
  const mine = nsInode('/proc/self/ns/net');
  const operator = nsInode(`/run/netns/${plan.operator.netns}`);
  const host = nsInode('/proc/1/ns/net');
  if (mine === undefined || mine !== operator || mine === host) {
    throw new Error(`refusing to start: not inside the lab's operator network namespace ${plan.operator.netns}`);
  }
}

/** Where the kubelet puts each container's cgroup: below the lab's (lab down removes the tree), if the machine has cgroup v2. */
function kubeletCgroupRoot(plan: LabPlan): string | undefined {
  const root = cgroup2Root();
  const lab = root ? `${root}/${plan.cgroupName}` : undefined;
  return lab && existsSync(`${lab}/cgroup.procs`) ? `${lab}/kubelet` : undefined;
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--lab-dir');
  const labDir = i > 0 ? process.argv[i + 1] : undefined;
  if (!labDir) throw new Error('usage: main.js --lab-dir DIR');
  const plan = normalizeLabPlan(JSON.parse(readFileSync(`${labDir}/lab.json`, 'utf8')) as LabPlan);
  if (!plan.api) throw new Error(`lab "${plan.name}" was not started with --api`);
  checkNetns(plan);
  const paths = apiPaths(labDir);
  const caPem = readFileSync(paths.caCert, 'utf8');
  const images = loadImages(paths.images);

  const store = new Store();
  seedStore(store, plan, caPem);
  const events = new EventRecorder(store);
  const monitor = new NodeMonitor(plan, store);
  await monitor.start();
  const facts = machineFacts();
  plan.nodes.forEach((n, idx) => store.create('nodes', buildNode(plan, n, idx, facts, images, monitor.networkReady(n) === true, timestamp())));
  monitor.watch();

  const kubelet = new Kubelet({ store, events, plan, images, apiHost: plan.api.addresses[0]!, apiPort: plan.api.port, nodePidNs: (n) => monitor.pidNamespaceFile(n), cgroupRoot: kubeletCgroupRoot(plan), log });
  const labNodes = new Set(plan.nodes.map((n) => n.name));
  const isLabNode = (name: string) => labNodes.has(name);
  new Controllers(store, events, isLabNode, (n) => kubelet.podsOn(n)).start();
  kubelet.start();

  const handler = new ApiHandler({ store, events, kubelet, caPem, serverAddress: plan.api.server.replace(/^https:\/\//, ''), isLabNode });
  const server = new ApiServer(handler, { key: readFileSync(paths.serverKey), cert: readFileSync(paths.serverCert), usersFile: paths.users, accessLog: paths.access, log });
  await server.listen(plan.api.addresses, plan.api.port);

  const shutdown = async () => {
    server.close();
    monitor.stop();
    await kubelet.stopAll();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
  writeFileSync(paths.pid, `${process.pid}\n`);
  writeFileSync(paths.ready, `${plan.api.server}\n`);
  log(`serving ${plan.api.server} for lab "${plan.name}" (${plan.nodes.length} nodes)`);
}

// One request or one pod going wrong must not take the lab's API down with it: log, and serve on.
process.on('uncaughtException', (err) => log(`error: ${err.stack ?? err.message}`));
process.on('unhandledRejection', (err) => log(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));

main().catch((err: unknown) => {
  log(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
