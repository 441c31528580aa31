/**
 * The stand-in's object store: every object by resource, namespace and name, one resourceVersion counter
 * for the whole store (as etcd's revision), and a bounded history of changes that watches replay from.
 * Objects are copied in and out: nothing a caller holds can change what is stored.
 */
import { randomUUID } from 'node:crypto';
import { alreadyExists, conflict, notFound, STALE_OBJECT } from './status.js';
import { clone, type KObject } from './types.js';

export interface Change {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resource: string;
  object: KObject;
  /** the object before a MODIFIED or DELETED change */
  previous?: KObject;
}

/** RFC 3339 in seconds, as the API writes metav1.Time. */
export function timestamp(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function keyOf(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** Everything but metadata and status: a change there bumps metadata.generation. */
function specPart(o: KObject): string {
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (k !== 'metadata' && k !== 'status' && k !== 'kind' && k !== 'apiVersion') rest[k] = v;
  return JSON.stringify(rest);
}

function withoutVersion(o: KObject): string {
  return JSON.stringify({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } });
}

export class Store {
  private rv = 1;
  private readonly data = new Map<string, Map<string, KObject>>();
  private readonly history: Change[] = [];
  private readonly listeners = new Set<(c: Change) => void>();
  private readonly pending: Change[] = [];
  private delivering = false;

  constructor(private readonly historyLimit = 20_000) {}

  /** The store's current resourceVersion (a list's metadata.resourceVersion). */
  get resourceVersion(): string {
    return String(this.rv);
  }

  private table(resource: string): Map<string, KObject> {
    let t = this.data.get(resource);
    if (!t) this.data.set(resource, (t = new Map()));
    return t;
  }

  get(resource: string, namespace: string | undefined, name: string): KObject | undefined {
    const o = this.data.get(resource)?.get(keyOf(namespace, name));
    return o ? clone(o) : undefined;
  }

  /** Every object of a resource (in one namespace, or all), ordered by namespace and name. */
  list(resource: string, namespace?: string): KObject[] {
    const out = [...(this.data.get(resource)?.values() ?? [])].filter((o) => !namespace || o.metadata.namespace === namespace);
    return out.sort((a, b) => keyOf(a.metadata.namespace, a.metadata.name ?? '').localeCompare(keyOf(b.metadata.namespace, b.metadata.name ?? ''))).map(clone);
  }

  private record(change: Omit<Change, 'rv'>): Change {
    const c = { ...change, rv: this.rv };
    this.history.push(c);
    if (this.history.length > this.historyLimit) this.history.splice(0, this.history.length - this.historyLimit);
    // A listener that changes the store while being told of a change must not make others see the
    // second change before the first: changes are delivered in resourceVersion order.
    this.pending.push(c);
    if (!this.delivering) {
      this.delivering = true;
      try {
        for (let next = this.pending.shift(); next; next = this.pending.shift()) for (const l of [...this.listeners]) l(next);
      } finally {
        this.delivering = false;
      }
    }
    return c;
  }

  /** Store a new object: uid, creationTimestamp, generation and resourceVersion are the store's. */
  create(resource: string, obj: KObject): KObject {
    const name = obj.metadata.name ?? '';
    const t = this.table(resource);
    const key = keyOf(obj.metadata.namespace, name);
    if (t.has(key)) throw alreadyExists(resource, name);
    const stored = clone(obj);
    this.rv++;
    stored.metadata = {
      ...stored.metadata,
      uid: stored.metadata.uid ?? randomUUID(),
      resourceVersion: String(this.rv),
      creationTimestamp: stored.metadata.creationTimestamp ?? timestamp(),
      ...(resource === 'namespaces' || resource === 'events' || resource === 'configmaps' ? {} : { generation: 1 }),
    };
    t.set(key, stored);
    this.record({ type: 'ADDED', resource, object: stored });
    return clone(stored);
  }

  /**
   * Replace an object. With `expectVersion` (the client's metadata.resourceVersion) a stale write is a
   * 409 Conflict. An update that changes nothing is not a change: no new resourceVersion, no event.
   */
  update(resource: string, obj: KObject, expectVersion?: string): KObject {
    const name = obj.metadata.name ?? '';
    const t = this.table(resource);
    const key = keyOf(obj.metadata.namespace, name);
    const old = t.get(key);
    if (!old) throw notFound(resource, name);
    if (expectVersion && expectVersion !== old.metadata.resourceVersion) throw conflict(resource, name, STALE_OBJECT);
    const stored = clone(obj);
    // what only the server sets stays as it was
    stored.metadata = { ...stored.metadata, uid: old.metadata.uid, creationTimestamp: old.metadata.creationTimestamp, resourceVersion: old.metadata.resourceVersion };
    if (old.metadata.generation !== undefined) {
      stored.metadata.generation = specPart(stored) !== specPart(old) ? old.metadata.generation + 1 : old.metadata.generation;
    }
    if (withoutVersion(stored) === withoutVersion(old)) return clone(old);
    this.rv++;
    stored.metadata.resourceVersion = String(this.rv);
    t.set(key, stored);
    this.record({ type: 'MODIFIED', resource, object: stored, previous: old });
    return clone(stored);
  }

  /** Remove an object for good; the DELETED event carries it with a new resourceVersion. */
  remove(resource: string, namespace: string | undefined, name: string): KObject {
    const t = this.table(resource);
    const key = keyOf(namespace, name);
    const old = t.get(key);
    if (!old) throw notFound(resource, name);
    t.delete(key);
    this.rv++;
    const gone = { ...old, metadata: { ...old.metadata, resourceVersion: String(this.rv) } };
    this.record({ type: 'DELETED', resource, object: gone, previous: old });
    return clone(gone);
  }

  /** The changes after resourceVersion `rv`, or undefined when the history no longer reaches back that far. */
  changesSince(rv: number): Change[] | undefined {
    const first = this.history[0];
    if (first && rv < first.rv - 1) return undefined;
    if (!first && rv < this.rv) return rv === 0 ? [] : undefined;
    return this.history.filter((c) => c.rv > rv);
  }

  /** The oldest resourceVersion a watch can start from. */
  get oldestVersion(): number {
    return this.history[0] ? this.history[0].rv - 1 : this.rv;
  }

  subscribe(listener: (c: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
