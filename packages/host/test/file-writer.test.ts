import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBlockFileWriter } from '@podrun/host';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podrun-file-writer-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** `total` bytes in chunks of `chunk` bytes (the last one shorter), each chunk its own fill byte. */
function chunks(total: number, chunk: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < total; at += chunk) {
    const size = Math.min(chunk, total - at);
    out.push(Buffer.alloc(size, at % 251));
  }
  return out;
}

describe('createBlockFileWriter', () => {
  it('writes every byte across block boundaries, replacing a longer file', async () => {
    const path = join(dir, 'out.bin');
    await writeFile(path, Buffer.alloc(5 * 1024 * 1024, 1));
    // Chunks that straddle the 1 MiB block in every way, plus one larger than a block.
    const parts = [...chunks(2.5 * 1024 * 1024, 70_001), Buffer.alloc(3 * 1024 * 1024 + 7, 9), Buffer.from('end')];
    await pipeline(Readable.from(parts), createBlockFileWriter(path, 0o600));
    expect((await readFile(path)).equals(Buffer.concat(parts))).toBe(true);
  });

  it('creates a new file with the given mode', async () => {
    const path = join(dir, 'private.bin');
    await pipeline(Readable.from([Buffer.from('secret')]), createBlockFileWriter(path, 0o600));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('writes an empty stream as an empty file', async () => {
    const path = join(dir, 'empty.bin');
    await pipeline(Readable.from([]), createBlockFileWriter(path, 0o644));
    expect((await stat(path)).size).toBe(0);
  });

  it('rejects with the open error when the file cannot be created', async () => {
    const path = join(dir, 'missing', 'out.bin');
    await expect(pipeline(Readable.from([Buffer.from('x')]), createBlockFileWriter(path, 0o600))).rejects.toMatchObject(
      {
        code: 'ENOENT',
      },
    );
  });

  it('passes on a failing source', async () => {
    const path = join(dir, 'partial.bin');
    const failing = Readable.from(
      (async function* () {
        yield Buffer.alloc(1024 * 1024 + 5, 3);
        throw new Error('the source broke');
      })(),
    );
    await expect(pipeline(failing, createBlockFileWriter(path, 0o600))).rejects.toThrow('the source broke');
    // Whole blocks may have reached the file; nothing beyond what was sent.
    expect((await stat(path)).size).toBeLessThanOrEqual(1024 * 1024 + 5);
  });
});
