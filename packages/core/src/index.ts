/**
 * @podrun/core: the task model, configuration schemas, strategy contracts, the Kubernetes port
 * and the error hierarchy every other podrun package builds on.
 *
 * @packageDocumentation
 */
export {
  ErrorCodes,
  PodrunError,
  ConfigError,
  KubeApiError,
  ExecError,
  PodFailedError,
  DeadlineExceededError,
  CancelledError,
  TransferError,
  UnsafePathError,
  LogCollectionError,
  isPodrunError,
} from './errors.js';
export type { ErrorCode, PodrunErrorOptions, ConfigIssue, PodFailureReason } from './errors.js';
export { silentLogger } from './model.js';
export type {
  TaskRunIdentity,
  InputFileSource,
  Task,
  InputEntry,
  InputTree,
  OutputSelection,
  OutputEntry,
  OutputSink,
  LogLine,
  LogSink,
  Logger,
} from './model.js';
export type { PodLogOptions, ExecOptions, ExecResult, PodSelector, PodChange, KubePort } from './kube-port.js';
export type {
  PodPaths,
  TaskFilesPlan,
  PodContribution,
  TransferCapabilities,
  TransferContext,
  TransferReport,
  FileTransfer,
  LogCursor,
  LogTarget,
  CollectOptions,
  LogCollectorCapabilities,
  LogCollector,
  FileTransferFactory,
  LogCollectorFactory,
} from './strategies.js';
export type {
  TaskMetric,
  TaskStorage,
  RunState,
  TransferProgress,
  RunContext,
  TaskRunResult,
  TaskRunner,
} from './runner.js';
export { parseDuration, formatDuration, DURATION_PATTERN } from './duration.js';
export { defaultPodPaths, relativePathProblem, POD_ROOT, POD_WORKING_DIR } from './paths.js';
export { taskSchema, parseTask, requireContainerImage, outputGlobProblem } from './task.js';
export { parseLogProtocolLine, createLogProtocolAccumulator } from './log-protocol.js';
export type { LogProtocolLevel, LogProtocolLog, LogProtocolMessage, LogProtocolAccumulator } from './log-protocol.js';
export { TEMPLATE_PATTERN, isTemplate, templateSchema, dynamic } from './config/template.js';
export { durationText, durationMs } from './config/fields.js';
export { closestMatch } from './config/suggest.js';
export { zodIssuesToConfigIssues, parseWithSchema } from './config/issues.js';
export type { ConfigIssueOptions, ParseWithSchemaOptions } from './config/issues.js';
export { connectionSchema, dynamicConnectionSchema } from './config/connection.js';
export {
  fileTransferSchema,
  dynamicFileTransferSchema,
  logCollectorSchema,
  dynamicLogCollectorSchema,
} from './config/strategy-config.js';
export { retryPolicySchema, taskCacheSchema, workerGroupSchema } from './config/definitions.js';
export {
  kubernetesRunnerConfigSchema,
  dynamicKubernetesRunnerConfigSchema,
  resourcesSchema,
  parseRunnerConfig,
  parseDynamicRunnerConfig,
  PLUGIN_VERSION_PATTERN,
  PLUGIN_VERSION_EXPECTED,
} from './config/kubernetes-runner.js';
export type {
  KubernetesRunnerConfigInput,
  DynamicKubernetesRunnerConfig,
  ParseRunnerConfigOptions,
} from './config/kubernetes-runner.js';
export { kubernetesRunnerProperties } from './config/properties.js';
export type { RunnerPropertyInfo } from './config/properties.js';
export { KUBERNETES_RUNNER_TYPE, KESTRA_KUBERNETES_RUNNER_TYPE, DEFAULT_MASTER_URL } from './config/types.js';
export type {
  KubernetesRunnerType,
  PullPolicy,
  OAuthTokenProvider,
  Connection,
  KubernetesResource,
  KubernetesResources,
  FileSidecar,
  ExecTarTransferConfig,
  PvcTransferConfig,
  ObjectStorageCredentials,
  ObjectStorageTransferConfig,
  FileTransferConfig,
  FollowLogCollectorConfig,
  PollLogCollectorConfig,
  LogCollectorConfig,
  KubernetesRunnerConfig,
  RetryBehavior,
  RetryPolicyBase,
  ConstantRetryPolicy,
  RandomRetryPolicy,
  ExponentialRetryPolicy,
  RetryPolicy,
  TaskCache,
  WorkerGroupFallback,
  WorkerGroup,
} from './config/types.js';
export { configJsonSchemas } from './json-schema.js';
export { linkAbort } from './abort.js';
export { QUANTITY_PATTERN, isQuantity, parseQuantity } from './quantity.js';
export { RETRY_POLICIES, backoffDelay, nextRetryDelay, parseRetryAfter, retry, sleep } from './backoff.js';
export type { BackoffPolicy, RetryOptions, RetryVerdict } from './backoff.js';
