// A streaming tar reader that never touches the disk: each regular file's bytes go straight to a
// consumer, with back-pressure (the returned promise of `write` settles only once the chunk has
// been handed on). Zero blocks are skipped rather than treated as the end, because `xargs` may
// split the download into several archives back to back.
import { Header } from 'tar/header';
import { Pax } from 'tar/pax';
import type { HeaderData } from 'tar';
import { ErrorCodes, TransferError } from '@podrun/core';

const BLOCK = 512;
/** Extended headers larger than this are refused (a name is at most a few KiB). */
const MAX_META = 1024 * 1024;

/** A regular file found in the archive. */
export interface TarFile {
  /** Path as stored, with a leading `./` removed. */
  path: string;
  size: number;
  mode: number;
}

/** Receives the archive's content. */
export interface TarConsumer {
  /** A regular file starts; its bytes follow through `data`, then `end`. */
  begin(file: TarFile): void | Promise<void>;
  data(chunk: Buffer): void | Promise<void>;
  end(): void | Promise<void>;
  /** A hard link to an earlier member (no bytes of its own); `target` without `./`. */
  link(path: string, target: string): void | Promise<void>;
}

function corrupt(why: string): TransferError {
  return new TransferError(`the output archive from the pod is corrupt (${why}); the transfer is retried`, {
    component: 'exec-tar',
    code: ErrorCodes.TRANSFER_VERIFY,
  });
}

function clean(path: string): string {
  return path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

type State =
  | { kind: 'header' }
  | { kind: 'file'; remaining: number; pad: number }
  | { kind: 'meta'; type: string; remaining: number; pad: number; parts: Buffer[] }
  | { kind: 'skip'; remaining: number };

/** Push-style tar parser. Feed chunks with `write`, then call `finish`. */
export class TarReader {
  #state: State = { kind: 'header' };
  #pending: Buffer = Buffer.alloc(0);
  #ex: HeaderData | undefined;
  #gex: HeaderData | undefined;

  constructor(private readonly consumer: TarConsumer) {}

  /** True between archives (no member half read). */
  get atBoundary(): boolean {
    return this.#state.kind === 'header' && this.#pending.length === 0;
  }

  async write(chunk: Buffer): Promise<void> {
    let buf = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = Buffer.alloc(0);
    while (buf.length > 0) {
      const state = this.#state;
      if (state.kind === 'header') {
        if (buf.length < BLOCK) {
          this.#pending = Buffer.from(buf);
          return;
        }
        await this.#header(buf.subarray(0, BLOCK));
        buf = buf.subarray(BLOCK);
      } else if (state.kind === 'file') {
        if (state.remaining > 0) {
          const n = Math.min(state.remaining, buf.length);
          state.remaining -= n;
          await this.consumer.data(buf.subarray(0, n));
          buf = buf.subarray(n);
          if (state.remaining === 0) await this.consumer.end();
        } else {
          const n = Math.min(state.pad, buf.length);
          state.pad -= n;
          buf = buf.subarray(n);
        }
        if (state.remaining === 0 && state.pad === 0) this.#state = { kind: 'header' };
      } else if (state.kind === 'meta') {
        const n = Math.min(state.remaining + state.pad, buf.length);
        const body = Math.min(n, state.remaining);
        if (body > 0) state.parts.push(Buffer.from(buf.subarray(0, body)));
        state.remaining -= body;
        state.pad -= n - body;
        buf = buf.subarray(n);
        if (state.remaining === 0 && state.pad === 0) {
          this.#meta(state.type, Buffer.concat(state.parts));
          this.#state = { kind: 'header' };
        }
      } else {
        const n = Math.min(state.remaining, buf.length);
        state.remaining -= n;
        buf = buf.subarray(n);
        if (state.remaining === 0) this.#state = { kind: 'header' };
      }
    }
  }

  /** Checks the archive ended between members. */
  finish(): void {
    if (!this.atBoundary) throw corrupt('it ends inside a member');
  }

  async #header(block: Buffer): Promise<void> {
    if (block.every((b) => b === 0)) return;
    const header = new Header(block, 0, this.#ex, this.#gex);
    if (!header.cksumValid) throw corrupt('bad header checksum');
    const size = header.size ?? 0;
    const padded = size % BLOCK === 0 ? 0 : BLOCK - (size % BLOCK);
    const type = header.type;
    if (
      type === 'ExtendedHeader' ||
      type === 'GlobalExtendedHeader' ||
      type === 'NextFileHasLongPath' ||
      type === 'NextFileHasLongLinkpath' ||
      type === 'OldExtendedHeader'
    ) {
      if (size > MAX_META) throw corrupt('extended header too large');
      this.#state = { kind: 'meta', type, remaining: size, pad: padded, parts: [] };
      if (size === 0 && padded === 0) {
        this.#meta(type, Buffer.alloc(0));
        this.#state = { kind: 'header' };
      }
      return;
    }
    // node-tar's Header applies a PAX/GNU long path and then still prepends the ustar prefix, and
    // reads the linkpath field over a long one: the extended values win, as in every tar.
    const ex = this.#ex;
    this.#ex = undefined;
    const path = clean(ex?.path ?? header.path ?? '');
    if (type === 'File' || type === 'OldFile' || type === 'ContiguousFile') {
      this.#state = { kind: 'file', remaining: size, pad: padded };
      await this.consumer.begin({ path, size, mode: header.mode ?? 0o644 });
      if (size === 0) {
        await this.consumer.end();
        this.#state = { kind: 'header' };
      }
      return;
    }
    if (type === 'Link') await this.consumer.link(path, clean(ex?.linkpath ?? header.linkpath ?? ''));
    this.#state = size + padded > 0 ? { kind: 'skip', remaining: size + padded } : { kind: 'header' };
  }

  #meta(type: string, body: Buffer): void {
    if (type === 'NextFileHasLongPath') {
      this.#ex = { ...this.#ex, path: body.toString('utf8').replace(/\0.*$/s, '') };
    } else if (type === 'NextFileHasLongLinkpath') {
      this.#ex = { ...this.#ex, linkpath: body.toString('utf8').replace(/\0.*$/s, '') };
    } else if (type === 'GlobalExtendedHeader') {
      this.#gex = { ...Pax.parse(body.toString('utf8'), this.#gex, true) };
    } else {
      this.#ex = { ...Pax.parse(body.toString('utf8'), this.#ex, false) };
    }
  }
}
