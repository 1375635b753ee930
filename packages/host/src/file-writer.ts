import { open, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

const BLOCK = 1024 * 1024;

/**
 * A Writable that stores a stream into the file at `path` (created with `mode`, or truncated),
 * through one reused 1 MiB block: each incoming chunk is copied and released at once, and the file
 * gets one write per MiB. How local storage writes a downloaded output.
 *
 * Why not fs.WriteStream: a download arrives as one Buffer per socket read (16 KiB under TLS).
 * Held until their own writes complete, those Buffers outlive young-generation GCs, so freeing
 * them takes full GCs, whose cost grows with the host's heap.
 */
export function createBlockFileWriter(path: string, mode: number): Writable {
  const block = Buffer.allocUnsafeSlow(BLOCK);
  let used = 0;
  let file: FileHandle | undefined;
  const flush = async (): Promise<void> => {
    for (let at = 0; at < used; ) at += (await file!.write(block, at, used - at)).bytesWritten;
    used = 0;
  };
  return new Writable({
    // The block is the buffer: a chunk is accepted only when it has been copied in.
    highWaterMark: 0,
    construct(done) {
      open(path, 'w', mode).then((handle) => {
        file = handle;
        done();
      }, done);
    },
    write(chunk: Buffer, _encoding, done) {
      let at = 0;
      const fill = (): void => {
        while (at < chunk.length) {
          const copied = chunk.copy(block, used, at);
          used += copied;
          at += copied;
          if (used === BLOCK) {
            flush().then(fill, done);
            return;
          }
        }
        done();
      };
      fill();
    },
    final(done) {
      flush()
        .then(() => file!.close())
        .then(() => {
          file = undefined;
          done();
        }, done);
    },
    destroy(error, done) {
      if (!file) return done(error);
      file.close().then(
        () => done(error),
        () => done(error),
      );
    },
  });
}
