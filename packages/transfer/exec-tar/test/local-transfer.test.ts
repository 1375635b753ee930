// exec-tar's scripts, archives and verification, run for real against local processes: once with
// the host's GNU tools and once with BusyBox (what real clusters' file sidecars run).
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  linkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes, TransferError, UnsafePathError } from '@podrun/core';
import { createExecTarTransfer } from '@podrun/transfer-exec-tar';
import { busyboxPath, localPort } from './support/local-port.js';
import { MemorySink, context, entry, sha } from './support/fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'podrun-exec-tar-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const bb = busyboxPath(join(work, 'busybox-bin'));
if (!bb) console.log('[exec-tar] BusyBox not installed: the BusyBox variant of the script tests is skipped');

const envs = [
  { name: 'GNU tools', path: undefined, skip: false },
  { name: 'BusyBox', path: bb, skip: !bb },
];

const awkward = [
  'data.txt',
  'with space.txt',
  "quote'single.txt",
  'quote"double.txt',
  'unicode-\u00e9\u00e8-\u{1F600}.txt',
  'new\nline.txt',
  '-leading-dash.txt',
  'nested/deeper/still/file.bin',
  `long/${'x'.repeat(120)}/${'y'.repeat(110)}.txt`,
  'empty.txt',
];

function contentOf(name: string): Buffer {
  if (name === 'empty.txt') return Buffer.alloc(0);
  if (name.endsWith('.bin')) return Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 256));
  return Buffer.from(`content of ${name}\n`);
}

