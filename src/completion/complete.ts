/**
 * Shell completion computed from the oclif manifest (oclif.manifest.json), so it follows the commands as they change.
 * Pure: no I/O. The hidden `__complete` command and the kubectl plugin completer print the result in cobra's
 * protocol: one candidate a line (`value<TAB>description`), then `:<directive>`.
 */

/** Cobra's ShellCompDirective bits, as understood by cobra-style shell scripts and by kubectl. */
export const Directive = {
  DEFAULT: 0,
  ERROR: 1,
  NO_SPACE: 2,
  NO_FILE_COMP: 4,
  FILTER_FILE_EXT: 8,
  FILTER_DIRS: 16,
  KEEP_ORDER: 32,
} as const;

/** The parts of an oclif manifest flag that completion reads. */
export interface ManifestFlag {
  name: string;
  char?: string;
  aliases?: readonly string[];
  charAliases?: readonly string[];
  description?: string;
  summary?: string;
  type: 'boolean' | 'option';
  options?: readonly string[];
  multiple?: boolean;
  hidden?: boolean;
  allowNo?: boolean;
}

export interface ManifestArg {
  name: string;
  description?: string;
  options?: readonly string[];
  multiple?: boolean;
  hidden?: boolean;
}

export interface ManifestCommand {
  id?: string;
  summary?: string;
  description?: string;
  hidden?: boolean;
  aliases?: readonly string[];
  strict?: boolean;
  flags?: Record<string, ManifestFlag>;
  args?: Record<string, ManifestArg>;
}

export interface ManifestTopic {
  description?: string;
  hidden?: boolean;
}

/** An oclif manifest, plus the topics from package.json (the manifest itself has no topic descriptions). */
export interface CompletionManifest {
  commands: Record<string, ManifestCommand>;
  topics?: Record<string, ManifestTopic>;
}

export interface Candidate {
  value: string;
  description?: string;
}

export interface Completion {
  candidates: Candidate[];
  directive: number;
}

/** The protocol-level separator: callers put it before the words so oclif never sees them as its own flags. */
export const WORDS_SEPARATOR = '--';

const ROOT_FLAGS: Candidate[] = [
  { value: '--help', description: 'Show help' },
  { value: '--version', description: 'Show the version' },
];
const HELP_FLAG: Candidate = { value: '--help', description: 'Show help for this command' };

/**
 * Complete the last word of `words` (the command line after the program name; the last element is the word under
 * the cursor, '' when a new word is starting).
 */
export function complete(manifest: CompletionManifest, words: readonly string[]): Completion {
  const prior = words.slice(0, -1);
  const current = words.at(-1) ?? '';
  const tree = buildTree(manifest);

  // Walk the topics: `lab up` → lab:up.
  let path: string[] = [];
  let i = 0;
  for (; i < prior.length; i++) {
    const word = prior[i]!;
    if (word.startsWith('-')) break;
    const next = [...path, word].join(':');
    if (tree.topics.has(next) || tree.commands.has(next)) {
      const cmd = tree.commands.get(next);
      path = [...path, word];
      // A command that is also a topic keeps walking only into its children.
      if (cmd && !hasChild(tree, next, prior[i + 1])) {
        i++;
        break;
      }
      continue;
    }
    const aliased = tree.aliases.get(next);
    if (aliased) {
      path = aliased.split(':');
      i++;
      break;
    }
    return none();
  }
  const id = path.join(':');
  const command = tree.commands.get(id);

  if (!command) {
    if (i < prior.length) return none();
    if (current.startsWith('-')) return result(filterPrefix(id === '' ? ROOT_FLAGS : [HELP_FLAG], current));
    return result(filterPrefix(children(tree, id), current));
  }
  return completeCommand(tree, id, command, prior.slice(i), current);
}

function completeCommand(tree: Tree, id: string, command: ManifestCommand, rest: readonly string[], current: string): Completion {
  const flags = Object.values(command.flags ?? {});
  const byLong = new Map<string, ManifestFlag>();
  const byShort = new Map<string, ManifestFlag>();
  for (const f of flags) {
    byLong.set(f.name, f);
    for (const a of f.aliases ?? []) byLong.set(a, f);
    if (f.type === 'boolean' && f.allowNo) byLong.set(`no-${f.name}`, f);
    if (f.char) byShort.set(f.char, f);
    for (const c of f.charAliases ?? []) byShort.set(c, f);
  }
  const lookup = (word: string): ManifestFlag | undefined =>
    word.startsWith('--') ? byLong.get(word.slice(2)) : word.length === 2 ? byShort.get(word.slice(1)) : undefined;

  // Replay the words after the command: which flags were given, how many positional arguments, and whether the
  // word before the cursor is a flag waiting for its value.
  const used = new Set<string>();
  let positionals = 0;
  let pendingValue: ManifestFlag | undefined;
  let endOfFlags = false;
  for (const word of rest) {
    if (pendingValue) {
      pendingValue = undefined;
      continue;
    }
    if (endOfFlags || !word.startsWith('-') || word === '-') {
      positionals++;
      continue;
    }
    if (word === WORDS_SEPARATOR) {
      endOfFlags = true;
      continue;
    }
    const eq = word.indexOf('=');
    const flag = lookup(eq > 0 ? word.slice(0, eq) : word);
    if (!flag) continue;
    used.add(flag.name);
    if (flag.type === 'option' && eq < 0) pendingValue = flag;
  }

  if (pendingValue) return values(pendingValue.options, '', current);
  if (endOfFlags) return { candidates: [], directive: Directive.DEFAULT };

  if (current.startsWith('--') && current.includes('=')) {
    const eq = current.indexOf('=');
    const flag = lookup(current.slice(0, eq));
    if (!flag || flag.type !== 'option') return none();
    return values(flag.options, current.slice(0, eq + 1), current.slice(eq + 1));
  }

  if (current.startsWith('-')) {
    const candidates: Candidate[] = [];
    const long = current.startsWith('--') || current === '-';
    for (const f of flags) {
      if (f.hidden || (used.has(f.name) && !f.multiple)) continue;
      const description = firstLine(f.summary ?? f.description);
      if (long) {
        candidates.push({ value: `--${f.name}`, description });
        if (f.type === 'boolean' && f.allowNo) candidates.push({ value: `--no-${f.name}`, description });
      }
      if (f.char && !current.startsWith('--')) candidates.push({ value: `-${f.char}`, description });
    }
    if (long) candidates.push(HELP_FLAG);
    return result(filterPrefix(candidates, current));
  }

  const args = Object.values(command.args ?? {}).filter((a) => !a.hidden);
  const last = args.at(-1);
  const arg = args[positionals] ?? (last?.multiple ? last : undefined);
  if (arg?.options) return values(arg.options, '', current);
  if (arg || command.strict === false) return { candidates: [], directive: Directive.DEFAULT };
  // A topic that is also a command: its subcommands.
  return result(filterPrefix(children(tree, id), current));
}

