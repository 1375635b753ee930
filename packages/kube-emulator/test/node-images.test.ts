// The image store: real OCI layouts and docker save archives, layers applied with whiteouts,
// opaque directories, hard links and symlinks, and nothing written outside the root filesystem.
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Header, create } from 'tar';
import { afterAll, describe, expect, it } from 'vitest';
import { createImageStore } from '../src/node/image-store.js';
import { writeOciArchive } from '../src/node/oci-archive.js';

const work = mkdtempSync(join(tmpdir(), 'podrun-images-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface RawEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link';
  body?: string;
  linkpath?: string;
  mode?: number;
}

/** A tar file built block by block, so entries a well-behaved packer refuses can be written. */
function rawTar(name: string, entries: RawEntry[]): string {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.body ?? '');
    const type = entry.type ?? 'File';
    const header = new Header({
      path: entry.path,
      type,
      size: type === 'File' ? body.length : 0,
      mode: entry.mode ?? (type === 'Directory' ? 0o755 : 0o644),
      linkpath: entry.linkpath ?? '',
      uid: 0,
      gid: 0,
      mtime: new Date(0),
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block);
    if (type === 'File' && body.length > 0) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  const path = join(work, name);
  writeFileSync(path, Buffer.concat(blocks));
  return path;
}

describe('image store', () => {
  it('imports an OCI archive, applies whiteouts and opaque directories, keeps links', async () => {
    const lower = rawTar('lower.tar', [
      { path: 'etc/', type: 'Directory' },
      { path: 'etc/keep', body: 'keep' },
      { path: 'etc/gone', body: 'gone' },
      { path: 'data/', type: 'Directory' },
      { path: 'data/old', body: 'old' },
      { path: 'tmp/', type: 'Directory', mode: 0o1777 },
    ]);
    const upper = rawTar('upper.tar', [
      { path: 'etc/.wh.gone' },
      { path: 'data/', type: 'Directory' },
      { path: 'data/.wh..wh..opq' },
      { path: 'data/new', body: 'new' },
      { path: 'etc/hard', type: 'Link', linkpath: 'etc/keep' },
      { path: 'etc/soft', type: 'SymbolicLink', linkpath: '/etc/keep' },
    ]);
    const archive = join(work, 'image.tar');
    const digest = await writeOciArchive(archive, {
      name: 'example.com/team/tool:1.2',
      layers: [lower, upper],
      config: { User: '1000:1000', Env: ['A=1'], Cmd: ['sh'], WorkingDir: '/data' },
    });
    const store = createImageStore(join(work, 'store-oci'));
    const [image] = await store.importArchive({ path: archive });
    expect(image!.digest).toBe(digest);
    expect(image!.names).toEqual(['example.com/team/tool:1.2']);
    expect(image!.config).toMatchObject({ User: '1000:1000', WorkingDir: '/data' });
    const root = image!.rootfs;
    expect(readFileSync(join(root, 'etc/keep'), 'utf8')).toBe('keep');
    expect(existsSync(join(root, 'etc/gone'))).toBe(false);
    expect(existsSync(join(root, 'data/old'))).toBe(false);
    expect(readFileSync(join(root, 'data/new'), 'utf8')).toBe('new');
    expect(existsSync(join(root, 'etc/.wh.gone'))).toBe(false);
    expect(existsSync(join(root, 'data/.wh..wh..opq'))).toBe(false);
    expect(statSync(join(root, 'etc/hard')).ino).toBe(statSync(join(root, 'etc/keep')).ino);
    expect(readlinkSync(join(root, 'etc/soft'))).toBe('/etc/keep');
    expect(statSync(join(root, 'tmp')).mode & 0o7777).toBe(0o1777);
    expect(store.find('example.com/team/tool:1.2')).toBe(image);
    expect(store.find(`example.com/team/tool@${digest}`)).toBe(image);
    expect(store.find('example.com/team/tool:1.3')).toBeUndefined();
    expect(image!.size).toBeGreaterThan(0);
  });

  it('writes nothing outside the root filesystem', async () => {
    const outside = join(work, 'outside');
    await mkdir(outside);
    const evil = rawTar('evil.tar', [
      { path: '../../escaped', body: 'x' },
      { path: `${outside}/absolute`, body: 'x' },
      { path: 'link', type: 'SymbolicLink', linkpath: outside },
      { path: 'link/through-symlink', body: 'x' },
      { path: 'hard', type: 'Link', linkpath: '../../../etc/passwd' },
      { path: 'link/.wh.victim' },
    ]);
    writeFileSync(join(outside, 'victim'), 'still here');
    const archive = join(work, 'evil-image.tar');
    await writeOciArchive(archive, { name: 'evil', layers: [evil], config: {} });
    const store = createImageStore(join(work, 'store-evil'));
    const [image] = await store.importArchive({ path: archive });
    expect(existsSync(join(work, 'escaped'))).toBe(false);
    expect(existsSync(join(tmpdir(), 'escaped'))).toBe(false);
    expect(existsSync(join(outside, 'absolute'))).toBe(false);
    expect(existsSync(join(outside, 'through-symlink'))).toBe(false);
    expect(readFileSync(join(outside, 'victim'), 'utf8')).toBe('still here');
    expect(lstatSync(join(image!.rootfs, 'link')).isSymbolicLink()).toBe(true);
    if (existsSync(join(image!.rootfs, 'hard'))) {
      expect(statSync(join(image!.rootfs, 'hard')).ino).not.toBe(statSync('/etc/passwd').ino);
    }
  });

  it('imports a docker save archive (gzip) by its RepoTags, and --name overrides', async () => {
    const layerDir = join(work, 'docker-layer');
    await mkdir(join(layerDir, 'bin'), { recursive: true });
    writeFileSync(join(layerDir, 'bin', 'hello'), 'hi');
    const dockerDir = join(work, 'docker');
    await mkdir(join(dockerDir, 'abc'), { recursive: true });
    await create({ file: join(dockerDir, 'abc', 'layer.tar'), cwd: layerDir }, ['bin']);
    writeFileSync(join(dockerDir, 'config.json'), JSON.stringify({ config: { Entrypoint: ['/bin/hello'] } }));
    writeFileSync(
      join(dockerDir, 'manifest.json'),
      JSON.stringify([{ Config: 'config.json', RepoTags: ['busybox:1.36'], Layers: ['abc/layer.tar'] }]),
    );
    const archive = join(work, 'docker.tar.gz');
    await create({ file: archive, cwd: dockerDir, gzip: true }, ['manifest.json', 'config.json', 'abc']);
    const store = createImageStore(join(work, 'store-docker'));
    const [image] = await store.importArchive({ path: archive });
    expect(image!.names).toEqual(['docker.io/library/busybox:1.36']);
    expect(store.find('docker.io/library/busybox:1.36')).toBe(image);
    expect(store.find('busybox:1.36')).toBe(image);
    expect(store.find('busybox')).toBeUndefined();
    expect(readFileSync(join(image!.rootfs, 'bin', 'hello'), 'utf8')).toBe('hi');
    const [renamed] = await store.importArchive({ path: archive }, 'tools/hello:v1');
    expect(renamed!.names).toContain('docker.io/tools/hello:v1');
  });

  it('refuses what is not an image archive, naming what to do', async () => {
    const junk = rawTar('junk.tar', [{ path: 'readme.txt', body: 'no image' }]);
    const store = createImageStore(join(work, 'store-junk'));
    await expect(store.importArchive({ path: junk })).rejects.toThrow(/neither an OCI image layout/);
    await expect(store.importArchive({ path: join(work, 'missing.tar') })).rejects.toThrow(/does not exist/);
  });
});
