import { posix } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import {
  ConfigError,
  KubeApiError,
  UnsafePathError,
  relativePathProblem,
  silentLogger,
  type FileTransfer,
  type InputTree,
  type Logger,
  type PodContribution,
  type TaskFilesPlan,
  type TransferContext,
  type TransferReport,
} from '@podrun/core';
import { EXEC_TAR_CAPABILITIES, createExecTarChannel } from '@podrun/transfer-kit';
import { deleteHelper, helperName, readThroughHelper, removeThroughHelper, stageThroughHelper } from './helper.js';
import { hostRunDir, inputsReady, readOutputs, removeRunDir, stageInputs } from './host-files.js';
import { CLAIM_VOLUME, MANAGED_LABEL, READY_MARKER, layoutOf, type RunLayout } from './layout.js';

/** Options of {@link createPvcTransfer}: the `pvc` block of the runner configuration. */
export interface PvcTransferOptions {
  /** Storage class of the claim podrun creates (the cluster default when unset). */
  storageClassName?: string;
  /** Size of the claim podrun creates (default `1Gi`). */
  size?: string;
  /** Use this existing claim (ReadWriteMany, or ReadWriteOnce on one node) with one directory per task run. */
  existingClaim?: string;
  /** Directory inside the claim holding the per-run directories (default `podrun`). */
  subPath?: string;
  /** Image of the init and helper containers; needs sh, tar, find, xargs, sha256sum (default `busybox`). */
  helperImage?: string;
  /**
   * Where the claim's files are visible on the runner's machine (a shared mount, or the node's
   * directory on a single-node cluster); `{namespace}` and `{claim}` are replaced. When set, the
   * runner reads and writes files there directly: no helper pod and no pods/exec.
   */
  hostPath?: string;
  /** Diagnostics. */
  logger?: Logger;
}

const COMPONENT = 'pvc';
const WAIT_CONTAINER = 'claim-ready';
// With inputs, the helper (or the runner) creates the directories, possibly as another user:
// wait for its ready marker first. Then make them writable for any user where they are not yet
// (chmod needs the owner), with a+rwx, which keeps the setgid bit an fsGroup volume gives.
const WAIT_SCRIPT = `if [ "$4" = wait ]; then while [ ! -f "$1/${READY_MARKER}" ]; do sleep 0.5; done; fi
mkdir -p "$2" "$3" || exit 90
for d in "$2" "$3"; do [ -n "$(find "$d" -maxdepth 0 -perm -0777)" ] || chmod a+rwx "$d" || exit 90; done`;

async function probeInputs(inputs: InputTree): Promise<void> {
  for (const entry of inputs.entries) {
    const problem = relativePathProblem(entry.path);
    if (problem)
      throw new UnsafePathError(entry.path, `input file name ${JSON.stringify(entry.path)} ${problem}`, {
        component: COMPONENT,
      });
    (await entry.open()).destroy();
  }
}

/**
 * Creates the PersistentVolumeClaim file transfer (name `pvc`). The task's files live in a claim
 * mounted at the pod's files root: a claim per task run (created in `prepare`, deleted in
 * `release`) or a directory per run in an existing claim. Inputs are staged and outputs read
 * without ever exec'ing into the task pod: directly on the runner's machine when `hostPath` says
 * where the claim is visible (no pods/exec at all), otherwise through a short helper pod.
 *
 * @example
 * ```ts
 * const transfer = createPvcTransfer({ existingClaim: 'shared-files', hostPath: '/mnt/shared-files' });
 * ```
 */
