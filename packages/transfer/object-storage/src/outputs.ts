// Bringing outputs back: wait (on the shared watch) for the sidecar to finish its upload, then
// stream the archive from storage through the verifying reader into the sink. A dropped download
// is retried for the files not yet delivered.
import type { Readable } from 'node:stream';
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  TransferError,
  UnsafePathError,
  isPodrunError,
  nextRetryDelay,
  RETRY_POLICIES,
  sleep,
  type OutputSelection,
  type OutputSink,
  type TransferContext,
  type TransferReport,
} from '@podrun/core';
import { TarReader } from '@podrun/transfer-kit';
import { OutputArchive, SinkFailure } from './archive.js';
import { s3Error } from './s3.js';

/** Sidecar that packs and uploads the outputs. */
export const PUSH_CONTAINER = 'push-files';
const COMPONENT = 'object-storage';

function status(pod: V1Pod, name: string): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((s) => s.name === name);
}

async function logTail(ctx: TransferContext): Promise<string> {
  try {
    const stream = await ctx.kube.podLogs(ctx.namespace, ctx.podName, { container: PUSH_CONTAINER, tailLines: 5 });
    let text = '';
    for await (const chunk of stream) text += String(chunk);
    return text.trim().replace(/\s*\n\s*/g, ' | ');
  } catch {
    return '';
  }
}

/** Waits until the sidecar ended; fails when it failed or can never run. */
async function waitForUpload(ctx: TransferContext, signal: AbortSignal): Promise<void> {
  const pod = await ctx.kube.waitForPod(
    ctx.podSelector ?? { namespace: ctx.namespace },
    ctx.podName,
    (p) =>
      Boolean(status(p, PUSH_CONTAINER)?.state?.terminated) ||
      status(p, 'main')?.state?.terminated?.reason === 'OOMKilled' ||
      p.status?.phase === 'Failed' ||
      p.status?.phase === 'Succeeded',
    signal,
  );
  const pushed = status(pod, PUSH_CONTAINER)?.state?.terminated;
  if (pushed?.exitCode === 0) return;
  const tail = pushed ? await logTail(ctx) : '';
  throw new TransferError(
    pushed
      ? `the ${PUSH_CONTAINER} container could not upload the outputs (exit ${pushed.exitCode})${tail ? `: ${tail}` : ''}`
      : `the outputs were never uploaded: the pod ended (${pod.status?.phase ?? 'unknown'}) before the ${PUSH_CONTAINER} container finished, e.g. because the main container was killed`,
    { component: COMPONENT, details: { exitCode: pushed?.exitCode, retriable: false } },
  );
}

function retriable(error: unknown): boolean {
  if (error instanceof SinkFailure || error instanceof UnsafePathError) return false;
  if (error instanceof TransferError) return error.details.retriable !== false;
  return !isPodrunError(error);
}

/** Streams the selected outputs into the sink, verified against the pod's manifest. */
export async function downloadOutputs(
  s3: { client: () => S3Client; bucket: string; key: string },
  ctx: TransferContext,
  select: OutputSelection,
  sink: OutputSink,
  signal: AbortSignal,
): Promise<TransferReport> {
  const report: TransferReport = { files: 0, bytes: 0, verified: true, attempts: 0 };
  if (select.globs.length === 0 && !select.outputDir && !select.syncWorkingDirectory) return report;
  await waitForUpload(ctx, signal);
  const delivered = new Set<string>();
  let received = 0;
  for (let attempt = 1; ; attempt++) {
    report.attempts = attempt;
    const archive = new OutputArchive(select, ctx.paths, sink, delivered, (n) => {
      received += n;
      ctx.onProgress?.({ phase: 'download', bytes: received });
    });
    try {
      let body: Readable;
      try {
        const answer = await s3
          .client()
          .send(new GetObjectCommand({ Bucket: s3.bucket, Key: s3.key }), { abortSignal: signal });
        body = answer.Body as Readable;
      } catch (error) {
        if (signal.aborted) throw error;
        throw s3Error('downloading the output archive', error);
      }
      const reader = new TarReader(archive);
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) await reader.write(chunk);
      } finally {
        body.destroy();
      }
      reader.finish();
      archive.finish();
      report.files = delivered.size;
      report.bytes += archive.bytes;
      return report;
    } catch (error) {
      archive.abort(error);
      report.bytes += archive.bytes;
      if (signal.aborted) throw signal.reason ?? error;
      if (error instanceof SinkFailure) throw error.error;
      const wait = retriable(error) ? nextRetryDelay(RETRY_POLICIES.transferStream, attempt, 0) : undefined;
      if (wait === undefined) throw error;
      ctx.logger.warn(`[podrun] [${COMPONENT}] output download failed; retrying the files not yet delivered`, {
        pod: ctx.podName,
        attempt,
        error: error instanceof Error ? error.message : String(error),
      });
      await sleep(wait, signal);
    }
  }
}
