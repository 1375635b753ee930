import { posix } from 'node:path';
import {
  ErrorCodes,
  TransferError,
  isPodrunError,
  linkAbort,
  UnsafePathError,
  type InputTree,
  type TransferContext,
  type TransferReport,
  nextRetryDelay,
  type BackoffPolicy,
} from '@podrun/core';
import { retriable, scriptFailure } from './errors.js';
import type { V1Pod } from '@kubernetes/client-node';
import { BoundedBuffer, TailBuffer } from './exec-io.js';
import {
  CONTROL_DIR,
  INIT_CONTAINER,
  describeState,
  initSettled,
  initStatus,
  initSucceeded,
  selectorOf,
} from './pod-state.js';
import { ScriptExit, UPLOAD_SCRIPT } from './scripts.js';
import { formatManifestLine, uploadArchiveStream, type StagedInput, type UploadArchive } from './tar-writer.js';

function pathProblem(path: string): string | undefined {
  if (!path) return 'is empty';
  if (path.includes('\0')) return 'contains a NUL character';
  if (path.startsWith('/')) return 'is absolute';
  const segments = path.split('/');
  if (segments.includes('..')) return "contains '..'";
  if (segments.some((s) => s === '' || s === '.')) return "has an empty or '.' segment";
  return undefined;
}

/** The working directory relative to the volume root; it must lie strictly inside it. */
export function workingDirOf(ctx: Pick<TransferContext, 'paths'>): { wd: string; od: string } {
  const wd = posix.relative(ctx.paths.root, ctx.paths.workingDir);
  const od = posix.relative(ctx.paths.root, ctx.paths.outputDir);
  if (!wd || wd.startsWith('..') || posix.isAbsolute(wd) || od.startsWith('..') || posix.isAbsolute(od)) {
    throw new TransferError(
      `the working directory ${ctx.paths.workingDir} and output directory ${ctx.paths.outputDir} must lie inside the files volume at ${ctx.paths.root}`,
      { component: 'exec-tar', code: ErrorCodes.CONFIG_INVALID, details: { retriable: false } },
    );
  }
  return { wd, od };
}

/**
 * Inputs larger than this travel as raw pieces of this size after the tar, each hashed in the pod
 * while the next arrives (the upload script's PIECES_OF_ONE_FILE).
 */
export const DEFAULT_PIECE_SIZE = 16 * 1024 * 1024;

function archiveOf(ctx: TransferContext, inputs: InputTree, pieceSize = DEFAULT_PIECE_SIZE): UploadArchive {
  const { wd, od } = workingDirOf(ctx);
  const seen = new Set<string>();
  const files: StagedInput[] = [];
  const directories = new Set<string>([wd, od]);
  for (const entry of inputs.entries) {
    const path = entry.path.replace(/^(\.\/)+/, '');
    const problem = pathProblem(path);
    if (problem) {
      throw new UnsafePathError(
        entry.path,
        `input file name ${JSON.stringify(entry.path)} ${problem}; name input files relative to the working directory`,
        {
          component: 'exec-tar',
        },
      );
    }
    if (seen.has(path)) {
      throw new TransferError(`input file ${JSON.stringify(path)} is given twice; give each input file once`, {
        component: 'exec-tar',
        code: ErrorCodes.TASK_INVALID,
        details: { retriable: false },
      });
    }
    seen.add(path);
    for (let dir = posix.dirname(path); dir !== '.'; dir = posix.dirname(dir)) directories.add(`${wd}/${dir}`);
    files.push({ path: `${wd}/${path}`, entry });
  }
  // Parents first, so each directory entry precedes what it contains.
  return {
    directories: [...directories].sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1)),
    files,
    controlDir: `${CONTROL_DIR}/upload`,
    pieceSize,
  };
}

/**
 * Opens every input once (and closes it at once), so a missing input fails before the pod
 * exists rather than after it waited for its files.
 */
export async function checkInputs(ctx: Pick<TransferContext, 'paths'>, inputs: InputTree): Promise<void> {
  archiveOf(ctx as TransferContext, inputs);
  for (const entry of inputs.entries) {
    try {
      const stream = await entry.open();
      await new Promise<void>((resolve, reject) => {
        const done = (): void => {
          stream.off('error', reject);
          resolve();
        };
        stream.once('error', reject);
        stream.once('readable', done);
        stream.once('end', done);
        if (entry.size === 0) done();
      });
      stream.destroy();
    } catch (error) {
      if (isPodrunError(error, ErrorCodes.INPUT_MISSING)) throw error;
      throw new TransferError(
        `input file ${JSON.stringify(entry.path)} cannot be read (${error instanceof Error ? error.message : String(error)}); check that it exists in storage`,
        {
          component: 'exec-tar',
          code: ErrorCodes.INPUT_MISSING,
          cause: error,
          details: { path: entry.path, retriable: false },
        },
      );
    }
  }
}

