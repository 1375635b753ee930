// Events expire after their last write, as kube-apiserver's do after --event-ttl. The clock is
// vitest's fake one: time passes exactly, and only when the test says so.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { expireEvents } from '../src/apiserver/event-ttl.js';
import { createObjectStore } from '../src/apiserver/store.js';
import { startCluster } from '../src/index.js';

const event = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name, namespace: 'default' },
  message: 'm',
});

describe('event expiry', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('deletes an Event its TTL after it was written, with a DELETED event, and nothing else', () => {
    const store = createObjectStore();
    const stop = expireEvents(store, 150);
    const deleted: string[] = [];
    store.subscribe((e) => e.type === 'DELETED' && deleted.push(`${e.resource}/${e.object.metadata.name}`));
    store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default' } });
    store.create('events', event('a'));
    vi.advanceTimersByTime(50);
    store.create('events', event('b'));
    vi.advanceTimersByTime(99);
    expect(store.list('events')).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(store.list('events').map((e) => e.metadata.name)).toEqual(['b']);
    vi.advanceTimersByTime(50);
    expect(store.list('events')).toHaveLength(0);
    expect(deleted).toEqual(['events/a', 'events/b']);
    expect(store.list('configmaps')).toHaveLength(1);
    stop();
  });

  it('counts the TTL from the last write', () => {
    const store = createObjectStore();
    const stop = expireEvents(store, 150);
    store.create('events', event('c'));
    vi.advanceTimersByTime(75);
    store.update('events', 'default', 'c', (e) => ({ ...e, message: 'again' }));
    // The first lease has run out; the rewrite's has 1 ms left.
    vi.advanceTimersByTime(149);
    expect(store.get('events', 'default', 'c')).toBeDefined();
    vi.advanceTimersByTime(1);
    expect(store.get('events', 'default', 'c')).toBeUndefined();
    stop();
  });

  it('forgets an Event deleted meanwhile, and deletes nothing once stopped', () => {
    const store = createObjectStore();
    const stop = expireEvents(store, 100);
    store.create('events', event('d'));
    store.remove('events', 'default', 'd');
    // A new Event of the same name gets its own lease, not the deleted one's.
    vi.advanceTimersByTime(50);
    store.create('events', event('d'));
    vi.advanceTimersByTime(60);
    expect(store.get('events', 'default', 'd')).toBeDefined();
    stop();
    vi.advanceTimersByTime(1000);
    expect(store.get('events', 'default', 'd')).toBeDefined();
  });

  it('refuses a TTL that is not a number of milliseconds', async () => {
    vi.useRealTimers();
    await expect(startCluster({ eventTtlMs: -1 })).rejects.toThrow(/eventTtlMs -1 is not a time to keep Events/);
    await expect(startCluster({ eventTtlMs: Number.POSITIVE_INFINITY })).rejects.toThrow(/pass milliseconds/);
  });
});