describe.each(envs)('exec-tar scripts with $name', ({ name, path, skip }) => {
  const transfer = createExecTarTransfer({ retryDelayMs: 1 });
  let n = 0;
  const fresh = () => {
    const root = join(work, `${name.replace(/\W/g, '')}-${n++}`, 'kestra');
    mkdirSync(root, { recursive: true });
    const kube = localPort({ path: path ? `${path}` : undefined });
    return { root, kube, ctx: context(kube, root), wd: join(root, 'working-dir') };
  };

  it.skipIf(skip)('uploads awkward names byte for byte, verifies, and writes the ready marker', async () => {
    const { root, ctx, wd, kube } = fresh();
    const report = await transfer.uploadInputs(
      ctx,
      { entries: awkward.map((p) => entry(p, contentOf(p), 0o640)) },
      new AbortController().signal,
    );
    expect(report).toMatchObject({ files: awkward.length, verified: true, attempts: 1 });
    for (const p of awkward) expect(sha(readFileSync(join(wd, p)))).toBe(sha(contentOf(p)));
    expect(existsSync(join(root, 'ready'))).toBe(true);
    expect(existsSync(join(root, '.podrun-transfer', 'upload'))).toBe(false);
    expect(existsSync(join(wd, 'out-abc'))).toBe(true);
    expect(kube.execs).toHaveLength(1);
  });

  it.skipIf(skip)('selects outputs in the pod by glob, OUTPUT_DIR and sync, and streams only those', async () => {
    const { ctx, wd, kube } = fresh();
    await transfer.uploadInputs(
      ctx,
      { entries: awkward.map((p) => entry(p, contentOf(p))) },
      new AbortController().signal,
    );
    mkdirSync(join(wd, 'out-abc', 'sub'), { recursive: true });
    writeFileSync(join(wd, 'out-abc', 'sub', 'result.json'), '{"ok":true}');
    writeFileSync(join(wd, 'a.csv'), 'a');
    mkdirSync(join(wd, 'deep', 'er'), { recursive: true });
    writeFileSync(join(wd, 'deep', 'er', 'b.csv'), 'b');
    writeFileSync(join(wd, 'deep', 'er', 'c.json'), 'c');
    writeFileSync(join(wd, '.hidden.csv'), 'h');

    const sink = new MemorySink();
    const report = await transfer.downloadOutputs(
      ctx,
      {
        globs: ['*.csv', '**/*.json', 'with space.txt', 'new\nline.txt', 'missing.txt'],
        outputDir: true,
        syncWorkingDirectory: false,
      },
      sink,
      new AbortController().signal,
    );
    expect([...sink.files.keys()].sort()).toEqual(
      ['.hidden.csv', 'a.csv', 'deep/er/c.json', 'new\nline.txt', 'sub/result.json', 'with space.txt'].sort(),
    );
    expect(sink.files.get('sub/result.json')!.entry.origin).toBe('outputDir');
    expect(sink.files.get('a.csv')!.entry).toMatchObject({ origin: 'workingDir', size: 1 });
    expect(sha(sink.files.get('a.csv')!.content)).toBe(sha('a'));
    expect(sink.files.get('with space.txt')!.content.toString()).toBe(contentOf('with space.txt').toString());
    expect(report).toMatchObject({ files: 6, verified: true, attempts: 1 });
    expect(kube.execs.filter(([c]) => c === 'out-files')).toHaveLength(1);

    const all = new MemorySink();
    await transfer.downloadOutputs(
      ctx,
      { globs: [], outputDir: false, syncWorkingDirectory: true },
      all,
      new AbortController().signal,
    );
    for (const p of awkward) expect(sha(all.files.get(p)!.content)).toBe(sha(contentOf(p)));
  });

  it.skipIf(skip)('refuses an output that is a link leading out of the working directory', async () => {
    const { ctx, wd } = fresh();
    await transfer.uploadInputs(ctx, { entries: [entry('data.txt', 'x')] }, new AbortController().signal);
    symlinkSync('/etc/passwd', join(wd, 'out.txt'));
    const sink = new MemorySink();
    const error = await transfer
      .downloadOutputs(
        ctx,
        { globs: ['out.txt'], outputDir: false, syncWorkingDirectory: false },
        sink,
        new AbortController().signal,
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafePathError);
    expect((error as UnsafePathError).code).toBe(ErrorCodes.UNSAFE_PATH);
    expect(sink.files.size).toBe(0);

    symlinkSync('../../..', join(wd, 'escape'));
    const viaDir = await transfer
      .downloadOutputs(
        ctx,
        { globs: ['escape/**'], outputDir: false, syncWorkingDirectory: false },
        new MemorySink(),
        new AbortController().signal,
      )
      .catch((e: unknown) => e);
    // find never descends into the linked directory; the link itself is refused.
    expect(viaDir).toBeInstanceOf(UnsafePathError);
  });

  it.skipIf(skip)('follows links inside the working directory and fetches hard links on their own', async () => {
    const { ctx, wd } = fresh();
    await transfer.uploadInputs(ctx, { entries: [entry('data.txt', 'payload')] }, new AbortController().signal);
    symlinkSync('data.txt', join(wd, 'alias.txt'));
    linkSync(join(wd, 'data.txt'), join(wd, 'hard.txt'));
    const sink = new MemorySink();
    await transfer.downloadOutputs(
      ctx,
      { globs: ['*.txt'], outputDir: false, syncWorkingDirectory: false },
      sink,
      new AbortController().signal,
    );
    expect([...sink.files.keys()].sort()).toEqual(['alias.txt', 'data.txt', 'hard.txt']);
    for (const f of sink.files.values()) expect(f.content.toString()).toBe('payload');
  });

  it.skipIf(skip)('refuses a working directory replaced by a link', async () => {
    const { ctx, wd, root } = fresh();
    mkdirSync(join(root, 'elsewhere'));
    symlinkSync(join(root, 'elsewhere'), wd);
    const error = await transfer
      .downloadOutputs(
        ctx,
        { globs: ['*'], outputDir: false, syncWorkingDirectory: false },
        new MemorySink(),
        new AbortController().signal,
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafePathError);
  });

  it.skipIf(skip)('recovers a download cut mid-file without delivering anything twice as complete', async () => {
    const { ctx, wd, kube } = fresh();
    const big = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));
    await transfer.uploadInputs(
      ctx,
      { entries: [entry('a.bin', big), entry('b.bin', big), entry('c.txt', 'c')] },
      new AbortController().signal,
    );
    kube.faults.cutStdoutAfter.push(300_000);
    const sink = new MemorySink();
    const report = await transfer.downloadOutputs(
      ctx,
      { globs: ['*.bin', '*.txt'], outputDir: false, syncWorkingDirectory: false },
      sink,
      new AbortController().signal,
    );
    expect(report.attempts).toBe(2);
    expect(sink.failedWrites).toEqual(['b.bin']);
    expect([...sink.files.keys()].sort()).toEqual(['a.bin', 'b.bin', 'c.txt']);
    expect(sha(sink.files.get('b.bin')!.content)).toBe(sha(big));
    // The retry asked only for what was missing, without listing again.
    const downloads = kube.execs.filter(([c]) => c === 'out-files');
    expect(downloads.map((d) => d.at(-1))).toEqual(['list', 'nolist']);
    expect(readFileSync(join(wd, 'c.txt'), 'utf8')).toBe('c');
  });

  it.skipIf(skip)('detects a corrupted byte, refuses that copy and fetches it again', async () => {
    const { ctx, kube } = fresh();
    await transfer.uploadInputs(ctx, { entries: [entry('a.txt', 'hello world')] }, new AbortController().signal);
    kube.faults.corruptStdoutAt.push(200);
    const sink = new MemorySink();
    const report = await transfer.downloadOutputs(
      ctx,
      { globs: ['a.txt'], outputDir: false, syncWorkingDirectory: false },
      sink,
      new AbortController().signal,
    );
    expect(report.attempts).toBeGreaterThan(1);
    expect(sink.files.get('a.txt')!.content.toString()).toBe('hello world');
  });

  it.skipIf(skip)('retries an upload whose stream was dropped', async () => {
    const { ctx, wd, kube } = fresh();
    kube.faults.cutStdoutAfter.push(0);
    const report = await transfer.uploadInputs(
      ctx,
      { entries: [entry('x/y.txt', 'why')] },
      new AbortController().signal,
    );
    expect(report.attempts).toBe(2);
    expect(readFileSync(join(wd, 'x', 'y.txt'), 'utf8')).toBe('why');
  });

  it.skipIf(skip)('sends large inputs as pieces the pod hashes as they land, awkward names included', async () => {
    const { root, ctx, wd, kube } = fresh();
    const piece = 65536;
    const pieced = createExecTarTransfer({ retryDelayMs: 1, pieceSize: piece });
    const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * seed + 11) % 251));
    const files: Array<[string, Buffer]> = [
      ['big with space.bin', bytes(3 * piece, 7)],
      ["big'quote\nline.bin", bytes(2 * piece + 1, 13)],
      ['deep/-dash/\u00e9t\u00e9.bin', bytes(piece + 1, 17)],
      ['exactly-one-piece.bin', bytes(piece, 19)],
      ['small.txt', Buffer.from('small\n')],
    ];
    const report = await pieced.uploadInputs(
      ctx,
      { entries: files.map(([p, data]) => entry(p, data)) },
      new AbortController().signal,
    );
    expect(report).toMatchObject({ files: files.length, verified: true, attempts: 1 });
    for (const [p, data] of files) expect(sha(readFileSync(join(wd, p)))).toBe(sha(data));
    expect(existsSync(join(root, 'ready'))).toBe(true);
    expect(existsSync(join(root, '.podrun-transfer', 'upload'))).toBe(false);
    expect(kube.execs).toHaveLength(1);
  });

  it.skipIf(skip)('retries a pieced upload whose stream was dropped, rewriting every piece', async () => {
    const { ctx, wd, kube } = fresh();
    const pieced = createExecTarTransfer({ retryDelayMs: 1, pieceSize: 65536 });
    const data = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 31) % 256));
    kube.faults.cutStdoutAfter.push(0);
    const report = await pieced.uploadInputs(ctx, { entries: [entry('in.bin', data)] }, new AbortController().signal);
    expect(report.attempts).toBe(2);
    expect(sha(readFileSync(join(wd, 'in.bin')))).toBe(sha(data));
  });

  it.skipIf(skip)('takes the manifest of a file in more pieces than the pod prints lines per file', async () => {
    const { ctx, wd } = fresh();
    const pieced = createExecTarTransfer({ retryDelayMs: 1, pieceSize: 65536 });
    // 80 pieces: 80 manifest lines (about 7 KB) for one file.
    const data = Buffer.from(Array.from({ length: 80 * 65536 }, (_, i) => (i * 29 + 3) % 256));
    const report = await pieced.uploadInputs(ctx, { entries: [entry('many.bin', data)] }, new AbortController().signal);
    expect(report).toMatchObject({ files: 1, verified: true, attempts: 1 });
    expect(sha(readFileSync(join(wd, 'many.bin')))).toBe(sha(data));
  });

  it.skipIf(skip)('tells a piece the pod could not hash from one it could not write', async () => {
    // An image whose sha256sum fails: the pieces land, their check cannot run.
    const broken = join(work, `${name.replace(/\W/g, '')}-broken-sha256sum`);
    mkdirSync(broken, { recursive: true });
    writeFileSync(join(broken, 'sha256sum'), '#!/bin/sh\necho "sha256sum: not today" >&2\nexit 1\n', { mode: 0o755 });
    const root = join(work, `${name.replace(/\W/g, '')}-${n++}`, 'kestra');
    mkdirSync(root, { recursive: true });
    const kube = localPort({ path: `${broken}:${path ?? process.env.PATH}` });
    const pieced = createExecTarTransfer({ retryDelayMs: 1, pieceSize: 65536 });
    const data = Buffer.from(Array.from({ length: 3 * 65536 }, (_, i) => (i * 37) % 256));
    const failure = await pieced
      .uploadInputs(context(kube, root), { entries: [entry('in.bin', data)] }, new AbortController().signal)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TransferError);
    expect((failure as TransferError).message).toMatch(/could not hash a large input's pieces.*needs sha256sum/);
    // Not retried: another attempt cannot bring the tool.
    expect(kube.execs).toHaveLength(1);
    expect(existsSync(join(root, 'ready'))).toBe(false);
  });

  it.skipIf(skip)('reports a piece the pod could not write as a write failure, and retries it', async () => {
    const { ctx, wd, kube } = fresh();
    // A directory where the large input goes: its pieces cannot be written there.
    mkdirSync(join(wd, 'in.bin', 'taken'), { recursive: true });
    const pieced = createExecTarTransfer({ retryDelayMs: 1, pieceSize: 65536 });
    const data = Buffer.from(Array.from({ length: 2 * 65536 }, (_, i) => (i * 41) % 256));
    const failure = await pieced
      .uploadInputs(ctx, { entries: [entry('in.bin', data)] }, new AbortController().signal)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TransferError);
    expect((failure as TransferError).message).toMatch(/tar or dd in the pod failed.*files volume has room/);
    expect(kube.execs.length).toBeGreaterThan(1);
  });

  it('refuses a piece size it cannot use, naming the option', () => {
    expect(() => createExecTarTransfer({ pieceSize: 0 })).toThrow(/pieceSize: must be a whole number of bytes/);
    expect(() => createExecTarTransfer({ pieceSize: 1.5e6 + 0.5 })).toThrow(/pieceSize/);
  });

  it.skipIf(skip)('rejects unsafe input names before anything is sent', async () => {
    const { ctx, kube } = fresh();
    for (const bad of ['../escape.txt', '/abs.txt', 'a//b', '']) {
      const error = await transfer
        .uploadInputs(ctx, { entries: [entry(bad, 'x')] }, new AbortController().signal)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsafePathError);
    }
    const changed = await transfer
      .uploadInputs(ctx, { entries: [{ ...entry('a.txt', 'abc'), size: 10 }] }, new AbortController().signal)
      .catch((e: unknown) => e);
    expect(changed).toBeInstanceOf(TransferError);
    expect((changed as TransferError).code).toBe(ErrorCodes.TRANSFER_VERIFY);
    expect(kube.execs).toHaveLength(1);
  });
});

