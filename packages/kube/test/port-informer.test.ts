// The shared informer against the embedded cluster: one watch for many pods, current state
// first, waitForPod (no polling), resume after dropped watches, relist after 410, idle watches
// kept alive by bookmarks, and a loop that never stops on errors (client-node's ListWatch does).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import type { EmbeddedCluster } from '@podrun/kube-emulator';
import { ErrorCodes, PodFailedError, isPodrunError, type PodChange } from '@podrun/core';
import { createKubeConfig, createKubePort, type PodrunKubePort } from '@podrun/kube';
import { clusterWithPort, sleeper } from './support/cluster.js';

let cluster: EmbeddedCluster;
let port: PodrunKubePort;
const NS = 'default';

beforeAll(async () => {
  ({ cluster, port } = await clusterWithPort({ bookmarkIntervalMs: 100 }));
  // These tests need pod objects, not processes: keep pods Pending so no sandbox is built.
  cluster.faults.stopScheduling();
});
afterAll(async () => {
  await port?.close();
  await cluster?.stop();
});

const labelled = (step: string) => (p: V1Pod) => p.metadata?.labels?.step === step;

/** Waits until the informer's watch request has been answered (it is then registered server-side). */
const watching = (stats: { watches: number }) => vi.waitFor(() => expect(stats.watches).toBeGreaterThanOrEqual(1));

async function makePods(suite: string, n: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) names.push((await port.createPod(NS, sleeper({ suite })))!.metadata!.name!);
  return names;
}

