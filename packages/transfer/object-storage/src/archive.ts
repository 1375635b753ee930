// Reads the output archive the pod uploaded: control members first (listing, candidate list,
// manifest — or a single `error`), then the files. The exact selection is made here from the
// listing with the same rules as exec-tar, links leading out of the working directory are refused,
// and each file reaches the sink only through a stream that ends after its size and sha256 matched.
import { createHash, type Hash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import {
  ErrorCodes,
  TransferError,
  UnsafePathError,
  type OutputSelection,
  type OutputSink,
  type PodPaths,
} from '@podrun/core';
import { selectOutputs, type Listing, type SelectedFile, type TarConsumer, type TarFile } from '@podrun/transfer-kit';

const COMPONENT = 'object-storage';
const CONTROL = ['listing', 'list', 'expected'] as const;

/** The sink failed: its error is the caller's, never retried. */
export class SinkFailure extends Error {
  constructor(readonly error: unknown) {
    super('output sink failed');
  }
}

function verifyError(message: string, retriable = true): TransferError {
  return new TransferError(message, { component: COMPONENT, code: ErrorCodes.TRANSFER_VERIFY, details: { retriable } });
}

function parseListing(raw: Buffer): Listing {
  const records = raw.toString('utf8').split('\0');
  const listing: Listing = { workingDir: '', files: [], links: [] };
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    if (record === '') continue;
    const path = record.slice(1).replace(/^\.\//, '');
    if (record[0] === 'W') listing.workingDir = record.slice(1);
    else if (record[0] === 'F') listing.files.push(path);
    else if (record[0] === 'L') {
      const target = records[++i] ?? '';
      listing.links.push({ path, target: target.slice(1), isFile: target[0] === 'f' });
    } else throw verifyError('the output listing from the pod is corrupt');
  }
  return listing;
}

function podError(raw: string): TransferError {
  const [kind, ...rest] = raw.split(' ');
  const why = rest.join(' ');
  if (kind === 'UNSAFE')
    return new UnsafePathError(
      '',
      `[podrun] [${COMPONENT}] ${why}; podrun never follows it out of the pod's own volume`,
      { component: COMPONENT },
    );
  return new TransferError(`collecting the outputs in the pod failed: ${why || raw}`, {
    component: COMPONENT,
    details: { retriable: false },
  });
}

/** Consumes one output archive; `delivered` survives across attempts so a retry skips what arrived. */
export class OutputArchive implements TarConsumer {
  #member = 0;
  #control: Buffer[] = [];
  #controls = new Map<string, Buffer>();
  #selected: Map<string, SelectedFile> | undefined;
  #manifest = new Map<string, { size: number; sha256: string }>();
  #current: { file: SelectedFile; pass: PassThrough; hash: Hash; size: number; writing: Promise<void> } | undefined;
  #errorMember = false;
  bytes = 0;

  constructor(
    private readonly select: OutputSelection,
    private readonly paths: PodPaths,
    private readonly sink: OutputSink,
    readonly delivered: Set<string>,
    private readonly onBytes: (n: number) => void,
  ) {}

  begin(file: TarFile): void {
    if (this.#selected === undefined) {
      const expected = this.#member === 0 && file.path === 'error' ? 'error' : CONTROL[this.#member];
      if (file.path !== expected)
        throw verifyError(`the output archive from the pod is corrupt (unexpected ${JSON.stringify(file.path)})`);
      this.#errorMember = expected === 'error';
      this.#control = [];
      return;
    }
    const selected = this.#selected.get(file.path);
    const known = this.#manifest.get(file.path);
    if (!selected || this.delivered.has(file.path)) return;
    if (!known || known.size !== file.size)
      throw verifyError(`output ${JSON.stringify(file.path)} does not match the pod's manifest`);
    const pass = new PassThrough();
    const writing = this.sink.write(
      {
        name: selected!.name,
        origin: selected!.origin,
        size: file.size,
        mode: file.mode & 0o7777,
        sha256: known.sha256,
      },
      pass,
    );
    writing.catch(() => undefined);
    this.#current = { file: selected!, pass, hash: createHash('sha256'), size: 0, writing };
  }

  async data(chunk: Buffer): Promise<void> {
    if (this.#selected === undefined) return void this.#control.push(Buffer.from(chunk));
    const current = this.#current;
    if (!current) return;
    current.hash.update(chunk);
    current.size += chunk.length;
    this.bytes += chunk.length;
    this.onBytes(chunk.length);
    if (!current.pass.write(chunk)) {
      await Promise.race([
        new Promise((resolve) => current.pass.once('drain', resolve)),
        current.writing.catch((e: unknown) => Promise.reject(new SinkFailure(e))),
      ]);
    }
  }

  async end(): Promise<void> {
    if (this.#selected === undefined) return this.#endControl();
    const current = this.#current;
    this.#current = undefined;
    if (!current) return;
    const known = this.#manifest.get(current.file.path)!;
    const sha256 = current.hash.digest('hex');
    if (current.size !== known.size || sha256 !== known.sha256) {
      const error = verifyError(
        `output ${JSON.stringify(current.file.path)} arrived damaged (size/sha256 differ from the pod's manifest)`,
      );
      current.pass.destroy(error);
      throw error;
    }
    current.pass.end();
    try {
      await current.writing;
    } catch (error) {
      throw new SinkFailure(error);
    }
    this.delivered.add(current.file.path);
  }

  link(path: string): void {
    if (this.#selected?.has(path) && !this.delivered.has(path)) {
      throw new TransferError(
        `output ${JSON.stringify(path)} is a hard link, which this image's tar cannot dereference; use a transfer image with GNU tar or write a separate file`,
        { component: COMPONENT, details: { retriable: false } },
      );
    }
  }

  /** Destroys a file stream left open by a failed read, so the sink never sees it end. */
  abort(error: unknown): void {
    const current = this.#current;
    this.#current = undefined;
    current?.pass.destroy(error instanceof Error ? error : new Error(String(error)));
  }

  /** Checks that every selected file arrived; call after the archive ended. */
  finish(): void {
    if (this.#selected === undefined) throw verifyError('the output archive from the pod ended before its manifest');
    const missing = [...this.#selected.keys()].filter((p) => !this.delivered.has(p));
    if (missing.length)
      throw verifyError(
        `outputs missing from the pod's archive: ${missing
          .slice(0, 5)
          .map((p) => JSON.stringify(p))
          .join(', ')}`,
        false,
      );
  }

  #endControl(): void {
    const body = Buffer.concat(this.#control);
    if (this.#errorMember) throw podError(body.toString('utf8'));
    this.#controls.set(CONTROL[this.#member]!, body);
    this.#member++;
    if (this.#member < CONTROL.length) return;
    const listing = parseListing(this.#controls.get('listing')!);
    const candidates = this.#controls
      .get('list')!
      .toString('utf8')
      .split('\0')
      .filter(Boolean)
      .map((p) => p.replace(/^(\.\/)+/, ''));
    const lines = this.#controls.get('expected')!.toString('utf8').split('\n').filter(Boolean);
    if (lines.length !== candidates.length) throw verifyError("the pod's output manifest is incomplete");
    candidates.forEach((path, i) => {
      const [size, sha256] = lines[i]!.split(' ');
      this.#manifest.set(path, { size: Number(size), sha256: sha256 ?? '' });
    });
    const chosen = selectOutputs(listing, this.select, this.paths);
    this.#selected = new Map(chosen.map((f) => [f.path, f]));
    const absent = chosen.filter((f) => !this.#manifest.has(f.path));
    if (absent.length)
      throw verifyError(
        `the pod did not pack selected outputs: ${absent
          .slice(0, 5)
          .map((f) => JSON.stringify(f.path))
          .join(', ')}`,
        false,
      );
  }
}
