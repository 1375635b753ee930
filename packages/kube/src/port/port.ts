// createKubePort: the typed port over the API that everything above @podrun/kube uses.
import type { CoreV1Event, KubeConfig, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import { KubeApiError, silentLogger } from '@podrun/core';
import type { KubePort, Logger, PodChange, PodSelector } from '@podrun/core';
import { toPodrunKubeConfig } from '../connection/create.js';
import type { PodrunKubeConfig } from '../connection/kubeconfig.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../http/retry.js';
import { Transport } from '../http/transport.js';
import { runExec, type ExecTuning } from './exec.js';
import { PodInformer, type InformerStats, type WatchTuning } from './informer.js';
import { openPodLogs } from './logs.js';
import { PodsApi } from './pods.js';
import { fromJson } from './serialize.js';
import { cachedPods, waitForPod } from './wait.js';

/** Options of {@link createKubePort}. */
export interface KubePortOptions {
  /**
   * From `createKubeConfig`, or any client-node `KubeConfig` (such as one loaded from the
   * emulator's `cluster.kubeconfig`), which is adopted with its clusters, users and contexts.
   * The port shares its agents; `close()` closes them.
   */
  kubeConfig: KubeConfig;
  /** Overrides the kubeconfig's namespace as `defaultNamespace`. */
  namespace?: string;
  /** Retries of transient failures (429, 5xx, dropped connections). */
  retry?: Partial<RetryPolicy>;
  /** A call with no answer for this long counts as a dropped connection (default 60 s). */
  requestTimeoutMs?: number;
  /** Watch tuning (server-side timeout, idle grace). */
  watch?: Omit<WatchTuning, 'backoff'>;
  /** Exec tuning (ping interval, stdin high-water mark). */
  exec?: ExecTuning;
  /** Debug and warning lines (retries, watch restarts). Never receives secrets. */
  logger?: Logger;
}

/** The port plus diagnostics that are not part of the `KubePort` contract. */
export interface PodrunKubePort extends KubePort {
  /** Counters of the shared informer for a selector, if one is running. */
  informerStats(selector: PodSelector): InformerStats | undefined;
}

/** Why the configuration came from where it did, for the cluster decision line. */
const SOURCE_WHY: Record<PodrunKubeConfig['source'], string> = {
  connection: "the task runner's Connection (config.masterUrl)",
  kubeconfig: 'a kubeconfig file (the path given, else KUBECONFIG, else ~/.kube/config)',
  'in-cluster': "the pod's service account (no kubeconfig; KUBERNETES_SERVICE_HOST is set)",
  'default-url': "no kubeconfig and no service account: the reference's default https://kubernetes.default.svc",
};

const keyOf = (s: PodSelector) => `${s.namespace}\u0000${s.labelSelector ?? ''}`;

/**
 * Creates the Kubernetes port over a kubeconfig. Create one per process and share it: pod
 * watches are multiplexed through one informer per (namespace, labelSelector) for all callers.
 */
export function createKubePort(options: KubePortOptions): PodrunKubePort {
  const kc = toPodrunKubeConfig(options.kubeConfig);
  const logger = options.logger ?? silentLogger;
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const t = new Transport(kc, policy, logger, options.requestTimeoutMs);
  t.decided(
    'server',
    `${kc.getCurrentCluster()?.server ?? '(no server)'} (context "${kc.getCurrentContext() || '(none)'}", namespace "${kc.namespace}"), configuration from ${SOURCE_WHY[kc.source]}`,
  );
  t.decided('credentials', kc.credentials);
  const pods = new PodsApi(t);
  const informers = new Map<string, { informer: PodInformer; refs: number }>();
  let closed = false;

  const acquire = (selector: PodSelector) => {
    if (closed) throw new KubeApiError('[podrun] [kube] the Kubernetes port is closed', { component: 'kube' });
    const key = keyOf(selector);
    let entry = informers.get(key);
    if (!entry) {
      const informer = new PodInformer(t, pods, selector, { ...options.watch, backoff: policy }, logger);
      entry = { informer, refs: 0 };
      informers.set(key, entry);
      informer.start();
    }
    entry.refs++;
    const held = entry;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (--held.refs === 0 && informers.get(key) === held) {
        informers.delete(key);
        void held.informer.close();
      }
    };
    return { informer: held.informer, release };
  };

  const watchPod = (selector: PodSelector, name: string, onChange: (change: PodChange) => void) => {
    const { informer, release } = acquire(selector);
    let active = true;
    const unsubscribe = informer.subscribe(name, (change) => active && onChange(change));
    const cached = informer.cache.get(name);
    if (cached)
      queueMicrotask(() => active && informer.cache.get(name) === cached && onChange({ type: 'added', pod: cached }));
    return () => {
      active = false;
      unsubscribe();
      release();
    };
  };

  const port: PodrunKubePort = {
    defaultNamespace: options.namespace ?? kc.namespace,

    async createPod(ns, pod, signal) {
      const created = await pods.create(ns, pod, signal);
      const name = created.metadata?.name;
      for (const { informer } of informers.values()) {
        if (name && informer.selector.namespace === ns && selects(informer.selector, created)) informer.expect(name);
      }
      return created;
    },
    getPod: (ns, name, signal) => pods.get(ns, name, signal),
    listPods: async (ns, labelSelector, signal) => (await pods.list(ns, labelSelector, signal)).pods,
    deletePod: (ns, name, opts) => pods.delete(ns, name, opts?.gracePeriodSeconds),
    patchPodMetadata: (ns, name, metadata) => pods.patchMetadata(ns, name, metadata),

    watchPod,

    cachedPods: (selector, labels, signal) => cachedPods(acquire, selector, labels, signal),

    waitForPod: (selector, name, predicate, signal) =>
      waitForPod({ acquire, watchPod, pods }, selector, name, predicate, signal),

    podLogs: (ns, name, opts, signal) => openPodLogs(t, ns, name, opts, signal),

    exec: (ns, name, container, command, opts, signal) =>
      runExec(t, { namespace: ns, pod: name, container, command }, opts, options.exec ?? {}, signal),

    async listPodEvents(ns, podName, signal) {
      const list = await t.json<{ items?: unknown[] }>(
        {
          method: 'GET',
          path: `/api/v1/namespaces/${encodeURIComponent(ns)}/events`,
          query: { fieldSelector: `involvedObject.name=${podName}` },
          signal,
          what: `list events of pod ${ns}/${podName}`,
        },
        'idempotent',
      );
      // eventTime is a MicroTime that client-node's models (and so fromJson) leave a string.
      const time = (e: CoreV1Event): number => {
        const at: Date | string | undefined =
          e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
        return at === undefined ? 0 : new Date(at).getTime() || 0;
      };
      return (list.items ?? [])
        .map((item) => fromJson<CoreV1Event>(item, 'CoreV1Event'))
        .filter(
          (e) => e.involvedObject?.name === podName && (!e.involvedObject.kind || e.involvedObject.kind === 'Pod'),
        )
        .sort((a, b) => time(a) - time(b));
    },

    async createPersistentVolumeClaim(ns, claim) {
      const json = await t.json<unknown>(
        {
          method: 'POST',
          path: `/api/v1/namespaces/${encodeURIComponent(ns)}/persistentvolumeclaims`,
          body: { ...claim, apiVersion: 'v1', kind: 'PersistentVolumeClaim' },
          what: `create persistentvolumeclaim ${ns}/${claim.metadata?.name ?? '?'}`,
        },
        'unsafe',
      );
      return fromJson<V1PersistentVolumeClaim>(json, 'V1PersistentVolumeClaim');
    },

    async getPersistentVolumeClaim(ns, name) {
      try {
        const json = await t.json<unknown>(
          { method: 'GET', path: pvcPath(ns, name), what: `get persistentvolumeclaim ${ns}/${name}` },
          'idempotent',
        );
        return fromJson<V1PersistentVolumeClaim>(json, 'V1PersistentVolumeClaim');
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 404) return undefined;
        throw error;
      }
    },

    async deletePersistentVolumeClaim(ns, name) {
      try {
        await t.json(
          { method: 'DELETE', path: pvcPath(ns, name), what: `delete persistentvolumeclaim ${ns}/${name}` },
          'idempotent',
        );
      } catch (error) {
        if (!(error instanceof KubeApiError && error.status === 404)) throw error;
      }
    },

    async canI(attrs) {
      const review = await t.json<{ status?: { allowed?: boolean; reason?: string } }>(
        {
          method: 'POST',
          path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SelfSubjectAccessReview',
            spec: { resourceAttributes: { group: '', version: '', ...attrs } },
          },
          what: `check permission to ${attrs.verb} ${attrs.resource}${attrs.subresource ? `/${attrs.subresource}` : ''}`,
        },
        // A review has no side effect, so resending it is safe.
        'idempotent',
      );
      return { allowed: review.status?.allowed === true, reason: review.status?.reason };
    },

    async serverVersion() {
      return await t.json<{ major: string; minor: string; gitVersion: string }>(
        { method: 'GET', path: '/version', what: 'read the server version' },
        'idempotent',
      );
    },

    informerStats: (selector) => informers.get(keyOf(selector))?.informer.stats,

    async close() {
      closed = true;
      const open = [...informers.values()];
      informers.clear();
      await Promise.all(open.map((e) => e.informer.close()));
      kc.close();
    },
  };
  return port;
}

const pvcPath = (ns: string, name: string) =>
  `/api/v1/namespaces/${encodeURIComponent(ns)}/persistentvolumeclaims/${encodeURIComponent(name)}`;

// Equality-based selectors only (`a=b,c==d`, what podrun's own informers use); anything else is
// treated as not selecting, which only costs a waiter its confirming GET.
function selects(selector: PodSelector, pod: V1Pod): boolean {
  if (!selector.labelSelector) return true;
  const labels = pod.metadata?.labels ?? {};
  return selector.labelSelector.split(',').every((term) => {
    const match = /^\s*([^=!\s]+)\s*==?\s*([^=!\s]*)\s*$/.exec(term);
    return !!match && labels[match[1]!] === match[2];
  });
}
