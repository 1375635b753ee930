// A download whose sink does not read holds the exec's stdout: the session takes in only its
// buffers' worth of the tar (so exec pauses the socket, see packages/kube/test/exec.test.ts), and
// once the sink reads, every byte arrives and verifies. Streams in memory, no I/O: the test waits
// for the event loop to have nothing left to do, not for time to pass.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Header } from 'tar';
import { describe, expect, it } from 'vitest';
import { DownloadSession } from '../src/download.js';

const MiB = 1024 * 1024;

/** A tar of one file `out.bin` of `size` patterned bytes, produced 64 KiB at a time on demand. */
function tarSource(size: number) {
  const header = new Header({ path: 'out.bin', type: 'File', mode: 0o644, size, mtime: new Date(0) });
  header.encode();
  const block = Buffer.alloc(64 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (i * 7) & 0xff;
  const parts = function* () {
    yield header.block!;
    for (let left = size; left > 0; left -= block.length) yield block.subarray(0, Math.min(left, block.length));
    yield Buffer.alloc(512 - (size % 512 || 512) + 1024);
  };
  const expected = createHash('sha256');
  for (let left = size; left > 0; left -= block.length)
    expected.update(block.subarray(0, Math.min(left, block.length)));
  const state = { produced: 0, sha256: expected.digest('hex') };
  const it = parts();
  const stream = new Readable({
    read() {
      const next = it.next();
      if (next.done) return void this.push(null);
      state.produced += next.value.length;
      this.push(next.value);
    },
  });
  return { stream, state };
}

/** Resolves once `value()` stopped changing over a few turns of the event loop. */
async function settled(value: () => number): Promise<number> {
  let last = -1;
  for (let stable = 0; stable < 3; ) {
    await new Promise((resolve) => setImmediate(resolve));
    stable = value() === last ? stable + 1 : 0;
    last = value();
  }
  return last;
}

describe('download back-pressure', () => {
  it('takes in only its buffers while the sink does not read, then delivers every byte', async () => {
    const size = 32 * MiB;
    const source = tarSource(size);
    let release!: () => void;
    const reading = new Promise<void>((resolve) => (release = resolve));
    const got = createHash('sha256');
    let delivered = 0;
    const session = new DownloadSession(
      undefined,
      [{ path: 'out.bin', name: 'out.bin', origin: 'workingDir', raw: Buffer.from('out.bin') }],
      {
        async write(_entry, content) {
          await reading;
          for await (const chunk of content) {
            got.update(chunk as Buffer);
            delivered += (chunk as Buffer).length;
          }
        },
      },
      () => {},
    );
    const flowing = pipeline(source.stream, session.stdout);

    const taken = await settled(() => source.state.produced);
    // The sink's PassThrough (512 KiB on each of its sides), the session's stdout (256 KiB), the
    // chunk in hand and the source's own buffer.
    expect(taken).toBeLessThan(1.5 * MiB);
    expect(delivered).toBe(0);

    release();
    await flowing;
    session.finish([{ size, sha256: source.state.sha256 }]);
    expect(delivered).toBe(size);
    expect(got.digest('hex')).toBe(source.state.sha256);
    expect([...session.outcome.delivered]).toEqual(['out.bin']);
  });
});
