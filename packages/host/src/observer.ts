import type { LogLine, TransferProgress } from '@podrun/core';
import type { ErrorSummary, ExecutionRecord, TaskRecord } from './state.js';

/**
 * Live events of an execution, for CLIs and UIs. Every method is optional. `taskId` is the task
 * run's key: the task's id, or `id[value]` for a run inside a ForEach.
 */
export interface ExecutionObserver {
  executionStarted?(record: ExecutionRecord, resumed: boolean): void;
  /** A task run inside a Parallel or ForEach waits for its turn (its `concurrent` limit, its group). */
  taskQueued?(taskId: string): void;
  taskStarted?(taskId: string, attempt: number, resumed: boolean): void;
  /** A line the task's commands wrote. */
  taskLog?(taskId: string, line: LogLine): void | Promise<void>;
  /** The runner's own diagnostics (pod created, reattached...). */
  runnerLog?(
    taskId: string,
    level: 'debug' | 'info' | 'warn' | 'error',
    message: string,
    fields?: Record<string, unknown>,
  ): void;
  taskProgress?(taskId: string, progress: TransferProgress): void;
  /** Outputs came from the task cache; no runner was called. */
  taskCached?(taskId: string, fromExecution: string): void;
  /** A failed attempt will be retried after `delayMs`. */
  taskRetrying?(taskId: string, failedAttempt: number, delayMs: number, error: ErrorSummary): void;
  workerGroupWaiting?(taskId: string, key: string): void;
  /** A task run ended; also a Parallel or ForEach (its record has `flowable`) once all its runs did. */
  taskFinished?(taskId: string, record: TaskRecord): void;
  executionFinished?(record: ExecutionRecord): void;
  /** A new execution was created (retry behavior CREATE_NEW_EXECUTION). */
  executionRetried?(previous: ExecutionRecord, nextId: string, delayMs: number): void;
}
