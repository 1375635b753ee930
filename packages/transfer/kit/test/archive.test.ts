// The kit's tar pieces against each other and against GNU tar: what uploadArchiveStream sends is
// exactly its announced length, tar extracts it, and TarReader reads back the same bytes.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { selectOutputs, TarReader, uploadArchiveStream } from '@podrun/transfer-kit';

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('transfer kit archives', () => {
  it('sends its announced length, with the manifest of the bytes sent, readable by tar and TarReader', async () => {
    const files = [
      { path: 'work/a.txt', data: Buffer.from('hello\n') },
      { path: `work/dir/${'long-name-'.repeat(12)}ü.bin`, data: Buffer.alloc(70_000, 7) },
    ];
    const archive = uploadArchiveStream({
      directories: ['work', 'work/dir'],
      controlDir: '.ctl',
      files: files.map((f) => ({
        path: f.path,
        entry: { path: f.path, size: f.data.length, mode: 0o640, open: () => Readable.from([f.data]) },
      })),
    });
    const chunks: Buffer[] = [];
    for await (const chunk of archive.stream) chunks.push(chunk as Buffer);
    const tar = Buffer.concat(chunks);
    expect(tar.length).toBe(archive.length);
    expect(archive.manifest).toEqual(files.map((f) => ({ size: f.data.length, sha256: sha(f.data) })));

    const dir = mkdtempSync(join(tmpdir(), 'kit-tar-'));
    writeFileSync(join(dir, 'in.tar'), tar);
    execFileSync('tar', ['-xf', 'in.tar'], { cwd: dir });
    for (const f of files) expect(sha(readFileSync(join(dir, f.path)))).toBe(sha(f.data));

    const read = new Map<string, Buffer[]>();
    let current: Buffer[] = [];
    const reader = new TarReader({
      begin: (file) => void read.set(file.path, (current = [])),
      data: (chunk) => void current.push(chunk),
      end: () => undefined,
      link: () => undefined,
    });
    for (let i = 0; i < tar.length; i += 1000) await reader.write(tar.subarray(i, i + 1000));
    expect(reader.atBoundary).toBe(true);
    for (const f of files) expect(sha(Buffer.concat(read.get(f.path) ?? []))).toBe(sha(f.data));
  });

  it('puts files above pieceSize after the tar as raw pieces, one manifest line per piece', async () => {
    const big = Buffer.from(Array.from({ length: 2 * 4096 + 100 }, (_, i) => i % 253));
    const small = Buffer.from('small\n');
    const archive = uploadArchiveStream({
      directories: ['work'],
      controlDir: '.ctl',
      pieceSize: 4096,
      files: [
        { path: 'work/big.bin', entry: { path: 'big.bin', size: big.length, open: () => Readable.from([big]) } },
        { path: 'work/s.txt', entry: { path: 's.txt', size: small.length, open: () => Readable.from([small]) } },
      ],
    });
    const chunks: Buffer[] = [];
    for await (const chunk of archive.stream) chunks.push(chunk as Buffer);
    const all = Buffer.concat(chunks);
    const { head, pieces, tail } = archive.sections;
    expect([all.length, pieces]).toEqual([archive.length, big.length]);
    expect(head + pieces + tail).toBe(archive.length);
    expect(all.subarray(head, head + pieces).equals(big)).toBe(true);
    expect(archive.manifest).toEqual([
      { size: small.length, sha256: sha(small) },
      { size: 4096, sha256: sha(big.subarray(0, 4096)) },
      { size: 4096, sha256: sha(big.subarray(4096, 8192)) },
      { size: 100, sha256: sha(big.subarray(8192)) },
    ]);

    const dir = mkdtempSync(join(tmpdir(), 'kit-tar-'));
    writeFileSync(join(dir, 'head.tar'), all.subarray(0, head));
    writeFileSync(join(dir, 'tail.tar'), all.subarray(head + pieces));
    execFileSync('tar', ['-xf', 'head.tar'], { cwd: dir });
    execFileSync('tar', ['-xf', 'tail.tar'], { cwd: dir });
    expect(readFileSync(join(dir, 'work/s.txt'))).toEqual(small);
    expect(readFileSync(join(dir, '.ctl/list'), 'utf8')).toBe('work/s.txt\0');
    expect(readFileSync(join(dir, '.ctl/pieces'), 'utf8')).toBe(`work/big.bin\0${big.length}\0`);
    expect(readFileSync(join(dir, '.ctl/expected'), 'utf8')).toBe(
      archive.manifest.map((m) => `${m.size} ${m.sha256}\n`).join(''),
    );
    expect(readFileSync(join(dir, '.ctl/expected')).length).toBe(archive.manifestLength);
  });

  it.each(['gnu', 'posix'])('reads long paths of a pod-made %s tar as written', async (format) => {
    const dir = mkdtempSync(join(tmpdir(), 'kit-tar-'));
    const long = `out/${'nested-directory/'.repeat(12)}${'x'.repeat(120)}.txt`;
    mkdirSync(join(dir, long, '..'), { recursive: true });
    writeFileSync(join(dir, long), 'deep\n');
    const tar = execFileSync('tar', [`--format=${format}`, '-cf', '-', long], { cwd: dir });
    const paths: string[] = [];
    const reader = new TarReader({
      begin: (file) => void paths.push(file.path),
      data: () => undefined,
      end: () => undefined,
      link: () => undefined,
    });
    await reader.write(tar);
    expect(paths).toEqual([long]);
  });

  it('selects outputs as the reference does and refuses a link out of the working directory', () => {
    const listing = {
      workingDir: '/kestra/work',
      files: ['out/a.csv', 'out/.hidden', 'out/sub/b.csv', 'c.txt'],
      links: [{ path: 'escape.csv', target: '/etc/passwd', isFile: true }],
    };
    const paths = { workingDir: '/kestra/work', outputDir: '/kestra/work/out' };
    const names = (globs: string[]) =>
      selectOutputs(listing, { globs, outputDir: false, syncWorkingDirectory: false }, paths)
        .map((f) => f.path)
        .sort();
    expect(names(['out/*'])).toEqual(['out/.hidden', 'out/a.csv']);
    expect(names(['out/**/*.csv'])).toEqual(['out/a.csv', 'out/sub/b.csv']);
    expect(() => names(['*.csv'])).toThrow(/escape\.csv/);
  });
});
