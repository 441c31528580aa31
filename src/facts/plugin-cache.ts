/**
 * Boundary: podnet's cache file on the operator's machine. Asking a CNI plugin for its supported versions
 * (CNI_COMMAND=VERSION) starts a Go binary, 20-40 ms of node CPU each, on every command. The answer
 * depends only on the binary, so podnet remembers it per node, keyed by the binary's identity (path,
 * inode, size, mtime, ctime — any reinstall changes it), and sends the answers it knows with the facts
 * script, which asks only the binaries it does not recognise. Nothing is written on the nodes. The cache
 * is an optimisation only: an unreadable, foreign or corrupt file is ignored and replaced.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { NodeFacts } from './parse.js';
import { cacheable } from './gather.js';

const MAX_BYTES = 2 * 1024 * 1024;
const MAX_ENTRIES_PER_NODE = 64;

interface CacheFile {
  version: 1;
  /** node name → identity → raw VERSION answer */
  nodes: Record<string, Record<string, string>>;
}

export function defaultCachePath(): string {
  const base = process.env.XDG_CACHE_HOME && process.env.XDG_CACHE_HOME.startsWith('/') ? process.env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'podnet', 'cni-plugin-versions.json');
}

export class PluginVersionCache {
  private data: CacheFile = { version: 1, nodes: {} };
  private dirty = false;

  constructor(private readonly path: string | undefined = process.env.PODNET_NO_CACHE ? undefined : defaultCachePath()) {
    if (!path) return;
    try {
      const st = statSync(path);
      if (!st.isFile() || st.size > MAX_BYTES) return;
      const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<CacheFile>;
      if (raw.version !== 1 || typeof raw.nodes !== 'object' || raw.nodes === null) return;
      for (const [node, entries] of Object.entries(raw.nodes)) {
        if (typeof entries !== 'object' || entries === null) continue;
        const ok = Object.entries(entries).filter((e): e is [string, string] => typeof e[1] === 'string' && cacheable(e[0], e[1]));
        if (ok.length) this.data.nodes[node] = Object.fromEntries(ok.slice(-MAX_ENTRIES_PER_NODE));
      }
    } catch {
      /* no cache yet, or not usable: start empty */
    }
  }

  known(node: string): ReadonlyMap<string, string> {
    return new Map(Object.entries(this.data.nodes[node] ?? {}));
  }

  /** Remember the answers of the binaries a node reported (replacing what it had: stale binaries drop out). */
  remember(node: string, facts: NodeFacts): void {
    const fresh: Record<string, string> = {};
    for (const p of facts.plugins) if (p.key && p.answer && p.supportedVersions && cacheable(p.key, p.answer)) fresh[p.key] = p.answer;
    const before = JSON.stringify(this.data.nodes[node] ?? {});
    if (Object.keys(fresh).length) this.data.nodes[node] = fresh;
    else delete this.data.nodes[node];
    if (JSON.stringify(this.data.nodes[node] ?? {}) !== before) this.dirty = true;
  }

  /** Write the file if anything changed (atomically: a concurrent podnet reads the old or the new one). */
  save(): void {
    if (!this.path || !this.dirty) return;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      const tmp = `${this.path}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(this.data)}\n`, { mode: 0o600 });
      renameSync(tmp, this.path);
      this.dirty = false;
    } catch {
      /* a cache that cannot be written costs only time */
    }
  }
}
