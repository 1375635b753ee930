/**
 * @podrun/transfer-pvc: file transfer through a PersistentVolumeClaim mounted as the pod's files
 * root, staged without exec into the task pod.
 *
 * @packageDocumentation
 */
export { createPvcTransfer, pvcRunDirectory } from './transfer.js';
export type { PvcTransferOptions } from './transfer.js';
