import type { Readable, Writable } from 'node:stream';
import type { CoreV1Event, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';

/** Options for reading a container's log. Mirrors the pods/log query parameters. */
export interface PodLogOptions {
  container: string;
  follow?: boolean;
  /** Always requested by podrun's collectors: lines carry the server's RFC3339Nano timestamp. */
  timestamps?: boolean;
  /** RFC3339 or RFC3339Nano; only lines at or after it are returned. */
  sinceTime?: string;
  limitBytes?: number;
  tailLines?: number;
  previous?: boolean;
}

/** Streams and flags of one exec session. */
export interface ExecOptions {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  tty?: boolean;
}

/** Outcome of an exec session that ended with its status frame. */
export interface ExecResult {
  /** 0 on Success; the ExitCode cause on NonZeroExitCode. */
  exitCode: number;
}

/** A selector for shared pod watches. */
export interface PodSelector {
  namespace: string;
  labelSelector?: string;
}

/** Pod change as seen by the shared informer. */
export type PodChange = { type: 'added' | 'updated'; pod: V1Pod } | { type: 'deleted'; pod: V1Pod };

/**
 * The small typed port over the Kubernetes API that everything above `@podrun/kube` uses.
 * Implementations retry transient failures (429 with Retry-After, 5xx, dropped connections)
 * and raise `KubeApiError` otherwise.
 */
export interface KubePort {
  /** Namespace used when a call does not name one. */
  readonly defaultNamespace: string;

  createPod(namespace: string, pod: V1Pod, signal?: AbortSignal): Promise<V1Pod>;
  getPod(namespace: string, name: string, signal?: AbortSignal): Promise<V1Pod | undefined>;
  listPods(namespace: string, labelSelector?: string, signal?: AbortSignal): Promise<V1Pod[]>;
  /** Deletes; a missing pod is not an error. `gracePeriodSeconds: 0` for kills. */
  deletePod(namespace: string, name: string, options?: { gracePeriodSeconds?: number }): Promise<void>;
  /** Merge-patches labels and annotations. */
  patchPodMetadata(
    namespace: string,
    name: string,
    metadata: { labels?: Record<string, string | null>; annotations?: Record<string, string | null> },
  ): Promise<V1Pod>;

  /**
   * Subscribes to one pod through the process-wide shared informer of its namespace/selector.
   * The callback gets the current state first (if cached) and then every change. Returns an
   * unsubscribe function.
   */
  watchPod(selector: PodSelector, name: string, onChange: (change: PodChange) => void): () => void;

  /**
   * The pods of the shared informer for `selector` that carry every label in `labels`, read from
   * its cache once its first list is in: no request of its own when the informer runs anyway. The
   * informer stays up until `release` is called, so a watch that follows reuses it instead of
   * listing again. Rejects on 401/403 from the informer and with the signal's reason when aborted.
   */
  cachedPods(
    selector: PodSelector,
    labels: Readonly<Record<string, string>>,
    signal?: AbortSignal,
  ): Promise<{ pods: V1Pod[]; release: () => void }>;

  /**
   * Resolves with the pod once `predicate` holds for its latest state. Rejects with a
   * `PodFailedError` (reason `PodDeleted`) if the pod disappears, and with the signal's reason
   * when aborted.
   */
  waitForPod(
    selector: PodSelector,
    name: string,
    predicate: (pod: V1Pod) => boolean,
    signal?: AbortSignal,
  ): Promise<V1Pod>;

  /** Opens pods/log as a byte stream; 4xx answers reject with `KubeApiError` carrying the message. */
  podLogs(namespace: string, name: string, options: PodLogOptions, signal?: AbortSignal): Promise<Readable>;

  /**
   * Runs a command over pods/exec (WebSocket, `v5.channel.k8s.io` preferred, stdin closed with the
   * CLOSE frame). Resolves only on the status frame; a close without one rejects with
   * `ExecError` code `PODRUN_EXEC_NO_STATUS`. A non-zero exit resolves with its code.
   */
  exec(
    namespace: string,
    name: string,
    container: string,
    command: string[],
    options: ExecOptions,
    signal?: AbortSignal,
  ): Promise<ExecResult>;

  /** Warning (and other) events whose involvedObject is the pod. */
  listPodEvents(namespace: string, podName: string, signal?: AbortSignal): Promise<CoreV1Event[]>;

  createPersistentVolumeClaim(namespace: string, claim: V1PersistentVolumeClaim): Promise<V1PersistentVolumeClaim>;
  getPersistentVolumeClaim(namespace: string, name: string): Promise<V1PersistentVolumeClaim | undefined>;
  deletePersistentVolumeClaim(namespace: string, name: string): Promise<void>;

  /** SelfSubjectAccessReview: may the current identity do `verb` on `resource[/subresource]`? */
  canI(attrs: {
    namespace?: string;
    verb: string;
    resource: string;
    subresource?: string;
    group?: string;
    name?: string;
  }): Promise<{ allowed: boolean; reason?: string }>;

  /** The server's /version (gitVersion etc.). */
  serverVersion(): Promise<{ major: string; minor: string; gitVersion: string }>;

  /** Stops shared informers and frees connections. */
  close(): Promise<void>;
}
