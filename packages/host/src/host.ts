import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ErrorCodes, PodrunError, silentLogger } from '@podrun/core';
import { createTaskCache } from './cache.js';
import { parseFlow } from './flow/load.js';
import { resolveFlowInputs } from './flow/inputs.js';
import type { InputValues } from './flow/inputs.js';
import type { Flow } from './flow/schema.js';
import type { HostOptions } from './host-options.js';
import { MASK, createMasker, createSecretResolver, maskingLogger, maskingObserver, withSecrets } from './secrets.js';
import type { ExecutionObserver } from './observer.js';
import { createRunnerPool } from './runner-pool.js';
import { createStateStore, safeId } from './state.js';
import type { ErrorSummary, ExecutionRecord, ExecutionStatus } from './state.js';
import { createLocalStorage } from './storage.js';
import type { LocalStorage } from './storage.js';
import { withLogFiles } from './log-files.js';
import { createSignalFanout, outputsOf, runSteps, runWithHandlers } from './steps.js';
import type { TaskRunEnv } from './steps.js';
import { summarize } from './task-run.js';
import type { TaskRunPlace } from './task-run.js';
import { createTemplateRenderer } from './templates.js';
import { abortableDelay } from './worker-groups.js';

/** Arguments of {@link Host.run}. */
export interface RunFlowParams {
  /** The flow YAML text. */
  source: string;
  /** Where the flow came from (for messages and resume). */
  flowPath?: string;
  inputs?: InputValues;
  /** Resumes this execution when its state exists; otherwise a new execution gets this id. */
  executionId?: string;
  /** Base directory for relative FILE input paths. */
  cwd?: string;
  signal?: AbortSignal;
  observer?: ExecutionObserver;
  /** Secret-free options to keep with the execution (reused by resume). */
  options?: Record<string, unknown>;
}

/** The outcome of an execution (the last one when CREATE_NEW_EXECUTION retried it). */
export interface ExecutionResult {
  record: ExecutionRecord;
  /** Ids of earlier executions of a CREATE_NEW_EXECUTION chain, oldest first. */
  previousExecutions: string[];
  resumed: boolean;
}

/** Runs flows: validation, inputs, templates, tasks in order, retries, cache, state. */
export interface Host {
  readonly storage: LocalStorage;
  /** Validates a flow's YAML (throws ConfigError PODRUN_FLOW_INVALID with paths and lines). */
  validate(source: string, file?: string): Flow;
  run(params: RunFlowParams): Promise<ExecutionResult>;
  /** Continues an interrupted execution from its state; running tasks reattach by identity. */
  resume(executionId: string, params?: Omit<RunFlowParams, 'source' | 'executionId'>): Promise<ExecutionResult>;
  /** Reads an execution's state. */
  load(executionId: string): Promise<ExecutionRecord>;
}

