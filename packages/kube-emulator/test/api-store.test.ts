import { describe, expect, it } from 'vitest';
import { StoreConflictError } from '../src/contracts.js';
import { createObjectStore } from '../src/apiserver/store.js';
import type { StoreEvent } from '../src/contracts.js';

const pod = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', ...extra },
});

describe('object store', () => {
  it('assigns identity, one global resourceVersion and deep copies', () => {
    const store = createObjectStore();
    const a = store.create('pods', pod('a'));
    const b = store.create('configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'b', namespace: 'default' },
    });
    expect(Number(b.metadata.resourceVersion)).toBe(Number(a.metadata.resourceVersion) + 1);
    expect(a.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    a.metadata.labels = { changed: 'yes' };
    expect(store.get('pods', 'default', 'a')?.metadata.labels).toBeUndefined();
    expect(store.list('pods')).toHaveLength(1);
    expect(store.list('pods', 'other')).toHaveLength(0);
    // Resources are separate tables: the same namespace and name in two of them are two objects.
    store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default' } });
    expect(store.list('configmaps').map((c) => c.kind)).toEqual(['ConfigMap', 'ConfigMap']);
    expect(store.get('pods', 'default', 'a')?.kind).toBe('Pod');
    store.remove('configmaps', 'default', 'a');
    expect(store.get('pods', 'default', 'a')?.kind).toBe('Pod');
    expect(store.list('configmaps').map((c) => c.metadata.name)).toEqual(['b']);
    expect(() => store.create('pods', pod('a'))).toThrow(StoreConflictError);
    const gen = store.create('pods', pod('', { generateName: 'job-' }));
    expect(gen.metadata.name).toMatch(/^job-[a-z0-9]{5}$/);
  });

  it('emits ordered events and serves history until expired', () => {
    const store = createObjectStore({ historySize: 3 });
    const seen: StoreEvent[] = [];
    const unsubscribe = store.subscribe((e) => seen.push(e));
    const created = store.create('pods', pod('a'));
    const start = Number(created.metadata.resourceVersion);
    store.update('pods', 'default', 'a', (p) => ({ ...p, status: { phase: 'Running' } }));
    const removed = store.remove('pods', 'default', 'a');
    expect(seen.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(Number(removed?.metadata.resourceVersion)).toBe(store.currentResourceVersion());
    const since = store.eventsSince(start);
    expect(since.expired).toBe(false);
    if (!since.expired) expect(since.events.map((e) => e.type)).toEqual(['MODIFIED', 'DELETED']);
    store.create('pods', pod('b'));
    store.create('pods', pod('c'));
    expect(store.eventsSince(start).expired).toBe(true);
    const now = store.currentResourceVersion();
    expect(store.eventsSince(now).expired).toBe(false);
    store.expireAll();
    expect(store.eventsSince(now).expired).toBe(true);
    expect(store.eventsSince(store.currentResourceVersion()).expired).toBe(false);
    unsubscribe();
    store.create('pods', pod('d'));
    expect(seen).toHaveLength(5);
    expect(store.update('pods', 'default', 'missing', (p) => p)).toBeUndefined();
  });

  it('delivers writes made by a listener after the current event, so every listener sees resourceVersion order', () => {
    const store = createObjectStore();
    store.subscribe((e) => {
      if (e.type === 'ADDED' && e.resource === 'namespaces') {
        store.create('serviceaccounts', {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name: 'default', namespace: e.object.metadata.name },
        });
      }
    });
    const seen: number[] = [];
    store.subscribe((e) => seen.push(Number(e.object.metadata.resourceVersion)));
    store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } });
    expect(seen).toHaveLength(2);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it('freezes delivered events so a listener cannot corrupt the history', () => {
    const store = createObjectStore();
    let frozen = false;
    store.subscribe((e) => {
      frozen = Object.isFrozen(e.object.metadata);
    });
    store.create('pods', pod('a'));
    expect(frozen).toBe(true);
  });
});
