// The in-memory cluster state: one global revision counter like etcd's, and a bounded history of
// changes so that watches can resume from a resourceVersion until it is compacted away.
import { randomUUID } from 'node:crypto';
import { StoreConflictError } from '../contracts.js';
import type { KubeObject, ObjectStore, StoreEvent } from '../contracts.js';

/** A store change with its revision, as kept in the history ring. */
export interface RecordedEvent extends StoreEvent {
  revision: number;
  /** For MODIFIED: the object before the change (watches use it to filter by selector). */
  previous?: KubeObject;
}

/** What a watch from an old resourceVersion can be given. */
export type HistoryResult = { expired: false; events: RecordedEvent[] } | { expired: true; oldest: number };

/** The API server's view of the store: the node contract plus history for watches. */
export interface ApiObjectStore extends ObjectStore {
  /**
   * The events after `revision`, in order; `expired` when some of them are no longer retained
   * (or were expired by the fault API), which the watch answers with 410 Expired.
   */
  eventsSince(revision: number): HistoryResult;
  /** Makes every revision up to now too old to watch from (the expireResourceVersions fault). */
  expireAll(): void;
  /** Like ObjectStore.subscribe, with each event's revision and previous state. */
  subscribe(listener: (event: RecordedEvent) => void): () => void;
  /** Removes every object and listener (used at cluster stop). */
  clear(): void;
}

/** Options of {@link createObjectStore}. */
export interface ObjectStoreOptions {
  /** How many changes are retained for watch-from-resourceVersion (default 2000). */
  historySize?: number;
  /** First resourceVersion handed out (default 1). */
  initialRevision?: number;
}

const key = (namespace: string | undefined, name: string): string => `${namespace ?? ''}\u0000${name}`;

const generatedSuffixAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** Five characters from the alphabet kube-apiserver uses for generateName suffixes. */
export function randomNameSuffix(): string {
  let out = '';
  for (let i = 0; i < 5; i++) {
    out += generatedSuffixAlphabet[Math.floor(Math.random() * generatedSuffixAlphabet.length)];
  }
  return out;
}

