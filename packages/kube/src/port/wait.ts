// waitForPod on top of the shared informer: resolves from watch events, never by polling.
import type { V1Pod } from '@kubernetes/client-node';
import { PodFailedError } from '@podrun/core';
import type { PodChange, PodSelector } from '@podrun/core';
import { abortReason } from '../http/retry.js';
import type { PodInformer } from './informer.js';
import type { PodsApi } from './pods.js';

/** What waitForPod needs from the port. */
export interface WaitDeps {
  acquire(selector: PodSelector): { informer: PodInformer; release: () => void };
  watchPod(selector: PodSelector, name: string, onChange: (change: PodChange) => void): () => void;
  pods: PodsApi;
}

function deleted(selector: PodSelector, name: string): PodFailedError {
  return new PodFailedError(
    'PodDeleted',
    `pod ${selector.namespace}/${name} was deleted while podrun waited for it; it was removed by someone else, evicted, or never created`,
    { component: 'kube' },
  );
}

/** See `KubePort.waitForPod`. A predicate that throws rejects with its error (fail fast). */
export function waitForPod(
  deps: WaitDeps,
  selector: PodSelector,
  name: string,
  predicate: (pod: V1Pod) => boolean,
  signal?: AbortSignal,
): Promise<V1Pod> {
  return new Promise<V1Pod>((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const { informer, release } = deps.acquire(selector);
    const cleanups: Array<() => void> = [release];
    let done = false;
    const finish = (settle: () => void) => {
      if (done) return;
      done = true;
      signal?.removeEventListener('abort', onAbort);
      // After the current dispatch: subscribers are not removed while they are being called.
      queueMicrotask(() => cleanups.forEach((cleanup) => cleanup()));
      settle();
    };
    const check = (pod: V1Pod) => {
      try {
        if (predicate(pod)) finish(() => resolve(pod));
      } catch (error) {
        finish(() => reject(error));
      }
    };
    const onAbort = () => finish(() => reject(abortReason(signal!)));
    signal?.addEventListener('abort', onAbort, { once: true });
    cleanups.push(
      deps.watchPod(selector, name, (change) => {
        if (change.type === 'deleted') finish(() => reject(deleted(selector, name)));
        else check(change.pod);
      }),
      informer.onPersistentError((error) => finish(() => reject(error))),
    );
    // A pod missing from a synced cache is either not yet seen by the watch, or gone: ask.
    void informer.synced
      .then(async () => {
        if (done || informer.knows(name)) return;
        const pod = await deps.pods.get(selector.namespace, name, signal);
        if (done || informer.cache.has(name)) return;
        if (pod) check(pod);
        else finish(() => reject(deleted(selector, name)));
      })
      .catch((error: unknown) => finish(() => reject(error)));
  });
}

/** See `KubePort.cachedPods`: the informer's cache, filtered by labels, once it has listed. */
export async function cachedPods(
  acquire: WaitDeps['acquire'],
  selector: PodSelector,
  labels: Readonly<Record<string, string>>,
  signal?: AbortSignal,
): Promise<{ pods: V1Pod[]; release: () => void }> {
  const { informer, release } = acquire(selector);
  const cleanups: Array<() => void> = [];
  try {
    await new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      const onAbort = () => reject(abortReason(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => signal?.removeEventListener('abort', onAbort), informer.onPersistentError(reject));
      informer.synced.then(resolve, reject);
    });
  } catch (error) {
    release();
    throw error;
  } finally {
    cleanups.forEach((cleanup) => cleanup());
  }
  const wanted = Object.entries(labels);
  const pods = [...informer.cache.values()].filter((pod) =>
    wanted.every(([key, value]) => pod.metadata?.labels?.[key] === value),
  );
  return { pods, release };
}