/** Creates a host. Nothing is read from the environment here; it all comes through `options`. */
export function createHost(options: HostOptions): Host {
  const store = createStateStore({ dir: options.stateDir });
  const storage =
    options.storage ??
    createLocalStorage({ root: join(options.stateDir, 'storage'), namespaceFiles: options.namespaceFilesDir });
  const cache = createTaskCache({ dir: options.stateDir, storage });
  const renderer = createTemplateRenderer();
  const now = options.now ?? (() => new Date());
  const validate = (source: string, file?: string) =>
    parseFlow(source, { registry: options.registry, ...(file ? { file } : {}) });

  const execute = async (
    flow: Flow,
    record: ExecutionRecord,
    params: RunFlowParams,
    resumed: boolean,
    secretInputs: Record<string, string>,
  ): Promise<ExecutionResult> => {
    // One masker per execution: every secret value it learns (SECRET inputs, secret() calls) is
    // replaced in whatever leaves the host — observer calls, logs, stored state, the result.
    const masker = createMasker();
    for (const value of Object.values(secretInputs)) masker.add(value);
    store.maskWith(record.id, masker.maskDeep);
    const secrets = withSecrets(
      renderer,
      createSecretResolver({ env: options.env, ...(options.secrets ? { sources: options.secrets } : {}), masker }),
    );
    // Every line of every task run also goes to the execution's log files (masked), whatever the
    // caller's observer shows: a UI may summarise 200 concurrent tasks instead of printing them.
    // The masking wraps the log files too: it must see every line before anything writes it.
    const logs = withLogFiles(params.observer ?? {}, join(store.dir, 'executions', record.id, 'logs'), record.tasks);
    const observer = maskingObserver(logs.observer, masker);
    const signal = params.signal ?? new AbortController().signal;
    const pool = createRunnerPool({
      ...options,
      storage,
      renderer: secrets,
      signal,
      observer,
      logger: maskingLogger(options.logger ?? silentLogger, masker),
    });
    observer.executionStarted?.(record, resumed);
    record.status = 'RUNNING';
    // An error of the interrupted run belongs to it: this run ends with its own outcome.
    delete record.error;
    delete record.endedAt;
    await store.save(record);
    const vars = {
      flow: { id: flow.id, namespace: flow.namespace },
      execution: { id: record.id, startDate: record.startedAt },
      inputs: { ...record.inputs, ...secretInputs },
      vars: flow.variables ?? {},
      labels: flow.labels ?? {},
      outputs: {} as Record<string, unknown>,
    };
    let retryNext: { delayMs: number } | undefined;
    const signals = createSignalFanout(signal);
    try {
      // Finished runs of an interrupted execution are kept: later tasks see their outputs.
      vars.outputs = outputsOf(record.tasks);
      const scope: Omit<TaskRunPlace, 'key' | 'path'> = { valuePath: [], parents: [] };
      const env: TaskRunEnv = {
        record,
        store,
        storage,
        cache,
        renderer: secrets,
        vars,
        observer,
        signal,
        runnerFor: pool.runnerFor,
        ...(options.namespaceFilesDir?.(flow.namespace)
          ? { namespaceFilesDir: options.namespaceFilesDir(flow.namespace)! }
          : {}),
        newTaskRunId: newId,
        now,
        signals,
      };
      await runWithHandlers(flow, '', scope, env, async () => {
        const outcome = await runSteps(flow.steps, 'tasks', scope, env);
        if (outcome.failed && outcome.retryPolicy) {
          const attempt = record.executionAttempt ?? 1;
          const decision = outcome.retryPolicy.next(attempt, now().getTime() - Date.parse(record.startedAt));
          if (decision.retry) retryNext = { delayMs: decision.delayMs };
        }
        return { ...outcome, handedOver: retryNext !== undefined };
      });
    } catch (error) {
      record.error = summarize(error);
      record.status = error instanceof PodrunError && error.code === ErrorCodes.CANCELLED ? 'CANCELLED' : 'FAILED';
    } finally {
      await pool.close();
      await logs.close();
      signals.close();
    }
    if (!record.error) record.status = finalStatus(record);
    const failed = Object.values(record.tasks).find(
      (t) => t.parent === undefined && !t.branch && (t.status === 'FAILED' || t.status === 'CANCELLED'),
    );
    if (failed?.error && !record.error) record.error = withTask(failed.id, failed.error);
    record.endedAt = now().toISOString();
    await store.save(record);
    observer.executionFinished?.(record);

    if (retryNext && record.status === 'FAILED') {
      const nextId = newId();
      observer.executionRetried?.(record, nextId, retryNext.delayMs);
      await abortableDelay(retryNext.delayMs, signal);
      const next: ExecutionRecord = {
        ...freshRecord(flow, record.flowSource, nextId, record.inputs, now(), params),
        retryOf: record.id,
        executionAttempt: (record.executionAttempt ?? 1) + 1,
      };
      const result = await execute(flow, next, params, false, secretInputs);
      return { ...result, previousExecutions: [record.id, ...result.previousExecutions] };
    }
    return { record: masker.maskDeep(record), previousExecutions: [], resumed };
  };

  return {
    storage,
    validate,
    load: (id) => store.load(id),
    async run(params) {
      const flow = validate(params.source, params.flowPath);
      if (params.executionId && (await store.exists(safeId(params.executionId)))) {
        const record = await store.load(params.executionId);
        if (record.flowId !== flow.id || record.namespace !== flow.namespace) {
          throw new PodrunError(
            ErrorCodes.CONFIG_INVALID,
            `execution ${record.id} belongs to flow ${record.namespace}.${record.flowId}, not ${flow.namespace}.${flow.id}; use another --execution-id`,
            {
              component: 'host',
            },
          );
        }
        const stored = parseFlow(record.flowSource, { registry: options.registry });
        return execute(stored, record, params, true, secretInputsOf(stored, params.inputs ?? {}, record.id));
      }
      const executionId = params.executionId ? safeId(params.executionId) : newId();
      const inputs = await resolveFlowInputs(flow, params.inputs ?? {}, storage, {
        executionId,
        cwd: params.cwd ?? process.cwd(),
      });
      // SECRET inputs are never stored: the record keeps the mask, a resume asks for them again.
      const secretInputs = pickSecretInputs(flow, inputs);
      const stored = { ...inputs, ...Object.fromEntries(Object.keys(secretInputs).map((id) => [id, MASK])) };
      const record = freshRecord(flow, params.source, executionId, stored, now(), params);
      return execute(flow, record, params, false, secretInputs);
    },
    async resume(executionId, params = {}) {
      const record = await store.load(executionId);
      const flow = parseFlow(record.flowSource, { registry: options.registry });
      return execute(
        flow,
        record,
        { ...params, source: record.flowSource },
        true,
        secretInputsOf(flow, params.inputs ?? {}, record.id),
      );
    },
  };
}