describe('shared informer', () => {
  it('serves many pods from one list and one watch', async () => {
    const names = await makePods('many', 5);
    const selector = { namespace: NS, labelSelector: 'suite=many' };
    cluster.metrics.reset();
    const seen = new Map<string, PodChange[]>();
    const stops = names.map((name) =>
      port.watchPod(selector, name, (c) => seen.set(name, [...(seen.get(name) ?? []), c])),
    );
    const waits = names.map((name) => port.waitForPod(selector, name, labelled('go')));
    for (const name of names) await port.patchPodMetadata(NS, name, { labels: { step: 'go' } });
    const pods = await Promise.all(waits);
    expect(pods.map((p) => p.metadata?.name)).toEqual(names);
    for (const name of names) expect(seen.get(name)?.map((c) => c.type)).toEqual(['added', 'updated']);
    const stats = port.informerStats(selector)!;
    expect(stats.lists).toBe(1);
    expect(stats.watches).toBe(1);
    stops.forEach((stop) => stop());
    // Last subscriber gone: the informer stops; the server then counts exactly one list and watch.
    expect(port.informerStats(selector)).toBeUndefined();
    await vi.waitFor(() => expect(cluster.metrics.requestCount({ verb: 'WATCH', resource: 'pods' })).toBe(1));
    expect(cluster.metrics.requestCount({ verb: 'LIST', resource: 'pods' })).toBe(1);
  });

  it('finds pods by labels in the cache, and waits for a pod it just created without a GET', async () => {
    const [older] = await makePods('lookup', 1);
    const selector = { namespace: NS, labelSelector: 'suite=lookup' };
    cluster.metrics.reset();
    const found = await port.cachedPods(selector, { suite: 'lookup' });
    expect(found.pods.map((p) => p.metadata?.name)).toEqual([older]);
    const none = await port.cachedPods(selector, { suite: 'other' });
    expect(none.pods).toEqual([]);
    none.release();
    // Created after the informer listed: known to exist, so waiting for it asks nothing more.
    const created = await port.createPod(NS, sleeper({ suite: 'lookup' }));
    const name = created.metadata!.name!;
    const patched = port.waitForPod(selector, name, labelled('go'));
    await port.patchPodMetadata(NS, name, { labels: { step: 'go' } });
    expect((await patched).metadata?.name).toBe(name);
    found.release();
    expect(port.informerStats(selector)).toBeUndefined();
    expect(cluster.metrics.requestCount({ verb: 'LIST', resource: 'pods' })).toBe(1);
    expect(cluster.metrics.requestCount({ verb: 'GET', resource: 'pods' })).toBe(0);
  });

  it('rejects a cached lookup when the signal aborts before the informer lists', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(
      port.cachedPods({ namespace: NS, labelSelector: 'suite=aborted' }, {}, controller.signal),
    ).rejects.toThrow('stop');
    expect(port.informerStats({ namespace: NS, labelSelector: 'suite=aborted' })).toBeUndefined();
  });

  it('gives a new subscriber the cached state first', async () => {
    const [a, b] = await makePods('cached', 2);
    const selector = { namespace: NS, labelSelector: 'suite=cached' };
    const first = await new Promise<PodChange>((resolve) => {
      const stop = port.watchPod(selector, a!, (c) => {
        stop();
        resolve(c);
      });
    });
    expect(first.type).toBe('added');
    const keep = port.watchPod(selector, a!, () => undefined);
    const second = await new Promise<PodChange>((resolve) => {
      const stop = port.watchPod(selector, b!, (c) => {
        stop();
        resolve(c);
      });
    });
    expect(second).toMatchObject({ type: 'added' });
    expect(port.informerStats(selector)?.lists).toBe(1);
    keep();
  });

  it('waitForPod rejects with PodDeleted when the pod is deleted or does not exist, and on abort', async () => {
    const [name] = await makePods('gone', 1);
    const selector = { namespace: NS, labelSelector: 'suite=gone' };
    const waiting = port.waitForPod(selector, name!, labelled('never')).catch((e: unknown) => e);
    await port.deletePod(NS, name!, { gracePeriodSeconds: 0 });
    const error = await waiting;
    expect(error).toBeInstanceOf(PodFailedError);
    expect((error as PodFailedError).reason).toBe('PodDeleted');

    const missing = await port.waitForPod(selector, 'never-created', () => true).catch((e: unknown) => e);
    expect((missing as PodFailedError).reason).toBe('PodDeleted');

    const [other] = await makePods('gone', 1);
    const controller = new AbortController();
    const aborted = port.waitForPod(selector, other!, labelled('never'), controller.signal);
    const reason = new Error('stop waiting');
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
  });

  it('waitForPod rejects when the identity may not list or watch pods (403), instead of waiting forever', async () => {
    const file = path.join(cluster.stateDir, 'kc-nobody');
    writeFileSync(file, cluster.kubeconfigFor({ user: 'nobody' }));
    const limited = createKubePort({
      kubeConfig: createKubeConfig(undefined, {}, { kubeconfigPath: file }),
      retry: { baseDelayMs: 5, maxDelayMs: 20 },
    });
    try {
      const error = await limited.waitForPod({ namespace: NS }, 'any', () => true).catch((e: unknown) => e);
      expect(isPodrunError(error, ErrorCodes.KUBE_FORBIDDEN)).toBe(true);
    } finally {
      await limited.close();
    }
  });

  it('waitForPod rejects with what the predicate throws (fail fast)', async () => {
    const [name] = await makePods('throws', 1);
    const boom = new Error('unrecoverable');
    await expect(
      port.waitForPod({ namespace: NS, labelSelector: 'suite=throws' }, name!, () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
  });
});

describe('watch resilience', () => {
  it('resumes from its resourceVersion after the server drops the watch (no relist, no lost change)', async () => {
    const [name] = await makePods('drop', 1);
    const selector = { namespace: NS, labelSelector: 'suite=drop' };
    const stop = port.watchPod(selector, name!, () => undefined);
    await port.waitForPod(selector, name!, () => true);
    const stats = port.informerStats(selector)!;
    await watching(stats);
    cluster.faults.dropWatches();
    await port.patchPodMetadata(NS, name!, { labels: { step: 'after-drop' } });
    await port.waitForPod(selector, name!, labelled('after-drop'));
    expect(stats.watches).toBeGreaterThanOrEqual(2);
    expect(stats.lists).toBe(1);
    stop();
  });

  it('keeps an idle watch open across bookmarks and still delivers', async () => {
    const [name] = await makePods('idle', 1);
    const selector = { namespace: NS, labelSelector: 'suite=idle' };
    const stop = port.watchPod(selector, name!, () => undefined);
    await port.waitForPod(selector, name!, () => true);
    const stats = port.informerStats(selector)!;
    await watching(stats);
    const watches = stats.watches;
    // Idle for several bookmark intervals (the emulator sends one every 100 ms here).
    await vi.waitFor(() => expect(stats.bookmarks).toBeGreaterThanOrEqual(5), { timeout: 20_000 });
    await port.patchPodMetadata(NS, name!, { labels: { step: 'late' } });
    await port.waitForPod(selector, name!, labelled('late'));
    expect(stats.watches).toBe(watches);
    stop();
  });

  it('never stops on errors, and relists after 410 Expired, reporting deletions it missed', async () => {
    const [keep, drop] = await makePods('expire', 2);
    const selector = { namespace: NS, labelSelector: 'suite=expire' };
    const dropChanges: PodChange[] = [];
    const stopA = port.watchPod(selector, keep!, () => undefined);
    const stopB = port.watchPod(selector, drop!, (c) => dropChanges.push(c));
    await port.waitForPod(selector, keep!, () => true);
    const stats = port.informerStats(selector)!;
    await watching(stats);

    // Every watch request fails until cleared: client-node's ListWatch would stop for good here.
    cluster.faults.failNext({ status: 503, verb: 'watch', resource: 'pods', count: 100_000 });
    cluster.faults.dropWatches();
    await vi.waitFor(() => expect(stats.failures).toBeGreaterThan(0), { timeout: 20_000 });

    // Meanwhile: one pod is deleted, one changes, and every resourceVersion so far expires.
    await port.deletePod(NS, drop!, { gracePeriodSeconds: 0 });
    await port.patchPodMetadata(NS, keep!, { labels: { step: 'while-failing' } });
    cluster.faults.expireResourceVersions();
    cluster.faults.clearFailures();

    await port.waitForPod(selector, keep!, labelled('while-failing'));
    await vi.waitFor(() => expect(dropChanges.map((c) => c.type)).toContain('deleted'));
    expect(stats.relists).toBeGreaterThanOrEqual(1);
    expect(stats.lists).toBeGreaterThanOrEqual(2);
    stopA();
    stopB();
  });

  it('re-watches when the server ends a watch at timeoutSeconds', async () => {
    const { cluster: c2, port: p2 } = await clusterWithPort({}, { watch: { timeoutSeconds: () => 1 } });
    c2.faults.stopScheduling();
    try {
      const pod = await p2.createPod(NS, sleeper({ suite: 'timeout' }));
      const selector = { namespace: NS, labelSelector: 'suite=timeout' };
      const stop = p2.watchPod(selector, pod.metadata!.name!, () => undefined);
      const stats = p2.informerStats(selector)!;
      await vi.waitFor(() => expect(stats.watches).toBeGreaterThanOrEqual(2), { timeout: 20_000 });
      await p2.patchPodMetadata(NS, pod.metadata!.name!, { labels: { step: 'x' } });
      await p2.waitForPod(selector, pod.metadata!.name!, labelled('x'));
      expect(stats.lists).toBe(1);
      stop();
    } finally {
      await p2.close();
      await c2.stop();
    }
  });
});
