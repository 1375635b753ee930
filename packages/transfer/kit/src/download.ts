// One download exec: reads the pod's listing, answers with the selection on stdin, then streams
// each file of the tar straight into the sink, hashing it, and checks every file against the
// manifest the pod computed while it sent them. Nothing is written to the runner's disk, so a
// link in the pod can never make the runner write anywhere.
import { createHash, type Hash } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { TailBuffer } from './exec-io.js';
import { ErrorCodes, TransferError, type OutputSink } from '@podrun/core';
import type { Listing, SelectedFile } from './selection.js';
import { TarReader } from './tar-reader.js';
import type { ManifestItem } from './tar-writer.js';

/** A selected file with the raw bytes of its path as the pod printed them. */
export interface PodFile extends SelectedFile {
  raw: Buffer;
}

/** The sink failed: not a transfer problem, never retried. */
export class SinkFailure extends Error {
  constructor(readonly error: unknown) {
    super('output sink failed');
  }
}

const MANIFEST_LINE = /^(\d+) ([0-9a-f]{64})$/;

/**
 * Buffering between the exec stream and the sink. Measured (2026-12-06, one embedded cluster,
 * alternating runs): 64 KiB and 256 KiB took 6.3-6.8 s for a 1 GiB download, these 5.2-5.4 s,
 * for about 5 MiB more peak RSS; 1 MiB each gained nothing more.
 */
const STDOUT_BUFFER = 256 * 1024;
/** Half a block of local storage's writer, so a block being written does not stop the stream. */
const SINK_BUFFER = 512 * 1024;

function verifyError(message: string, details: Record<string, unknown> = {}): TransferError {
  return new TransferError(message, { component: 'exec-tar', code: ErrorCodes.TRANSFER_VERIFY, details });
}

/** Parses the NUL-separated listing records; returns undefined until `E` arrived. */
class ListingParser {
  #records: Buffer[] = [];
  done = false;

  /** Consumes what it can; returns the bytes after the listing (if it ended). */
  push(buf: Buffer): Buffer {
    let start = 0;
    for (;;) {
      const nul = buf.indexOf(0, start);
      if (nul < 0) break;
      const record = buf.subarray(start, nul);
      start = nul + 1;
      if (record.length === 1 && record[0] === 0x45 /* E */) {
        this.done = true;
        return buf.subarray(start);
      }
      this.#records.push(Buffer.from(record));
    }
    this.#rest = Buffer.from(buf.subarray(start));
    return Buffer.alloc(0);
  }
  #rest = Buffer.alloc(0);

  /** Bytes of an unfinished record, to prepend to the next chunk. */
  takeRest(): Buffer {
    const rest = this.#rest;
    this.#rest = Buffer.alloc(0);
    return rest;
  }

