import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { textFlag } from '../../cli/flags.js';
import { validateLabName } from '../../lab/topology.js';

export default class LabSsh extends BaseCommand {
  static override summary = 'Open an SSH session to a lab node, from the operator namespace';
  static override strict = false;
  static override examples = ['<%= config.bin %> lab ssh node-1', '<%= config.bin %> lab ssh node-2 -- ip -j route'];
  static override args = { node: Args.string({ description: 'node name or address', required: true }) };
  static override flags = { name: textFlag({ description: 'lab name', default: 'lab', expected: 'the name of a lab', check: validateLabName }) };

  async run(): Promise<void> {
    const { args, flags, argv } = await this.parse(LabSsh);
    const { readLabPlan, labExecArgv, labExecEnv, findNode } = await import('../../lab/service.js');
    const plan = readLabPlan(flags.name);
    const node = findNode(plan, args.node);
    const rest = (argv as string[]).slice(1);
    const sshArgv = ['ssh', '-F', `${plan.dir}/ssh_config`, ...(rest.length ? [] : ['-t']), node.name, ...rest];
    const [file, ...a] = labExecArgv(plan, { kind: 'operator' }, sshArgv);
    const { execa } = await import('execa');
    const r = await execa(file!, a, { stdio: 'inherit', reject: false, env: labExecEnv() });
    process.exitCode = r.exitCode ?? 1;
  }
}
