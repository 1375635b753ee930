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
export type {
  PodLogOptions,
  ExecOptions,
  ExecResult,
  PodSelector,
  PodChange,
  KubePort,
} from './kube-port.js';
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
