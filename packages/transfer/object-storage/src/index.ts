/**
 * @podrun/transfer-object-storage: file transfer through S3-compatible object storage and
 * pre-signed URLs — the pod holds no cloud credentials and the runner needs no pods/exec.
 *
 * @packageDocumentation
 */
export { createObjectStorageTransfer } from './transfer.js';
export type { ObjectStorageTransferOptions } from './transfer.js';
export { casePattern } from './patterns.js';
