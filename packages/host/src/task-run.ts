import { CancelledError, ErrorCodes, PodrunError, isPodrunError } from '@podrun/core';
import type { Logger, Task, TaskRunIdentity } from '@podrun/core';
import type { TaskCache } from './cache.js';
import { computeCacheKey } from './cache.js';
import type { FlowTask } from './flow/schema.js';
import type { ExecutionObserver } from './observer.js';
import { createRetryPolicy } from './retry.js';
import type { RetryPolicy } from './retry.js';
import { createRunContext, resolveInputs } from './run-context.js';
import type { RunnerConfig } from './registry.js';
import type { HostTaskRunner, WorkingPaths } from './runner-paths.js';
import { renderShellTask } from './shell-task.js';
import type { ErrorSummary, ExecutionRecord, StateStore, TaskOutputs, TaskRecord } from './state.js';
import type { LocalStorage } from './storage.js';
import type { TemplateRenderer, TemplateVars } from './templates.js';
import { abortableDelay } from './worker-groups.js';

/** Codes that no retry can fix: the same attempt would fail the same way. */
const NOT_RETRIED = new Set<string>([
  ErrorCodes.CONFIG_INVALID,
  ErrorCodes.TASK_INVALID,
  ErrorCodes.FLOW_INVALID,
  ErrorCodes.TEMPLATE,
  ErrorCodes.INPUT_MISSING,
  ErrorCodes.PLUGIN_UNKNOWN,
  ErrorCodes.PLUGIN_VERSION,
  ErrorCodes.CANCELLED,
]);

/** What one task needs from the execution around it. */
export interface TaskRunEnv {
  record: ExecutionRecord;
  store: StateStore;
  storage: LocalStorage;
  cache: TaskCache;
  renderer: TemplateRenderer;
  vars: TemplateVars;
  observer: ExecutionObserver;
  signal: AbortSignal;
  /** Builds (or reuses) the runner for a task: rendered runner config, worker group applied. */
  runnerFor(
    task: FlowTask,
    path: string,
    vars: TemplateVars,
  ): Promise<{ runner: HostTaskRunner; config: RunnerConfig }>;
  namespaceFilesDir?: string;
  newTaskRunId(): string;
  now(): Date;
}

/**
 * Where a task run sits in the flow: its key in `record.tasks` and, inside a ForEach, its value
 * and the values above it (Kestra's `taskrun.value`, `taskrun.iteration`, `parent`, `parents`).
 */
export interface TaskRunPlace {
  /** `id`, or `id[value]` inside a ForEach (`id[outer][inner]` when nested). */
  key: string;
  /** Config path for messages, e.g. `tasks[0].tasks[2]`. */
  path: string;
  /** Key of the enclosing Parallel or ForEach run. */
  parent?: string;
  /** Set for a run in an `errors` or `finally` list. */
  branch?: 'errors' | 'finally';
  value?: string;
  iteration?: number;
  /** Every ForEach value above the run, outermost first, its own included. */
  valuePath: string[];
  /** `parents`: the enclosing runs that have a value, closest first. */
  parents: { taskrun: { value: string } }[];
}

/** The place of a top-level task. */
export function topLevelPlace(id: string, index: number): TaskRunPlace {
  return { key: id, path: `tasks[${index}]`, valuePath: [], parents: [] };
}

/** Outcome of a task, after retries. */
export interface TaskRunOutcome {
  record: TaskRecord;
  /** Set when the failure asks for a new execution (retry behavior CREATE_NEW_EXECUTION). */
  retryPolicy?: RetryPolicy;
}

/**
 * Runs one task of an execution to its end: cache lookup, runner call, retries with the task's
 * policy, state persisted at every step so a crash can be resumed with the same identity.
 */
