import { posix } from 'node:path';
import type { V1Container, V1EnvVar, V1Pod, V1VolumeMount } from '@kubernetes/client-node';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  ConfigError,
  ErrorCodes,
  TransferError,
  UnsafePathError,
  isPodrunError,
  relativePathProblem,
  type FileTransfer,
  type InputTree,
  type PodContribution,
  type TaskFilesPlan,
  type TransferContext,
  type TransferReport,
} from '@podrun/core';
import { uploadArchiveStream, type StagedInput } from '@podrun/transfer-kit';
import { runKeys } from './keys.js';
import { PUSH_CONTAINER, downloadOutputs } from './outputs.js';
import { casePatterns } from './patterns.js';
import { createS3Client, deleteObjects, s3Error, uploadStream, type S3Settings } from './s3.js';
import { CONTROL_DIR, FETCH_SCRIPT, MAIN_WRAPPER, PUSH_SCRIPT } from './scripts.js';

/** Options of {@link createObjectStorageTransfer}: the `object-storage` block, plus injections. */
export interface ObjectStorageTransferOptions extends S3Settings {
  /** Bucket holding the transferred archives. */
  bucket: string;
  /** Key prefix for this runner's objects. */
  prefix?: string;
  /** Lifetime of the pre-signed URLs in milliseconds (default 1 hour, at most 7 days); must outlast the task. */
  urlExpiry?: number;
  /** Image of the `fetch-files` / `push-files` containers; needs sh, tar, sha256sum and curl (default `curlimages/curl:8.11.1`). */
  image?: string;
  /** A ready S3 client (its own credentials and endpoint); the factory makes one on first use otherwise. */
  s3Client?: S3Client;
  /** Multipart part size in bytes (default 8 MiB, at least 5 MiB): the upload's memory bound. */
  partSize?: number;
}

const COMPONENT = 'object-storage';
const VOLUME = 'podrun-files';
const FETCH_CONTAINER = 'fetch-files';
const MiB = 1024 * 1024;
const DEFAULT_IMAGE = 'curlimages/curl:8.11.1';

interface Prepared {
  inputsUrl?: string;
  outputsUrl: string;
  report: TransferReport;
}

function stagedInputs(
  ctx: Pick<TransferContext, 'paths'>,
  inputs: InputTree,
): { directories: string[]; files: StagedInput[] } {
  const wd = posix.relative(ctx.paths.root, ctx.paths.workingDir);
  const od = posix.relative(ctx.paths.root, ctx.paths.outputDir);
  const directories = new Set([wd, od]);
  const seen = new Set<string>();
  const files: StagedInput[] = [];
  for (const entry of inputs.entries) {
    const problem = relativePathProblem(entry.path);
    if (problem)
      throw new UnsafePathError(entry.path, `input file name ${JSON.stringify(entry.path)} ${problem}`, {
        component: COMPONENT,
      });
    if (seen.has(entry.path)) {
      throw new TransferError(`input file ${JSON.stringify(entry.path)} is given twice; give each input file once`, {
        component: COMPONENT,
        code: ErrorCodes.TASK_INVALID,
      });
    }
    seen.add(entry.path);
    for (let dir = posix.dirname(entry.path); dir !== '.'; dir = posix.dirname(dir)) directories.add(`${wd}/${dir}`);
    files.push({ path: `${wd}/${entry.path}`, entry });
  }
  return {
    directories: [...directories].sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1)),
    files,
  };
}

/**
 * Creates the object-storage file transfer (name `object-storage`): the runner uploads the inputs
 * as one streamed archive before the pod exists; the pod's init container downloads it through a
 * pre-signed URL and verifies it; after the main container ends, a sidecar packs the selected
 * outputs and uploads them through a pre-signed URL; the runner downloads and verifies them. The
 * pod holds no credentials and the runner needs no pods/exec. Objects are removed on release.
 *
 * @example
 * ```ts
 * const transfer = createObjectStorageTransfer({ bucket: 'podrun', endpoint: 'https://minio.local', forcePathStyle: true });
 * ```
 */
