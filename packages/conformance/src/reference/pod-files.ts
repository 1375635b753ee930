// Pod-side helpers of the reference transfer: small exec calls whose output is parsed here.
import { Writable } from 'node:stream';
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { ErrorCodes, ExecError, KubeApiError, TransferError, type TransferContext } from '@podrun/core';

/** Collects a whole exec output in memory (the reference buffers; real strategies stream). */
export class MemoryWritable extends Writable {
  readonly parts: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.parts.push(Buffer.from(chunk));
    callback();
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Runs a script in one container of the pod; resolves with stdout, rejects on a non-zero exit. */
export async function runScript(
  ctx: TransferContext,
  container: string,
  script: string,
  args: string[],
  signal: AbortSignal,
  stdin?: NodeJS.ReadableStream,
): Promise<Buffer> {
  const stdout = new MemoryWritable();
  const stderr = new MemoryWritable();
  const { exitCode } = await ctx.kube.exec(
    ctx.namespace,
    ctx.podName,
    container,
    ['sh', '-c', script, 'podrun-memory', ...args],
    { stdout, stderr, ...(stdin && { stdin: stdin as never }) },
    signal,
  );
  if (exitCode !== 0) {
    throw new TransferError(
      `a file command in the pod failed with exit code ${exitCode}: ${stderr.bytes().toString('utf8').trim().slice(-300)}`,
      {
        component: 'memory',
        details: { exitCode },
      },
    );
  }
  return stdout.bytes();
}

/** Whether another attempt may succeed: dropped connections and server hiccups, not refusals. */
export function transient(error: unknown): boolean {
  if (error instanceof ExecError) return true;
  if (error instanceof KubeApiError) return ![400, 401, 403, 404, 422].includes(error.status ?? 0);
  return false;
}

/** Runs `attempt` up to 4 times while it fails transiently. */
export async function withRetries<T>(
  signal: AbortSignal,
  attempt: () => Promise<T>,
): Promise<{ value: T; attempts: number }> {
  for (let n = 1; ; n++) {
    try {
      return { value: await attempt(), attempts: n };
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error;
      if (!transient(error) || n >= 4) throw error;
    }
  }
}

/** The status of `container` (init or regular) of the pod. */
function statusOf(pod: V1Pod, container: string): V1ContainerStatus | undefined {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find(
    (s) => s.name === container,
  );
}

/** Waits until `container` of the pod runs (init or regular); fails if it ended. */
export async function waitRunning(ctx: TransferContext, container: string, signal: AbortSignal): Promise<V1Pod> {
  const pod = await ctx.kube.waitForPod(
    ctx.podSelector ?? { namespace: ctx.namespace },
    ctx.podName,
    (p) =>
      Boolean(
        statusOf(p, container)?.state?.running ||
          statusOf(p, container)?.state?.terminated ||
          p.status?.phase === 'Failed',
      ),
    signal,
  );
  if (!statusOf(pod, container)?.state?.running) {
    throw new TransferError(`the ${container} container of pod ${ctx.podName} is not running`, {
      component: 'memory',
      code: ErrorCodes.TRANSFER_FAILED,
    });
  }
  return pod;
}

/**
 * The pod once `container` has ended, or undefined if it still runs after `ms`: the init
 * container exits as soon as it sees the ready marker, which can kill the very exec that wrote
 * it before that exec reports, so its exit code is what tells a written marker from a failed one.
 */
export async function endedWithin(
  ctx: TransferContext,
  container: string,
  ms: number,
  signal: AbortSignal,
): Promise<V1Pod | undefined> {
  try {
    return await ctx.kube.waitForPod(
      ctx.podSelector ?? { namespace: ctx.namespace },
      ctx.podName,
      (pod) => Boolean(statusOf(pod, container)?.state?.terminated),
      AbortSignal.any([signal, AbortSignal.timeout(ms)]),
    );
  } catch (error) {
    signal.throwIfAborted();
    if (error instanceof KubeApiError) throw error;
    return undefined;
  }
}

/** Parses `W<dir>\0`, `F<path>\0` and `L<path>\0<f|o><target>\0` records of the listing script. */
export function parseListing(raw: Buffer): {
  workingDir: string;
  files: string[];
  links: { path: string; target: string; isFile: boolean }[];
} {
  const records = raw
    .toString('utf8')
    .split('\0')
    .filter((r) => r.length > 0);
  let workingDir = '';
  const files: string[] = [];
  const links: { path: string; target: string; isFile: boolean }[] = [];
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const path = record.slice(1).replace(/^\.\//, '');
    if (record[0] === 'W') workingDir = record.slice(1);
    else if (record[0] === 'F') files.push(path);
    else if (record[0] === 'L') {
      const target = records[++i] ?? 'o';
      links.push({ path, target: target.slice(1), isFile: target[0] === 'f' });
    }
  }
  return { workingDir, files, links };
}