/** Waits for the init container to run; true when a previous upload already completed. */
async function waitForInit(ctx: TransferContext, signal: AbortSignal): Promise<boolean> {
  const pod = await ctx.kube.waitForPod(selectorOf(ctx), ctx.podName, initSettled, signal);
  if (initSucceeded(pod)) return true;
  if (initStatus(pod)?.state?.running) return false;
  throw new TransferError(
    `cannot upload inputs: the ${INIT_CONTAINER} container of pod ${ctx.podName} is ${describeState(initStatus(pod))} (pod phase ${pod.status?.phase ?? 'unknown'})`,
    { component: 'exec-tar', details: { retriable: false } },
  );
}

async function uploadOnce(
  ctx: TransferContext,
  archive: UploadArchive,
  signal: AbortSignal,
): Promise<{ bytes: number }> {
  const total = archive.files.reduce((sum, f) => sum + f.entry.size, 0);
  let sent = 0;
  const { stream, manifest, sections, manifestLength } = uploadArchiveStream(archive, (n) => {
    sent += n;
    ctx.onProgress?.({ phase: 'upload', bytes: sent, totalBytes: total });
  });
  const controller = new AbortController();
  const unlink = linkAbort(signal, controller);
  let inputError: unknown;
  stream.on('error', (error) => {
    inputError = error;
    controller.abort(error);
  });
  // The pod prints the manifest back (a line per file in the tar and per piece of a large file).
  const stdout = new BoundedBuffer(manifestLength + 4096);
  const stderr = new TailBuffer();
  try {
    const result = await ctx.kube
      .exec(
        ctx.namespace,
        ctx.podName,
        INIT_CONTAINER,
        [
          'sh',
          '-c',
          UPLOAD_SCRIPT,
          'podrun-upload',
          ctx.paths.root,
          archive.controlDir,
          String(sections.head),
          String(sections.tail),
          String(archive.pieceSize),
        ],
        { stdin: stream, stdout, stderr },
        controller.signal,
      )
      .catch((error: unknown) => {
        throw inputError ?? error;
      });
    if (inputError) throw inputError;
    // An earlier attempt whose answer was lost got as far as the marker: verified in the pod.
    if (result.exitCode === ScriptExit.ALREADY_STAGED) return { bytes: sent };
    if (result.exitCode !== 0) throw scriptFailure('uploading the input files', result.exitCode, stderr.text());
    const expected = manifest.map(formatManifestLine).join('');
    if (stdout.text() !== expected) {
      throw new TransferError('the input files in the pod do not match what was sent (size/sha256 manifest)', {
        component: 'exec-tar',
        code: ErrorCodes.TRANSFER_VERIFY,
      });
    }
    return { bytes: sent };
  } finally {
    unlink();
    stream.destroy();
  }
}

/**
 * Streams the inputs as one tar into the waiting init container, verifies them there and writes
 * the ready marker. Retried on a dropped stream; re-extracting is harmless. An attempt whose
 * answer was lost after the marker was written is recognised by the init container's success.
 */
export async function uploadInputs(
  ctx: TransferContext,
  inputs: InputTree,
  signal: AbortSignal,
  policy: BackoffPolicy,
  pieceSize?: number,
): Promise<TransferReport> {
  if (inputs.entries.length === 0) return { files: 0, bytes: 0, verified: true, attempts: 0 };
  const archive = archiveOf(ctx, inputs, pieceSize);
  if (await waitForInit(ctx, signal)) return { files: archive.files.length, bytes: 0, verified: true, attempts: 0 };
  for (let attempt = 1; ; attempt++) {
    try {
      const { bytes } = await uploadOnce(ctx, archive, signal);
      return { files: archive.files.length, bytes, verified: true, attempts: attempt };
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error;
      // An attempt whose answer was lost may have written the marker; the init container then
      // exits 0. Waiting for that (or the back-off) tells a staged upload from a failed one.
      // The wait for that outcome is the back-off itself.
      const wait = nextRetryDelay(policy, attempt, 0) ?? 0;
      const pod = await initOutcome(ctx, Math.max(wait, SETTLE_MS), signal);
      if (pod && initSucceeded(pod))
        return { files: archive.files.length, bytes: 0, verified: true, attempts: attempt };
      const initRunning = Boolean(pod && initStatus(pod)?.state?.running);
      if (!initRunning || !retriable(error) || attempt >= policy.maxAttempts) throw error;
      ctx.logger.warn('[podrun] [exec-tar] input upload failed; retrying', {
        pod: ctx.podName,
        attempt,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

/** How long an init container may take to notice the marker and exit (its loop sleeps 0.5 s). */
const SETTLE_MS = 2000;

/** The pod once its init container ended, or as it is after `ms`. */
async function initOutcome(ctx: TransferContext, ms: number, signal: AbortSignal): Promise<V1Pod | undefined> {
  const controller = new AbortController();
  const unlink = linkAbort(signal, controller);
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    return await ctx.kube.waitForPod(
      selectorOf(ctx),
      ctx.podName,
      (p) => Boolean(initStatus(p)?.state?.terminated),
      controller.signal,
    );
  } catch {
    signal.throwIfAborted();
    return await ctx.kube.getPod(ctx.namespace, ctx.podName, signal).catch(() => undefined);
  } finally {
    clearTimeout(timer);
    unlink();
  }
}
