/**
 * The kubelet's view of its node: one small anchor process per node, parked in the node's network, mount
 * and UTS namespaces, through whose /proc/PID/root the node's own files are read without spawning
 * anything per check. Every second each node's CNI config directory decides its Ready condition (and
 * not-ready taint), as a real container runtime's "NetworkReady" does.
 *
 * The anchor lives in the node's PID namespace (render.ts nodePidNsFile: a lab with the API gives each
 * node one, whose PID 1 is the node's init), which hostPID pods join: `nsenter -t 1` from such a pod
 * enters the node's namespaces — as on a real node — and never the host's. The anchors exit when the
 * API server does (their stdin closes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { nsInode } from '../host.js';
import { nodeMountNsFile, nodePidNsFile, nodeUtsNsFile } from '../render.js';
import type { LabHost, LabPlan } from '../topology.js';
import { hasCniConfig, withReadiness } from './nodes.js';
import type { Store } from './store.js';
import { timestamp } from './store.js';
import type { NodeObject } from './types.js';

export const CNI_CONF_DIR = '/etc/cni/net.d';

export class NodeMonitor {
  private readonly anchors = new Map<string, ChildProcess>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly plan: LabPlan,
    private readonly store: Store,
    private readonly intervalMs = 1000,
  ) {}

  /** Park an anchor in every node and wait until each is inside its node's mount namespace. */
  async start(): Promise<void> {
    for (const n of this.plan.nodes) {
      const child = spawn(
        '/usr/bin/nsenter',
        [`--net=/run/netns/${n.netns}`, `--mount=${nodeMountNsFile(this.plan, n)}`, `--uts=${nodeUtsNsFile(this.plan, n)}`, `--pid=${nodePidNsFile(this.plan, n)}`, '--', '/bin/sh', '-c', 'read -r _ || :'],
        { stdio: ['pipe', 'ignore', 'ignore'] },
      );
      child.on('error', () => undefined);
      this.anchors.set(n.name, child);
    }
    const t0 = Date.now();
    for (const n of this.plan.nodes) {
      const want = nsInode(nodeMountNsFile(this.plan, n));
      const pid = this.anchors.get(n.name)!.pid;
      // in the node's mount namespace, with its child (in the node's PID namespace) started
      while (nsInode(`/proc/${pid}/ns/mnt`) !== want || !this.childOf(pid)) {
        if (Date.now() - t0 > 10_000) throw new Error(`could not enter node ${n.name}'s mount namespace`);
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  }

  private childOf(pid: number | undefined): number | undefined {
    try {
      const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
      return first ? Number(first) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The node's PID namespace for hostPID pods (its init is the node's, in the node's namespaces). */
  pidNamespaceFile(node: LabHost): string {
    return nodePidNsFile(this.plan, node);
  }

  /** Whether the node's container runtime would find a CNI config (undefined: the node cannot be read). */
  networkReady(node: LabHost): boolean | undefined {
    const pid = this.anchors.get(node.name)?.pid;
    if (pid === undefined) return undefined;
    try {
      return hasCniConfig(readdirSync(`/proc/${pid}/root${CNI_CONF_DIR}`));
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ENOENT' ? false : undefined;
    }
  }

  /** Update each Node's Ready condition now, and then every interval. */
  watch(): void {
    this.check();
    this.timer = setInterval(() => this.check(), this.intervalMs);
    this.timer.unref();
  }

  check(): void {
    for (const n of this.plan.nodes) {
      const ready = this.networkReady(n);
      if (ready === undefined) continue;
      const cur = this.store.get('nodes', undefined, n.name) as NodeObject | undefined;
      if (!cur) continue;
      const next = withReadiness(cur, ready, timestamp());
      if (next !== cur) this.store.update('nodes', next);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const a of this.anchors.values()) a.kill('SIGKILL');
  }
}
