// Writes an OCI image layout as a tar archive (what `skopeo copy … oci-archive:` and
// `docker buildx --output type=oci` produce) from layer tarballs and an image config, so test
// images can be built offline and imported like any exported image.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import { create } from 'tar';
import type { OciImageConfig } from '../contracts.js';
import { parseImage } from './images.js';

/** What {@link writeOciArchive} writes. */
export interface OciArchiveSpec {
  /** Image name stored in the index annotations, e.g. `busybox:1.36` (normalised on write). */
  name: string;
  /** Layer tarballs (uncompressed tar files), lowest first; each is gzip-compressed into the layout. */
  layers: string[];
  /** The image's runtime config (User, Env, Entrypoint, Cmd, WorkingDir). */
  config: OciImageConfig;
}

interface Blob {
  digest: string;
  size: number;
}

const goArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

async function storeBlob(blobs: string, data: Buffer): Promise<Blob> {
  const hex = createHash('sha256').update(data).digest('hex');
  await writeFile(join(blobs, hex), data);
  return { digest: `sha256:${hex}`, size: data.length };
}

/** Gzips `layer` into the blob directory; returns the blob and the uncompressed digest (diffID). */
async function storeLayer(blobs: string, layer: string): Promise<Blob & { diffId: string }> {
  const diff = createHash('sha256');
  const compressed = createHash('sha256');
  let size = 0;
  const temp = join(blobs, `.layer-${process.pid}`);
  const hashRaw = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      diff.update(chunk);
      done(null, chunk);
    },
  });
  const hashGz = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      compressed.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(createReadStream(layer), hashRaw, createGzip(), hashGz, createWriteStream(temp));
  const hex = compressed.digest('hex');
  await rename(temp, join(blobs, hex));
  return { digest: `sha256:${hex}`, size, diffId: `sha256:${diff.digest('hex')}` };
}

/** Writes the OCI layout tar to `out`; returns the manifest digest (the image's repo digest). */
export async function writeOciArchive(out: string, spec: OciArchiveSpec): Promise<string> {
  const layout = await mkdtemp(join(tmpdir(), 'podrun-oci-'));
  try {
    const blobs = join(layout, 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const layers = [];
    for (const layer of spec.layers) layers.push(await storeLayer(blobs, layer));
    const config = await storeBlob(
      blobs,
      Buffer.from(
        JSON.stringify({
          architecture: goArch[process.arch] ?? process.arch,
          os: 'linux',
          config: spec.config,
          rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
        }),
      ),
    );
    const manifest = await storeBlob(
      blobs,
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
          layers: layers.map((l) => ({
            mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
            digest: l.digest,
            size: l.size,
          })),
        }),
      ),
    );
    const fullName = parseImage(spec.name).fullName;
    await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(
      join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            ...manifest,
            annotations: {
              'io.containerd.image.name': fullName,
              'org.opencontainers.image.ref.name': fullName.slice(fullName.lastIndexOf(':') + 1),
            },
          },
        ],
      }),
    );
    await create({ file: out, cwd: layout, portable: true }, ['oci-layout', 'index.json', 'blobs']);
    return manifest.digest;
  } finally {
    await rm(layout, { recursive: true, force: true });
  }
}