describe('contribution', () => {
  const transfer = createExecTarTransfer();
  const paths = { root: '/kestra', workingDir: '/kestra/working-dir', outputDir: '/kestra/working-dir/out-1' };
  const plan = (hasInputs: boolean, hasOutputs: boolean) => ({
    hasInputs,
    hasOutputs,
    paths,
    identity: { namespace: 'n', flowId: 'f', taskId: 't', executionId: 'e', taskRunId: 'r', attempt: 1 },
  });

  it('adds nothing for a task without files', () => {
    expect(transfer.contribute(plan(false, false))).toEqual({});
  });

  it('adds the volume, the waiting init container and the output sidecar as the reference does', () => {
    const c = transfer.contribute(plan(true, true));
    expect(c.volumes).toEqual([{ name: 'kestra-files', emptyDir: {} }]);
    expect(c.initContainers?.map((x) => x.name)).toEqual(['init-files']);
    expect(c.initContainers?.[0]?.command?.at(-1)).toBe('wait');
    expect(c.sidecars?.map((x) => x.name)).toEqual(['out-files']);
    expect(c.mainVolumeMounts).toEqual([{ name: 'kestra-files', mountPath: '/kestra' }]);
    expect(c.reservedContainerNames).toEqual(['init-files', 'out-files']);
    expect(transfer.contribute(plan(true, false)).sidecars).toEqual([]);
    expect(transfer.contribute(plan(false, true)).initContainers?.[0]?.command?.at(-1)).toBe('nowait');
  });

  it('runs the init script under sh: directories created, waiting skipped without inputs', () => {
    const root = mkdtempSync(join(tmpdir(), 'podrun-init-'));
    try {
      const c = createExecTarTransfer().contribute({
        ...plan(false, true),
        paths: { root, workingDir: `${root}/wd`, outputDir: `${root}/wd/out` },
      });
      const [cmd, ...args] = c.initContainers![0]!.command!;
      execFileSync(cmd!, args);
      expect(existsSync(`${root}/wd/out`)).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
