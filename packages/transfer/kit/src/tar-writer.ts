// Builds the upload archive as a pull stream: a file is opened only when the reader reaches it,
// so memory stays flat whatever the sizes. The sha256/size manifest is computed from the very
// bytes sent and appended as control files, for the pod to check against what it extracted.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Header } from 'tar/header';
import { Pax } from 'tar/pax';
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
  /**
   * When set, files larger than this go after the tar as raw bytes, in pieces of this size, so
   * the pod can hash each piece while the next one arrives (see the upload script). The stream is
   * then three sections: a tar (directories, the other files, control files `list` and
   * `pieces`), the raw pieces, and a tar holding `expected`; the manifest has one line per small
   * file, then one per piece. Unset: one tar with everything, `expected` at its end.
   */
  pieceSize?: number;
}

/** Byte lengths of the sections of a pieced upload stream. */
export interface UploadSections {
  /** The first tar (directories, small files, `list`, `pieces`). */
  head: number;
  /** The raw pieces of the large files, back to back. */
  pieces: number;
  /** The last tar (`expected`). */
  tail: number;
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

/** Whether `file` travels as raw pieces after the tar rather than inside it. */
function pieced(spec: UploadArchive, file: StagedInput): boolean {
  return spec.pieceSize !== undefined && file.entry.size > spec.pieceSize;
}

/** The NUL-separated list of the paths inside the tar (control file `list`). */
function listOf(spec: UploadArchive): Buffer {
  return Buffer.from(
    spec.files
      .filter((f) => !pieced(spec, f))
      .map((f) => `${f.path}\0`)
      .join(''),
    'utf8',
  );
}

/** `path\0size\0` of each pieced file, in sending order (control file `pieces`). */
function piecesOf(spec: UploadArchive): Buffer {
  return Buffer.from(
    spec.files
      .filter((f) => pieced(spec, f))
      .map((f) => `${f.path}\0${f.entry.size}\0`)
      .join(''),
    'utf8',
  );
}

/** Byte length of the manifest: a line per small file, then one per piece. */
function manifestLength(spec: UploadArchive): number {
  const line = (size: number) => formatManifestLine({ size, sha256: '0'.repeat(64) }).length;
  let length = 0;
  for (const file of spec.files) {
    const { size } = file.entry;
    if (!pieced(spec, file)) {
      length += line(size);
      continue;
    }
    const piece = spec.pieceSize!;
    length += Math.floor(size / piece) * line(piece) + (size % piece ? line(size % piece) : 0);
  }
  return length;
}

/** Zero blocks ending the archive, padded to a whole record. */
function trailer(written: number): Buffer {
  const end = 2 * BLOCK;
  const total = written + end;
  return Buffer.alloc(end + (total % RECORD === 0 ? 0 : RECORD - (total % RECORD)));
}

const tarLength = (chunks: Buffer[]): number => chunks.reduce((n, b) => n + b.length, 0);

/**
 * The exact length of each section `archive()` will produce, known before any file is read. The
 * pod reads exactly this many bytes (`dd ... count_bytes`), so the upload ends without a stdin
 * close, which exec before v5.channel.k8s.io (Kubernetes < 1.30) cannot send and BusyBox tar
 * waits for. Without `pieceSize`, everything is in `head`.
 */
function sectionLengths(spec: UploadArchive, mtime: Date): UploadSections {
  let head = 0;
  let pieces = 0;
  for (const dir of spec.directories)
    head += headerBlocks({ path: `${dir}/`, type: 'Directory', mode: 0o777, size: 0, mtime }).length;
  for (const file of spec.files) {
    if (pieced(spec, file)) {
      pieces += file.entry.size;
      continue;
    }
    head += fileHeader(file, mtime).length + file.entry.size + padding(file.entry.size).length;
  }
  head += tarLength(smallFile(`${spec.controlDir}/list`, listOf(spec), mtime));
  const expected = tarLength(smallFile(`${spec.controlDir}/expected`, Buffer.alloc(manifestLength(spec)), mtime));
  if (spec.pieceSize === undefined) {
    head += expected;
    return { head: head + trailer(head).length, pieces: 0, tail: 0 };
  }
  head += tarLength(smallFile(`${spec.controlDir}/pieces`, piecesOf(spec), mtime));
  return { head: head + trailer(head).length, pieces, tail: expected + trailer(expected).length };
}

/** Reads one input to its end, checking its size and declared sha256; yields its chunks. */
async function* contentOf(
  entry: InputEntry,
  onBytes: (n: number) => void,
  onDone: (sha256: string | undefined) => void,
  wholeHash: boolean,
): AsyncGenerator<Buffer> {
  const hash = wholeHash || entry.sha256 ? createHash('sha256') : undefined;
  let size = 0;
  const content = await entry.open();
  try {
    for await (const chunk of content as AsyncIterable<Buffer | string>) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += bytes.length;
      if (size > entry.size) break;
      hash?.update(bytes);
      onBytes(bytes.length);
      yield bytes;
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
  const sha256 = hash?.digest('hex');
  if (entry.sha256 && entry.sha256.toLowerCase() !== sha256) {
    throw new TransferError(`input file ${JSON.stringify(entry.path)} does not match its declared sha256`, {
      component: 'exec-tar',
      code: ErrorCodes.TRANSFER_VERIFY,
      details: { path: entry.path, expected: entry.sha256, actual: sha256, retriable: false },
    });
  }
  onDone(sha256);
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
  for (const file of spec.files) {
    if (pieced(spec, file)) continue;
    yield emit(fileHeader(file, mtime));
    let sha256 = '';
    for await (const bytes of contentOf(file.entry, onBytes, (h) => (sha256 = h!), true)) yield emit(bytes);
    manifest.push({ size: file.entry.size, sha256 });
    yield emit(padding(file.entry.size));
  }
  for (const chunk of smallFile(`${spec.controlDir}/list`, listOf(spec), mtime)) yield emit(chunk);
  const expected = (): Buffer => Buffer.from(manifest.map(formatManifestLine).join(''), 'utf8');
  if (spec.pieceSize === undefined) {
    for (const chunk of smallFile(`${spec.controlDir}/expected`, expected(), mtime)) yield emit(chunk);
    yield emit(trailer(written));
    return;
  }
  for (const chunk of smallFile(`${spec.controlDir}/pieces`, piecesOf(spec), mtime)) yield emit(chunk);
  yield emit(trailer(written));
  for (const file of spec.files) if (pieced(spec, file)) yield* pieces(file.entry, spec.pieceSize, manifest, onBytes);
  written = 0;
  for (const chunk of smallFile(`${spec.controlDir}/expected`, expected(), mtime)) yield emit(chunk);
  yield emit(trailer(written));
}

/** One large file as raw bytes, with one manifest line per piece of `pieceSize` bytes. */
async function* pieces(
  entry: InputEntry,
  pieceSize: number,
  manifest: ManifestItem[],
  onBytes: (n: number) => void,
): AsyncGenerator<Buffer> {
  let hash = createHash('sha256');
  let filled = 0;
  for await (let bytes of contentOf(entry, onBytes, () => undefined, false)) {
    while (bytes.length) {
      const take = Math.min(bytes.length, pieceSize - filled);
      hash.update(take === bytes.length ? bytes : bytes.subarray(0, take));
      filled += take;
      if (filled === pieceSize) {
        manifest.push({ size: filled, sha256: hash.digest('hex') });
        hash = createHash('sha256');
        filled = 0;
      }
      yield take === bytes.length ? bytes : bytes.subarray(0, take);
      bytes = bytes.subarray(take);
    }
  }
  if (filled) manifest.push({ size: filled, sha256: hash.digest('hex') });
}

/**
 * Streams the upload archive. `manifest` fills with one item per file (and per piece of a pieced
 * file), in order, as each has been read completely; it is complete when the stream ends.
 * `length` is the exact number of bytes the stream will carry, `sections` how they divide, and
 * `manifestLength` the exact length of the manifest's text (what the pod prints back).
 */
export function uploadArchiveStream(
  spec: UploadArchive,
  onBytes: (n: number) => void = () => {},
): {
  stream: Readable;
  manifest: ManifestItem[];
  length: number;
  sections: UploadSections;
  manifestLength: number;
} {
  const manifest: ManifestItem[] = [];
  const mtime = new Date(Math.floor(Date.now() / 1000) * 1000);
  const sections = sectionLengths(spec, mtime);
  return {
    stream: Readable.from(archive(spec, manifest, onBytes, mtime), { objectMode: false, highWaterMark: 64 * 1024 }),
    manifest,
    length: sections.head + sections.pieces + sections.tail,
    sections,
    manifestLength: manifestLength(spec),
  };
}
