import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BaseCommand } from '../cli/base-command.js';
import { complete, Directive, formatCompletion, WORDS_SEPARATOR, type CompletionManifest } from '../completion/complete.js';

/**
 * The shell-completion callback, in cobra's protocol: `podnet __complete -- WORDS… CURRENT` prints one candidate a
 * line (`value<TAB>description`) and then `:<directive>`. The completion scripts and kubectl_complete-podnet call it.
 */
export default class Complete extends BaseCommand {
  static override hidden = true;
  static override strict = false;
  static override summary = 'Print shell-completion candidates for a command line (used by the completion scripts)';
  static override usage = '__complete -- [WORDS...] CURRENT';

  async run(): Promise<void> {
    // The scripts pass `--` first so that oclif does not act on the words (`--help`, `--version`).
    const words = this.argv[0] === WORDS_SEPARATOR ? this.argv.slice(1) : this.argv;
    let out: string;
    try {
      out = formatCompletion(complete({ ...(await this.manifest()), topics: this.config.pjson.oclif.topics }, words));
    } catch {
      out = `:${Directive.ERROR}\n`;
    }
    process.stdout.write(out);
  }

  /** oclif.manifest.json; without one (running from source), the commands oclif found itself. */
  private async manifest(): Promise<CompletionManifest> {
    try {
      return JSON.parse(await readFile(join(this.config.root, 'oclif.manifest.json'), 'utf8')) as CompletionManifest;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return { commands: Object.fromEntries(this.config.commands.map((c) => [c.id, c as CompletionManifest['commands'][string]])) };
    }
  }
}
