// Gives each timed transfer direction the same kind of free memory to write into: before each
// `kubectl cp`, and in the library's transfer process before its upload and again before its
// download (the seconds between them, starting a process and a pod, were enough for the memory to
// go back to the host).
//
// This machine is a VM that hands memory back to its host once it has stayed free for a couple of
// seconds (virtio-balloon free page reporting), and touching such memory again costs several
// times more kernel time: 200 MiB written with 1 MiB writes took 0.07 s of system time right
// after a 200 MiB file was deleted, 0.54-0.60 s five seconds later (2026-12-06). Whichever tool
// happened to write right after something was deleted got the cheap memory: podrun's download
// measured 0.58-0.84 s after this warming and 0.84-1.29 s without, alternating on one cluster,
// while `kubectl cp`'s 32 KiB writes were barely affected. On a machine that keeps its memory
// this costs a fraction of a second and changes nothing.
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const MiB = 1024 * 1024;

/** Writes and deletes a file of `mib` MiB in `dir`, so the next writes find recently used memory. */
export function warmFreeMemory(dir: string, mib = 1024): void {
  const path = join(dir, 'warm-free-memory.bin');
  const block = Buffer.alloc(MiB, 1);
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < mib; i++) writeSync(fd, block);
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}