  result(): { listing: Listing; raw: Map<string, Buffer> } {
    const listing: Listing = { workingDir: '', files: [], links: [] };
    const raw = new Map<string, Buffer>();
    const name = (b: Buffer): string => b.subarray(1).toString('utf8');
    for (let i = 0; i < this.#records.length; i++) {
      const record = this.#records[i]!;
      const kind = String.fromCharCode(record[0] ?? 0);
      if (kind === 'W') listing.workingDir = name(record);
      else if (kind === 'F') {
        const path = name(record).replace(/^\.\//, '');
        listing.files.push(path);
        raw.set(path, record.subarray(1));
      } else if (kind === 'L') {
        const target = this.#records[++i];
        if (!target) throw verifyError('the pod listing ended inside a link record');
        const path = name(record).replace(/^\.\//, '');
        listing.links.push({ path, target: name(target), isFile: target[0] === 0x66 /* f */ });
        raw.set(path, record.subarray(1));
      } else throw verifyError('the pod listing has an unknown record');
    }
    return { listing, raw };
  }
}

/** How one download exec went. */
export interface SessionOutcome {
  /** Files this session was asked for. */
  selection: PodFile[];
  /** Paths delivered to the sink and verified. */
  delivered: Set<string>;
  /** Paths the tar sent as hard links to an earlier member: fetched again on their own. */
  hardLinks: Set<string>;
  bytes: number;
}

/**
 * The download script's stderr: diagnostics (the last few kilobytes are kept for messages), then,
 * after a `podrun-manifest` line, one `<size> <sha256>` line per file sent.
 */
export class DownloadStderr extends Writable {
  readonly diagnostics = new TailBuffer();
  readonly manifest: ManifestItem[] = [];
  #line = '';
  #inManifest = false;

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error) => void): void {
    const lines = (this.#line + chunk.toString('latin1')).split('\n');
    this.#line = lines.pop()!;
    for (const line of lines) {
      if (this.#inManifest) {
        const match = MANIFEST_LINE.exec(line);
        if (!match) return callback(verifyError('the output manifest is malformed'));
        this.manifest.push({ size: Number(match[1]), sha256: match[2]! });
      } else if (line === 'podrun-manifest') this.#inManifest = true;
      else this.diagnostics.write(`${line}\n`);
    }
    callback();
  }

  /** The diagnostics, for an error message. */
  text(): string {
    return this.diagnostics.text();
  }
}

/**
 * Demultiplexes the download exec's stdout: listing, then tar. `choose` turns the listing into
 * the selection (it may throw, e.g. UnsafePathError); `preset` skips the listing.
 *
 * The pod hashes the files while it sends them, so their manifest arrives after them (on stderr):
 * each file is hashed here as it streams into the sink and checked once the exec has ended. A
 * file that does not match is taken back out of `delivered`, so the retry fetches it again.
 */
export class DownloadSession {
  readonly stdin = new PassThrough();
  readonly stdout: Writable;
  readonly outcome: SessionOutcome = { selection: [], delivered: new Set(), hardLinks: new Set(), bytes: 0 };
  #phase: 'listing' | 'tar' | 'done';
  #listing = new ListingParser();
  /** What arrived, per selected file (in selection order). */
  #received: (ManifestItem | undefined)[] = [];
  #announced = 0;
  #reader: TarReader;
  #index = 0;
  #current:
    | {
        file: PodFile;
        index: number;
        expected: number;
        content: PassThrough;
        hash: Hash;
        size: number;
        stored: Promise<void>;
      }
    | undefined;