export async function runTask(task: FlowTask, place: TaskRunPlace, env: TaskRunEnv): Promise<TaskRunOutcome> {
  const { record } = env;
  const { key } = place;
  const { observer } = env;
  const existing = record.tasks[key];
  const resumed = existing?.status === 'RUNNING';
  const taskRecord: TaskRecord =
    existing && resumed
      ? existing
      : {
          id: task.id,
          status: 'CREATED',
          taskRunId: env.newTaskRunId(),
          attempt: 1,
          attempts: [],
          runState: {},
          ...placeFields(place),
        };
  record.tasks[key] = taskRecord;
  const policy = createRetryPolicy(task.retry);
  const firstStart = taskRecord.attempts[0]?.startedAt
    ? Date.parse(taskRecord.attempts[0].startedAt)
    : env.now().getTime();

  for (;;) {
    const attempt = taskRecord.attempt;
    if (!taskRecord.attempts.find((a) => a.attempt === attempt)) {
      taskRecord.attempts.push({ attempt, status: 'RUNNING', startedAt: env.now().toISOString() });
    }
    taskRecord.status = 'RUNNING';
    await env.store.save(record);
    observer.taskStarted?.(key, attempt, resumed && attempt === existing?.attempt);

    const attemptRecord = taskRecord.attempts.find((a) => a.attempt === attempt)!;
    let error: ErrorSummary | undefined;
    const stderr = { lines: 0 };
    try {
      const outputs = await runAttempt(task, place, taskRecord, env, stderr);
      taskRecord.outputs = outputs;
      attemptRecord.exitCode = outputs.exitCode;
      if (outputs.exitCode !== 0) {
        error = {
          code: ErrorCodes.TASK_FAILED,
          message: `the commands exited with code ${outputs.exitCode}`,
          details: { exitCode: outputs.exitCode },
        };
      }
    } catch (thrown) {
      error = summarize(thrown);
      if (isPodrunError(thrown, ErrorCodes.CANCELLED)) {
        return { record: await finish(key, taskRecord, attemptRecord, 'CANCELLED', error, env) };
      }
    }
    if (!error) {
      // warningOnStdErr (default true, as the reference): output on stderr makes a success a WARNING.
      // Only runners whose collector tells the streams apart report it (the Process runner; the
      // Kubernetes API merges a container's streams).
      const warned = (attempt > 1 && policy.warningOnRetry) || (task.warningOnStdErr !== false && stderr.lines > 0);
      const status = warned ? 'WARNING' : 'SUCCESS';
      return { record: await finish(key, taskRecord, attemptRecord, status, undefined, env) };
    }
    const decision = NOT_RETRIED.has(error.code)
      ? { retry: false as const }
      : policy.next(attempt, env.now().getTime() - firstStart);
    if (decision.retry && policy.behavior === 'RETRY_FAILED_TASK') {
      attemptRecord.status = 'FAILED';
      attemptRecord.endedAt = env.now().toISOString();
      attemptRecord.error = error;
      observer.taskRetrying?.(key, attempt, decision.delayMs, error);
      // A new attempt gets a fresh pod: the runner's state belonged to the failed one.
      taskRecord.attempt = attempt + 1;
      taskRecord.runState = {};
      await env.store.save(record);
      try {
        await abortableDelay(decision.delayMs, env.signal);
      } catch (cancel) {
        return { record: await finish(key, taskRecord, attemptRecord, 'CANCELLED', summarize(cancel), env) };
      }
      continue;
    }
    const status = task.allowFailure ? 'WARNING' : 'FAILED';
    const done = await finish(key, taskRecord, attemptRecord, status, error, env);
    return policy.behavior === 'CREATE_NEW_EXECUTION' && !task.allowFailure && !NOT_RETRIED.has(error.code)
      ? { record: done, retryPolicy: policy }
      : { record: done };
  }
}

