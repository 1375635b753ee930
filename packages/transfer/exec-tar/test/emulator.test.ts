// exec-tar on real pods of the embedded cluster: the contribution as pod-spec builds it, uploads
// into the waiting init container, downloads out of the sidecar, release, and dropped streams.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPodPaths, parseRunnerConfig, silentLogger, type TransferContext } from '@podrun/core';
import type { PodrunKubePort } from '@podrun/kube';
import { startTestCluster, type TestCluster } from '@podrun/test-utils';
import { MANAGED_BY_LABEL, buildPod } from '@podrun/pod-spec';
import { createExecTarTransfer } from '@podrun/transfer-exec-tar';
import { MemorySink, entry, identity, sha } from './support/fixtures.js';

let cluster: TestCluster;
let kube: PodrunKubePort;
beforeAll(async () => {
  cluster = await startTestCluster({ port: { retry: { baseDelayMs: 50, maxDelayMs: 500 } } });
  kube = cluster.kube;
});
afterAll(async () => {
  await cluster?.stop();
});

const selector = { namespace: 'default', labelSelector: `${MANAGED_BY_LABEL}=podrun` };
const transfer = createExecTarTransfer({ retryDelayMs: 50 });
let n = 0;

async function podWithFiles(commands: string[], port: PodrunKubePort = kube): Promise<TransferContext> {
  const id = { ...identity, taskRunId: `run-${++n}-${Date.now().toString(36)}` };
  const paths = defaultPodPaths(id);
  const contribution = transfer.contribute({ hasInputs: true, hasOutputs: true, paths, identity: id });
  const spec = buildPod({
    task: { commands, containerImage: 'busybox' },
    config: parseRunnerConfig({ namespace: 'default', pullPolicy: 'IF_NOT_PRESENT' }),
    identity: id,
    paths,
    contribution,
    transferName: transfer.name,
  });
  const pod = await port.createPod('default', spec);
  return {
    kube: port,
    namespace: 'default',
    podName: pod.metadata!.name!,
    paths,
    identity: id,
    logger: silentLogger,
    podSelector: selector,
  };
}

const mainDone = (ctx: TransferContext) =>
  ctx.kube.waitForPod(selector, ctx.podName, (p) =>
    Boolean(p.status?.containerStatuses?.find((s) => s.name === 'main')?.state?.terminated),
  );

describe('exec-tar on the embedded cluster', () => {
  it('stages inputs before main starts and brings the selected outputs back verified', async () => {
    const names = ['data.txt', 'dir with space/q"uote\'s.txt', 'unicode-\u00e9\u{1F600}/f.bin'];
    const content = (name: string) => Buffer.from(`${name}\n`.repeat(1000));
    const ctx = await podWithFiles([
      'cd "$WORKING_DIR"',
      'sha256sum data.txt > "$OUTPUT_DIR/seen.txt"',
      'cp -r "dir with space" copy',
      'cp data.txt out.txt',
    ]);
    const report = await transfer.uploadInputs(
      ctx,
      { entries: names.map((p) => entry(p, content(p))) },
      new AbortController().signal,
    );
    expect(report).toMatchObject({ files: 3, verified: true });
    const done = await mainDone(ctx);
    expect(transfer.inputsStaged(ctx, done)).toBe(true);
    const sink = new MemorySink();
    await transfer.downloadOutputs(
      ctx,
      { globs: ['out.txt', 'copy/**'], outputDir: true, syncWorkingDirectory: false },
      sink,
      new AbortController().signal,
    );
    expect([...sink.files.keys()].sort()).toEqual(['copy/q"uote\'s.txt', 'out.txt', 'seen.txt']);
    expect(sha(sink.files.get('out.txt')!.content)).toBe(sha(content('data.txt')));
    expect(sink.files.get('seen.txt')!.content.toString()).toContain(sha(content('data.txt')));
    // The waiting containers recorded their pids for the wake-up signals (Kubernetes would have
    // turned a `$$` in their args into `$`).
    const chunks: Buffer[] = [];
    const pids = await kube.exec(
      ctx.namespace,
      ctx.podName,
      'out-files',
      ['cat', `${ctx.paths.root}/init.pid`, `${ctx.paths.root}/sidecar.pid`],
      { stdout: new Writable({ write: (chunk: Buffer, _e, done) => void (chunks.push(chunk), done()) }) },
      new AbortController().signal,
    );
    expect(pids.exitCode).toBe(0);
    expect(Buffer.concat(chunks).toString()).toMatch(/^\d+\n\d+\n$/);
    await transfer.release(ctx);
    await transfer.release(ctx);
    const ended = await kube.waitForPod(
      selector,
      ctx.podName,
      (p) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed',
    );
    expect(ended.status?.phase).toBe('Succeeded');
  });

  it('survives streams cut before the upload answer and in the middle of a download', async () => {
    const ctx = await podWithFiles([
      'head -c 2000000 /dev/urandom > "$WORKING_DIR/big.bin"',
      'sha256sum < "$WORKING_DIR/big.bin" > "$WORKING_DIR/big.sha"',
      'cp "$WORKING_DIR/in.txt" "$WORKING_DIR/out.txt"',
    ]);
    cluster.faults.cutExecAfterBytes(1, 1);
    const up = await transfer.uploadInputs(ctx, { entries: [entry('in.txt', 'hello')] }, new AbortController().signal);
    expect(up.verified).toBe(true);
    await mainDone(ctx);
    cluster.faults.cutExecAfterBytes(500_000, 1);
    const sink = new MemorySink();
    const down = await transfer.downloadOutputs(
      ctx,
      { globs: ['*.bin', '*.sha', 'out.txt'], outputDir: false, syncWorkingDirectory: false },
      sink,
      new AbortController().signal,
    );
    cluster.faults.cutExecAfterBytes(undefined);
    expect(down.attempts).toBeGreaterThan(1);
    expect(sink.files.get('big.bin')!.content.length).toBe(2_000_000);
    const written = sink.files.get('big.sha')!.content.toString().split(' ')[0];
    expect(sha(sink.files.get('big.bin')!.content)).toBe(written);
    expect(sink.files.get('out.txt')!.content.toString()).toBe('hello');
    await transfer.release(ctx);
    await kube.deletePod('default', ctx.podName, { gracePeriodSeconds: 0 });
  });
});

// Before 1.30 exec speaks v4.channel.k8s.io at most, which cannot close stdin: BusyBox tar and
// `cat` would wait for an end that never comes. The scripts read exactly the announced bytes.
describe('exec-tar on a Kubernetes 1.29 server (exec v4, no stdin close)', () => {
  let old: TestCluster;
  let port: PodrunKubePort;
  beforeAll(async () => {
    old = await startTestCluster({ cluster: { kubernetesVersion: '1.29.4' } });
    port = old.kube;
  });
  afterAll(async () => {
    await old?.stop();
  });

  it('uploads, downloads and releases within the run', async () => {
    const ctx = await podWithFiles(['cp "$WORKING_DIR/in.txt" "$OUTPUT_DIR/out.txt"'], port);
    const signal = AbortSignal.timeout(60_000);
    const up = await transfer.uploadInputs(ctx, { entries: [entry('in.txt', 'over v4')] }, signal);
    expect(up.verified).toBe(true);
    await mainDone(ctx);
    const sink = new MemorySink();
    await transfer.downloadOutputs(ctx, { globs: [], outputDir: true, syncWorkingDirectory: false }, sink, signal);
    expect(sink.files.get('out.txt')!.content.toString()).toBe('over v4');
    await transfer.release(ctx);
  });
});
