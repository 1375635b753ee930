// The exec+tar files channel: a files volume shared by an init container (waits for inputs) and a
// sidecar (keeps the pod up until outputs are read), with files moved as verified tar streams over
// pods/exec. The exec-tar strategy is this channel on the task pod; pvc uses it on a helper pod.
import type { V1Container, V1Pod, V1VolumeMount } from '@kubernetes/client-node';
import {
  ConfigError,
  ExecError,
  KubeApiError,
  RETRY_POLICIES,
  retry,
  silentLogger,
  type BackoffPolicy,
  type FileTransfer,
  type InputTree,
  type Logger,
  type PodContribution,
  type TaskFilesPlan,
  type TransferContext,
} from '@podrun/core';
import { downloadOutputs } from './outputs.js';
import {
  FILES_VOLUME,
  INIT_CONTAINER,
  SIDECAR_CONTAINER,
  initSucceeded,
  selectorOf,
  sidecarStatus,
} from './pod-state.js';
import { INIT_SCRIPT, MARKER_SCRIPT, SIDECAR_SCRIPT } from './scripts.js';
import { checkInputs, uploadInputs, workingDirOf } from './upload.js';

/** Options of {@link createExecTarChannel}. */
export interface ExecTarChannelOptions {
  /**
   * Image of the `init-files` and `out-files` containers. Default: none, so the runner's
   * `fileSidecar.image` (busybox) applies. It needs sh, tar, find, xargs, sha256sum, readlink, cmp, head.
   */
  image?: string;
  /** Attempts per transfer before giving up on dropped streams (default 4). */
  maxAttempts?: number;
  /** First retry delay, doubled per attempt (default 500 ms; see `RETRY_POLICIES.transferStream` in core). */
  retryDelayMs?: number;
  /** Diagnostics. Per-call context loggers are used when given. */
  logger?: Logger;
  /**
   * Inputs larger than this are sent in pieces of this size that the pod hashes while the next
   * one arrives (default 16 MiB). Smaller pieces overlap more but cost a few processes each.
   */
  pieceSize?: number;
}

/** What the exec+tar channel can do, as a strategy declares it. */
export const EXEC_TAR_CAPABILITIES: FileTransfer['capabilities'] = {
  needsExec: true,
  preservesModes: true,
  recoversDroppedStream: true,
  syncWorkingDirectory: true,
};

/** Files into and out of a pod's `kestra-files` volume over exec; see {@link createExecTarChannel}. */
export interface ExecTarChannel {
  /** The files volume, `init-files` and (with outputs) `out-files`; nothing for a task without files. */
  contribute(plan: TaskFilesPlan): PodContribution;
  /** Checks the inputs can be staged (paths, working directory) before any pod exists. */
  checkInputs(ctx: Pick<TransferContext, 'paths'>, inputs: InputTree): Promise<void>;
  /** Streams the inputs into the pod and writes the ready marker once verified. */
  uploadInputs: FileTransfer['uploadInputs'];
  /** Whether the pod is past waiting for its inputs. */
  inputsStaged(pod: V1Pod): boolean;
  /** Selects outputs in the pod and streams them to `sink`, verified against the pod's manifest. */
  downloadOutputs: FileTransfer['downloadOutputs'];
  /** Lets a running `out-files` sidecar end (the outputs were read); a gone pod is fine. */
  releaseSidecar(ctx: TransferContext): Promise<void>;
}

/**
 * The exec+tar channel: inputs go in as one streamed tar of announced length over exec stdin (no
 * stdin close needed, so exec v4 works), verified in the pod against a size/sha256 manifest before
 * the ready marker is written; outputs are selected in the pod, streamed out as a tar of exactly
 * those files and verified against the pod's manifest. Both directions retry a dropped stream.
 */
