/**
 * @podrun/transfer-kit: the building blocks file-transfer strategies share, so that no strategy
 * depends on another — tar streams (a reader, and an upload archive of announced length with its
 * size/sha256 manifest), output selection, and the exec+tar files channel (a files volume with an
 * init container and a sidecar, files moved over pods/exec and verified on both sides).
 *
 * @packageDocumentation
 */
export { createExecTarChannel, EXEC_TAR_CAPABILITIES } from './channel.js';
export type { ExecTarChannel, ExecTarChannelOptions } from './channel.js';
export { selectOutputs } from './selection.js';
export type { Listing, SelectedFile } from './selection.js';
export { TarReader } from './tar-reader.js';
export type { TarConsumer, TarFile } from './tar-reader.js';
export { uploadArchiveStream } from './tar-writer.js';
export type { ManifestItem, StagedInput, UploadArchive } from './tar-writer.js';
export { FILES_VOLUME, INIT_CONTAINER, SIDECAR_CONTAINER } from './pod-state.js';
