/**
 * @podrun/transfer-exec-tar: file transfer through exec + tar into the pod's file containers,
 * streamed with back-pressure and verified against size/sha256 manifests on both sides.
 *
 * @packageDocumentation
 */
export { createExecTarTransfer } from './transfer.js';
export type { ExecTarTransferOptions } from './transfer.js';
export { selectOutputs } from './selection.js';
export type { Listing, SelectedFile } from './selection.js';
export { TarReader } from './tar-reader.js';
export type { TarConsumer, TarFile } from './tar-reader.js';
export { uploadArchiveStream } from './tar-writer.js';
export type { ManifestItem, StagedInput, UploadArchive } from './tar-writer.js';
export { FILES_VOLUME, INIT_CONTAINER, SIDECAR_CONTAINER } from './pod-state.js';
