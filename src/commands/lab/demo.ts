import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { integerFlag, textFlag } from '../../cli/flags.js';
import { MAX_NODES_PER_SEGMENT, planLab, validateLabName } from '../../lab/topology.js';
import { logErr, paint } from '../../cli/output.js';
import { ChecksFailed, UserError } from '../../util/errors.js';

export default class LabDemo extends BaseCommand {
  static override summary = 'Build a lab, bootstrap its pod network, check and prove it, tear it down';
  static override description =
    'The first thing to run: starts a lab of simulated nodes, runs podnet up from the lab\'s operator namespace, then podnet doctor and podnet probe, shows the results and removes the lab again (also when a step fails or you press Ctrl-C). Needs root.';
  static override examples = ['<%= config.bin %> lab demo', '<%= config.bin %> lab demo --nodes 4 --topology routed', '<%= config.bin %> lab demo --keep'];
  static override flags = {
    nodes: integerFlag({ char: 'n', description: 'number of nodes', default: 3, expected: `a whole number of nodes (1 to ${MAX_NODES_PER_SEGMENT} per segment)` }),
    topology: Flags.string({ char: 't', description: 'flat or routed', options: ['flat', 'routed'], default: 'flat' }),
    name: textFlag({ description: 'lab name', default: 'demo', expected: 'a lab name: 1-10 lowercase letters or digits, starting with a letter', check: validateLabName }),
    keep: Flags.boolean({ description: 'keep the lab running afterwards', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(LabDemo);
    if (this.jsonMode) throw new UserError('lab demo is for people: run lab up, up, doctor and probe with --json for machine output');
    const opts = { name: flags.name, nodes: flags.nodes, topology: flags.topology as 'flat' | 'routed', mtu: 1500 };
    // Bad values are refused before anything runs: the cleanup below removes the lab by its name.
    planLab(opts);
    const { labUp, labDown, labExists, readLabPlan, labExecArgv, labExecEnv } = await import('../../lab/service.js');
    // A lab of that name that was there before is not the demo's to remove (lab up refuses it below).
    const preexisting = labExists(flags.name);
    const { execa } = await import('execa');
    const bin = this.binName;
    const step = (n: number, text: string) => process.stdout.write(`\n${paint(`[${n}/4]`, 'bold')} ${text}\n`);
    const inLab = async (args: string[]) => {
      const [file, ...a] = labExecArgv(readLabPlan(flags.name), { kind: 'operator' }, ['podnet', ...args]);
      process.stdout.write(paint(`$ ${bin} lab exec --name ${flags.name} -- podnet ${args.join(' ')}\n`, 'dim'));
      const r = await execa(file!, a, { stdio: 'inherit', reject: false, env: labExecEnv() });
      return r.exitCode ?? 1;
    };
    const cleanup = async () => {
      if (flags.keep || preexisting) return;
      await labDown(flags.name).catch(() => undefined);
    };
    const onSignal = () => {
      logErr('\ninterrupted: removing the lab …');
      void cleanup().finally(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    const failed: string[] = [];
    try {
      step(1, `Starting a ${flags.topology} lab of ${flags.nodes} simulated nodes ("${flags.name}") …`);
      const info = await labUp(opts);
      process.stdout.write(`${info.nodes.map((n) => `  ${n.name}  ${n.ip}  sshd ${n.sshd}`).join('\n')}\n  inventory: ${info.inventory}\n`);
      step(2, 'Bootstrapping the pod network over SSH (podnet up) …');
      if ((await inLab(['up', '-i', info.inventory])) !== 0) failed.push('up');
      step(3, 'Checking every node for known failure modes (podnet doctor) …');
      if ((await inLab(['doctor', '-i', info.inventory])) !== 0) failed.push('doctor');
      step(4, 'Proving connectivity with real traffic: pod↔pod, node→pod, hostNetwork→pod, hostPort, MTU (podnet probe) …');
      if ((await inLab(['probe', '-i', info.inventory])) !== 0) failed.push('probe');
    } finally {
      process.off('SIGINT', onSignal);
      await cleanup();
    }
    process.stdout.write(
      flags.keep
        ? `\nThe lab is still running: ${bin} lab ssh node-1 --name ${flags.name}; remove it with ${bin} lab down --name ${flags.name}\n`
        : `\nLab "${flags.name}" removed.\n`,
    );
    if (failed.length) throw new ChecksFailed(`the demo found problems in: ${failed.join(', ')}`);
    process.stdout.write(`${paint('✔', 'green')} The Kubernetes network model holds on all ${flags.nodes} nodes: every pod reaches every pod without NAT, nodes reach pods, hostPorts forward.\n`);
  }
}