  constructor(
    private readonly choose: ((listing: Listing, raw: Map<string, Buffer>) => PodFile[]) | undefined,
    preset: PodFile[] | undefined,
    private readonly sink: OutputSink,
    private readonly onBytes: (n: number, total: number) => void,
  ) {
    this.#phase = preset ? 'tar' : 'listing';
    if (preset) this.#select(preset);
    this.#reader = new TarReader({
      begin: (file) => this.#begin(file.path, file.mode, file.size),
      data: (chunk) => this.#data(chunk),
      end: () => this.#end(),
      link: (path) => this.#link(path),
    });
    this.stdout = new Writable({
      // Exec output arrives in frames of up to 64 KiB (the kubelet's and the emulator's); with
      // room for one, every frame paused the WebSocket and the next waited for a resume.
      highWaterMark: STDOUT_BUFFER,
      write: (chunk: Buffer, _encoding, callback) => {
        this.#push(chunk).then(() => callback(), callback);
      },
    });
  }

  /**
   * Checks that everything selected arrived, each file as the pod's `manifest` describes it; call
   * once the exec has ended.
   */
  finish(manifest: ManifestItem[]): void {
    if (this.#phase === 'listing') throw verifyError('the pod listing ended early');
    this.#reader.finish();
    const missing = this.outcome.selection.length - this.outcome.delivered.size - this.outcome.hardLinks.size;
    if (missing > 0) throw verifyError(`the output archive ended before ${missing} selected file(s)`);
    if (this.outcome.selection.length === 0) return;
    if (manifest.length !== this.outcome.selection.length) {
      this.outcome.delivered.clear();
      throw verifyError(
        `the pod's output manifest lists ${manifest.length} file(s) where ${this.outcome.selection.length} were sent`,
      );
    }
    const wrong: string[] = [];
    this.outcome.selection.forEach((file, i) => {
      const got = this.#received[i];
      const expected = manifest[i]!;
      if (!got || (got.size === expected.size && got.sha256 === expected.sha256)) return;
      this.outcome.delivered.delete(file.path);
      wrong.push(
        `${JSON.stringify(file.name)} arrived with ${got.size} bytes (sha256 ${got.sha256.slice(0, 12)}…) but the pod read ${expected.size} bytes (sha256 ${expected.sha256.slice(0, 12)}…)`,
      );
    });
    if (wrong.length) throw verifyError(`output ${wrong.join('; ')}`);
  }

  /** Fails the file being streamed, so the sink drops its partial copy (the transfer retries it). */
  abort(error: unknown): void {
    const current = this.#current;
    this.#current = undefined;
    if (current && !current.content.destroyed) {
      current.content.destroy(
        error instanceof Error ? error : verifyError('the output transfer broke in the middle of a file'),
      );
    }
  }

  #select(selection: PodFile[]): void {
    this.outcome.selection = selection;
    const paths = Buffer.concat(selection.flatMap((f) => [Buffer.from('./'), f.raw, Buffer.from([0])]));
    this.stdin.end(Buffer.concat([Buffer.from(`${paths.length}\n`), paths]));
    this.#phase = selection.length === 0 ? 'done' : 'tar';
  }

  async #push(chunk: Buffer): Promise<void> {
    let buf = chunk;
    while (buf.length > 0) {
      if (this.#phase === 'listing') {
        buf = this.#listing.push(Buffer.concat([this.#listing.takeRest(), buf]));
        if (!this.#listing.done) return;
        const { listing, raw } = this.#listing.result();
        this.#select(this.choose!(listing, raw));
      } else if (this.#phase === 'tar') {
        await this.#reader.write(buf);
        return;
      } else {
        throw verifyError('the pod sent unexpected output after the transfer');
      }
    }
  }

  #expect(path: string): { file: PodFile; index: number } {
    const index = this.#index;
    const file = this.outcome.selection[index];
    if (!file || file.path !== path) {
      throw verifyError(
        `the output archive holds ${JSON.stringify(path)} where ${JSON.stringify(file?.path)} was expected`,
      );
    }
    this.#index++;
    return { file, index };
  }

  #begin(path: string, mode: number, size: number): void {
    const { file, index } = this.#expect(path);
    this.#announced += size;
    const content = new PassThrough({ highWaterMark: SINK_BUFFER });
    const stored = this.sink
      .write({ name: file.name, origin: file.origin, size, mode: mode & 0o7777 }, content)
      .catch((error: unknown) => {
        content.destroy();
        throw new SinkFailure(error);
      });
    // Surfaced through `#end`/`#data`; avoid an unhandled rejection meanwhile.
    stored.catch(() => {});
    this.#current = { file, index, expected: size, content, hash: createHash('sha256'), size: 0, stored };
  }

  async #data(chunk: Buffer): Promise<void> {
    const current = this.#current!;
    current.hash.update(chunk);
    current.size += chunk.length;
    this.outcome.bytes += chunk.length;
    this.onBytes(chunk.length, this.#announced);
    if (current.content.write(chunk)) return;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        current.content.off('drain', onDrain);
        current.content.off('close', onClose);
        if (error) reject(error);
        else resolve();
      };
      const onDrain = (): void => settle();
      // A sink that stops reading (closed the stream, or resolved without consuming it) would
      // otherwise leave the transfer waiting for a drain that never comes.
      const onClose = (): void => {
        current.stored.then(
          () => settle(verifyError('the output sink stopped reading before the end of a file')),
          settle,
        );
      };
      current.content.on('drain', onDrain);
      current.content.on('close', onClose);
      current.stored.then(() => settle(verifyError('the output sink resolved before reading the whole file')), settle);
    });
  }

  async #end(): Promise<void> {
    const current = this.#current!;
    this.#current = undefined;
    const sha256 = current.hash.digest('hex');
    this.#received[current.index] = { size: current.size, sha256 };
    if (current.size !== current.expected) {
      const error = verifyError(
        `output ${JSON.stringify(current.file.name)} arrived with ${current.size} bytes where its tar header says ${current.expected}`,
        { path: current.file.path },
      );
      current.content.destroy(error);
      await current.stored.catch(() => {});
      throw error;
    }
    current.content.end();
    await current.stored;
    this.outcome.delivered.add(current.file.path);
  }

  #link(path: string): void {
    const { file } = this.#expect(path);
    this.outcome.hardLinks.add(file.path);
  }
}
