import { Writable } from 'node:stream';

/** Keeps the last `limit` bytes written (stderr, for error messages). */
export class TailBuffer extends Writable {
  #chunks: Buffer[] = [];
  #size = 0;
  constructor(private readonly limit = 4096) {
    super();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    while (this.#size - (this.#chunks[0]?.length ?? 0) >= this.limit && this.#chunks.length > 1) {
      this.#size -= this.#chunks.shift()!.length;
    }
    callback();
  }
  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8').slice(-this.limit).trim();
  }
}

/** Collects output up to `limit` bytes, failing beyond (a manifest is small). */
export class BoundedBuffer extends Writable {
  #chunks: Buffer[] = [];
  #size = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error) => void): void {
    this.#size += chunk.length;
    if (this.#size > this.limit) return callback(new Error(`more than ${this.limit} bytes of output`));
    this.#chunks.push(chunk);
    callback();
  }
  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }
}