interface Tree {
  commands: Map<string, ManifestCommand>;
  aliases: Map<string, string>;
  /** topic id → description */
  topics: Map<string, string | undefined>;
}

function buildTree(manifest: CompletionManifest): Tree {
  const commands = new Map<string, ManifestCommand>();
  const aliases = new Map<string, string>();
  const topics = new Map<string, string | undefined>();
  const hiddenTopics = new Set(
    Object.entries(manifest.topics ?? {})
      .filter(([, t]) => t.hidden)
      .map(([name]) => name.replaceAll(' ', ':')),
  );
  for (const [key, cmd] of Object.entries(manifest.commands)) {
    const id = key;
    commands.set(id, cmd);
    for (const a of cmd.aliases ?? []) aliases.set(a.replaceAll(' ', ':'), id);
    const parts = id.split(':');
    for (let n = 1; n < parts.length; n++) {
      const topic = parts.slice(0, n).join(':');
      if (!topics.has(topic)) topics.set(topic, undefined);
    }
  }
  for (const [name, t] of Object.entries(manifest.topics ?? {})) {
    const id = name.replaceAll(' ', ':');
    if (topics.has(id)) topics.set(id, firstLine(t.description));
  }
  for (const h of hiddenTopics) topics.delete(h);
  return { commands, aliases, topics };
}

function hasChild(tree: Tree, id: string, word: string | undefined): boolean {
  if (word === undefined || word.startsWith('-')) return false;
  const child = `${id}:${word}`;
  return tree.commands.has(child) || tree.topics.has(child);
}

/** The visible topics and commands one level under `parent` ('' for the root). */
function children(tree: Tree, parent: string): Candidate[] {
  const prefix = parent === '' ? '' : `${parent}:`;
  const out = new Map<string, Candidate>();
  const isChild = (id: string) => id.startsWith(prefix) && id.length > prefix.length && !id.slice(prefix.length).includes(':');
  for (const [id, description] of tree.topics) {
    if (isChild(id) && visibleTopic(tree, id)) out.set(id, { value: id.slice(prefix.length), description });
  }
  for (const [id, cmd] of tree.commands) {
    if (!isChild(id) || cmd.hidden || out.has(id)) continue;
    out.set(id, { value: id.slice(prefix.length), description: firstLine(cmd.summary ?? cmd.description) });
  }
  return [...out.values()];
}

/** A topic is shown only if some visible command lives under it. */
function visibleTopic(tree: Tree, topic: string): boolean {
  for (const [id, cmd] of tree.commands) if (id.startsWith(`${topic}:`) && !cmd.hidden) return true;
  return false;
}

function values(options: readonly string[] | undefined, prefix: string, current: string): Completion {
  // A free-form value: let the shell complete file names (an inventory, a kubeconfig …).
  if (!options) return { candidates: [], directive: Directive.DEFAULT };
  return result(filterPrefix(options.map((o) => ({ value: `${prefix}${o}` })), `${prefix}${current}`));
}

function filterPrefix(candidates: Candidate[], current: string): Candidate[] {
  return candidates.filter((c) => c.value.startsWith(current)).sort((a, b) => compare(a.value, b.value));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function result(candidates: Candidate[]): Completion {
  return { candidates: candidates.map(clean), directive: Directive.NO_FILE_COMP };
}

function none(): Completion {
  return { candidates: [], directive: Directive.NO_FILE_COMP };
}

function clean(c: Candidate): Candidate {
  return c.description ? { value: c.value, description: c.description } : { value: c.value };
}

function firstLine(text: string | undefined): string | undefined {
  const line = text?.split('\n')[0]?.replace(/\s+/g, ' ').trim();
  return line ? line : undefined;
}

/** Cobra's wire format: `value<TAB>description` lines, then `:<directive>`. */
export function formatCompletion(c: Completion): string {
  const lines = c.candidates.map((x) => (x.description ? `${x.value}\t${x.description}` : x.value));
  return `${[...lines, `:${c.directive}`].join('\n')}\n`;
}
