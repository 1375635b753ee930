// Builds the upload archive as a pull stream: a file is opened only when the reader reaches it,
// so memory stays flat whatever the sizes. The sha256/size manifest is computed from the very
// bytes sent and appended as control files, for the pod to check against what it extracted.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Header, Pax } from 'tar';
import type { HeaderData } from 'tar';
import { ErrorCodes, TransferError, type InputEntry } from '@podrun/core';

const BLOCK = 512;
/** GNU tar's default record (blocking factor 20); padding to it keeps every tar quiet. */
const RECORD = 20 * BLOCK;

/** One manifest line: what a file's bytes were. */
export interface ManifestItem {
  size: number;
  sha256: string;
}

/** An input placed at `path` (relative to the volume root). */
export interface StagedInput {
  path: string;
  entry: InputEntry;
}

/** What goes into one upload archive. */
export interface UploadArchive {
  /** Directories to create first (relative to the root), writable by every user. */
  directories: string[];
  files: StagedInput[];
  /** Directory (relative to the root) receiving the control files `list` and `expected`. */
  controlDir: string;
}

/** The manifest line format shared with the in-pod scripts. */
export function formatManifestLine(item: ManifestItem): string {
  return `${item.size} ${item.sha256}\n`;
}

function headerBlocks(data: HeaderData & { mtime: Date }): Buffer {
  const header = new Header({ uid: 0, gid: 0, uname: '', gname: '', ...data });
  const needPax = header.encode();
  const block = header.block!;
  if (!needPax) return block;
  return Buffer.concat([new Pax({ path: data.path, size: data.size, mtime: header.mtime }).encode(), block]);
}

function fileHeader({ path, entry }: StagedInput, mtime: Date): Buffer {
  return headerBlocks({ path, type: 'File', mode: (entry.mode ?? 0o644) & 0o7777, size: entry.size, mtime });
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

function smallFile(path: string, content: Buffer, mtime: Date): Buffer[] {
  return [
    headerBlocks({ path, type: 'File', mode: 0o600, size: content.length, mtime }),
    content,
    padding(content.length),
  ];
}

/** The NUL-separated list of staged paths (control file `list`). */
function listOf(spec: UploadArchive): Buffer {
  return Buffer.from(spec.files.map((f) => `${f.path}\0`).join(''), 'utf8');
}

/** Zero blocks ending the archive, padded to a whole record. */
function trailer(written: number): Buffer {
  const end = 2 * BLOCK;
  const total = written + end;
  return Buffer.alloc(end + (total % RECORD === 0 ? 0 : RECORD - (total % RECORD)));
}

/**
 * The exact length of the archive `archive()` will produce, known before any file is read. The
 * pod reads exactly this many bytes (`head -c`), so the upload ends without a stdin close, which
 * exec before v5.channel.k8s.io (Kubernetes < 1.30) cannot send and BusyBox tar waits for.
 */
function archiveLength(spec: UploadArchive, mtime: Date): number {
  let length = 0;
  for (const dir of spec.directories)
    length += headerBlocks({ path: `${dir}/`, type: 'Directory', mode: 0o777, size: 0, mtime }).length;
  let expected = 0;
  for (const { path, entry } of spec.files) {
    length += fileHeader({ path, entry }, mtime).length;
    length += entry.size + padding(entry.size).length;
    expected += formatManifestLine({ size: entry.size, sha256: '0'.repeat(64) }).length;
  }
  const list = listOf(spec);
  length += smallFile(`${spec.controlDir}/list`, list, mtime).reduce((n, b) => n + b.length, 0);
  length += smallFile(`${spec.controlDir}/expected`, Buffer.alloc(expected), mtime).reduce((n, b) => n + b.length, 0);
  return length + trailer(length).length;
}

async function* archive(
  spec: UploadArchive,
  manifest: ManifestItem[],
  onBytes: (n: number) => void,
  mtime: Date,
): AsyncGenerator<Buffer> {
  let written = 0;
  const emit = (chunk: Buffer): Buffer => {
    written += chunk.length;
    return chunk;
  };
  for (const dir of spec.directories)
    yield emit(headerBlocks({ path: `${dir}/`, type: 'Directory', mode: 0o777, size: 0, mtime }));
  for (const { path, entry } of spec.files) {
    yield emit(fileHeader({ path, entry }, mtime));
    const hash = createHash('sha256');
    let size = 0;
    const content = await entry.open();
    try {
      for await (const chunk of content as AsyncIterable<Buffer | string>) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        size += bytes.length;
        if (size > entry.size) break;
        hash.update(bytes);
        onBytes(bytes.length);
        yield emit(bytes);
      }
    } finally {
      content.destroy?.();
    }
    if (size !== entry.size) {
      throw new TransferError(
        `input file ${JSON.stringify(entry.path)} changed while it was sent: expected ${entry.size} bytes, read ${size > entry.size ? 'more' : size}; make sure inputs are not modified during a run`,
        { component: 'exec-tar', code: ErrorCodes.TRANSFER_VERIFY, details: { path: entry.path, retriable: false } },
      );
    }
    const sha256 = hash.digest('hex');
    if (entry.sha256 && entry.sha256.toLowerCase() !== sha256) {
      throw new TransferError(`input file ${JSON.stringify(entry.path)} does not match its declared sha256`, {
        component: 'exec-tar',
        code: ErrorCodes.TRANSFER_VERIFY,
        details: { path: entry.path, expected: entry.sha256, actual: sha256, retriable: false },
      });
    }
    manifest.push({ size, sha256 });
    yield emit(padding(size));
  }
  const expected = Buffer.from(manifest.map(formatManifestLine).join(''), 'utf8');
  for (const chunk of smallFile(`${spec.controlDir}/list`, listOf(spec), mtime)) yield emit(chunk);
  for (const chunk of smallFile(`${spec.controlDir}/expected`, expected, mtime)) yield emit(chunk);
  yield emit(trailer(written));
}

/**
 * Streams the upload archive. `manifest` fills with one item per file, in order, as each file
 * has been read completely; it is complete when the stream ends. `length` is the exact number of
 * bytes the stream will carry.
 */
export function uploadArchiveStream(
  spec: UploadArchive,
  onBytes: (n: number) => void = () => {},
): {
  stream: Readable;
  manifest: ManifestItem[];
  length: number;
} {
  const manifest: ManifestItem[] = [];
  const mtime = new Date(Math.floor(Date.now() / 1000) * 1000);
  return {
    stream: Readable.from(archive(spec, manifest, onBytes, mtime), { objectMode: false, highWaterMark: 64 * 1024 }),
    manifest,
    length: archiveLength(spec, mtime),
  };
}
