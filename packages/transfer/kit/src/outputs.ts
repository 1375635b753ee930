import { randomBytes } from 'node:crypto';
import { finished } from 'node:stream/promises';
import {
  KubeApiError,
  TransferError,
  linkAbort,
  type OutputSelection,
  type OutputSink,
  type TransferContext,
  type TransferReport,
  nextRetryDelay,
  sleep,
  type BackoffPolicy,
} from '@podrun/core';
import { DownloadSession, DownloadStderr, SinkFailure, type PodFile } from './download.js';
import { retriable, scriptFailure } from './errors.js';
import { CONTROL_DIR, SIDECAR_CONTAINER, describeState, selectorOf, sidecarStatus } from './pod-state.js';
import { DOWNLOAD_SCRIPT } from './scripts.js';
import { selectOutputs, type Listing } from './selection.js';

/**
 * Whether the sidecar still runs (from the shared watch's cache): a 400 "container not found"
 * while it does is a race in the node, worth another attempt.
 */
async function sidecarRunning(ctx: TransferContext, signal: AbortSignal): Promise<boolean> {
  const controller = new AbortController();
  const unlink = linkAbort(signal, controller);
  const timer = setTimeout(() => controller.abort(), 5000);
  try {
    const pod = await ctx.kube.waitForPod(selectorOf(ctx), ctx.podName, () => true, controller.signal);
    return Boolean(sidecarStatus(pod)?.state?.running) && !pod.metadata?.deletionTimestamp;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    unlink();
  }
}

/**
 * The sidecar starts alongside `main`, so a short task can end before it runs: wait for it (from
 * the shared watch, no requests) rather than exec into a container that is not there yet.
 */
async function waitForSidecar(ctx: TransferContext, signal: AbortSignal): Promise<void> {
  const pod = await ctx.kube.waitForPod(
    selectorOf(ctx),
    ctx.podName,
    (p) => {
      const state = sidecarStatus(p)?.state;
      return Boolean(
        state?.running ||
          state?.terminated ||
          p.status?.phase === 'Succeeded' ||
          p.status?.phase === 'Failed' ||
          p.metadata?.deletionTimestamp,
      );
    },
    signal,
  );
  const status = sidecarStatus(pod);
  if (!status?.state?.running) {
    throw new TransferError(
      `cannot read the outputs: the ${SIDECAR_CONTAINER} container of pod ${ctx.podName} is ${describeState(status)} (pod phase ${pod.status?.phase ?? 'unknown'})`,
      { component: 'exec-tar', details: { retriable: false } },
    );
  }
}

/** What a download job asks for: a listing plus selection, or a known list of files. */
type Job = { kind: 'list' } | { kind: 'files'; files: PodFile[] };

async function runSession(
  ctx: TransferContext,
  session: DownloadSession,
  list: boolean,
  signal: AbortSignal,
): Promise<void> {
  const controller = new AbortController();
  const unlink = linkAbort(signal, controller);
  let localError: unknown;
  session.stdout.on('error', (error) => {
    localError = error;
    controller.abort(error);
  });
  const stdoutDone = finished(session.stdout).catch((error: unknown) => {
    localError ??= error;
  });
  const stderr = new DownloadStderr();
  const selectionFile = `${ctx.paths.root}/${CONTROL_DIR}/select-${randomBytes(6).toString('hex')}`;
  try {
    const result = await ctx.kube
      .exec(
        ctx.namespace,
        ctx.podName,
        SIDECAR_CONTAINER,
        ['sh', '-c', DOWNLOAD_SCRIPT, 'podrun-download', ctx.paths.workingDir, selectionFile, list ? 'list' : 'nolist'],
        { stdin: session.stdin, stdout: session.stdout, stderr },
        controller.signal,
      )
      .catch((error: unknown) => {
        throw localError ?? error;
      });
    if (!session.stdout.writableEnded) session.stdout.end();
    await stdoutDone;
    if (localError) throw localError;
    if (result.exitCode !== 0)
      throw scriptFailure('reading the output files', result.exitCode, stderr.text(), ctx.paths.workingDir);
    session.finish(stderr.manifest);
  } catch (error) {
    session.abort(error);
    throw error;
  } finally {
    unlink();
    if (!session.stdout.writableFinished) session.stdout.destroy();
    session.stdin.destroy();
  }
}

/**
 * Brings the selected outputs back: one exec lists the working directory, receives the selection
 * on stdin and streams a tar of exactly those files, their manifest computed in the pod as they
 * go. A dropped stream (or a file that does not match the manifest) is retried for the files not
 * yet delivered, without listing again; files the tar sent as hard links are fetched on their own.
 */
export async function downloadOutputs(
  ctx: TransferContext,
  select: OutputSelection,
  sink: OutputSink,
  signal: AbortSignal,
  policy: BackoffPolicy,
): Promise<TransferReport> {
  const report: TransferReport = { files: 0, bytes: 0, verified: true, attempts: 0 };
  if (select.globs.length === 0 && !select.outputDir && !select.syncWorkingDirectory) return report;
  const choose = (listing: Listing, raw: Map<string, Buffer>): PodFile[] =>
    selectOutputs(listing, select, ctx.paths).map((file) => ({ ...file, raw: raw.get(file.path)! }));
  let totalBytes = 0;
  let delivered = 0;
  const onBytes = (n: number): void => {
    delivered += n;
    ctx.onProgress?.({ phase: 'download', bytes: delivered, totalBytes: Math.max(totalBytes, delivered) });
  };
  await waitForSidecar(ctx, signal);
  const jobs: Job[] = [{ kind: 'list' }];
  let failures = 0;
  while (jobs.length > 0) {
    const job = jobs.shift()!;
    report.attempts++;
    const session = new DownloadSession(
      job.kind === 'list' ? choose : undefined,
      job.kind === 'files' ? job.files : undefined,
      sink,
      (n, total) => {
        totalBytes = Math.max(totalBytes, total);
        onBytes(n);
      },
    );
    try {
      await runSession(ctx, session, job.kind === 'list', signal);
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error;
      if (error instanceof SinkFailure) throw error.error;
      failures++;
      const again =
        retriable(error) ||
        (error instanceof KubeApiError && error.status === 400 && (await sidecarRunning(ctx, signal)));
      const wait = again ? nextRetryDelay(policy, failures, 0) : undefined;
      if (wait === undefined) throw error;
      ctx.logger.warn('[podrun] [exec-tar] output download failed; retrying the files not yet delivered', {
        pod: ctx.podName,
        attempt: failures,
        error: error instanceof Error ? error.message : String(error),
      });
      const selection = session.outcome.selection;
      const listed = job.kind === 'files' || selection.length > 0 || session.outcome.delivered.size > 0;
      const rest = selection.filter((f) => !session.outcome.delivered.has(f.path));
      jobs.unshift(listed ? { kind: 'files', files: rest } : job);
      report.files += session.outcome.delivered.size;
      report.bytes += session.outcome.bytes;
      await sleep(wait, signal);
      continue;
    }
    report.files += session.outcome.delivered.size;
    report.bytes += session.outcome.bytes;
    for (const path of session.outcome.hardLinks) {
      jobs.push({ kind: 'files', files: session.outcome.selection.filter((f) => f.path === path) });
    }
  }
  return report;
}
