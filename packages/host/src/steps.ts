import { ErrorCodes, PodrunError } from '@podrun/core';
import { HANDLER_BRANCHES, isFlowable, isForEach } from './flow/schema.js';
import type { FlowStep, FlowableTask, ForEachTask, Handlers } from './flow/schema.js';
import type { RetryPolicy } from './retry.js';
import type { ErrorSummary, TaskOutputs, TaskRecord, TaskStatus } from './state.js';
import { placeFields, runTask, summarize } from './task-run.js';
import type { TaskRunEnv as RunEnv, TaskRunPlace } from './task-run.js';

/** What steps need: a task's environment plus the execution's signal fan-out. */
export type TaskRunEnv = RunEnv & { signals: SignalFanout };

/** How a step (a task, or a Parallel / ForEach with everything in it) ended. */
export interface StepOutcome {
  /** The step failed or was cancelled and did not allow it: what comes after it does not run. */
  failed: boolean;
  /** The first failure that asks for a new execution (retry behavior CREATE_NEW_EXECUTION). */
  retryPolicy?: RetryPolicy;
  /** A new execution takes over (CREATE_NEW_EXECUTION): `errors` and `finally` are left to it. */
  handedOver?: boolean;
}

const DONE: readonly TaskStatus[] = ['SUCCESS', 'WARNING', 'SKIPPED'];
// A run of an `errors` or `finally` list that ended FAILED is finished too: a resume keeps it.
const HANDLER_DONE: readonly TaskStatus[] = [...DONE, 'FAILED'];

/**
 * Runs `tasks` (through `main`), then, as Kestra does, the `errors` list once when they failed
 * and the `finally` list whatever happened, each list in order and to its end (a failed run in it
 * does not stop it). Their runs never change the outcome of `tasks`: a flow whose task failed
 * ends FAILED even when its `errors` succeed. A cancelled execution starts neither list.
 * On a resume, a list that already has runs in the state is where the execution was: `tasks`
 * are not run again once `errors` started, nor `errors` once `finally` started.
 */
export async function runWithHandlers(
  handlers: Handlers,
  prefix: string,
  scope: Omit<TaskRunPlace, 'key' | 'path'>,
  env: TaskRunEnv,
  main: () => Promise<StepOutcome>,
): Promise<StepOutcome> {
  const started = (branch: keyof Handlers) =>
    (handlers[branch] ?? []).some((step) => env.record.tasks[runKey(step.id, scope.valuePath)] !== undefined);
  const inFinally = started('finally');
  const inErrors = !inFinally && started('errors');
  const outcome: StepOutcome = inFinally || inErrors ? { failed: inErrors } : await main();
  if (outcome.handedOver) return outcome;
  for (const branch of HANDLER_BRANCHES) {
    const steps = handlers[branch];
    if (!steps?.length || env.signal.aborted) continue;
    if (branch === 'errors' && (inFinally || !outcome.failed)) continue;
    for (const [index, step] of steps.entries()) {
      if (env.signal.aborted) break;
      const key = runKey(step.id, scope.valuePath);
      if (HANDLER_DONE.includes(env.record.tasks[key]?.status ?? 'CREATED')) continue;
      await runStep(step, { ...scope, branch, key, path: `${prefix}${branch}[${index}]` }, env);
    }
  }
  return outcome;
}

/**
 * Runs a list of steps in order, as Kestra runs a flow's `tasks` (and each ForEach group): a step
 * that fails stops the list. Parallel runs its children at once (`concurrent` at a time, 0 = all),
 * ForEach its children once per value (`concurrencyLimit` groups at a time, 0 = all). As in Kestra,
 * a failed child lets the running siblings finish but starts no new one, then fails its parent
 * (a WARNING when the parent has `allowFailure`). Runs already finished in the state (a resume)
 * are kept; a run that was RUNNING continues with its identity, so its pod is found again.
 */
export async function runSteps(
  steps: readonly FlowStep[],
  listPath: string,
  scope: Omit<TaskRunPlace, 'key' | 'path'>,
  env: TaskRunEnv,
  offset = 0,
): Promise<StepOutcome> {
  for (const [index, step] of steps.entries()) {
    const path = `${listPath}[${offset + index}]`;
    const place: TaskRunPlace = { ...scope, key: runKey(step.id, scope.valuePath), path };
    const outcome = await runStep(step, place, env);
    if (outcome.failed) return outcome;
  }
  return { failed: false };
}

/** A run's key in the execution's state: `id`, or `id[v1][v2]` under ForEach values. */
export function runKey(id: string, valuePath: readonly string[]): string {
  return `${id}${valuePath.map((v) => `[${v}]`).join('')}`;
}

/** The template variable `outputs` of the finished runs of a record, nested by ForEach values. */
export function outputsOf(tasks: Record<string, TaskRecord>): Record<string, unknown> {
  const outputs: Record<string, unknown> = {};
  for (const run of Object.values(tasks))
    if (run.outputs && DONE.includes(run.status)) setOutputs(outputs, run.id, run.valuePath ?? [], run.outputs);
  return outputs;
}

