/**
 * @podrun/host: the plugin host adapter. The TaskRunner contract (re-exported from core) and its
 * run context, a runner registry, the local Process runner, flows in the reference's YAML format
 * (inputs, templates, outputs, retry, cache, worker groups), local storage and durable execution
 * state for resume.
 *
 * @packageDocumentation
 */
export type {
  TaskRunner,
  RunContext,
  TaskRunResult,
  TaskStorage,
  RunState,
  TaskMetric,
  TransferProgress,
} from '@podrun/core';

export { createRunnerRegistry } from './registry.js';
export type {
  RunnerRegistry,
  RunnerRegistration,
  RunnerFactory,
  RunnerEnvironment,
  RunnerConfig,
  RegisterOptions,
  ClusterTarget,
} from './registry.js';
export { checkPluginVersion } from './version.js';
export { createProcessRunner, PROCESS_RUNNER_TYPE } from './process-runner.js';
export type { ProcessRunnerOptions } from './process-runner.js';
export { registerProcessRunner, PROCESS_RUNNER_ALIAS, hostVersion } from './builtins.js';
export type { HostTaskRunner, WorkingPaths } from './runner-paths.js';
export {
  registerKubernetesRunner,
  isKubernetesRunner,
  kubernetesRunnerVersion,
  KUBERNETES_RUNNER_TYPE,
  KUBERNETES_RUNNER_ALIAS,
} from './kubernetes.js';
export type { KubernetesStrategies } from './kubernetes.js';

export { createRunContext, resolveInputs } from './run-context.js';
export type { RunContextOptions } from './run-context.js';
export { createTemplateRenderer, isTemplate } from './templates.js';
export type { TemplateRenderer, TemplateVars } from './templates.js';
export { createLocalStorage, isStorageUri, parseStorageUri, formatStorageUri, linkOrCopy } from './storage.js';
export type { LocalStorage, LocalStorageOptions } from './storage.js';
export { createBlockFileWriter } from './file-writer.js';
export { createStateStore } from './state.js';
export type {
  StateStore,
  ExecutionRecord,
  TaskRecord,
  AttemptRecord,
  TaskOutputs,
  ErrorSummary,
  ExecutionStatus,
  TaskStatus,
} from './state.js';

export { parseFlow, loadFlowFile } from './flow/load.js';
export type { ParseFlowOptions } from './flow/load.js';
export { resolveFlowInputs } from './flow/inputs.js';
export type { InputValues, FileInputValue } from './flow/inputs.js';
export {
  TASK_TYPES,
  KNOWN_TASK_TYPES,
  DEFAULT_SHELL_IMAGE,
  SCRIPT_LANGUAGES,
  languageOf,
  INPUT_TYPES,
  inputSchema,
  commandsTaskSchema,
  scriptTaskSchema,
  FLOWABLE_TYPES,
  parallelTaskSchema,
  forEachTaskSchema,
  isFlowable,
} from './flow/schema.js';
export { flowJsonSchema, FLOW_JSON_SCHEMA_ID } from './flow/json-schema.js';
export type {
  Flow,
  FlowTask,
  FlowStep,
  FlowableTask,
  ParallelTask,
  ForEachTask,
  FlowInput,
  InputType,
  ScriptLanguage,
} from './flow/schema.js';
export { runKey } from './steps.js';
export { runPathSegments, logFileOf } from './log-files.js';

export { createRetryPolicy, NO_RETRY } from './retry.js';
export type { RetryPolicy, RetryDecision } from './retry.js';
export { computeCacheKey, canonicalJson, createTaskCache } from './cache.js';
export type { CacheEntry, CacheKeyParts, CacheScope, TaskCache } from './cache.js';
export { resolveWorkerGroup } from './worker-groups.js';
export type { WorkerGroupTarget, WorkerGroupProbe, ResolveWorkerGroupOptions } from './worker-groups.js';

export { createHost, newId } from './host.js';
export type { Host, RunFlowParams, ExecutionResult } from './host.js';
export type { HostOptions } from './host-options.js';
export { MASK, MIN_MASKED_LENGTH, createMasker, createSecretResolver } from './secrets.js';
export type { Masker, SecretResolver, SecretSources } from './secrets.js';
export type { ExecutionObserver } from './observer.js';
