import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { textFlag } from '../../cli/flags.js';
import { validateLabName } from '../../lab/topology.js';
import { UserError } from '../../util/errors.js';

export default class LabExec extends BaseCommand {
  static override summary = "Run a command in the lab's operator namespace, or on one node";
  static override description = `Without --node the command runs in the operator namespace, which sits on the lab's underlay and reaches every node over SSH: this is where podnet itself runs against the lab. With --node it runs inside that node (its network and mount namespaces), like a root shell on the machine.`;

  static override strict = false;
  static override examples = [
    '<%= config.bin %> lab exec -- <%= config.bin %> up -i /run/podnet/labs/lab/inventory.yaml',
    '<%= config.bin %> lab exec --node node-2 -- ip -br addr',
  ];

  static override args = { command: Args.string({ description: 'command and arguments, after --', required: true }) };
  static override flags = {
    name: textFlag({ description: 'lab name', default: 'lab', expected: 'the name of a lab', check: validateLabName }),
    node: textFlag({ description: 'run on this node instead of the operator namespace', expected: 'the name of a node of the lab' }),
  };

  async run(): Promise<void> {
    const { flags, raw } = await this.parse(LabExec);
    // The parser's argv moves a second `--` (`lab exec -- kubectl exec POD -- sh`) to the front; its raw
    // tokens keep the command as it was typed.
    const command = raw.filter((t) => t.type === 'arg').map((t) => t.input);
    if (command.length === 0) throw new UserError('expected a command after --, e.g. podnet lab exec -- ip -br addr');
    const { readLabPlan, labExecArgv, labExecEnv } = await import('../../lab/service.js');
    const plan = readLabPlan(flags.name);
    const [file, ...args] = labExecArgv(plan, flags.node ? { kind: 'node', node: flags.node } : { kind: 'operator' }, command);
    const { execa } = await import('execa');
    const r = await execa(file!, args, { stdio: 'inherit', reject: false, env: labExecEnv() });
    process.exitCode = r.exitCode ?? 1;
  }
}
