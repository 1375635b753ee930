// pods/log and pods/exec through the port against the embedded cluster, whose pods really run.
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import type { EmbeddedCluster } from '@podrun/kube-emulator';
import { ErrorCodes, ExecError, KubeApiError, isPodrunError } from '@podrun/core';
import type { PodrunKubePort } from '@podrun/kube';
import { clusterWithPort } from './support/cluster.js';

let cluster: EmbeddedCluster;
let port: PodrunKubePort;
const NS = 'default';
const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /;

beforeAll(async () => {
  ({ cluster, port } = await clusterWithPort());
});
afterAll(async () => {
  await port?.close();
  await cluster?.stop();
});

async function run(name: string, script: string, until: (p: V1Pod) => boolean): Promise<V1Pod> {
  await port.createPod(NS, {
    metadata: { name, labels: { suite: 'logs-exec' } },
    spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', script] }] },
  });
  return await port.waitForPod({ namespace: NS, labelSelector: 'suite=logs-exec' }, name, until);
}
const finished = (p: V1Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
const running = (p: V1Pod) => p.status?.phase === 'Running';

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

function sink() {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c);
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

describe('podLogs', () => {
  it('streams a log with RFC3339Nano timestamps, keeping whitespace; sinceTime, tailLines 0 and limitBytes', async () => {
    // separate writes, so each line gets its own timestamp
    await run('logs-done', 'echo one; sleep 0.1; echo "  two  "; sleep 0.1; echo three', finished);
    const lines = (await text(await port.podLogs(NS, 'logs-done', { container: 'main', timestamps: true })))
      .split('\n')
      .filter(Boolean);
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatch(TS);
    expect(lines.map((l) => l.replace(TS, ''))).toEqual(['one', '  two  ', 'three']);

    // kube-apiserver passes sinceTime on without its fraction: the log is read from the start of
    // that second, whatever fraction was asked for.
    const since = lines[1]!.split(' ')[0]!;
    const second = (ts: string): string => ts.replace(/\.\d+Z$/, 'Z');
    const fromTwo = await text(await port.podLogs(NS, 'logs-done', { container: 'main', sinceTime: since }));
    const expected = lines
      .filter((l) => second(l.split(' ')[0]!) >= second(since))
      .map((l) => `${l.replace(TS, '')}\n`)
      .join('');
    expect(fromTwo).toBe(expected);
    expect(fromTwo.endsWith('  two  \nthree\n')).toBe(true);
    expect(await text(await port.podLogs(NS, 'logs-done', { container: 'main', tailLines: 0 }))).toBe('');
    expect(await text(await port.podLogs(NS, 'logs-done', { container: 'main', limitBytes: 3 }))).toBe('one');
  });

  it('follows a running container until it terminates', async () => {
    await run('logs-follow', 'for i in 1 2 3 4; do echo line$i; sleep 0.2; done', running);
    const body = await text(await port.podLogs(NS, 'logs-follow', { container: 'main', follow: true }));
    expect(body).toBe('line1\nline2\nline3\nline4\n');
  });

  it('surfaces the 400 message for a container that is waiting to start', async () => {
    await port.createPod(NS, {
      metadata: { name: 'logs-waiting', labels: { suite: 'logs-exec' } },
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'main', image: 'registry.invalid/podrun/none:1', command: ['true'] }],
      },
    });
    await port.waitForPod({ namespace: NS, labelSelector: 'suite=logs-exec' }, 'logs-waiting', (p) =>
      /ErrImagePull|ImagePullBackOff/.test(p.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? ''),
    );
    const error = await port.podLogs(NS, 'logs-waiting', { container: 'main' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect((error as KubeApiError).status).toBe(400);
    // the server's own explanation reaches the caller (client-node's Log class loses it)
    expect((error as KubeApiError).message).toContain('is waiting to start');
  });
});

describe('exec', () => {
  it('closes stdin over v5 and resolves with the exit code from the status frame', async () => {
    await run('exec-target', 'sleep 3600', running);
    const out = sink();
    const result = await port.exec(NS, 'exec-target', 'main', ['sh', '-c', 'cat; exit 3'], {
      stdin: Readable.from([Buffer.from('abc')]),
      stdout: out.stream,
    });
    expect(result.exitCode).toBe(3);
    expect(out.text()).toBe('abc');
    expect((await port.exec(NS, 'exec-target', 'main', ['true'], {})).exitCode).toBe(0);
    // stdin alone: the server's first frame is then an empty one on the status channel.
    const stdinOnly = await port.exec(NS, 'exec-target', 'main', ['sh', '-c', 'cat > /tmp/in; exit 4'], {
      stdin: Readable.from([Buffer.from('abc')]),
    });
    expect(stdinOnly.exitCode).toBe(4);
  });

  it('rejects with PODRUN_EXEC_NO_STATUS when the server cuts the socket (faults.cutExecAfterBytes)', async () => {
    cluster.faults.cutExecAfterBytes(4096, 1);
    const error = await port
      .exec(NS, 'exec-target', 'main', ['head', '-c', '1000000', '/dev/zero'], { stdout: sink().stream })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecError);
    expect(isPodrunError(error, ErrorCodes.EXEC_NO_STATUS)).toBe(true);
  });

  it('retries an upgrade the server answered 503', async () => {
    cluster.metrics.reset();
    cluster.faults.failNext({ status: 503, subresource: 'exec' });
    expect((await port.exec(NS, 'exec-target', 'main', ['true'], {})).exitCode).toBe(0);
    expect(cluster.metrics.requestCount({ subresource: 'exec', code: 503 })).toBe(1);
  });

  it('rejects with a KubeApiError for a container that has completed', async () => {
    await run('exec-done', 'true', finished);
    const error = await port.exec(NS, 'exec-done', 'main', ['true'], {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect((error as KubeApiError).status).toBe(400);
  });
});
