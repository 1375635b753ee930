// The reference's two examples, on the embedded cluster: Hello World, and data.txt -> out.txt
// byte for byte (also 100 MB of binary, awkward names and nested directories). Also counts the
// API requests one task costs.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '@podrun/core';
import { createKubernetesRunner } from '@podrun/kubernetes-runner';
import { deletedOrGone, testCluster, type TestCluster } from './support/cluster.js';
import { identityFor, testContext } from './support/context.js';

let env: TestCluster;
beforeAll(async () => {
  env = await testCluster();
});
afterAll(async () => {
  await env?.stop();
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const WD = '/kestra/working-dir';

async function fileSha(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function run(label: string, task: Task) {
  const runner = createKubernetesRunner({ kube: env.kube, config: env.config() });
  const ctx = testContext(identityFor(label), join(env.dir, label));
  return { ctx, result: runner.run(task, ctx, new AbortController().signal) };
}

describe('reference examples', () => {
  it('echo "Hello World" logs Hello World and leaves nothing behind', async () => {
    const { ctx, result } = run('hello', { commands: ['echo "Hello World"'], containerImage: 'ubuntu' });
    const r = await result;
    expect(r.exitCode).toBe(0);
    expect(ctx.texts()).toEqual(['Hello World']);
    expect(ctx.lines[0]!.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(await deletedOrGone(env.kube, r.pod!.name)).toBe(true);
  });

  it('gives OUTPUT_DIR a directory even when the task moves no files', async () => {
    // The commands never name OUTPUT_DIR (a tool in the image reading it from its environment).
    const { ctx, result } = run('outdir', {
      commands: [
        'for v in $(env); do case $v in OUT*_DIR=*) d=${v#*=};; esac; done',
        'test -d "$d" && touch "$d/x" && echo "writable $d"',
      ],
      containerImage: 'busybox',
    });
    const r = await result;
    expect(r.exitCode).toBe(0);
    expect(ctx.texts()).toEqual([expect.stringMatching(new RegExp(`^writable ${WD}/out-\\w+$`))]);
  });

  it('copies data.txt to out.txt byte for byte', async () => {
    const data = randomBytes(100_000);
    const input = join(env.dir, 'data.bin');
    writeFileSync(input, data);
    const { ctx, result } = run('file', {
      commands: [`cp ${WD}/data.txt ${WD}/out.txt`],
      containerImage: 'centos',
      inputFiles: { 'data.txt': { uri: `file://${input}` } },
      outputFiles: ['out.txt'],
    });
    const r = await result;
    expect(r.exitCode).toBe(0);
    expect(Object.keys(r.outputFiles)).toEqual(['out.txt']);
    expect(sha(readFileSync(ctx.stored.get('out.txt')!.path))).toBe(sha(data));
  });

  it('round-trips 100 MB of binary, awkward names and nested directories', async () => {
    const big = join(env.dir, 'big.bin');
    const block = randomBytes(1024 * 1024);
    const out = createWriteStream(big);
    for (let i = 0; i < 100; i++) if (!out.write(block)) await new Promise<void>((r) => out.once('drain', () => r()));
    out.end();
    await finished(out);
    const names = [
      'with space.txt',
      `quote'single".txt`,
      'unicode-\u00e9\u00e8\u{1F600}.txt',
      'nested/deeper/file.txt',
    ];
    const inputFiles: Task['inputFiles'] = { 'data.txt': { uri: `file://${big}` } };
    for (const n of names) inputFiles[`in/${n}`] = { content: `content of ${n}` };
    const { ctx, result } = run('big', {
      commands: [`cp ${WD}/data.txt ${WD}/out.txt`, `cp -r ${WD}/in ${WD}/out`, 'echo "$OUTPUT_DIR" > /dev/null'],
      containerImage: 'centos',
      inputFiles,
      outputFiles: ['out.txt', 'out/**'],
    });
    const r = await result;
    expect(r.exitCode).toBe(0);
    expect(Object.keys(r.outputFiles).sort()).toEqual(['out.txt', ...names.map((n) => `out/${n}`)].sort());
    expect(ctx.stored.get('out.txt')!.sha256).toBe(await fileSha(big));
    for (const n of names) expect(readFileSync(ctx.stored.get(`out/${n}`)!.path, 'utf8')).toBe(`content of ${n}`);
  });
});

describe('API economy', () => {
  it('costs a handful of requests per task and never polls the pod', async () => {
    const count = async (task: Task) => {
      env.cluster.metrics.reset();
      await run('economy', task).result;
      const series = env.cluster.metrics
        .series()
        .filter((s) => s.labels.resource === 'pods' || s.labels.resource === 'events');
      const by = (verb: string, sub = '') =>
        series.filter((s) => s.labels.verb === verb && s.labels.subresource === sub).reduce((n, s) => n + s.count, 0);
      const detail = series
        .map(
          (s) =>
            `${s.labels.verb} ${s.labels.resource}${s.labels.subresource ? `/${s.labels.subresource}` : ''}=${s.count}`,
        )
        .sort();
      return {
        total: series.reduce((n, s) => n + s.count, 0),
        get: by('GET'),
        exec: by('CONNECT', 'exec') + by('GET', 'exec'),
        log: by('GET', 'log'),
        detail,
      };
    };
    const hello = await count({ commands: ['echo hi'], containerImage: 'busybox' });
    const files = await count({
      commands: [`cp ${WD}/a ${WD}/b`],
      containerImage: 'busybox',
      inputFiles: { a: { content: 'x' } },
      outputFiles: ['b'],
    });
    console.log(
      `[kubernetes-runner] API requests per task: echo ${JSON.stringify(hello)}; file in+out ${JSON.stringify(files)}`,
    );
    expect(hello.exec).toBe(0);
    expect(hello.get).toBeLessThanOrEqual(2);
    expect(hello.total).toBeLessThanOrEqual(8);
    expect(files.exec).toBeLessThanOrEqual(3);
    expect(files.total).toBeLessThanOrEqual(12);
  });
});