async function runAttempt(
  task: FlowTask,
  place: TaskRunPlace,
  taskRecord: TaskRecord,
  env: TaskRunEnv,
  stderr: { lines: number },
): Promise<TaskOutputs> {
  const { record } = env;
  const identity: TaskRunIdentity = {
    namespace: record.namespace,
    flowId: record.flowId,
    taskId: task.id,
    executionId: record.id,
    taskRunId: taskRecord.taskRunId,
    attempt: taskRecord.attempt,
  };
  const { path } = place;
  const baseVars: TemplateVars = {
    ...env.vars,
    task: { id: task.id, type: task.type },
    taskrun: {
      id: taskRecord.taskRunId,
      attemptsCount: taskRecord.attempt - 1,
      ...(place.value !== undefined ? { value: place.value, iteration: place.iteration } : {}),
    },
    ...(place.parents.length ? { parents: place.parents, parent: place.parents[0] } : {}),
  };
  const { runner, config } = await env.runnerFor(task, path, baseVars);
  const paths: WorkingPaths = runner.workingPaths?.(identity) ?? {
    workingDir: '/kestra/working-dir',
    outputDir: '/kestra/working-dir/outputs',
  };
  const vars = { ...baseVars, workingDir: paths.workingDir, outputDir: paths.outputDir };
  const rendered: Task = await renderShellTask(task, path, env.renderer, vars, {
    namespace: record.namespace,
    dir: env.namespaceFilesDir,
  });

  let cacheKey: string | undefined;
  if (task.taskCache?.enabled) {
    const inputs = await resolveInputs(rendered, env.storage);
    cacheKey = await computeCacheKey({ definition: { type: task.type, task: rendered, runner: config }, inputs });
    const hit = await env.cache.get(
      { namespace: record.namespace, flowId: record.flowId, taskId: task.id },
      cacheKey,
      env.now(),
    );
    if (hit) {
      taskRecord.cached = true;
      env.observer.taskCached?.(place.key, hit.executionId);
      return hit.outputs;
    }
  }

  const logger = taskLogger(place.key, env.observer);
  const context = createRunContext({
    identity,
    logger,
    taskLogs: {
      line: (line) => {
        if (line.stream === 'stderr') stderr.lines++;
        return env.observer.taskLog?.(place.key, line);
      },
    },
    storage: env.storage,
    state: env.store.runState(record, place.key),
    renderer: env.renderer,
    vars,
    onProgress: (progress) => env.observer.taskProgress?.(place.key, progress),
  });
  if (env.signal.aborted) throw new CancelledError('the run was cancelled', { component: 'host' });
  const result = await runner.run(rendered, context, env.signal);
  const outputs: TaskOutputs = {
    exitCode: result.exitCode,
    vars: result.vars,
    outputFiles: result.outputFiles,
    metrics: result.metrics,
  };
  if (result.pod) outputs.pod = result.pod;
  if (cacheKey && result.exitCode === 0) {
    const createdAt = env.now();
    const ttl = task.taskCache?.ttl;
    await env.cache.put(
      { namespace: record.namespace, flowId: record.flowId, taskId: task.id },
      {
        key: cacheKey,
        createdAt: createdAt.toISOString(),
        ...(ttl !== undefined ? { expiresAt: new Date(createdAt.getTime() + ttl).toISOString() } : {}),
        executionId: record.id,
        outputs,
      },
    );
  }
  return outputs;
}

async function finish(
  key: string,
  taskRecord: TaskRecord,
  attemptRecord: TaskRecord['attempts'][number],
  status: TaskRecord['status'],
  error: ErrorSummary | undefined,
  env: TaskRunEnv,
): Promise<TaskRecord> {
  taskRecord.status = status;
  attemptRecord.status = status;
  attemptRecord.endedAt = env.now().toISOString();
  if (error) {
    taskRecord.error = error;
    attemptRecord.error = error;
  } else {
    delete taskRecord.error;
  }
  await env.store.save(env.record);
  env.observer.taskFinished?.(key, taskRecord);
  return taskRecord;
}

/** A secret-free summary of anything thrown. */
export function summarize(error: unknown): ErrorSummary {
  if (error instanceof PodrunError) {
    return {
      code: error.code,
      message: error.message,
      ...(Object.keys(error.details).length ? { details: error.details } : {}),
    };
  }
  return {
    code: 'PODRUN_INTERNAL',
    message: `[podrun] unexpected error: ${error instanceof Error ? error.message : String(error)}`,
  };
}

/** The fields of a task record that say where it ran. */
export function placeFields(place: TaskRunPlace): Partial<TaskRecord> {
  return {
    ...(place.parent !== undefined ? { parent: place.parent } : {}),
    ...(place.branch ? { branch: place.branch } : {}),
    ...(place.value !== undefined ? { value: place.value, iteration: place.iteration! } : {}),
    ...(place.valuePath.length ? { valuePath: place.valuePath } : {}),
  };
}

function taskLogger(taskId: string, observer: ExecutionObserver): Logger {
  const log = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, fields?: Record<string, unknown>) =>
    observer.runnerLog?.(taskId, level, message, fields);
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
