import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { InputEntry, OutputEntry, OutputSink, TaskRunIdentity, TransferContext, KubePort } from '@podrun/core';
import { silentLogger } from '@podrun/core';

export const identity: TaskRunIdentity = {
  namespace: 'company.team',
  flowId: 'flow',
  taskId: 'task',
  executionId: 'exec1',
  taskRunId: 'run1',
  attempt: 1,
};

export function entry(path: string, content: Buffer | string, mode?: number): InputEntry {
  const bytes = Buffer.from(content);
  return { path, size: bytes.length, ...(mode !== undefined && { mode }), open: () => Readable.from([bytes]) };
}

export function sha(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}

/** Pseudo-random bytes, deterministic per seed, produced lazily in 64 KiB chunks. */
export function bigEntry(path: string, size: number): InputEntry & { sha256: string } {
  const chunk = randomBytes(64 * 1024);
  const hash = createHash('sha256');
  for (let left = size; left > 0; left -= chunk.length) hash.update(chunk.subarray(0, Math.min(left, chunk.length)));
  return {
    path,
    size,
    sha256: hash.digest('hex'),
    open: () =>
      Readable.from(
        (function* () {
          for (let left = size; left > 0; left -= chunk.length) yield chunk.subarray(0, Math.min(left, chunk.length));
        })(),
      ),
  };
}

/** Keeps every output in memory, and every attempt (complete or failed). */
export class MemorySink implements OutputSink {
  readonly files = new Map<string, { entry: OutputEntry; content: Buffer }>();
  readonly failedWrites: string[] = [];
  async write(entry: OutputEntry, content: Readable): Promise<void> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of content) chunks.push(chunk as Buffer);
    } catch (error) {
      this.failedWrites.push(entry.name);
      throw error;
    }
    this.files.set(entry.name, { entry, content: Buffer.concat(chunks) });
  }
}

/** Hashes outputs as they stream; never holds them. */
export class HashingSink implements OutputSink {
  readonly files = new Map<string, { size: number; sha256: string }>();
  async write(entry: OutputEntry, content: Readable): Promise<void> {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of content) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    this.files.set(entry.name, { size, sha256: hash.digest('hex') });
  }
}

export function context(kube: KubePort, root: string, podName = 'local'): TransferContext {
  return {
    kube,
    namespace: 'default',
    podName,
    paths: { root, workingDir: `${root}/working-dir`, outputDir: `${root}/working-dir/out-abc` },
    identity,
    logger: silentLogger,
  };
}
