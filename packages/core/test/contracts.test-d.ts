// Type tests of the strategy contracts (checked by `npm run typecheck`, which compiles every test
// file; vitest does not run them): what a third-party strategy or runner must and may implement.
import { expectTypeOf } from 'vitest';
import type {
  CollectOptions,
  FileTransfer,
  FileTransferFactory,
  InputTree,
  LogCollector,
  LogCollectorFactory,
  LogCursor,
  LogSink,
  LogTarget,
  OutputSelection,
  OutputSink,
  PodContribution,
  RunContext,
  Task,
  TaskFilesPlan,
  TaskRunResult,
  TaskRunner,
  TransferContext,
  TransferReport,
} from '@podrun/core';

// A FileTransfer: contribute is pure and synchronous; prepare is the only optional step.
expectTypeOf<FileTransfer['contribute']>().toEqualTypeOf<(plan: TaskFilesPlan) => PodContribution>();
expectTypeOf<FileTransfer['uploadInputs']>().returns.toEqualTypeOf<Promise<TransferReport>>();
expectTypeOf<FileTransfer['downloadOutputs']>().parameters.toEqualTypeOf<
  [TransferContext, OutputSelection, OutputSink, AbortSignal]
>();
expectTypeOf<FileTransfer['release']>().returns.toEqualTypeOf<Promise<void>>();
expectTypeOf<FileTransfer['prepare']>().toEqualTypeOf<
  ((ctx: Omit<TransferContext, 'podName'>, inputs: InputTree, signal: AbortSignal) => Promise<void>) | undefined
>();
expectTypeOf<Pick<FileTransfer, 'name'>>().toEqualTypeOf<{ readonly name: string }>();

// A LogCollector resolves with the final cursor (undefined when nothing was delivered).
expectTypeOf<LogCollector['collect']>().toEqualTypeOf<
  (target: LogTarget, sink: LogSink, options: CollectOptions) => Promise<LogCursor | undefined>
>();
expectTypeOf<CollectOptions['signal']>().toEqualTypeOf<AbortSignal>();
expectTypeOf<LogCursor>().toHaveProperty('since').toEqualTypeOf<string | undefined>();

// Factories take their configuration block and return the strategy object.
expectTypeOf<FileTransferFactory<{ size: string }>>().toEqualTypeOf<(config: { size: string }) => FileTransfer>();
expectTypeOf<LogCollectorFactory>().returns.toEqualTypeOf<LogCollector>();

// A TaskRunner: a non-zero exit is a result, not an exception.
expectTypeOf<TaskRunner['run']>().toEqualTypeOf<
  (task: Task, context: RunContext, signal: AbortSignal) => Promise<TaskRunResult>
>();
expectTypeOf<TaskRunResult['exitCode']>().toEqualTypeOf<number>();
expectTypeOf<RunContext>().toHaveProperty('resolveInputs');

// @ts-expect-error a strategy without release is not a FileTransfer
const incomplete: FileTransfer = {
  name: 'x',
  capabilities: { needsExec: false, preservesModes: false, recoversDroppedStream: false, syncWorkingDirectory: false },
  contribute: () => ({}),
  uploadInputs: async () => ({ files: 0, bytes: 0, verified: true, attempts: 0 }),
  inputsStaged: () => true,
  downloadOutputs: async () => ({ files: 0, bytes: 0, verified: true, attempts: 0 }),
};
void incomplete;