export function createPvcTransfer(options: PvcTransferOptions = {}): FileTransfer {
  if (options.subPath !== undefined && relativePathProblem(options.subPath)) {
    throw new ConfigError([{ path: 'subPath', message: relativePathProblem(options.subPath)! }], {
      component: COMPONENT,
    });
  }
  if (
    options.hostPath !== undefined &&
    (!options.hostPath.startsWith('/') || options.hostPath.split('/').includes('..'))
  ) {
    throw new ConfigError([{ path: 'hostPath', message: "expected an absolute path without '..'" }], {
      component: COMPONENT,
    });
  }
  const image = options.helperImage ?? 'busybox';
  const shared = options.hostPath;
  const execTar = createExecTarChannel({ image, ...(options.logger && { logger: options.logger }) });
  const layout = (ctx: Pick<TransferContext, 'identity'>): RunLayout => layoutOf(options, ctx.identity);
  const hostDir = (ctx: Pick<TransferContext, 'namespace' | 'identity'>): { claimRoot: string; dir: string } => {
    const l = layout(ctx);
    const dir = hostRunDir(shared!, ctx.namespace, l.claimName, l.runDir);
    return { claimRoot: hostRunDir(shared!, ctx.namespace, l.claimName, ''), dir };
  };
  const staged = new Map<string, TransferReport>();
  const runKey = (ctx: Pick<TransferContext, 'identity'>) => `${ctx.identity.taskRunId}#${ctx.identity.attempt}`;
  const progress = (ctx: Pick<TransferContext, 'onProgress'>, phase: 'upload' | 'download') => {
    let bytes = 0;
    return (n: number) => {
      bytes += n;
      ctx.onProgress?.({ phase, bytes });
    };
  };

  return {
    name: 'pvc',
    capabilities: shared
      ? { needsExec: false, preservesModes: true, recoversDroppedStream: false, syncWorkingDirectory: true }
      : EXEC_TAR_CAPABILITIES,

    async prepare(ctx, inputs, signal) {
      const l = layout(ctx);
      if (l.ownClaim) {
        try {
          await ctx.kube.createPersistentVolumeClaim(ctx.namespace, {
            metadata: { name: l.claimName, labels: { [MANAGED_LABEL]: l.runId } },
            spec: {
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: options.size ?? '1Gi' } },
              ...(options.storageClassName && { storageClassName: options.storageClassName }),
            },
          });
        } catch (error) {
          if (!(error instanceof KubeApiError && error.status === 409)) throw error;
        }
      }
      if (!shared) return probeInputs(inputs);
      // Shared mount: stage now, before the pod exists; a resumed run finds the ready marker.
      const { claimRoot, dir } = hostDir(ctx);
      if (await inputsReady(dir)) return;
      staged.set(runKey(ctx), await stageInputs(claimRoot, dir, ctx.paths, inputs, signal, progress(ctx, 'upload')));
    },

    contribute(plan: TaskFilesPlan): PodContribution {
      if (!plan.hasInputs && !plan.hasOutputs) return {};
      const l = layout(plan);
      const mount = { name: CLAIM_VOLUME, mountPath: plan.paths.root, subPath: l.runDir };
      const { root, workingDir, outputDir } = plan.paths;
      return {
        volumes: [{ name: CLAIM_VOLUME, persistentVolumeClaim: { claimName: l.claimName } }],
        initContainers: [
          {
            name: WAIT_CONTAINER,
            image,
            command: [
              'sh',
              '-c',
              WAIT_SCRIPT,
              WAIT_CONTAINER,
              root,
              workingDir,
              outputDir,
              plan.hasInputs ? 'wait' : 'nowait',
            ],
            volumeMounts: [{ ...mount }],
          },
        ],
        mainVolumeMounts: [{ ...mount }],
        reservedContainerNames: [WAIT_CONTAINER],
        reservedVolumeNames: [CLAIM_VOLUME],
      };
    },

    async uploadInputs(ctx, inputs, signal): Promise<TransferReport> {
      if (shared) {
        const known = staged.get(runKey(ctx));
        if (known) return known;
        const { claimRoot, dir } = hostDir(ctx);
        if (await inputsReady(dir)) return { files: inputs.entries.length, bytes: 0, verified: true, attempts: 0 };
        return stageInputs(claimRoot, dir, ctx.paths, inputs, signal, progress(ctx, 'upload'));
      }
      return stageThroughHelper(ctx, execTar, layout(ctx), image, inputs, signal);
    },

    inputsStaged(_ctx, pod: V1Pod): boolean {
      const init = pod.status?.initContainerStatuses?.find((s) => s.name === WAIT_CONTAINER);
      if (init?.state?.terminated?.exitCode === 0) return true;
      return pod.status?.containerStatuses?.some((s) => s.state?.running || s.state?.terminated) ?? false;
    },

    async downloadOutputs(ctx, select, sink, signal): Promise<TransferReport> {
      if (select.globs.length === 0 && !select.outputDir && !select.syncWorkingDirectory)
        return { files: 0, bytes: 0, verified: true, attempts: 0 };
      if (shared) return readOutputs(hostDir(ctx).dir, ctx.paths, select, sink, signal, progress(ctx, 'download'));
      return readThroughHelper(ctx, execTar, layout(ctx), image, select, sink, signal);
    },

    async release(ctx) {
      staged.delete(runKey(ctx));
      const l = layout(ctx);
      const helpers = await Promise.allSettled([
        deleteHelper(ctx, helperName(l, 'in')),
        deleteHelper(ctx, helperName(l, 'out')),
      ]);
      const failed = helpers.find((h): h is PromiseRejectedResult => h.status === 'rejected');
      try {
        if (l.ownClaim) await ctx.kube.deletePersistentVolumeClaim(ctx.namespace, l.claimName);
        else if (shared) await removeRunDir(hostDir(ctx).dir);
        else await removeThroughHelper(ctx, l, image);
      } catch (error) {
        (ctx.logger ?? options.logger ?? silentLogger).warn(
          `[podrun] [${COMPONENT}] could not remove the task run's files from the claim`,
          {
            claim: l.claimName,
            error: error instanceof Error ? error.message : String(error),
          },
        );
      }
      if (failed) throw failed.reason;
    },
  };
}

/** Path of a run's directory inside the claim, for operators (`kubectl exec` into a pod mounting it). */
export function pvcRunDirectory(
  options: Pick<PvcTransferOptions, 'existingClaim' | 'subPath'>,
  identity: TransferContext['identity'],
): string {
  return posix.join('/', layoutOf(options, identity).runDir);
}
