/**
 * Lab fixtures for tests: start a lab through the real CLI, run commands on its nodes or its operator
 * namespace, and tear it down (call `down()` from the suite's after hook). Every address a test touches lives inside the lab's namespaces.
 */
import assert from 'node:assert/strict';
import { podnet } from './cli.js';
import { readLabPlan, labRun, type ExecTarget } from '../../src/lab/service.js';
import type { LabPlan } from '../../src/lab/topology.js';
import { nsInode, pidsInNamespaces, processName } from '../../src/lab/host.js';

export interface TestLab {
  plan: LabPlan;
  inventory: string;
  /** run argv on a node (inside its namespaces) */
  onNode(node: string, argv: string[], input?: string): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** run a shell script on a node */
  shOnNode(node: string, script: string): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** run argv in the operator namespace */
  onOperator(argv: string[], input?: string): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** how the diagnose helpers name the nodes: default ['-i', inventory] (SSH); ['--access', 'kube'] reads them from the lab's API */
  target?: string[];
  /** run podnet itself in the operator namespace */
  podnet(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  down(): Promise<void>;
}

export async function startLab(name: string, args: string[] = []): Promise<TestLab> {
  const up = await podnet(['lab', 'up', '--name', name, ...args]);
  assert.equal(up.exitCode, 0, `lab up failed: ${up.stderr}`);
  const plan = readLabPlan(name);
  let isDown = false;
  const run = (target: ExecTarget, argv: string[], input?: string) => labRun(plan, target, argv, { input, timeoutMs: 120_000 });
  const lab: TestLab = {
    plan,
    inventory: `${plan.dir}/inventory.yaml`,
    onNode: (node, argv, input) => run({ kind: 'node', node }, argv, input),
    shOnNode: (node, script) => run({ kind: 'node', node }, ['sh', '-s'], script),
    onOperator: (argv, input) => run({ kind: 'operator' }, argv, input),
    podnet: (args) => run({ kind: 'operator' }, ['podnet', ...args]),
    down: async () => {
      if (isDown) return;
      isDown = true;
      const r = await podnet(['lab', 'down', '--name', name]);
      assert.equal(r.exitCode, 0, `lab down failed: ${r.stderr}`);
    },
  };
  return lab;
}

/** Wait until `what` holds, asking every `everyMs`; fail with `why` after `ms`. */
export async function until(what: () => boolean | Promise<boolean>, why: string, ms = 30_000, everyMs = 250): Promise<void> {
  const t0 = Date.now();
  while (!(await what())) {
    if (Date.now() - t0 > ms) assert.fail(why);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Make a node unreachable over SSH: kill its sshd (start it again with startSshd). */
export function killSshd(lab: TestLab, node: string): void {
  const netns = lab.plan.nodes.find((n) => n.name === node)!.netns;
  const ino = nsInode(`/run/netns/${netns}`)!;
  for (const pid of pidsInNamespaces(new Set([ino]), new Set())) if (processName(pid) === 'sshd') process.kill(pid, 'SIGKILL');
}

export async function startSshd(lab: TestLab, node: string): Promise<void> {
  const s = await lab.onNode(node, ['/usr/sbin/sshd', '-f', '/etc/ssh/podnet-lab/sshd_config']);
  assert.equal(s.exitCode, 0, s.stderr);
}

/**
 * kubectl in the operator namespace of a lab started with `--api` (`lab exec` sets KUBECONFIG there to the
 * lab's kubeconfig, whose current context is the administrator; `--context NAME-viewer` reads only).
 */
export function labKubectl(lab: TestLab, args: string[], input?: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return lab.onOperator(['kubectl', ...args], input);
}
