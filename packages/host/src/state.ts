import { mkdir, readFile, rename, writeFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ErrorCodes, PodrunError } from '@podrun/core';
import type { RunState, TaskMetric } from '@podrun/core';

/** State of an execution or a task, as Kestra names them. */
export type ExecutionStatus = 'CREATED' | 'RUNNING' | 'SUCCESS' | 'WARNING' | 'FAILED' | 'CANCELLED';
/** State of one task of an execution. */
export type TaskStatus = ExecutionStatus | 'SKIPPED';

/** A secret-free error summary kept in state and results. */
export interface ErrorSummary {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** What a task produced, kept so later tasks and resumed runs can use it. */
export interface TaskOutputs {
  exitCode: number;
  vars: Record<string, unknown>;
  /** Relative name -> storage URI. */
  outputFiles: Record<string, string>;
  metrics: TaskMetric[];
  pod?: { namespace: string; name: string; uid?: string };
}

/** One attempt of a task. */
export interface AttemptRecord {
  attempt: number;
  status: TaskStatus;
  startedAt: string;
  endedAt?: string;
  error?: ErrorSummary;
  exitCode?: number;
}

/**
 * Durable record of one task run of an execution. Inside a ForEach the same task runs once per
 * value: each run has its own record, under the key `id[value]` (`id[outer][inner]` when nested).
 */
export interface TaskRecord {
  /** The task's id in the flow. */
  id: string;
  status: TaskStatus;
  /** Stable across a crash and resume; the runner finds its pod by it. */
  taskRunId: string;
  /** Current attempt number (1-based). */
  attempt: number;
  attempts: AttemptRecord[];
  outputs?: TaskOutputs;
  /** True when outputs came from the task cache (no runner call). */
  cached?: boolean;
  /** The runner's durable state for the current attempt (pod name, log cursors...). */
  runState: Record<string, unknown>;
  error?: ErrorSummary;
  /** Set on the record of a flowable task (it ran other tasks and has no outputs). */
  flowable?: 'Parallel' | 'ForEach';
  /** Key of the Parallel or ForEach run this run belongs to. */
  parent?: string;
  /**
   * Set when the run is in the `errors` or `finally` list of the flow (or of its `parent`): such
   * runs do not decide the state of what holds them.
   */
  branch?: 'errors' | 'finally';
  /** `{{ taskrun.value }}`: the ForEach value of a direct child of a ForEach. */
  value?: string;
  /** `{{ taskrun.iteration }}`: the 0-based index of that value. */
  iteration?: number;
  /** Every ForEach value this run is under, outermost first (its address in `outputs`). */
  valuePath?: string[];
  /** A ForEach's values as rendered when it started, so a resume iterates over the same list. */
  items?: string[];
}

/** Durable record of one execution; `state.json` in the execution's directory. */
export interface ExecutionRecord {
  version: 1;
  id: string;
  namespace: string;
  flowId: string;
  /** The flow file as it was run, so a resume runs the same flow. */
  flowSource: string;
  flowPath?: string;
  /** Resolved inputs (FILE inputs as storage URIs). */
  inputs: Record<string, unknown>;
  status: ExecutionStatus;
  startedAt: string;
  endedAt?: string;
  tasks: Record<string, TaskRecord>;
  /** Secret-free host options the run was started with (cluster choice), reused on resume. */
  options?: Record<string, unknown>;
  /** Execution this one was created from (retry behavior CREATE_NEW_EXECUTION). */
  retryOf?: string;
  /** Which execution attempt this is under CREATE_NEW_EXECUTION (1-based). */
  executionAttempt?: number;
  error?: ErrorSummary;
}

/** Reads and writes execution records under `<dir>/executions/<id>/state.json`, atomically. */
export interface StateStore {
  readonly dir: string;
  load(executionId: string): Promise<ExecutionRecord>;
  exists(executionId: string): Promise<boolean>;
  /** Writes the record (temp file + rename; writes of one store are serialised). */
  save(record: ExecutionRecord): Promise<void>;
  list(): Promise<string[]>;
  /**
   * Masks every later write of this execution's record with `mask` (its secrets), whoever saves it
   * (the host, a task's run state).
   */
  maskWith(executionId: string, mask: <T>(value: T) => T): void;
  /** A RunState backed by `record.tasks[taskId].runState`, persisted on every `set`. */
  runState(record: ExecutionRecord, taskId: string): RunState;
}

/** Creates a state store rooted at `dir` (e.g. `.podrun`). */
export function createStateStore(options: { dir: string }): StateStore {
  const dir = resolve(options.dir);
  const fileOf = (id: string) => join(dir, 'executions', safeId(id), 'state.json');
  const masks = new Map<string, <T>(value: T) => T>();
  // One write at a time per execution. Saves that arrive during a write share the next one, which
  // serialises the record as it is then (it holds their changes): with hundreds of concurrent tasks
  // each persisting a log cursor, the file is rewritten once per turn, not once per call.
  interface Pending {
    record: ExecutionRecord;
    done: Promise<void>;
    resolve: () => void;
    reject: (error: unknown) => void;
  }
  const writers = new Map<string, { pending?: Pending }>();

  const write = async (record: ExecutionRecord) => {
    const mask = masks.get(record.id);
    const text = JSON.stringify(mask ? mask(record) : record, null, 2);
    const file = fileOf(record.id);
    // Inputs and outputs can be private: only the user running podrun may read its state.
    await mkdir(join(file, '..'), { recursive: true, mode: 0o700 });
    const temp = `${file}.${randomUUID()}.tmp`;
    await writeFile(temp, text, { mode: 0o600 });
    await rename(temp, file);
  };

  const drain = async (id: string, writer: { pending?: Pending }) => {
    while (writer.pending) {
      const job = writer.pending;
      writer.pending = undefined;
      await write(job.record).then(job.resolve, job.reject);
    }
    writers.delete(id);
  };

  const save = (record: ExecutionRecord): Promise<void> => {
    let writer = writers.get(record.id);
    const idle = !writer;
    if (!writer) writers.set(record.id, (writer = {}));
    if (writer.pending) {
      writer.pending.record = record;
      return writer.pending.done;
    }
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    writer.pending = { record, done, resolve, reject };
    if (idle) void drain(record.id, writer);
    return done;
  };

  const load = async (executionId: string): Promise<ExecutionRecord> => {
    let text: string;
    try {
      text = await readFile(fileOf(executionId), 'utf8');
    } catch {
      throw new PodrunError(
        ErrorCodes.STORAGE,
        `no execution "${executionId}" under ${join(dir, 'executions')}; check the id or the --state-dir`,
        { component: 'state', details: { executionId } },
      );
    }
    const record = JSON.parse(text) as ExecutionRecord;
    if (record.version !== 1) {
      throw new PodrunError(ErrorCodes.STORAGE, `execution "${executionId}" was written by an unsupported version`, {
        component: 'state',
      });
    }
    return record;
  };

  return {
    dir,
    load,
    save,
    maskWith(executionId, mask) {
      masks.set(executionId, mask);
    },
    async exists(executionId) {
      try {
        await readFile(fileOf(executionId));
        return true;
      } catch {
        return false;
      }
    },
    async list() {
      try {
        return await readdir(join(dir, 'executions'));
      } catch {
        return [];
      }
    },
    runState(record, taskId) {
      return {
        async get<T>(key: string) {
          return record.tasks[taskId]?.runState[key] as T | undefined;
        },
        async set(key: string, value: unknown) {
          const task = record.tasks[taskId];
          if (!task) return;
          task.runState[key] = value;
          await save(record);
        },
      };
    },
  };
}

/** Execution ids become directory names: keep them to a safe alphabet. */
export function safeId(id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id)) {
    throw new PodrunError(
      ErrorCodes.CONFIG_INVALID,
      `execution id "${id}" is not valid; use letters, digits, ".", "_" or "-" (at most 128)`,
      { component: 'state', details: { executionId: id } },
    );
  }
  return id;
}