/** Kubernetes timestamps have second precision on the wire (RFC3339, `Z`). */
export function kubeTimestamp(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Creates an empty in-memory object store. Every object handed in or out is a deep copy, so
 * callers can never mutate stored state behind the store's back.
 */
export function createObjectStore(options: ObjectStoreOptions = {}): ApiObjectStore {
  const historySize = options.historySize ?? 2000;
  // One table per resource, so a list walks its own objects only (not every Event ever recorded).
  const tables = new Map<string, Map<string, KubeObject>>();
  const table = (resource: string): Map<string, KubeObject> => {
    let found = tables.get(resource);
    if (!found) tables.set(resource, (found = new Map()));
    return found;
  };
  const listeners = new Set<(event: RecordedEvent) => void>();
  const history: RecordedEvent[] = [];
  const queue: RecordedEvent[] = [];
  let dispatching = false;
  let revision = options.initialRevision ?? 1;
  // Watches from a revision below this floor get 410 even if history still holds the events.
  let expiredBelow = revision;

  const emit = (
    type: StoreEvent['type'],
    resource: string,
    object: KubeObject,
    rev: number,
    previous?: KubeObject,
  ): void => {
    const event: RecordedEvent = { type, resource, object: structuredClone(object), revision: rev };
    if (previous) event.previous = previous;
    // Shared by every listener and the history: frozen so a listener that mutates it fails loudly.
    deepFreeze(event);
    history.push(event);
    if (history.length > historySize) history.splice(0, history.length - historySize);
    queue.push(event);
    if (dispatching) return;
    // A listener that writes (controllers, the node) queues its events behind the current one,
    // so every listener sees every change in resourceVersion order.
    dispatching = true;
    try {
      for (let next = queue.shift(); next; next = queue.shift()) {
        for (const listener of [...listeners]) {
          try {
            listener(next);
          } catch (error) {
            // One broken subscriber must not stop the others or the writer, but it must be seen.
            process.emitWarning(
              `[podrun] [kube-emulator] a store subscriber failed on ${next.type} ${next.resource}: ${(error as Error)?.stack ?? String(error)}`,
            );
          }
        }
      }
    } finally {
      dispatching = false;
    }
  };

  const store: ApiObjectStore = {
    get(resource, namespace, name) {
      const found = tables.get(resource)?.get(key(namespace, name));
      return found ? structuredClone(found) : undefined;
    },

    identity(resource, namespace, name) {
      const found = tables.get(resource)?.get(key(namespace, name));
      return found ? { uid: found.metadata.uid!, resourceVersion: found.metadata.resourceVersion! } : undefined;
    },

    list(resource, namespace) {
      const out: KubeObject[] = [];
      for (const object of tables.get(resource)?.values() ?? []) {
        if (namespace !== undefined && object.metadata.namespace !== namespace) continue;
        out.push(object);
      }
      out.sort(
        (a, b) =>
          (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') ||
          a.metadata.name.localeCompare(b.metadata.name),
      );
      return out.map((o) => structuredClone(o));
    },

    create(resource, input) {
      const object = structuredClone(input);
      const metadata = object.metadata;
      if (!metadata.name && metadata.generateName) {
        do {
          metadata.name = `${metadata.generateName}${randomNameSuffix()}`;
        } while (table(resource).has(key(metadata.namespace, metadata.name)));
      }
      const objects = table(resource);
      const k = key(metadata.namespace, metadata.name);
      if (objects.has(k)) throw new StoreConflictError(resource, metadata.namespace, metadata.name);
      revision += 1;
      metadata.uid = metadata.uid ?? randomUUID();
      metadata.resourceVersion = String(revision);
      metadata.creationTimestamp = metadata.creationTimestamp ?? kubeTimestamp();
      objects.set(k, object);
      emit('ADDED', resource, object, revision);
      return structuredClone(object);
    },

    update(resource, namespace, name, mutate) {
      const objects = table(resource);
      const k = key(namespace, name);
      const current = objects.get(k);
      if (!current) return undefined;
      const next = structuredClone(mutate(structuredClone(current)));
      // Identity fields are the store's, whatever the mutator did.
      next.metadata.name = current.metadata.name;
      next.metadata.namespace = current.metadata.namespace;
      next.metadata.uid = current.metadata.uid;
      next.metadata.creationTimestamp = current.metadata.creationTimestamp;
      revision += 1;
      next.metadata.resourceVersion = String(revision);
      objects.set(k, next);
      emit('MODIFIED', resource, next, revision, structuredClone(current));
      return structuredClone(next);
    },

    remove(resource, namespace, name) {
      const objects = table(resource);
      const k = key(namespace, name);
      const current = objects.get(k);
      if (!current) return undefined;
      objects.delete(k);
      revision += 1;
      // Like etcd, the DELETED event carries the revision of the deletion itself.
      const last = structuredClone(current);
      last.metadata.resourceVersion = String(revision);
      emit('DELETED', resource, last, revision);
      return structuredClone(last);
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    currentResourceVersion() {
      return revision;
    },

    eventsSince(from) {
      const oldestRetained = history.length > 0 ? history[0]!.revision - 1 : revision;
      const oldest = Math.max(oldestRetained, expiredBelow);
      if (from < oldest) return { expired: true, oldest };
      return { expired: false, events: history.filter((e) => e.revision > from) };
    },

    expireAll() {
      // Moving the revision on makes every resourceVersion handed out so far too old, while a
      // list made afterwards returns one that can be watched from.
      revision += 1;
      expiredBelow = revision;
    },

    clear() {
      tables.clear();
      listeners.clear();
      history.length = 0;
    },
  };
  return store;
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}
