// Events expire as kube-apiserver's do: each write of an Event gives it `--event-ttl` more (an etcd
// lease per write), then it is deleted and watches see DELETED. One timer, for the oldest: the TTL
// is the same for all, so writes arrive in expiry order and a queue is enough.
import type { ApiObjectStore } from './store.js';

/** kube-apiserver's default `--event-ttl`. */
export const DEFAULT_EVENT_TTL_MS = 60 * 60 * 1000;

interface Lease {
  namespace: string | undefined;
  name: string;
  expires: number;
}

/** Deletes each Event `ttlMs` after its last write; returns the function that stops it. */
export function expireEvents(store: ApiObjectStore, ttlMs: number): () => void {
  // The latest lease per Event, and every lease in the order it was granted (older ones of a
  // rewritten Event are skipped when they come up).
  const latest = new Map<string, Lease>();
  const queue: Lease[] = [];
  let head = 0;
  let timer: NodeJS.Timeout | undefined;
  const keyOf = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`;

  const arm = (): void => {
    if (timer || head >= queue.length) return;
    timer = setTimeout(expire, Math.max(0, queue[head]!.expires - Date.now()));
    // A cluster kept up by its API server, not by its Events' clock.
    timer.unref();
  };

  const expire = (): void => {
    timer = undefined;
    const now = Date.now();
    while (head < queue.length && queue[head]!.expires <= now) {
      const lease = queue[head++]!;
      const key = keyOf(lease.namespace, lease.name);
      if (latest.get(key) !== lease) continue;
      latest.delete(key);
      store.remove('events', lease.namespace, lease.name);
    }
    // Drop what was consumed once it is most of the queue, so it does not grow for ever.
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    arm();
  };

  const unsubscribe = store.subscribe((event) => {
    if (event.resource !== 'events') return;
    const { namespace, name } = event.object.metadata;
    const key = keyOf(namespace, name);
    if (event.type === 'DELETED') {
      latest.delete(key);
      return;
    }
    const lease: Lease = { namespace, name, expires: Date.now() + ttlMs };
    latest.set(key, lease);
    queue.push(lease);
    arm();
  });

  return () => {
    unsubscribe();
    clearTimeout(timer);
    timer = undefined;
  };
}
