// Type tests of the built-in strategy factories (checked by `npm run typecheck`): each returns the
// core contract, and options are checked.
import { expectTypeOf } from 'vitest';
import type { FileTransfer, LogCollector } from '@podrun/core';
import { createExecTarTransfer, type ExecTarTransferOptions } from '@podrun/transfer-exec-tar';
import { createPvcTransfer, type PvcTransferOptions } from '@podrun/transfer-pvc';
import { createObjectStorageTransfer, type ObjectStorageTransferOptions } from '@podrun/transfer-object-storage';
import { createFollowLogCollector } from '@podrun/logs-follow';
import { createPollLogCollector } from '@podrun/logs-poll';

expectTypeOf(createExecTarTransfer).returns.toEqualTypeOf<FileTransfer>();
expectTypeOf(createExecTarTransfer).parameter(0).toEqualTypeOf<ExecTarTransferOptions | undefined>();
expectTypeOf(createPvcTransfer).returns.toEqualTypeOf<FileTransfer>();
expectTypeOf(createPvcTransfer).parameter(0).toEqualTypeOf<PvcTransferOptions | undefined>();
expectTypeOf(createObjectStorageTransfer).returns.toEqualTypeOf<FileTransfer>();
// Object storage cannot work without its bucket: its options are required.
expectTypeOf(createObjectStorageTransfer).parameter(0).toEqualTypeOf<ObjectStorageTransferOptions>();
expectTypeOf(createFollowLogCollector).returns.toEqualTypeOf<LogCollector>();
expectTypeOf(createPollLogCollector).returns.toEqualTypeOf<LogCollector>();

// @ts-expect-error maxAttempts is a number
createExecTarTransfer({ maxAttempts: 'four' });
