import type { V1Container, V1EnvVar, V1Pod, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { KubePort, PodSelector } from './kube-port.js';
import type { InputTree, LogSink, Logger, OutputSelection, OutputSink, TaskRunIdentity } from './model.js';

/** Where files live inside the pod. Same defaults as the reference runner. */
export interface PodPaths {
  /** Mount root of the shared files volume, default `/kestra`. */
  root: string;
  /** WORKING_DIR, default `/kestra/working-dir`. */
  workingDir: string;
  /** OUTPUT_DIR, a per-task-run directory inside the working directory. */
  outputDir: string;
}

/** What the task needs moved, so a strategy contributes only what is needed. */
export interface TaskFilesPlan {
  hasInputs: boolean;
  hasOutputs: boolean;
  paths: PodPaths;
  identity: TaskRunIdentity;
  /**
   * Which outputs will be asked for. Strategies whose pod selects and ships outputs by itself
   * (object-storage) need it at build time; the runner always passes it.
   */
  select?: OutputSelection;
}

/**
 * What a file-transfer strategy adds to the pod. Pod-spec merges it; names it lists in
 * `reservedContainerNames` / `reservedVolumeNames` cannot be overridden by user overlays.
 */
export interface PodContribution {
  volumes?: V1Volume[];
  /** Init containers, run in order before the main container. */
  initContainers?: V1Container[];
  /** Extra regular containers (e.g. the output sidecar). */
  sidecars?: V1Container[];
  /** Mounts added to the main container. */
  mainVolumeMounts?: V1VolumeMount[];
  /** Env added to the main container. */
  mainEnv?: V1EnvVar[];
  /**
   * Wraps the main container's command, e.g. to wait for inputs or write an exit marker.
   * Receives the user's command and returns the one to run.
   */
  wrapMainCommand?: (command: string[]) => string[];
  reservedContainerNames?: string[];
  reservedVolumeNames?: string[];
  /** Annotations (e.g. a transfer manifest digest) set on the pod. */
  annotations?: Record<string, string>;
}

/** Capability flags: suites skip what a strategy declares it cannot do. */
export interface TransferCapabilities {
  /** Uses pods/exec (RBAC: get+create on pods/exec). */
  needsExec: boolean;
  /** Preserves Unix file modes both ways. */
  preservesModes: boolean;
  /** Survives one dropped stream mid-transfer by retrying. */
  recoversDroppedStream: boolean;
  /** Can bring the whole working directory back. */
  syncWorkingDirectory: boolean;
}

/** The pod a transfer works on, with access to its live state. */
export interface TransferContext {
  kube: KubePort;
  namespace: string;
  podName: string;
  paths: PodPaths;
  identity: TaskRunIdentity;
  logger: Logger;
  /**
   * The shared-watch selector the pod matches (e.g. the runner's `app.kubernetes.io/managed-by`
   * selector), so a strategy waiting on pod state reuses the runner's informer instead of opening
   * its own watch. Default: the whole namespace.
   */
  podSelector?: PodSelector;
  /** Reports progress for progress bars; bytes so far of a known total. */
  onProgress?: (progress: { phase: 'upload' | 'download'; bytes: number; totalBytes?: number }) => void;
  /**
   * True when the runner deletes the pod right after `release`: a strategy then frees its own
   * resources but need not wake the pod's containers so that it completes (deletion stops them),
   * which saves an API request per task.
   */
  podDeleted?: boolean;
}

/** What a transfer did, for logs, metrics and tests. */
export interface TransferReport {
  files: number;
  bytes: number;
  /** True when sizes and sha256 were checked on both sides. */
  verified: boolean;
  /** 1 when the first attempt succeeded. */
  attempts: number;
}

/**
 * A file-transfer strategy: a small object made by a factory, its environment passed in.
 * Lifecycle: `prepare` (when the task has files) -> `contribute` (pod build) -> pod created ->
 * `uploadInputs` (only when the task has inputs) -> main container runs -> `downloadOutputs` ->
 * `release` (always, idempotent).
 */
export interface FileTransfer {
  /** `exec-tar`, `pvc`, `object-storage` or a custom name. */
  readonly name: string;
  readonly capabilities: TransferCapabilities;
  /** Pure: what the pod needs for this task's files. Called before the pod exists. */
  contribute(plan: TaskFilesPlan): PodContribution;
  /**
   * Prepares resources that must exist before the pod (claims, objects). Optional; idempotent.
   * Inputs are verified to exist here at the latest, so a missing input fails before the pod.
   * Called BEFORE `contribute` for the same task run (a strategy may contribute what it
   * prepared, e.g. pre-signed URLs), and only when the task has inputs or outputs.
   */
  prepare?(ctx: Omit<TransferContext, 'podName'>, inputs: InputTree, signal: AbortSignal): Promise<void>;
  /** Stages inputs so they are in the working directory before the main container starts. */
  uploadInputs(ctx: TransferContext, inputs: InputTree, signal: AbortSignal): Promise<TransferReport>;
  /** True when a resumed pod already has its inputs staged (no second upload). */
  inputsStaged(ctx: TransferContext, pod: V1Pod): boolean;
  /** Streams the selected outputs into `sink`, verified. Never follows links out of the working dir. */
  downloadOutputs(
    ctx: TransferContext,
    select: OutputSelection,
    sink: OutputSink,
    signal: AbortSignal,
  ): Promise<TransferReport>;
  /** Lets the pod finish (end markers) and frees temporary resources. Idempotent. */
  release(ctx: TransferContext): Promise<void>;
}

/**
 * A log position for one container. A read resumes from `since` and skips the `linesSince` lines
 * it repeats (position, not stamp order: stdout and stderr are stamped independently, so stamps
 * can be equal or out of order). Cursors without `since` (written by older podrun versions) resume
 * after `timestamp`, skipping `linesAtTimestamp` lines at it.
 */
export interface LogCursor {
  /** RFC3339Nano timestamp of the last delivered line, as the server sent it. */
  timestamp: string;
  /** How many lines with exactly that timestamp were delivered in a row. */
  linesAtTimestamp: number;
  /** `sinceTime` of the next read (RFC3339, whole seconds, a little before `timestamp`). */
  since?: string;
  /** How many delivered lines a read from `since` returns first. */
  linesSince?: number;
}

/** The container whose logs are collected, with its live lifecycle. */
export interface LogTarget {
  kube: KubePort;
  namespace: string;
  podName: string;
  container: string;
  /** Resolves when the container has started (running or terminated). */
  started(signal: AbortSignal): Promise<void>;
  /** Resolves when the container has terminated. */
  terminated(signal: AbortSignal): Promise<void>;
  /** True once the container has terminated. */
  isTerminated(): boolean;
}

/** Options of one collection. */
export interface CollectOptions {
  /** Resume point from an earlier collection (after a crash); lines up to it are not delivered again. */
  cursor?: LogCursor;
  /** Ceiling, in milliseconds, for late lines after the container ends (waitForLogs). */
  waitForLogsMs: number;
  signal: AbortSignal;
  /** Called after each delivered line with the new cursor, so callers can persist it. */
  onCursor?: (cursor: LogCursor) => void;
}

/** Capability flags for log collectors. */
export interface LogCollectorCapabilities {
  /** Lines arrive while the container runs (not only at the end). */
  live: boolean;
  /** Can tell stdout from stderr. */
  splitsStreams: boolean;
}

/**
 * A log collector: delivers each line of one container once, in order, and resolves with the
 * final cursor soon after the container ends.
 */
export interface LogCollector {
  /** `follow`, `poll` or a custom name. */
  readonly name: string;
  readonly capabilities: LogCollectorCapabilities;
  collect(target: LogTarget, sink: LogSink, options: CollectOptions): Promise<LogCursor | undefined>;
}

/** Builds a transfer strategy from its configuration block. */
export type FileTransferFactory<C = unknown> = (config: C) => FileTransfer;
/** Builds a log collector from its configuration block. */
export type LogCollectorFactory<C = unknown> = (config: C) => LogCollector;
