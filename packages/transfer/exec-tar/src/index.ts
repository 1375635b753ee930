/**
 * @podrun/transfer-exec-tar: file transfer through exec + tar into the pod's file containers,
 * streamed with back-pressure and verified against size/sha256 manifests on both sides.
 *
 * @packageDocumentation
 */
export { createExecTarTransfer } from './transfer.js';
export type { ExecTarTransferOptions } from './transfer.js';
