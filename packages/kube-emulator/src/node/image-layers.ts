// Applies OCI image layers onto one root filesystem directory, in order, as containerd's
// applier does: `.wh.NAME` deletes NAME from the lower layers, `.wh..wh..opq` empties its
// directory of lower-layer content, everything else is extracted by the `tar` package, which
// refuses absolute paths, `..` and writes through symlinks (nothing lands outside the root).
import { createReadStream } from 'node:fs';
import { lstat, readdir, rm, symlink } from 'node:fs/promises';
import { posix, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Parser, Unpack } from 'tar';
import type { ReadEntry } from 'tar';
import { ErrorCodes, PodrunError } from '@podrun/core';

const whiteoutPrefix = '.wh.';
const opaqueMarker = '.wh..wh..opq';

/** Normalises an archive path to segments inside the root, or undefined if it would leave it. */
function insideRoot(entryPath: string): string[] | undefined {
  const normal = posix.normalize(`/${entryPath}`).slice(1);
  if (normal === '' || normal.split('/').includes('..')) return undefined;
  return normal.replace(/\/+$/, '').split('/');
}

/** The host path of `segments` under `root`, or undefined if a parent on the way is a symlink. */
async function realChild(root: string, segments: string[]): Promise<string | undefined> {
  let current = root;
  for (const segment of segments.slice(0, -1)) {
    current = join(current, segment);
    const stat = await lstat(current).catch(() => undefined);
    if (!stat?.isDirectory()) return undefined;
  }
  return join(current, segments[segments.length - 1]!);
}

async function layerStream(blobPath: string): Promise<NodeJS.ReadableStream> {
  const head = await new Promise<Buffer>((resolve, reject) => {
    const stream = createReadStream(blobPath, { start: 0, end: 3 });
    const chunks: Buffer[] = [];
    stream.on('data', (chunk) => chunks.push(chunk as Buffer));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
    throw new PodrunError(
      ErrorCodes.EMULATOR,
      `layer ${blobPath} is zstd-compressed, which the embedded cluster cannot unpack; export the image with gzip or uncompressed layers (e.g. docker save, or skopeo copy --dest-compress-format gzip)`,
      { component: 'kube-emulator' },
    );
  }
  const raw = createReadStream(blobPath);
  return head[0] === 0x1f && head[1] === 0x8b ? raw.pipe(createGunzip()) : raw;
}

/**
 * Applies the whiteouts of one layer to `root` (they concern lower layers only) and returns its
 * symlinks with absolute targets: the tar package relativises those, but inside a container an
 * absolute target means the container's root, so they are restored verbatim after extraction.
 */
async function applyWhiteouts(root: string, blobPath: string): Promise<{ segments: string[]; target: string }[]> {
  const whiteouts: string[][] = [];
  const absoluteLinks: { segments: string[]; target: string }[] = [];
  const parser = new Parser({
    onReadEntry: (entry: ReadEntry) => {
      const segments = insideRoot(entry.path);
      const base = segments?.[segments.length - 1];
      if (segments && base?.startsWith(whiteoutPrefix)) whiteouts.push(segments);
      else if (segments && entry.type === 'SymbolicLink' && entry.linkpath?.startsWith('/'))
        absoluteLinks.push({ segments, target: entry.linkpath });
      entry.resume();
    },
  });
  await pipeline(await layerStream(blobPath), parser);
  for (const segments of whiteouts) {
    const base = segments[segments.length - 1]!;
    if (base === opaqueMarker) {
      const dir = await realChild(root, [...segments.slice(0, -1), '.']);
      if (!dir) continue;
      const entries = await readdir(dir).catch(() => [] as string[]);
      await Promise.all(entries.map((name) => rm(join(dir, name), { recursive: true, force: true })));
    } else {
      const target = await realChild(root, [...segments.slice(0, -1), base.slice(whiteoutPrefix.length)]);
      if (target) await rm(target, { recursive: true, force: true });
    }
  }
  return absoluteLinks;
}

async function restoreAbsoluteLinks(root: string, links: { segments: string[]; target: string }[]): Promise<void> {
  for (const { segments, target } of links) {
    const path = await realChild(root, segments);
    if (!path || !(await lstat(path).catch(() => undefined))?.isSymbolicLink()) continue;
    await rm(path, { force: true });
    await symlink(target, path);
  }
}

/** Extracts the layers (paths of blobs, lowest first) into `root`, which must exist. */
export async function applyLayers(root: string, layerBlobs: string[]): Promise<void> {
  for (const blob of layerBlobs) {
    const absoluteLinks = await applyWhiteouts(root, blob);
    const unpack = new Unpack({
      cwd: root,
      preserveOwner: true,
      // Image content is applied as-is: exact modes (e.g. /tmp 1777), whatever the process umask.
      chmod: true,
      umask: 0,
      filter: (path: string) => !posix.basename(path.replace(/\/+$/, '')).startsWith(whiteoutPrefix),
    });
    await pipeline(await layerStream(blob), unpack);
    await restoreAbsoluteLinks(root, absoluteLinks);
  }
}
