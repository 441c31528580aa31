import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { textFlag } from '../../cli/flags.js';
import { validateLabName } from '../../lab/topology.js';

export default class LabDown extends BaseCommand {
  static override summary = 'Remove a lab and everything it created';
  static override description = `Kills the lab's processes, deletes its namespaces, unmounts and removes its files. Finds leftovers of a crashed run by name. Idempotent: removing a lab that is gone succeeds.`;

  static override examples = ['<%= config.bin %> lab down', '<%= config.bin %> lab down --name big', '<%= config.bin %> lab down --all'];

  static override flags = {
    name: textFlag({ description: 'lab name', default: 'lab', expected: 'the name of a lab', check: validateLabName }),
    all: Flags.boolean({ description: 'remove every lab on this machine', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(LabDown);
    const { labDown, listLabs } = await import('../../lab/service.js');
    const { describeNeighChange } = await import('../../lab/neigh.js');
    const names = flags.all ? listLabs().map((l) => l.name) : [flags.name];
    const results: Awaited<ReturnType<typeof labDown>>[] = [];
    for (const n of names) results.push(await labDown(n));
    await this.emit('LabDown', { labs: results }, () =>
      results
        .map((r) =>
          r.existed
            ? `lab "${r.name}" removed: ${r.removedNetns.length} namespaces, ${r.killedProcesses} processes, ${r.removedMounts} mounts\n${r.hostChanges.map((c) => `restored ${describeNeighChange(c)}\n`).join('')}`
            : `lab "${r.name}" does not exist; nothing to do\n`,
        )
        .join('') || 'no labs\n',
    );
  }
}
