import { execFile } from 'node:child_process';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import picomatch from 'picomatch';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ErrorCodes, defaultPodPaths, silentLogger, type KubePort, type OutputEntry } from '@podrun/core';
import { startConformanceCluster, type ConformanceCluster } from '@podrun/conformance';
import { buildPod } from '@podrun/pod-spec';
import { casePattern, createObjectStorageTransfer } from '@podrun/transfer-object-storage';
import { startTestS3, type TestS3 } from './support/s3-server.js';

const run = promisify(execFile);
let cluster: ConformanceCluster;
let s3: TestS3;

beforeAll(async () => {
  cluster = await startConformanceCluster();
  // Pods reach the server the way they would a bucket: at an address of the pod network.
  s3 = await startTestS3(undefined, cluster.hostIP);
}, 120_000);
afterAll(async () => {
  await s3?.stop();
  await cluster?.stop();
});

/** The cluster's port with pods/exec forbidden, as for a runner without that permission. */
function noExec(kube: KubePort): KubePort {
  return new Proxy(kube, {
    get(target, prop) {
      if (prop === 'exec') return () => Promise.reject(new Error('pods/exec is not allowed for this runner'));
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('object-storage transfer', () => {
  it('moves files with no pods/exec, no credentials in the pod, only signed requests, and cleans up', async () => {
    const kube = noExec(cluster.kube);
    const transfer = createObjectStorageTransfer({
      bucket: s3.bucket,
      prefix: 'runs/',
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: s3.credentials,
    });
    const identity = {
      namespace: 'acme',
      flowId: 'files',
      taskId: 'copy',
      executionId: 'e1',
      taskRunId: 'tr-1',
      attempt: 1,
    };
    const paths = defaultPodPaths(identity);
    const select = { globs: ['out.txt'], outputDir: false, syncWorkingDirectory: false };
    const ctx = { kube, namespace: cluster.namespace, paths, identity, logger: silentLogger };
    const inputs = { entries: [{ path: 'data.txt', size: 5, open: () => Readable.from([Buffer.from('hello')]) }] };
    await transfer.prepare!(ctx, inputs, AbortSignal.timeout(30_000));
    const contribution = transfer.contribute({ hasInputs: true, hasOutputs: true, paths, identity, select });
    const pod = buildPod({
      task: { commands: ['cp data.txt out.txt'], containerImage: cluster.image, outputFiles: ['out.txt'] },
      config: {
        namespace: cluster.namespace,
        pullPolicy: 'IF_NOT_PRESENT',
        fileSidecar: { image: cluster.image },
        waitUntilCompletion: 600_000,
      },
      identity,
      paths,
      contribution,
    });
    const json = JSON.stringify(pod);
    expect(json).not.toContain(s3.credentials.secretAccessKey);
    const created = await kube.createPod(cluster.namespace, pod);
    const tctx = { ...ctx, podName: created.metadata!.name! };
    const received: { entry: OutputEntry; text: string }[] = [];
    await transfer.uploadInputs(tctx, inputs, AbortSignal.timeout(60_000));
    await transfer.downloadOutputs(
      tctx,
      select,
      { write: async (entry, content) => void received.push({ entry, text: (await content.toArray()).join('') }) },
      AbortSignal.timeout(120_000),
    );
    expect(received.map((r) => [r.entry.name, r.text])).toEqual([['out.txt', 'hello']]);
    await transfer.release(tctx);
    await transfer.release(tctx);
    await kube.deletePod(cluster.namespace, tctx.podName, { gracePeriodSeconds: 0 });

    expect(s3.requests.length).toBeGreaterThan(0);
    expect(s3.requests.every((r) => r.ok)).toBe(true);
    expect(
      s3.requests
        .filter((r) => r.presigned)
        .map((r) => r.method)
        .sort(),
    ).toEqual(['GET', 'PUT']);
    const left = await s3.client().send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'runs/' }));
    expect(left.KeyCount ?? 0).toBe(0);
  });

  it('rejects invalid options with one configuration error', () => {
    let error: unknown;
    try {
      createObjectStorageTransfer({ bucket: '', urlExpiry: 8 * 86_400_000, partSize: 1024 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe(ErrorCodes.CONFIG_INVALID);
    expect((error as ConfigError).issues.map((i) => i.path)).toEqual(['bucket', 'urlExpiry', 'partSize']);
  });

  it("pre-selects in the pod a superset of what each glob matches (checked with the machine's sh)", async () => {
    const globs = [
      '*.csv',
      '**/*.json',
      'out/**',
      'a?c.txt',
      '[ab]*.log',
      '{x,y}.txt',
      'regex:.*\\.bin',
      'dir/*/leaf',
      '/kestra/working-dir/abs.txt',
    ];
    const paths = [
      'a.csv',
      'sub/a.csv',
      'x.json',
      'a/b/c.json',
      'out/f',
      'out/d/e',
      'abc.txt',
      'b.log',
      'x.txt',
      'y.txt',
      'z.bin',
      'dir/q/leaf',
      'abs.txt',
      'other',
    ];
    for (const glob of globs) {
      const exact = glob.startsWith('regex:')
        ? (p: string) => new RegExp(`^${glob.slice(6)}$`).test(p)
        : picomatch(glob.replace('/kestra/working-dir/', ''), { dot: true });
      const pattern = casePattern(glob, '/kestra/working-dir');
      const { stdout } = await run('sh', [
        '-c',
        'set -f; g=$1; shift; for p do case "$p" in $g) echo "$p";; esac; done',
        'sh',
        pattern,
        ...paths,
      ]);
      const matched = new Set(stdout.split('\n').filter(Boolean));
      for (const path of paths.filter((p) => exact(p)))
        expect(matched.has(path), `${glob} -> ${pattern} misses ${path}`).toBe(true);
    }
  });
});
