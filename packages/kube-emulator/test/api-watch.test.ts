import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { startCluster } from '../src/index.js';
import type { EmbeddedCluster } from '../src/index.js';
import { coreApi, kubeConfig, readWatch } from './api-helpers.js';

let cluster: EmbeddedCluster;
let api: k8s.CoreV1Api;

const cm = (name: string, labels: Record<string, string> = {}): k8s.V1ConfigMap => ({
  metadata: { name, labels },
  data: { v: '1' },
});

beforeAll(async () => {
  cluster = await startCluster({ bookmarkIntervalMs: 200, watchHistorySize: 20 });
  api = coreApi(cluster.kubeconfig);
});
afterAll(async () => {
  await cluster?.stop();
});

describe('watch', () => {
  it('replays from a resourceVersion, then streams ADDED/MODIFIED/DELETED as newline-delimited JSON', async () => {
    await api.createNamespacedConfigMap({ namespace: 'default', body: cm('before') });
    const list = await api.listNamespacedConfigMap({ namespace: 'default' });
    const rv = list.metadata!.resourceVersion!;
    await api.createNamespacedConfigMap({ namespace: 'default', body: cm('w1') });
    const watched = readWatch(
      cluster.kubeconfig,
      `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${rv}`,
      (events) => events.some((e) => e.type === 'DELETED'),
      () => {
        void (async () => {
          await api.patchNamespacedConfigMap(
            { namespace: 'default', name: 'w1', body: { data: { v: '2' } } },
            k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
          );
          await api.deleteNamespacedConfigMap({ namespace: 'default', name: 'w1' });
        })();
      },
    );
    const { events, status } = await watched;
    expect(status).toBe(200);
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
    expect(events[0]!.object).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1' });
    const rvs = events.map((e) => Number(e.object.metadata.resourceVersion));
    expect(rvs).toEqual([...rvs].sort((a, b) => a - b));
  });

  it('sends the current objects as ADDED when no resourceVersion is given, filtered by selectors', async () => {
    await api.createNamespacedConfigMap({ namespace: 'default', body: cm('sel-a', { app: 'x' }) });
    await api.createNamespacedConfigMap({ namespace: 'default', body: cm('sel-b', { app: 'y' }) });
    const { events } = await readWatch(
      cluster.kubeconfig,
      '/api/v1/namespaces/default/configmaps?watch=true&labelSelector=app%3Dx',
      (e) => e.length >= 1,
    );
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED sel-a']);
  });

  it('turns a change out of the selector into DELETED for that watch', async () => {
    const rv = (await api.listNamespacedConfigMap({ namespace: 'default' })).metadata!.resourceVersion!;
    const { events } = await readWatch(
      cluster.kubeconfig,
      `/api/v1/namespaces/default/configmaps?watch=true&labelSelector=app%3Dx&resourceVersion=${rv}`,
      (e) => e.length >= 1,
      () => {
        void api.patchNamespacedConfigMap(
          { namespace: 'default', name: 'sel-a', body: { metadata: { labels: { app: 'z' } } } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
      },
    );
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['DELETED sel-a']);
  });

  it('sends BOOKMARK events when allowWatchBookmarks is set', async () => {
    const rv = (await api.listNamespacedConfigMap({ namespace: 'default' })).metadata!.resourceVersion!;
    const { events } = await readWatch(
      cluster.kubeconfig,
      `/api/v1/namespaces/default/configmaps?watch=1&allowWatchBookmarks=true&resourceVersion=${rv}`,
      (e) => e.some((x) => x.type === 'BOOKMARK'),
    );
    const bookmark = events.find((e) => e.type === 'BOOKMARK')!;
    expect(bookmark.object).toEqual({
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { resourceVersion: expect.stringMatching(/^\d+$/) },
    });
  });

  it('closes cleanly at timeoutSeconds', async () => {
    const { ended, events } = await readWatch(
      cluster.kubeconfig,
      `/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1&resourceVersion=${(await api.listNamespacedConfigMap({ namespace: 'default' })).metadata!.resourceVersion}`,
      () => false,
    );
    expect(ended).toBe(true);
    expect(events).toEqual([]);
  });

  it('answers a too old resourceVersion with HTTP 200 and one 410 Expired ERROR event', async () => {
    for (let i = 0; i < 25; i++) await api.createNamespacedConfigMap({ namespace: 'default', body: cm(`churn-${i}`) });
    const { status, events, ended } = await readWatch(
      cluster.kubeconfig,
      '/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=2',
      () => false,
    );
    expect(status).toBe(200);
    expect(ended).toBe(true);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'ERROR',
      object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Expired', code: 410 },
    });
    expect(events[0]!.object.message).toMatch(/^too old resource version: 2 \(\d+\)$/);
  });

  it('dropWatches ends open watches; expireResourceVersions makes earlier ones 410', async () => {
    const rv = (await api.listNamespacedConfigMap({ namespace: 'default' })).metadata!.resourceVersion!;
    const dropped = await readWatch(
      cluster.kubeconfig,
      `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${rv}`,
      () => false,
      () => {
        setImmediate(() => cluster.faults.dropWatches());
      },
    );
    expect(dropped.ended).toBe(true);
    const open = readWatch(
      cluster.kubeconfig,
      `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${rv}`,
      () => false,
      () => {
        setImmediate(() => cluster.faults.expireResourceVersions());
      },
    );
    expect((await open).ended).toBe(true);
    const again = await readWatch(
      cluster.kubeconfig,
      `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${rv}`,
      () => false,
    );
    expect(again.events[0]).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } });
    const fresh = (await api.listNamespacedConfigMap({ namespace: 'default' })).metadata!.resourceVersion!;
    const ok = await readWatch(
      cluster.kubeconfig,
      `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${fresh}&timeoutSeconds=1`,
      () => false,
    );
    expect(ok.events).toEqual([]);
  });

  it('keeps a client-node informer in sync across dropped watches and expired resourceVersions', async () => {
    const kc = kubeConfig(cluster.kubeconfig);
    const informer = k8s.makeInformer(
      kc,
      '/api/v1/namespaces/default/configmaps',
      () => api.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'informer=yes' }),
      'informer=yes',
    );
    const seen = new Set<string>();
    const waiters: { name: string; resolve: () => void }[] = [];
    const onObject = (obj: k8s.V1ConfigMap): void => {
      seen.add(obj.metadata!.name!);
      for (const w of waiters.filter((x) => x.name === obj.metadata!.name)) w.resolve();
    };
    informer.on('add', onObject);
    informer.on('update', onObject);
    const errors: unknown[] = [];
    informer.on('error', (e) => errors.push(e));
    const added = (name: string): Promise<void> =>
      seen.has(name) ? Promise.resolve() : new Promise((resolve) => waiters.push({ name, resolve }));
    const connected = new Promise<void>((resolve) => informer.on('connect', () => resolve()));
    await informer.start();
    await connected;
    try {
      await api.createNamespacedConfigMap({ namespace: 'default', body: cm('inf-1', { informer: 'yes' }) });
      await added('inf-1');
      cluster.faults.dropWatches();
      await api.createNamespacedConfigMap({ namespace: 'default', body: cm('inf-2', { informer: 'yes' }) });
      await added('inf-2');
      cluster.faults.expireResourceVersions();
      await api.createNamespacedConfigMap({ namespace: 'default', body: cm('inf-3', { informer: 'yes' }) });
      await added('inf-3');
      expect(
        informer
          .list()
          .map((o) => o.metadata?.name)
          .sort(),
      ).toEqual(['inf-1', 'inf-2', 'inf-3']);
      expect(errors).toEqual([]);
    } finally {
      await informer.stop();
    }
  });
});