/**
 * Puts a run's outputs where Kestra's expressions find them: `outputs.id`, or inside a ForEach
 * `outputs.id[value]` (`outputs.id[outer][inner]` when nested).
 */
export function setOutputs(
  outputs: Record<string, unknown>,
  id: string,
  valuePath: readonly string[],
  result: TaskOutputs,
): void {
  const value = { vars: result.vars, outputFiles: result.outputFiles, exitCode: result.exitCode };
  if (!valuePath.length) {
    outputs[id] = value;
    return;
  }
  let node = (outputs[id] ??= {}) as Record<string, unknown>;
  for (const v of valuePath.slice(0, -1)) node = (node[v] ??= {}) as Record<string, unknown>;
  node[valuePath[valuePath.length - 1]!] = value;
}

async function runStep(step: FlowStep, place: TaskRunPlace, env: TaskRunEnv): Promise<StepOutcome> {
  const { record } = env;
  const existing = record.tasks[place.key];
  if (existing && DONE.includes(existing.status)) return { failed: false };
  if (step.disabled) {
    record.tasks[place.key] = {
      id: step.id,
      status: 'SKIPPED',
      taskRunId: env.newTaskRunId(),
      attempt: 1,
      attempts: [],
      runState: {},
      ...placeFields(place),
    };
    return { failed: false };
  }
  if (isFlowable(step)) return runFlowable(step, place, env);
  // Each run listens to a signal of its own: hundreds of concurrent runs on the execution's one
  // signal would each add an abort listener to it (MaxListenersExceededWarning).
  const own = env.signals.child();
  let outcome;
  try {
    outcome = await runTask(step, place, { ...env, signal: own.signal });
  } finally {
    own.release();
  }
  if (outcome.record.outputs && DONE.includes(outcome.record.status))
    setOutputs(env.vars.outputs as Record<string, unknown>, step.id, place.valuePath, outcome.record.outputs);
  const failed = outcome.record.status === 'FAILED' || outcome.record.status === 'CANCELLED';
  return { failed, ...(outcome.retryPolicy ? { retryPolicy: outcome.retryPolicy } : {}) };
}

async function runFlowable(step: FlowableTask, place: TaskRunPlace, env: TaskRunEnv): Promise<StepOutcome> {
  const { record } = env;
  const startedAt = env.now().toISOString();
  const own: TaskRecord = record.tasks[place.key] ?? {
    id: step.id,
    status: 'CREATED',
    taskRunId: env.newTaskRunId(),
    attempt: 1,
    attempts: [{ attempt: 1, status: 'RUNNING', startedAt }],
    runState: {},
    flowable: isForEach(step) ? 'ForEach' : 'Parallel',
    ...placeFields(place),
  };
  record.tasks[place.key] = own;
  own.status = 'RUNNING';
  delete own.error;

  // Children of this run: what they see as `parent`/`parents` when this run has a value. Its
  // `errors` and `finally` run once for the whole flowable (not per ForEach value), with no value.
  const parents = place.value !== undefined ? [{ taskrun: { value: place.value } }, ...place.parents] : place.parents;
  const base = { parent: place.key, valuePath: place.valuePath, parents };
  const childPath = `${place.path}.tasks`;
  let groups: { steps: readonly FlowStep[]; scope: Omit<TaskRunPlace, 'key' | 'path'>; offset: number }[];
  let limit: number;
  if (isForEach(step)) {
    try {
      own.items ??= renderValues(step, place.path, env);
    } catch (error) {
      return endFlowable(step, place, own, 'FAILED', summarize(error), env);
    }
    groups = own.items.map((value, iteration) => ({
      steps: step.tasks,
      scope: { ...base, value, iteration, valuePath: [...place.valuePath, value] },
      offset: 0,
    }));
    limit = step.concurrencyLimit;
  } else {
    // One group per child; the offset keeps the child's index in config paths.
    groups = step.tasks.map((child, index) => ({ steps: [child], scope: base, offset: index }));
    limit = step.concurrent;
  }
  await env.store.save(record);
  let outcomes: (StepOutcome | undefined)[] = [];
  await runWithHandlers(step, `${place.path}.`, base, env, async () => {
    for (const group of groups)
      for (const child of group.steps) {
        const key = runKey(child.id, group.scope.valuePath);
        if (!isFlowable(child) && !DONE.includes(record.tasks[key]?.status ?? 'CREATED'))
          env.observer.taskQueued?.(key);
      }
    outcomes = await runLimited(groups.length, limit, env.signal, (i) => {
      const group = groups[i]!;
      return runSteps(group.steps, childPath, group.scope, env, group.offset);
    });
    return { failed: outcomes.some((o) => o?.failed) };
  });
  // Runs of `errors` and `finally` do not decide the flowable's state: its `tasks` do.
  const children = Object.values(record.tasks).filter((t) => t.parent === place.key && !t.branch);
  const failedRuns = children.filter((t) => t.status === 'FAILED' || t.status === 'CANCELLED');
  const retryPolicy = outcomes.find((o) => o?.retryPolicy)?.retryPolicy;
  let status: TaskStatus = 'SUCCESS';
  let error: ErrorSummary | undefined;
  if (outcomes.some((o) => o?.failed) || failedRuns.length) {
    const cancelled = env.signal.aborted || failedRuns.every((t) => t.status === 'CANCELLED');
    status = cancelled ? 'CANCELLED' : 'FAILED';
    const first = failedRuns[0];
    const notStarted = outcomes.filter((o) => o === undefined).length;
    error = {
      code: first?.error?.code ?? (cancelled ? ErrorCodes.CANCELLED : ErrorCodes.TASK_FAILED),
      message:
        `${failedRuns.length} of ${children.length} task runs in ${step.id} ended ${cancelled ? 'CANCELLED' : 'FAILED'}` +
        (notStarted ? `, ${notStarted} not started` : '') +
        (first?.error ? `; first: ${runKey(first.id, first.valuePath ?? [])}: ${first.error.message}` : ''),
      details: { failed: failedRuns.map((t) => runKey(t.id, t.valuePath ?? [])) },
    };
  } else if (children.some((t) => t.status === 'WARNING')) {
    status = 'WARNING';
  }
  const ended = await endFlowable(step, place, own, status, error, env);
  return { ...ended, ...(retryPolicy && ended.failed ? { retryPolicy } : {}) };
}

