import { mkdtemp, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, isPodrunError } from '@podrun/core';
import { createLocalStorage, createStateStore, formatStorageUri, isStorageUri, parseStorageUri } from '@podrun/host';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podrun-storage-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('storage', () => {
  it('parses podrun and kestra URIs alike, and refuses escapes', () => {
    expect(isStorageUri('podrun:///a/b')).toBe(true);
    expect(isStorageUri('kestra:///a/b')).toBe(true);
    expect(isStorageUri('/tmp/x')).toBe(false);
    expect(parseStorageUri('kestra:///company.team/flow/e1/t/out%20file.txt')).toEqual([
      'company.team',
      'flow',
      'e1',
      't',
      'out file.txt',
    ]);
    for (const bad of [
      'podrun:///a/../b',
      'podrun:///a//b',
      'http://x/y',
      'podrun:///a/%2e%2e/b',
      'podrun:///a/x%2Fy',
    ]) {
      expect(() => parseStorageUri(bad)).toThrow();
    }
    expect(formatStorageUri(['a b', 'ü'])).toBe('podrun:///a%20b/%C3%BC');
  });

  it('stores task outputs under the task run and reads them by either scheme', async () => {
    const storage = createLocalStorage({ root: join(dir, 's1') });
    const task = storage.forTaskRun({
      namespace: 'ns',
      flowId: 'f',
      executionId: 'e',
      taskId: 't',
      taskRunId: 'r',
      attempt: 1,
    });
    const uri = await task.putOutput('dir/out.txt', Readable.from(['hello']));
    expect(uri).toBe('podrun:///ns/f/e/t/r/dir/out.txt');
    expect(await text((await storage.open(uri.replace('podrun:', 'kestra:'))).content)).toBe('hello');
    expect(await storage.size(uri)).toBe(5);
    // Private to the user running podrun: inputs and outputs can hold secrets.
    expect((await stat(join(dir, 's1/ns/f/e/t/r/dir/out.txt'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 's1/ns/f/e/t/r/dir'))).mode & 0o777).toBe(0o700);
  });

  it('keeps execution state readable by its owner only', async () => {
    const store = createStateStore({ dir: join(dir, 'state') });
    await store.save({
      version: 1,
      id: 'e1',
      namespace: 'ns',
      flowId: 'f',
      flowSource: 'id: f',
      inputs: { password: 'not for others' },
      status: 'RUNNING',
      startedAt: new Date().toISOString(),
      tasks: {},
    } as Parameters<typeof store.save>[0]);
    expect((await stat(join(dir, 'state/executions/e1/state.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'state/executions/e1'))).mode & 0o777).toBe(0o700);
  });

  it('rejects missing files with PODRUN_STORAGE and unsafe output names', async () => {
    const storage = createLocalStorage({ root: join(dir, 's2') });
    const error = await storage.open('podrun:///ns/none.txt').catch((e: unknown) => e);
    expect(isPodrunError(error, ErrorCodes.STORAGE)).toBe(true);
    const task = storage.forTaskRun({
      namespace: 'ns',
      flowId: 'f',
      executionId: 'e',
      taskId: 't',
      taskRunId: 'r',
      attempt: 1,
    });
    await expect(task.putOutput('../x', Readable.from(['x']))).rejects.toMatchObject({ code: ErrorCodes.UNSAFE_PATH });
  });

  it('reads namespace files from their directory', async () => {
    const files = join(dir, 'nsfiles');
    await mkdir(join(files, 'scripts'), { recursive: true });
    await writeFile(join(files, 'scripts', 'run.sh'), 'echo hi');
    const storage = createLocalStorage({
      root: join(dir, 's3'),
      namespaceFiles: (ns) => (ns === 'company.team' ? files : undefined),
    });
    expect(await text((await storage.open('podrun:///company.team/_files/scripts/run.sh')).content)).toBe('echo hi');
  });
});
