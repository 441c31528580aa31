import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Args } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { renderScript, SHELLS, type Shell } from '../completion/render.js';

export default class Completion extends BaseCommand {
  static override summary = 'Print the shell completion script for bash, zsh or fish (or kubectl plugin completion)';
  static override description = `The script asks podnet for the candidates at each <TAB>, so it keeps up with upgrades. The same scripts ship in the package's completions/ directory.

For \`kubectl podnet\` (kubectl 1.26 or later), install the "kubectl" script as an executable named kubectl_complete-podnet on PATH.`;

  static override examples = [
    'source <(<%= config.bin %> completion bash)',
    '<%= config.bin %> completion bash > ~/.local/share/bash-completion/completions/podnet',
    '<%= config.bin %> completion zsh > "${fpath[1]}/_podnet"',
    '<%= config.bin %> completion fish > ~/.config/fish/completions/podnet.fish',
    '<%= config.bin %> completion kubectl > ~/.local/bin/kubectl_complete-podnet && chmod +x ~/.local/bin/kubectl_complete-podnet',
  ];

  static override args = {
    shell: Args.string({ description: 'the shell', options: [...SHELLS], required: true }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(Completion);
    const shell = args.shell as Shell;
    // The binary the scripts complete, as package.json names it (the kubectl entry point renames config.bin).
    const pjson = JSON.parse(await readFile(join(this.config.root, 'package.json'), 'utf8')) as { oclif?: { bin?: string } };
    const script = renderScript(shell, pjson.oclif?.bin ?? this.config.name);
    await this.emit('CompletionScript', { shell, script }, () => script);
  }
}