export function createExecTarChannel(options: ExecTarChannelOptions = {}): ExecTarChannel {
  const policy: BackoffPolicy = {
    ...RETRY_POLICIES.transferStream,
    ...(options.maxAttempts !== undefined && { maxAttempts: options.maxAttempts }),
    ...(options.retryDelayMs !== undefined && { baseDelayMs: options.retryDelayMs }),
  };
  if (options.pieceSize !== undefined && !(Number.isSafeInteger(options.pieceSize) && options.pieceSize >= 65536)) {
    throw new ConfigError(
      [
        {
          path: 'pieceSize',
          message: `must be a whole number of bytes, at least 65536; got ${String(options.pieceSize)} (omit it for 16 MiB)`,
        },
      ],
      { component: 'exec-tar' },
    );
  }
  const withLogger = (ctx: TransferContext): TransferContext =>
    ctx.logger === silentLogger && options.logger ? { ...ctx, logger: options.logger } : ctx;

  return {
    contribute(plan) {
      if (!plan.hasInputs && !plan.hasOutputs) return {};
      workingDirOf(plan);
      const { root, workingDir, outputDir } = plan.paths;
      const mount: V1VolumeMount = { name: FILES_VOLUME, mountPath: root };
      const container = (name: string, script: string, args: string[]): V1Container => ({
        name,
        ...(options.image && { image: options.image }),
        command: ['sh', '-c', script, name, ...args],
        volumeMounts: [{ ...mount }],
      });
      return {
        volumes: [{ name: FILES_VOLUME, emptyDir: {} }],
        initContainers: [
          container(INIT_CONTAINER, INIT_SCRIPT, [root, workingDir, outputDir, plan.hasInputs ? 'wait' : 'nowait']),
        ],
        sidecars: plan.hasOutputs ? [container(SIDECAR_CONTAINER, SIDECAR_SCRIPT, [root])] : [],
        mainVolumeMounts: [{ ...mount }],
        reservedContainerNames: [INIT_CONTAINER, SIDECAR_CONTAINER],
        reservedVolumeNames: [FILES_VOLUME],
      };
    },

    async checkInputs(ctx, inputs) {
      if (inputs.entries.length > 0) await checkInputs(ctx, inputs);
    },

    uploadInputs: (ctx, inputs, signal) => uploadInputs(withLogger(ctx), inputs, signal, policy, options.pieceSize),

    inputsStaged(pod) {
      const init = pod.spec?.initContainers?.find((c) => c.name === INIT_CONTAINER);
      if (!init || init.command?.at(-1) !== 'wait') return true;
      if (initSucceeded(pod)) return true;
      // Past the init phase (main started) the inputs were necessarily there.
      return pod.status?.containerStatuses?.some((s) => s.state?.running || s.state?.terminated) ?? false;
    },

    downloadOutputs: (ctx, select, sink, signal) => downloadOutputs(withLogger(ctx), select, sink, signal, policy),

    async releaseSidecar(ctx) {
      // Deletion stops the sidecar (it exits on SIGTERM); the marker would only finish the pod first.
      if (ctx.podDeleted) return;
      // The shared informer already holds the pod: no request unless there is a sidecar to stop.
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 10_000);
      let pod: V1Pod | undefined;
      try {
        pod = await ctx.kube.waitForPod(selectorOf(ctx), ctx.podName, () => true, controller.signal);
      } catch {
        pod = await ctx.kube.getPod(ctx.namespace, ctx.podName).catch(() => undefined);
      } finally {
        clearTimeout(timer);
      }
      if (!pod || pod.metadata?.deletionTimestamp) return;
      if (!pod.spec?.containers?.some((c) => c.name === SIDECAR_CONTAINER)) return;
      // Only a running sidecar waits for the marker; one still waiting (or gone) ends with the pod.
      if (!sidecarStatus(pod)?.state?.running) return;
      await retry(
        () =>
          ctx.kube.exec(
            ctx.namespace,
            ctx.podName,
            SIDECAR_CONTAINER,
            ['sh', '-c', MARKER_SCRIPT, 'podrun-release', `${ctx.paths.root}/ended`, `${ctx.paths.root}/sidecar.pid`],
            {},
            new AbortController().signal,
          ),
        {
          policy,
          classify: (error) => ({
            retry:
              error instanceof ExecError || (error instanceof KubeApiError && ![400, 404].includes(error.status ?? 0)),
          }),
        },
      ).catch((error: unknown) => {
        // Gone or no longer running: nothing left to release.
        if (error instanceof KubeApiError && [400, 404].includes(error.status ?? 0)) return;
        ctx.logger.warn(
          '[podrun] [exec-tar] could not release the file sidecar; the pod ends when deleted or at its deadline',
          { pod: ctx.podName, error: error instanceof Error ? error.message : String(error) },
        );
      });
    },
  };
}
