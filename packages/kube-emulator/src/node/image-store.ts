// The node's image store, as containerd's is to a kubelet: images imported from OCI image layouts
// or `docker save` archives (tar, tar.gz, or an unpacked layout directory), each unpacked once
// into a root filesystem and looked up by normalised name or digest. It doubles as "the registry"
// of the embedded cluster: a pull succeeds exactly for the images imported here.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Unpack } from 'tar';
import { ErrorCodes, PodrunError } from '@podrun/core';
import { applyLayers } from './image-layers.js';
import { parseImage } from './images.js';
import type { ImageStore, OciImageConfig, StoredImage } from '../contracts.js';

interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string };
}

function archiveError(message: string): PodrunError {
  return new PodrunError(ErrorCodes.EMULATOR, message, { component: 'kube-emulator' });
}

const goArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };

/** Creates the store under `dir` (state of one cluster). */
export function createImageStore(dir: string): ImageStore {
  const images = new Map<string, StoredImage>();

  async function readJson<T>(path: string, what: string): Promise<T> {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as T;
    } catch (error) {
      throw archiveError(`image archive: cannot read ${what}: ${(error as Error).message}`);
    }
  }

  function blobPath(layout: string, digest: string): string {
    const [algorithm, hex] = digest.split(':');
    if (algorithm !== 'sha256' || !/^[0-9a-f]{64}$/.test(hex ?? ''))
      throw archiveError(`image archive: unsupported digest "${digest}"`);
    return join(layout, 'blobs', 'sha256', hex!);
  }

  async function unpack(id: string, layerBlobs: string[]): Promise<string> {
    const root = join(dir, 'images', id.replace(':', '-'));
    const rootfs = join(root, 'rootfs');
    if (await stat(join(root, 'complete')).catch(() => undefined)) return rootfs;
    const building = `${root}.${randomBytes(4).toString('hex')}`;
    await mkdir(join(building, 'rootfs'), { recursive: true, mode: 0o755 });
    try {
      await applyLayers(join(building, 'rootfs'), layerBlobs);
      await writeFile(join(building, 'complete'), '');
      await rm(root, { recursive: true, force: true });
      await rename(building, root);
    } catch (error) {
      await rm(building, { recursive: true, force: true });
      throw error;
    }
    return rootfs;
  }

  async function sizeOf(paths: string[]): Promise<number> {
    const sizes = await Promise.all(paths.map(async (path) => (await stat(path)).size));
    return sizes.reduce((a, b) => a + b, 0);
  }

  async function fromOciLayout(layout: string): Promise<{ names: string[]; image: Omit<StoredImage, 'names'> }[]> {
    const index = await readJson<{ manifests?: Descriptor[] }>(join(layout, 'index.json'), 'index.json');
    const found: { names: string[]; image: Omit<StoredImage, 'names'> }[] = [];
    for (let descriptor of index.manifests ?? []) {
      const annotations = descriptor.annotations ?? {};
      const names = [annotations['io.containerd.image.name'], annotations['org.opencontainers.image.ref.name']]
        .filter((name): name is string => !!name && /[/:]/.test(name))
        .slice(0, 1);
      if (descriptor.mediaType?.includes('image.index') || descriptor.mediaType?.includes('manifest.list')) {
        const nested = await readJson<{ manifests?: Descriptor[] }>(blobPath(layout, descriptor.digest), 'image index');
        const platform = (nested.manifests ?? []).find(
          (m) => (m.platform?.architecture ?? goArch[process.arch]) === goArch[process.arch],
        );
        if (!platform) throw archiveError(`image archive: no manifest for linux/${goArch[process.arch]}`);
        descriptor = platform;
      }
      const manifest = await readJson<{ config: Descriptor; layers?: Descriptor[] }>(
        blobPath(layout, descriptor.digest),
        'image manifest',
      );
      const configPath = blobPath(layout, manifest.config.digest);
      const config = await readJson<{ config?: OciImageConfig }>(configPath, 'image config');
      const layers = (manifest.layers ?? []).map((layer) => blobPath(layout, layer.digest));
      const rootfs = await unpack(descriptor.digest, layers);
      const size = await sizeOf([configPath, ...layers]);
      found.push({ names, image: { digest: descriptor.digest, size, config: config.config ?? {}, rootfs } });
    }
    return found;
  }

  async function fromDockerArchive(layout: string): Promise<{ names: string[]; image: Omit<StoredImage, 'names'> }[]> {
    const manifest = await readJson<{ Config: string; RepoTags?: string[] | null; Layers: string[] }[]>(
      join(layout, 'manifest.json'),
      'manifest.json',
    );
    const found: { names: string[]; image: Omit<StoredImage, 'names'> }[] = [];
    for (const entry of manifest) {
      const inside = (path: string): string => {
        if (path.split('/').includes('..') || path.startsWith('/'))
          throw archiveError(`image archive: manifest.json names a path outside the archive: ${path}`);
        return join(layout, path);
      };
      const configPath = inside(entry.Config);
      const configText = await readFile(configPath);
      const digest = `sha256:${createHash('sha256').update(configText).digest('hex')}`;
      const config = JSON.parse(configText.toString('utf8')) as { config?: OciImageConfig };
      const layers = entry.Layers.map(inside);
      const rootfs = await unpack(digest, layers);
      const size = await sizeOf([configPath, ...layers]);
      found.push({ names: entry.RepoTags ?? [], image: { digest, size, config: config.config ?? {}, rootfs } });
    }
    return found;
  }

  async function importLayout(layout: string, name?: string): Promise<StoredImage[]> {
    const isOci = await stat(join(layout, 'index.json')).catch(() => undefined);
    const isDocker = !isOci && (await stat(join(layout, 'manifest.json')).catch(() => undefined));
    if (!isOci && !isDocker) {
      throw archiveError(
        'image archive: neither an OCI image layout (index.json) nor a docker save archive (manifest.json); export the image with `docker save`, `skopeo copy ... oci-archive:FILE` or `ctr images export`',
      );
    }
    const found = isOci ? await fromOciLayout(layout) : await fromDockerArchive(layout);
    if (found.length === 0) throw archiveError('image archive: it holds no image');
    if (name !== undefined && found.length > 1)
      throw archiveError(`image archive: --name needs an archive of one image; this one holds ${found.length}`);
    const stored: StoredImage[] = [];
    for (const { names, image } of found) {
      const chosen = name !== undefined ? [name] : names;
      if (chosen.length === 0) {
        throw archiveError(
          `image archive: image ${image.digest} has no name (no io.containerd.image.name or org.opencontainers.image.ref.name annotation, no RepoTags); give it one with --name`,
        );
      }
      const normalised = chosen.map((n) => parseImage(n).fullName);
      for (const other of images.values()) other.names = other.names.filter((n) => !normalised.includes(n));
      const existing = images.get(image.digest);
      const entry: StoredImage = { ...image, names: [...new Set([...(existing?.names ?? []), ...normalised])] };
      images.set(image.digest, entry);
      stored.push(entry);
    }
    for (const [digest, image] of images) if (image.names.length === 0) images.delete(digest);
    return stored;
  }

  return {
    async importArchive(source, name) {
      if ('path' in source) {
        const info = await stat(source.path).catch(() => undefined);
        if (!info) throw archiveError(`image archive ${source.path} does not exist`);
        if (info.isDirectory()) return importLayout(source.path, name);
      }
      const work = join(dir, 'import', randomBytes(6).toString('hex'));
      await mkdir(work, { recursive: true, mode: 0o700 });
      try {
        const input = 'path' in source ? createReadStream(source.path) : source.stream;
        // The tar package detects gzip itself; blobs are extracted to disk, never held in memory.
        await pipeline(input, new Unpack({ cwd: work, strict: true }));
        return await importLayout(work, name);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },
    find(reference) {
      const wanted = parseImage(reference);
      const digest = reference.includes('@') ? reference.slice(reference.indexOf('@') + 1) : undefined;
      for (const image of images.values()) {
        if (digest !== undefined && image.digest === digest) return image;
        if (image.names.includes(wanted.fullName)) return image;
      }
      return undefined;
    },
    list() {
      return [...images.values()];
    },
  };
}
