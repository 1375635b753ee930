// Input trees and an output sink for the transfer cases. Large contents are generated as streams
// from a seed (never held in memory) and checked by sha256 while they flow.
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ErrorCodes, PodrunError, type InputEntry, type OutputEntry, type OutputSink } from '@podrun/core';

/** Deterministic pseudo-random bytes: AES-256-CTR over zeros, keyed by `seed`. */
export function generatedStream(seed: string, size: number, onRead?: (total: number) => void): Readable {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const block = Buffer.alloc(64 * 1024);
  let produced = 0;
  return new Readable({
    highWaterMark: 64 * 1024,
    read() {
      if (produced >= size) return void this.push(null);
      const n = Math.min(block.length, size - produced);
      produced += n;
      this.push(cipher.update(block.subarray(0, n)));
      onRead?.(produced);
    },
  });
}

/** sha256 and size of a generated content, computed by streaming it once. */
export async function generatedDigest(seed: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of generatedStream(seed, size)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** sha256 of bytes. */
export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** An input file with fixed content. */
export function fileEntry(path: string, content: string | Uint8Array, mode?: number): InputEntry {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
  return { path, size: bytes.length, ...(mode !== undefined && { mode }), open: () => Readable.from([bytes]) };
}

/** An input file generated from a seed; `onRead` sees the bytes read so far by the strategy. */
export function generatedEntry(path: string, seed: string, size: number, onRead?: (total: number) => void): InputEntry {
  return { path, size, open: () => generatedStream(seed, size, onRead) };
}

/** An input whose source has disappeared: opening it fails with INPUT_MISSING. */
export function missingEntry(path: string): InputEntry {
  return {
    path,
    size: 10,
    open: () => {
      throw new PodrunError(ErrorCodes.INPUT_MISSING, `input file ${JSON.stringify(path)} does not exist in storage`, {
        component: 'conformance',
      });
    },
  };
}

/** What a sink received for one file. */
export interface ReceivedFile {
  entry: OutputEntry;
  size: number;
  sha256: string;
  /** Small files keep their bytes for byte-for-byte comparison. */
  bytes?: Buffer;
  /** True when the content stream ended normally (the strategy declared it complete). */
  complete: boolean;
}

/** An OutputSink recording every file; contents up to `keepBytes` are kept. */
export class RecordingSink implements OutputSink {
  readonly files = new Map<string, ReceivedFile>();
  /** Called with the total bytes received so far, e.g. to abort mid-download. */
  onBytes: ((total: number) => void) | undefined;
  #total = 0;

  constructor(private readonly keepBytes = 1024 * 1024) {}

  async write(entry: OutputEntry, content: Readable): Promise<void> {
    const key = `${entry.origin}:${entry.name}`;
    const hash = createHash('sha256');
    const parts: Buffer[] = [];
    let size = 0;
    const record: ReceivedFile = { entry, size: 0, sha256: '', complete: false };
    this.files.set(key, record);
    for await (const chunk of content as AsyncIterable<Buffer>) {
      size += chunk.length;
      hash.update(chunk);
      if (size <= this.keepBytes) parts.push(Buffer.from(chunk));
      this.#total += chunk.length;
      this.onBytes?.(this.#total);
    }
    record.size = size;
    record.sha256 = hash.digest('hex');
    if (size <= this.keepBytes) record.bytes = Buffer.concat(parts);
    record.complete = true;
  }

  /** A completed file by origin and name. */
  get(name: string, origin: OutputEntry['origin'] = 'workingDir'): ReceivedFile | undefined {
    const file = this.files.get(`${origin}:${name}`);
    return file?.complete ? file : undefined;
  }

  /** Names of completed files of one origin, sorted. */
  names(origin: OutputEntry['origin'] = 'workingDir'): string[] {
    return [...this.files.values()]
      .filter((f) => f.complete && f.entry.origin === origin)
      .map((f) => f.entry.name)
      .sort();
  }
}

/** The nested tree of the round-trip case: relative path -> content. */
export function roundTripTree(): Map<string, Buffer> {
  const allBytes = Buffer.alloc(256 * 1024);
  for (let i = 0; i < allBytes.length; i++) allBytes[i] = (i * 7 + (i >> 8)) & 0xff;
  return new Map<string, Buffer>([
    ['a.txt', Buffer.from('hello\n')],
    ['empty.txt', Buffer.alloc(0)],
    ['.hidden', Buffer.from('dot file')],
    ['bin/all-bytes.bin', allBytes],
    ['dir with space/it\'s "quoted".txt', Buffer.from('quotes\n')],
    ['ünïcødé/☃ snow – 雪.txt', Buffer.from('unicode ✓\n')],
    ['deep/a/b/c/d/e.txt', Buffer.from('deep\n')],
    ['inject/$(touch pwned) `id` ;x&.txt', Buffer.from('no shell here\n')],
    ['trailing/  spaces  .txt', Buffer.from('  \t  \n')],
    ['newline/no-final-newline.txt', Buffer.from('no newline at end')],
  ]);
}
