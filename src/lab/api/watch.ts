/**
 * Watch bookkeeping: what one watcher sees of the store's changes. A watch starts from a resourceVersion
 * (replaying the history after it, or 410 Expired when that is gone), or from "now" with a synthetic
 * ADDED per existing object; with a selector, an object that starts matching is ADDED and one that stops
 * matching is DELETED, as the real API does.
 */
import type { Change, Store } from './store.js';
import { gone, type StatusBody } from './status.js';
import type { KObject } from './types.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: KObject | StatusBody;
}

export type ObjectFilter = (o: KObject) => boolean;

/** The event a watcher with `filter` sees for a change, if any. */
export function eventFor(change: Change, filter: ObjectFilter): WatchEvent | undefined {
  const now = filter(change.object);
  if (change.type === 'ADDED') return now ? { type: 'ADDED', object: change.object } : undefined;
  const before = change.previous ? filter(change.previous) : false;
  if (change.type === 'DELETED') return before || now ? { type: 'DELETED', object: change.object } : undefined;
  if (before && now) return { type: 'MODIFIED', object: change.object };
  if (now) return { type: 'ADDED', object: change.object };
  if (before) return { type: 'DELETED', object: change.object };
  return undefined;
}

export interface WatchOptions {
  resource: string;
  kind: string;
  apiVersion: string;
  namespace?: string;
  filter: ObjectFilter;
  /** the client's resourceVersion: "", "0" or a version it has seen */
  resourceVersion?: string;
  sendInitialEvents?: boolean;
  allowBookmarks?: boolean;
}

export const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

function bookmark(opts: WatchOptions, rv: string, initialEnd: boolean): WatchEvent {
  return {
    type: 'BOOKMARK',
    object: { kind: opts.kind, apiVersion: opts.apiVersion, metadata: { resourceVersion: rv, ...(initialEnd ? { annotations: { [INITIAL_EVENTS_END]: 'true' } } : {}) } },
  };
}

/**
 * Start a watch: emits the initial or replayed events synchronously, then every matching change until the
 * returned stop function is called. A resourceVersion older than the history emits one ERROR event (410)
 * and nothing else.
 */
export function openWatch(store: Store, opts: WatchOptions, emit: (e: WatchEvent) => void): () => void {
  const inScope = (o: KObject) => (!opts.namespace || o.metadata.namespace === opts.namespace) && opts.filter(o);
  const rvText = opts.resourceVersion ?? '';
  if (rvText !== '' && !/^\d+$/.test(rvText)) {
    emit({ type: 'ERROR', object: gone(`invalid resource version: ${rvText}`).body });
    return () => undefined;
  }
  const fromNow = rvText === '' || rvText === '0' || opts.sendInitialEvents === true;
  if (fromNow) {
    for (const o of store.list(opts.resource, opts.namespace)) if (opts.filter(o)) emit({ type: 'ADDED', object: o });
    if (opts.sendInitialEvents && opts.allowBookmarks) emit(bookmark(opts, store.resourceVersion, true));
  } else {
    const replay = store.changesSince(Number(rvText));
    if (!replay) {
      emit({ type: 'ERROR', object: gone(`too old resource version: ${rvText} (${store.oldestVersion})`).body });
      return () => undefined;
    }
    for (const c of replay) {
      if (c.resource !== opts.resource) continue;
      const e = eventFor(c, inScope);
      if (e) emit(e);
    }
  }
  return store.subscribe((c) => {
    if (c.resource !== opts.resource) return;
    const e = eventFor(c, inScope);
    if (e) emit(e);
  });
}

/** A BOOKMARK event at the store's current version (sent periodically to watchers that allow them). */
export function bookmarkNow(store: Store, opts: WatchOptions): WatchEvent {
  return bookmark(opts, store.resourceVersion, false);
}
