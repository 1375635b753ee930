// Checks that the defects of the installed @kubernetes/client-node (1.4.0) that @podrun/kube
// works around are still there. If one of these starts failing after an upgrade, the defect is
// fixed upstream: revisit the workaround named in the test (README "client-node defects").
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiException, CoreV1Api, Exec, Log, makeInformer, type V1Pod, type V1Status } from '@kubernetes/client-node';
import type { EmbeddedCluster } from '@podrun/kube-emulator';
import type { PodrunKubeConfig, PodrunKubePort } from '@podrun/kube';
import { adminKubeConfig } from '@podrun/test-utils';
import { clusterWithPort } from './support/cluster.js';

let cluster: EmbeddedCluster;
let port: PodrunKubePort;
let kc: PodrunKubeConfig;
const NS = 'default';

beforeAll(async () => {
  ({ cluster, port } = await clusterWithPort());
  kc = adminKubeConfig(cluster);
  await port.createPod(NS, {
    metadata: { name: 'target', labels: { suite: 'defects' } },
    spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] },
  });
  await port.createPod(NS, {
    metadata: { name: 'unpullable', labels: { suite: 'defects' } },
    spec: {
      restartPolicy: 'Never',
      containers: [{ name: 'main', image: 'registry.invalid/podrun/none:1', command: ['true'] }],
    },
  });
  const selector = { namespace: NS, labelSelector: 'suite=defects' };
  await port.waitForPod(selector, 'target', (p) => p.status?.phase === 'Running');
  await port.waitForPod(
    selector,
    'unpullable',
    (p) => !!p.status?.containerStatuses?.[0]?.state?.waiting?.reason?.match(/ErrImagePull|BackOff/),
  );
});
afterAll(async () => {
  kc?.close();
  await port?.close();
  await cluster?.stop();
});

const devNull = () => new Writable({ write: (_c, _e, cb) => cb() });

describe('@kubernetes/client-node 1.4.0 defects (workarounds in @podrun/kube)', () => {
  it('is the version these checks are about', () => {
    const require = createRequire(import.meta.url);
    const main = require.resolve('@kubernetes/client-node');
    const pkg = JSON.parse(readFileSync(path.join(main, '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(pkg.version).toBe('1.4.0');
  });

  it('Exec resolves when the socket opens, before the command ends (podrun: runExec waits for the status frame)', async () => {
    let status: V1Status | undefined;
    const statusArrived = new Promise<void>((resolve) => {
      void new Exec(kc)
        .exec(NS, 'target', 'main', ['sh', '-c', 'sleep 1'], devNull(), devNull(), null, false, (s) => {
          status = s;
          resolve();
        })
        .then(() => expect(status).toBeUndefined());
    });
    await statusArrived;
    expect(status?.status).toBe('Success');
  });

  it('Log drops the Status body of a 4xx answer (podrun: openPodLogs reads it)', async () => {
    const error = await new Log(kc).log(NS, 'unpullable', 'main', devNull()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException<unknown>).code).toBe(400);
    expect((error as ApiException<unknown>).body).toBeUndefined();
    expect(String((error as Error).message)).not.toContain('waiting to start');
  });

  it('the informer (ListWatch) stops for good after a non-410 watch error (podrun: PodInformer never stops)', async () => {
    const api = kc.makeApiClient(CoreV1Api);
    const informer = makeInformer<V1Pod>(kc, `/api/v1/namespaces/${NS}/pods`, () =>
      api.listNamespacedPod({ namespace: NS }),
    );
    const seen: string[] = [];
    informer.on('update', (pod) => seen.push(pod.metadata?.labels?.step ?? ''));
    const errored = new Promise<void>((resolve) => informer.on('error', () => resolve()));
    const connected = new Promise<void>((resolve) => informer.on('connect', () => resolve()));
    await informer.start();
    await connected;
    // podrun's own informer on the same pods, to know when the change has been served
    const stop = port.watchPod({ namespace: NS }, 'target', () => undefined);
    await vi.waitFor(() => expect(port.informerStats({ namespace: NS })!.watches).toBeGreaterThanOrEqual(1));

    // Every watch request fails for a while; podrun's informer backs off and retries, client-node's
    // reports the error and never watches again.
    cluster.faults.failNext({ status: 503, verb: 'watch', resource: 'pods', count: 1_000_000 });
    cluster.faults.dropWatches();
    await errored;
    cluster.faults.clearFailures();
    await port.patchPodMetadata(NS, 'target', { labels: { step: 'after-error' } });
    await port.waitForPod({ namespace: NS }, 'target', (p) => p.metadata?.labels?.step === 'after-error');
    expect(seen).not.toContain('after-error');
    stop();
    await informer.stop();
  });

  it('Watch in 1.4.0 has no 30 s abort (2.0.0 does; podrun does not use client-node Watch at all)', () => {
    const require = createRequire(import.meta.url);
    const source = readFileSync(path.join(require.resolve('@kubernetes/client-node'), '..', 'watch.js'), 'utf8');
    // 1.4.0 builds the timeout signal and then overwrites it with the controller's.
    expect(source).toMatch(
      /requestInit\.signal = AbortSignal\.any\(\[controller\.signal, timeoutSignal\]\);\s*requestInit\.signal = controller\.signal;/,
    );
  });
});