export function createObjectStorageTransfer(options: ObjectStorageTransferOptions): FileTransfer {
  const issues = [];
  if (!options.bucket)
    issues.push({ path: 'bucket', message: 'is required: the bucket holding the transferred files' });
  const urlExpiry = options.urlExpiry ?? 3_600_000;
  if (!(urlExpiry > 0 && urlExpiry <= 7 * 86_400_000))
    issues.push({ path: 'urlExpiry', message: 'must be a positive duration of at most P7D' });
  const partSize = options.partSize ?? 8 * MiB;
  if (!(partSize >= 5 * MiB)) issues.push({ path: 'partSize', message: 'must be at least 5 MiB (the S3 minimum)' });
  if (issues.length)
    throw new ConfigError(issues, { component: COMPONENT, title: 'invalid object-storage transfer configuration' });

  let client = options.s3Client;
  const s3 = () => (client ??= createS3Client(options));
  const prepared = new Map<string, Prepared>();
  const runKey = (ctx: Pick<TransferContext, 'identity'>) => `${ctx.identity.taskRunId}#${ctx.identity.attempt}`;
  const expiresIn = Math.floor(urlExpiry / 1000);
  const sign = (command: GetObjectCommand | PutObjectCommand) => getSignedUrl(s3(), command, { expiresIn });

  return {
    name: 'object-storage',
    capabilities: { needsExec: false, preservesModes: true, recoversDroppedStream: true, syncWorkingDirectory: true },

    async prepare(ctx, inputs, signal) {
      const keys = runKeys(options.prefix, ctx.identity);
      const report: TransferReport = { files: inputs.entries.length, bytes: 0, verified: true, attempts: 0 };
      let inputsUrl: string | undefined;
      if (inputs.entries.length > 0) {
        const { directories, files } = stagedInputs(ctx, inputs);
        const total = inputs.entries.reduce((sum, e) => sum + e.size, 0);
        let sent = 0;
        const { stream } = uploadArchiveStream({ directories, files, controlDir: `${CONTROL_DIR}/in` }, (n) => {
          sent += n;
          ctx.onProgress?.({ phase: 'upload', bytes: sent, totalBytes: total });
        });
        try {
          const { bytes, attempts } = await uploadStream(
            s3(),
            { bucket: options.bucket, key: keys.inputs },
            stream,
            partSize,
            signal,
          );
          report.bytes = bytes;
          report.attempts = attempts;
        } catch (error) {
          if (signal.aborted) throw signal.reason ?? error;
          // Errors of the inputs themselves (missing, unsafe, changed) keep their own code.
          throw isPodrunError(error) ? error : s3Error('uploading the input archive', error);
        }
        inputsUrl = await sign(new GetObjectCommand({ Bucket: options.bucket, Key: keys.inputs }));
      }
      const outputsUrl = await sign(new PutObjectCommand({ Bucket: options.bucket, Key: keys.outputs }));
      prepared.set(runKey(ctx), { ...(inputsUrl && { inputsUrl }), outputsUrl, report });
    },

    contribute(plan: TaskFilesPlan): PodContribution {
      if (!plan.hasInputs && !plan.hasOutputs) return {};
      const state = prepared.get(runKey(plan));
      if (!state) {
        throw new TransferError(
          'prepare() must run before contribute() for this task run: the pod needs the pre-signed URLs it creates',
          {
            component: COMPONENT,
            code: ErrorCodes.POD_SPEC_INVALID,
          },
        );
      }
      const { root, workingDir, outputDir } = plan.paths;
      const select = plan.select ?? { globs: [], outputDir: plan.hasOutputs, syncWorkingDirectory: false };
      const mount: V1VolumeMount = { name: VOLUME, mountPath: root };
      const container = (name: string, script: string, args: string[], env: V1EnvVar[]): V1Container => ({
        name,
        image: options.image ?? DEFAULT_IMAGE,
        command: ['sh', '-c', script, name, ...args],
        env,
        volumeMounts: [{ ...mount }],
        // The default image (curlimages/curl) runs as uid 100, which can neither read outputs the
        // task wrote 0640 nor write inputs a root task may change: the file containers run as
        // root, as the reference's busybox sidecar does. Overlays (containerDefaultSpec) can set
        // another user; with a pod fsGroup, group permissions then carry the access.
        securityContext: { runAsUser: 0 },
      });
      const fetch = container(
        FETCH_CONTAINER,
        FETCH_SCRIPT,
        [root, workingDir, outputDir, plan.hasInputs ? 'yes' : 'no'],
        state.inputsUrl ? [{ name: 'PODRUN_INPUTS_URL', value: state.inputsUrl }] : [],
      );
      const outputRel = select.outputDir ? posix.relative(workingDir, outputDir) : '';
      const push = container(
        PUSH_CONTAINER,
        PUSH_SCRIPT,
        [root, workingDir, outputRel, select.syncWorkingDirectory ? '1' : '0'],
        [
          { name: 'PODRUN_OUTPUTS_URL', value: state.outputsUrl },
          { name: 'PODRUN_PATTERNS', value: casePatterns(select.globs, workingDir).join('\n') },
        ],
      );
      const marker = `${root}/${CONTROL_DIR}/main-exited`;
      return {
        volumes: [{ name: VOLUME, emptyDir: {} }],
        initContainers: [fetch],
        sidecars: plan.hasOutputs ? [push] : [],
        mainVolumeMounts: [{ ...mount }],
        ...(plan.hasOutputs && {
          wrapMainCommand: (command: string[]) => ['/bin/sh', '-c', MAIN_WRAPPER, marker, ...command],
        }),
        reservedContainerNames: [FETCH_CONTAINER, PUSH_CONTAINER],
        reservedVolumeNames: [VOLUME],
      };
    },

    async uploadInputs(ctx, _inputs, signal): Promise<TransferReport> {
      const state = prepared.get(runKey(ctx));
      if (!state)
        throw new TransferError('prepare() must run before uploadInputs() for this task run', { component: COMPONENT });
      // The archive is in storage already; the inputs are staged once the init container verified them.
      const pod = await ctx.kube.waitForPod(
        ctx.podSelector ?? { namespace: ctx.namespace },
        ctx.podName,
        (p) =>
          Boolean(p.status?.initContainerStatuses?.find((s) => s.name === FETCH_CONTAINER)?.state?.terminated) ||
          p.status?.phase === 'Failed',
        signal,
      );
      const fetched = pod.status?.initContainerStatuses?.find((s) => s.name === FETCH_CONTAINER)?.state?.terminated;
      if (fetched?.exitCode !== 0) {
        throw new TransferError(
          `the ${FETCH_CONTAINER} container could not download or verify the inputs (exit ${fetched?.exitCode ?? 'unknown'}); see its log`,
          {
            component: COMPONENT,
            details: { exitCode: fetched?.exitCode },
          },
        );
      }
      return state.report;
    },

    inputsStaged(_ctx: TransferContext, _pod: V1Pod): boolean {
      // The pod fetches its inputs by itself; nothing is ever uploaded into it.
      return true;
    },

    downloadOutputs(ctx, select, sink, signal) {
      return downloadOutputs(
        { client: s3, bucket: options.bucket, key: runKeys(options.prefix, ctx.identity).outputs },
        ctx,
        select,
        sink,
        signal,
      );
    },

    async release(ctx) {
      prepared.delete(runKey(ctx));
      const keys = runKeys(options.prefix, ctx.identity);
      try {
        await deleteObjects(s3(), options.bucket, [keys.inputs, keys.outputs]);
      } catch (error) {
        ctx.logger.warn(
          `[podrun] [${COMPONENT}] could not remove the transfer objects; remove them or let a lifecycle rule expire them`,
          {
            bucket: options.bucket,
            error: s3Error('removing the transfer objects', error).message,
          },
        );
      }
    },
  };
}
