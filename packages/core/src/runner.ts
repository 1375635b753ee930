import type { Readable } from 'node:stream';
import type { InputTree, LogSink, Logger, Task, TaskRunIdentity } from './model.js';

/** A metric emitted by a task (log protocol `metrics` or runner counters). */
export interface TaskMetric {
  name: string;
  type: 'counter' | 'timer';
  value: number;
  tags?: Record<string, string>;
}

/** Where task files live between tasks: storage URIs in, storage URIs out. */
export interface TaskStorage {
  /** Opens a stored file by URI (`podrun://...`, `kestra://...`); rejects with code PODRUN_STORAGE if missing. */
  open(uri: string): Promise<{ content: Readable; size: number }>;
  /** Stores an output file of this task run under `name`; resolves with its URI. */
  putOutput(name: string, content: Readable): Promise<string>;
}

/**
 * Durable state of one task run, kept by the host across crashes of the runner process
 * (pod name and uid, log cursors). Values are JSON-serialisable.
 */
export interface RunState {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
}

/** Progress of a file transfer, for progress bars. */
export interface TransferProgress {
  phase: 'upload' | 'download';
  bytes: number;
  totalBytes?: number;
}

/**
 * Everything a task runner gets from its host besides the task. The host renders templates
 * before calling the runner; `render` is there for runner-level templating (pod spec overlays).
 * `@podrun/host`'s `createRunContext` builds one for each task of a flow; a plain object works
 * too (the @podrun/kubernetes-runner README shows one field by field). Keep `state` durable and
 * `identity` stable across a crash, and a new process resumes the same pod.
 */
export interface RunContext {
  identity: TaskRunIdentity;
  /** The runner's own diagnostics (pod created, reattached, transfer done...). */
  logger: Logger;
  /** The task's output lines (container stdout/stderr), in order, each once. */
  taskLogs: LogSink;
  storage: TaskStorage;
  state: RunState;
  /** Renders a template string with the run's variables plus `extraVars`. */
  render(template: string, extraVars?: Record<string, unknown>): string;
  /** Resolves the task's input and namespace files into a streamable tree (reads storage URIs). */
  resolveInputs(task: Task): Promise<InputTree>;
  onProgress?: (progress: TransferProgress) => void;
}

/** What a task run produced. */
export interface TaskRunResult {
  exitCode: number;
  /** Output file name (relative name) -> storage URI. */
  outputFiles: Record<string, string>;
  /** Outputs from the `::{"outputs":{...}}::` log protocol. */
  vars: Record<string, unknown>;
  metrics: TaskMetric[];
  /** The pod that ran the task (Kubernetes runner). */
  pod?: { namespace: string; name: string; uid?: string };
}

/**
 * The TaskRunner plugin contract: runs one task and returns its result. A non-zero exit is a
 * result, not an exception; infrastructure failures (pod failed, deadline, transfer) throw
 * PodrunError subclasses. Cancellation through `signal` cleans up and rejects with CancelledError.
 */
export interface TaskRunner {
  /** Registered type name, e.g. `io.podrun.kubernetes` or `io.podrun.process`. */
  readonly type: string;
  run(task: Task, context: RunContext, signal: AbortSignal): Promise<TaskRunResult>;
}