function freshRecord(
  flow: Flow,
  source: string,
  id: string,
  inputs: Record<string, unknown>,
  at: Date,
  params: RunFlowParams,
): ExecutionRecord {
  return {
    version: 1,
    id,
    namespace: flow.namespace,
    flowId: flow.id,
    flowSource: source,
    ...(params.flowPath ? { flowPath: params.flowPath } : {}),
    inputs,
    status: 'CREATED',
    startedAt: at.toISOString(),
    tasks: {},
    ...(params.options ? { options: params.options } : {}),
  };
}

// Top-level runs of `tasks` decide: a failed run inside a Parallel or ForEach made its parent
// FAILED, or a WARNING when the parent allows failure. As in Kestra, runs of `errors` and
// `finally` do not change the state (the flow failed already, or it succeeded).
function finalStatus(record: ExecutionRecord): ExecutionStatus {
  const statuses = Object.values(record.tasks)
    .filter((t) => t.parent === undefined && !t.branch)
    .map((t) => t.status);
  if (statuses.includes('FAILED')) return 'FAILED';
  if (statuses.includes('CANCELLED')) return 'CANCELLED';
  if (statuses.includes('RUNNING') || statuses.includes('CREATED')) return 'FAILED';
  if (statuses.includes('WARNING')) return 'WARNING';
  return 'SUCCESS';
}

function withTask(taskId: string, error: ErrorSummary): ErrorSummary {
  return { ...error, details: { ...error.details, taskId } };
}

/** Short, readable, URL- and label-safe execution and task run ids. */
export function newId(): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
  return [...randomBytes(16)].map((b) => alphabet[b % 36]).join('');
}

/** The values of the flow's SECRET inputs among resolved inputs. */
function pickSecretInputs(flow: Flow, inputs: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const input of flow.inputs ?? [])
    if (input.type === 'SECRET' && typeof inputs[input.id] === 'string') out[input.id] = inputs[input.id] as string;
  return out;
}

/** SECRET inputs given again for a resume; podrun never stored them. */
function secretInputsOf(flow: Flow, given: Record<string, unknown>, executionId: string): Record<string, string> {
  const out: Record<string, string> = {};
  const missing: string[] = [];
  for (const input of flow.inputs ?? []) {
    if (input.type !== 'SECRET') continue;
    const value = given[input.id];
    if (typeof value === 'string') out[input.id] = value;
    else missing.push(input.id);
  }
  if (missing.length > 0) {
    throw new PodrunError(
      ErrorCodes.INPUT_MISSING,
      `the SECRET input(s) ${missing.join(', ')} of execution ${executionId} were not stored (podrun never writes secrets); pass them again: podrun resume ${executionId} ${missing.map((id) => `--input ${id}=...`).join(' ')}`,
      { component: 'host', details: { inputs: missing } },
    );
  }
  return out;
}
