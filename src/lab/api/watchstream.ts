/**
 * A watch as an HTTP stream: one JSON event per line (`{"type":…,"object":…}`), as Tables when kubectl
 * asked for them, BOOKMARKs every minute when allowed, until timeoutSeconds, an ERROR event, or the client
 * going away.
 */
import type { ApiResponse } from './request.js';
import type { Store } from './store.js';
import { toTable, type IncludeObject } from './tables.js';
import type { KObject } from './types.js';
import { bookmarkNow, openWatch, type WatchEvent, type WatchOptions } from './watch.js';

export function watchResponse(store: Store, opts: WatchOptions, table: IncludeObject | undefined, timeoutSeconds: number): ApiResponse {
  const typed = (o: KObject): KObject => ({ kind: opts.kind, apiVersion: opts.apiVersion, ...o });
  return {
    kind: 'stream',
    contentType: 'application/json',
    start: (out) => {
      let ended = false;
      let stop: () => void = () => undefined;
      const finish = () => {
        if (ended) return;
        ended = true;
        stop();
        clearTimeout(timer);
        clearInterval(bookmarks);
        out.end();
      };
      const send = (e: WatchEvent) => {
        if (ended) return;
        const o = e.object as KObject;
        const object = e.type === 'ERROR' ? e.object : table && e.type !== 'BOOKMARK' ? toTable(opts.resource, [typed(o)], String(o.metadata?.resourceVersion ?? ''), table) : typed(o);
        out.write(`${JSON.stringify({ type: e.type, object })}\n`);
        if (e.type === 'ERROR') finish();
      };
      const timer = setTimeout(finish, timeoutSeconds * 1000);
      const bookmarks = setInterval(() => opts.allowBookmarks && send(bookmarkNow(store, opts)), 60_000);
      stop = openWatch(store, opts, send);
      if (ended) stop();
      return finish;
    },
  };
}
