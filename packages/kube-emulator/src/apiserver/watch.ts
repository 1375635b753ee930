// Watches as kube-apiserver serves them (handlers/watch.go, cacher): newline-delimited JSON
// events flushed one by one, replay from a resourceVersion, bookmarks on request, 410 Expired as
// an ERROR event on HTTP 200, and a clean close at timeoutSeconds.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../contracts.js';
import type { ApiObjectStore, RecordedEvent } from './store.js';
import { expired } from './status.js';

/** What one watch wants. */
export interface WatchSpec {
  resource: string;
  kind: string;
  apiVersion: string;
  namespace?: string;
  /** Whether an object is visible to this watch (selectors). */
  matches(object: KubeObject): boolean;
  /** The `resourceVersion` query parameter (undefined when absent). */
  resourceVersion: string | undefined;
  allowBookmarks: boolean;
  timeoutSeconds: number | undefined;
  /** Converts an object before it is written (e.g. to a Table); identity by default. */
  render?: (object: KubeObject, type: string) => unknown;
}

/** The watches currently open, so faults and restarts can end them. */
export interface WatchRegistry {
  /** Ends every open watch (the client sees a clean end of stream). */
  closeAll(): void;
  /** How many watches are open now. */
  count(): number;
}

/** Serves watches against a store. */
export interface WatchServer extends WatchRegistry {
  serve(spec: WatchSpec, req: IncomingMessage, res: ServerResponse): void;
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** Creates the watch server. `bookmarkIntervalMs` paces BOOKMARK events (default one minute, like the cacher). */
export function createWatchServer(store: ApiObjectStore, bookmarkIntervalMs = 60_000): WatchServer {
  const open = new Set<() => void>();

  return {
    closeAll() {
      for (const close of [...open]) close();
    },
    count() {
      return open.size;
    },
    serve(spec, req, res) {
      const write = (type: EventType, object: unknown): void => {
        if (res.writableEnded || res.destroyed) return;
        res.write(`${JSON.stringify({ type, object })}\n`);
      };
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Transfer-Encoding': 'chunked',
        'Cache-Control': 'no-cache, private',
      });
      res.socket?.setNoDelay(true);
      res.flushHeaders();

      const inScope = (o: KubeObject): boolean =>
        spec.namespace === undefined || spec.namespace === '' || o.metadata.namespace === spec.namespace;
      const visible = (o: KubeObject | undefined): boolean => !!o && inScope(o) && spec.matches(o);
      const render = (o: KubeObject, type: string): unknown => (spec.render ? spec.render(o, type) : o);
      let lastRevision = 0;
      const deliver = (event: RecordedEvent): void => {
        if (event.revision <= lastRevision) return;
        lastRevision = event.revision;
        if (event.resource !== spec.resource) return;
        const now = visible(event.object);
        if (event.type === 'MODIFIED') {
          // A change that moves an object into or out of the selector is ADDED or DELETED for this watch.
          const before = visible(event.previous);
          if (now && !before) write('ADDED', render(event.object, 'ADDED'));
          else if (!now && before) write('DELETED', render(event.object, 'DELETED'));
          else if (now) write('MODIFIED', render(event.object, 'MODIFIED'));
          return;
        }
        if (now) write(event.type, render(event.object, event.type));
      };

      const rv = spec.resourceVersion;
      if (rv !== undefined && rv !== '' && rv !== '0') {
        const from = Number(rv);
        if (!Number.isInteger(from) || from < 0) {
          write('ERROR', expired(`too old resource version: ${rv} (${store.currentResourceVersion()})`));
          res.end();
          return;
        }
        const history = store.eventsSince(from);
        if (history.expired) {
          write('ERROR', expired(`too old resource version: ${from} (${history.oldest})`));
          res.end();
          return;
        }
        for (const event of history.events) deliver(event);
      } else {
        lastRevision = store.currentResourceVersion();
        for (const object of store.list(spec.resource, spec.namespace || undefined)) {
          if (spec.matches(object)) write('ADDED', render(object, 'ADDED'));
        }
      }
      // Replay and subscription happen in the same synchronous turn, so no change falls between.
      const unsubscribe = store.subscribe(deliver);

      const timers: NodeJS.Timeout[] = [];
      if (spec.allowBookmarks) {
        const bookmark = setInterval(() => {
          write('BOOKMARK', {
            kind: spec.kind,
            apiVersion: spec.apiVersion,
            metadata: { resourceVersion: String(store.currentResourceVersion()) },
          });
        }, bookmarkIntervalMs);
        timers.push(bookmark);
      }
      // Without timeoutSeconds the server picks 30-60 minutes (minRequestTimeout × [1,2)).
      const timeoutMs = spec.timeoutSeconds ? spec.timeoutSeconds * 1000 : (1800 + Math.random() * 1800) * 1000;
      timers.push(setTimeout(() => close(), timeoutMs));

      const close = (): void => {
        if (!open.delete(close)) return;
        unsubscribe();
        for (const t of timers) clearTimeout(t);
        if (!res.writableEnded) res.end();
      };
      open.add(close);
      req.on('close', close);
      res.on('close', close);
    },
  };
}
