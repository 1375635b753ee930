import type { FileTransfer } from '@podrun/core';
import { EXEC_TAR_CAPABILITIES, createExecTarChannel, type ExecTarChannelOptions } from '@podrun/transfer-kit';

/** Options of {@link createExecTarTransfer}: those of the exec+tar channel it runs on the task pod. */
export type ExecTarTransferOptions = ExecTarChannelOptions;

/**
 * The reference's file transfer, made reliable: an emptyDir `kestra-files` at the paths' root,
 * an init container `init-files` that waits for the inputs, a sidecar `out-files` that keeps the
 * pod up until the outputs are read. Inputs go in as one streamed tar of announced length over
 * exec stdin (no stdin close needed, so exec v4 works), verified in the pod against a size/sha256
 * manifest before the ready marker is written; outputs are selected in the pod, streamed out as a
 * tar of exactly those files and verified against the pod's manifest. Both directions retry a
 * dropped stream. A task without files gets nothing. The channel itself is
 * `@podrun/transfer-kit`'s `createExecTarChannel`; this strategy runs it on the task pod.
 *
 * @example
 * ```ts
 * const transfer = createExecTarTransfer();
 * const runner = createKubernetesRunner({ kube, config, transfer });
 * ```
 */
export function createExecTarTransfer(options: ExecTarTransferOptions = {}): FileTransfer {
  const channel = createExecTarChannel(options);
  return {
    name: 'exec-tar',
    capabilities: EXEC_TAR_CAPABILITIES,
    contribute: (plan) => channel.contribute(plan),
    prepare: (ctx, inputs) => channel.checkInputs(ctx, inputs),
    uploadInputs: (ctx, inputs, signal) => channel.uploadInputs(ctx, inputs, signal),
    inputsStaged: (_ctx, pod) => channel.inputsStaged(pod),
    downloadOutputs: (ctx, select, sink, signal) => channel.downloadOutputs(ctx, select, sink, signal),
    release: (ctx) => channel.releaseSidecar(ctx),
  };
}