async function endFlowable(
  step: FlowableTask,
  place: TaskRunPlace,
  own: TaskRecord,
  status: TaskStatus,
  error: ErrorSummary | undefined,
  env: TaskRunEnv,
): Promise<StepOutcome> {
  const failed = status === 'FAILED' || status === 'CANCELLED';
  // allowFailure turns a failed flowable into a WARNING, and the flow goes on.
  own.status = failed && step.allowFailure && status === 'FAILED' ? 'WARNING' : status;
  if (error) own.error = error;
  const attempt = own.attempts[own.attempts.length - 1];
  if (attempt) {
    attempt.status = own.status;
    attempt.endedAt = env.now().toISOString();
    if (error) attempt.error = error;
  }
  await env.store.save(env.record);
  env.observer.taskFinished?.(place.key, own);
  return { failed: own.status === 'FAILED' || own.status === 'CANCELLED' };
}

// Kestra's rules: a list, or a string rendered then read as a JSON array; strings stay as they
// are, other values become their JSON text; duplicates are dropped; null is an error.
function renderValues(step: ForEachTask, path: string, env: TaskRunEnv): string[] {
  let values: unknown[];
  if (typeof step.values === 'string') {
    const text = env.renderer.render(step.values, env.vars);
    try {
      values = JSON.parse(text) as unknown[];
    } catch {
      throw invalidValues(path, `"${text.slice(0, 80)}" is not a JSON array`);
    }
    if (!Array.isArray(values)) throw invalidValues(path, `"${text.slice(0, 80)}" is not a JSON array`);
  } else {
    values = env.renderer.renderDeep(step.values, env.vars);
  }
  const out: string[] = [];
  for (const value of values) {
    if (value === null || value === undefined) throw invalidValues(path, 'a value is null');
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (!out.includes(text)) out.push(text);
  }
  return out;
}

function invalidValues(path: string, why: string): PodrunError {
  return new PodrunError(
    ErrorCodes.TEMPLATE,
    `${path}.values: ${why}; give a list, or a JSON array as a string (e.g. '["a", "b"]')`,
    { component: 'host', details: { path: `${path}.values` } },
  );
}

/** Gives each task run its own signal, aborted with the execution's: one listener for all of them. */
export interface SignalFanout {
  child(): { signal: AbortSignal; release(): void };
  close(): void;
}

/** Creates the signal fan-out of an execution. */
export function createSignalFanout(parent: AbortSignal): SignalFanout {
  const children = new Set<AbortController>();
  const onAbort = () => {
    for (const child of children) child.abort(parent.reason);
  };
  parent.addEventListener('abort', onAbort, { once: true });
  return {
    child() {
      const controller = new AbortController();
      if (parent.aborted) controller.abort(parent.reason);
      else children.add(controller);
      return { signal: controller.signal, release: () => void children.delete(controller) };
    },
    close: () => parent.removeEventListener('abort', onAbort),
  };
}

/**
 * Runs `count` jobs, at most `limit` at a time (0 = all at once). After a job reports a failure,
 * or the signal aborts, no new job starts; those running finish. Jobs never started are
 * `undefined` in the result.
 */
async function runLimited(
  count: number,
  limit: number,
  signal: AbortSignal,
  job: (index: number) => Promise<StepOutcome>,
): Promise<(StepOutcome | undefined)[]> {
  const results: (StepOutcome | undefined)[] = new Array<StepOutcome | undefined>(count).fill(undefined);
  let next = 0;
  let stop = false;
  const worker = async () => {
    while (!stop && !signal.aborted && next < count) {
      const index = next++;
      const outcome = await job(index);
      results[index] = outcome;
      if (outcome.failed) stop = true;
    }
  };
  const workers = limit === 0 ? count : Math.min(limit, count);
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}
