import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as k8s from '@kubernetes/client-node';
import { startCluster } from '../src/index.js';
import type { EmbeddedCluster } from '../src/index.js';
import { coreApi, pod, rawRequest, readWatch } from './api-helpers.js';

let cluster: EmbeddedCluster;
let api: k8s.CoreV1Api;

beforeAll(async () => {
  cluster = await startCluster();
  api = coreApi(cluster.kubeconfig);
});
afterAll(async () => {
  await cluster?.stop();
});

/** Waits (by watching) until the pod satisfies `ready`. */
async function waitForPod(name: string, ready: (p: k8s.V1Pod) => boolean): Promise<k8s.V1Pod> {
  const { events } = await readWatch(
    cluster.kubeconfig,
    `/api/v1/namespaces/default/pods?watch=1&fieldSelector=metadata.name%3D${name}`,
    (e) => e.some((x) => ready(x.object as k8s.V1Pod)),
  );
  return events.find((x) => ready(x.object as k8s.V1Pod))!.object as k8s.V1Pod;
}

describe('faults', () => {
  it('failNext answers 429 with Retry-After, then recovers', async () => {
    cluster.faults.failNext({ status: 429, retryAfterSeconds: 2 });
    const limited = await rawRequest(cluster.kubeconfig, '/api/v1/namespaces/default/pods');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('2');
    expect(limited.json()).toMatchObject({
      kind: 'Status',
      reason: 'TooManyRequests',
      code: 429,
      details: { retryAfterSeconds: 2 },
    });
    expect((await rawRequest(cluster.kubeconfig, '/api/v1/namespaces/default/pods')).status).toBe(200);
  });

  it('failNext can target a verb and resource, and counts down', async () => {
    cluster.faults.failNext({ status: 503, count: 2, verb: 'list', resource: 'configmaps' });
    expect((await rawRequest(cluster.kubeconfig, '/api/v1/namespaces/default/pods')).status).toBe(200);
    expect(
      (await rawRequest(cluster.kubeconfig, '/api/v1/namespaces/default/configmaps/kube-root-ca.crt')).status,
    ).toBe(200);
    const first = await api.listNamespacedConfigMap({ namespace: 'default' }).catch((e: { code: number }) => e);
    expect((first as { code: number }).code).toBe(503);
    const second = await rawRequest(cluster.kubeconfig, '/api/v1/namespaces/default/configmaps');
    expect(second.json()).toMatchObject({ reason: 'ServiceUnavailable', code: 503 });
    expect((await api.listNamespacedConfigMap({ namespace: 'default' })).items.length).toBeGreaterThan(0);
  });

  it('takes faults over the admin HTTP path from admins only', async () => {
    const posted = await rawRequest(cluster.kubeconfig, '/podrun-admin/faults/failNext', {
      method: 'POST',
      body: { status: 500, resource: 'secrets' },
    });
    expect(posted.status).toBe(200);
    const failed = await rawRequest(cluster.kubeconfig, '/api/v1/namespaces/default/secrets');
    expect(failed.json()).toMatchObject({ reason: 'InternalError', code: 500 });
    const denied = await rawRequest(cluster.kubeconfigFor({ user: 'mallory' }), '/podrun-admin/faults/dropWatches', {
      method: 'POST',
      body: {},
    });
    expect(denied.status).toBe(403);
    const unknown = await rawRequest(cluster.kubeconfig, '/podrun-admin/faults/nonsense', { method: 'POST', body: {} });
    expect(unknown.status).toBe(400);
  });
});

describe('node faults through the API server', () => {
  it('stopScheduling keeps new pods Pending and Unschedulable until resumed', async () => {
    cluster.faults.stopScheduling();
    await api.createNamespacedPod({ namespace: 'default', body: pod('held', {}, ['sh', '-c', 'sleep 300']) });
    const held = await waitForPod(
      'held',
      (p) => !!p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False'),
    );
    expect(held.status?.phase).toBe('Pending');
    expect(held.spec?.nodeName).toBeUndefined();
    const resumed = await rawRequest(cluster.kubeconfig, '/podrun-admin/faults/resumeScheduling', {
      method: 'POST',
      body: {},
    });
    expect(resumed.status).toBe(200);
    await waitForPod('held', (p) => p.status?.phase === 'Running');
  });

  it('claimProvisioning held: claims stay Pending and their pods Unschedulable until provisioned', async () => {
    cluster.faults.claimProvisioning('held');
    try {
      await api.createNamespacedPersistentVolumeClaim({
        namespace: 'default',
        body: {
          metadata: { name: 'slow-claim' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
      });
      expect(
        (await api.readNamespacedPersistentVolumeClaim({ namespace: 'default', name: 'slow-claim' })).status?.phase,
      ).toBe('Pending');
      const body = pod('claims', {}, ['sh', '-c', 'ls /data && echo mounted']);
      body.spec!.volumes = [{ name: 'data', persistentVolumeClaim: { claimName: 'slow-claim' } }];
      body.spec!.containers[0]!.volumeMounts = [{ name: 'data', mountPath: '/data' }];
      await api.createNamespacedPod({ namespace: 'default', body });
      const waiting = await waitForPod(
        'claims',
        (p) => !!p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False'),
      );
      expect(waiting.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message).toBe(
        '0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
      );
    } finally {
      cluster.faults.claimProvisioning('immediate');
    }
    const claim = await api.readNamespacedPersistentVolumeClaim({ namespace: 'default', name: 'slow-claim' });
    expect(claim.status?.phase).toBe('Bound');
    expect(claim.spec?.volumeName).toMatch(/^pvc-/);
    await waitForPod('claims', (p) => p.status?.phase === 'Succeeded');
  });

  it('oomKill and evict fail running pods with the kubelet reasons', async () => {
    cluster.faults.oomKill('default', 'held');
    const killed = await waitForPod('held', (p) => p.status?.phase === 'Failed');
    expect(killed.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      reason: 'OOMKilled',
      exitCode: 137,
    });
    await api.createNamespacedPod({ namespace: 'default', body: pod('evictee', {}, ['sh', '-c', 'sleep 300']) });
    await waitForPod('evictee', (p) => p.status?.phase === 'Running');
    const evicted = await rawRequest(cluster.kubeconfig, '/podrun-admin/faults/evict', {
      method: 'POST',
      body: { namespace: 'default', pod: 'evictee' },
    });
    expect(evicted.status).toBe(200);
    const failed = await waitForPod('evictee', (p) => p.status?.phase === 'Failed');
    expect(failed.status?.reason).toBe('Evicted');
    const missing = await rawRequest(cluster.kubeconfig, '/podrun-admin/faults/oomKill', {
      method: 'POST',
      body: { namespace: 'default', pod: 'ghost' },
    });
    expect(missing.status).toBe(400);
  });
});

describe('metrics', () => {
  it('counts requests by verb, resource, subresource and code in Prometheus text', async () => {
    cluster.metrics.reset();
    await api.listNamespacedPod({ namespace: 'default' });
    await api.listNamespacedPod({ namespace: 'default' });
    await api.readNamespacedPod({ namespace: 'default', name: 'missing' }).catch(() => undefined);
    expect(cluster.metrics.requestCount({ verb: 'list', resource: 'pods' })).toBe(2);
    expect(cluster.metrics.requestCount({ verb: 'GET', resource: 'pods', code: 404 })).toBe(1);
    const text = (await rawRequest(cluster.kubeconfig, '/metrics')).text;
    expect(text).toContain('# TYPE apiserver_request_total counter');
    expect(text).toMatch(
      /^apiserver_request_total\{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1"\} 2$/m,
    );
    expect(text).toMatch(/^apiserver_request_total\{code="404",.*resource="pods",.*verb="GET".*\} 1$/m);
    cluster.metrics.reset();
    expect(cluster.metrics.requestCount()).toBe(0);
  });
});

describe('restartApiServer', () => {
  it('closes every connection and listens again on the same port while pods keep running', async () => {
    await api.createNamespacedPod({
      namespace: 'default',
      body: pod('survivor', {}, ['sh', '-c', 'echo started; sleep 300']),
    });
    const running = await waitForPod('survivor', (p) => p.status?.phase === 'Running');
    const startedAt = running.status?.containerStatuses?.[0]?.state?.running?.startedAt;
    const rv = (await api.listNamespacedPod({ namespace: 'default' })).metadata!.resourceVersion!;
    const port = new URL(cluster.url).port;
    const watch = readWatch(
      cluster.kubeconfig,
      `/api/v1/namespaces/default/pods?watch=1&resourceVersion=${rv}`,
      () => false,
      () => {
        void cluster.restartApiServer();
      },
    );
    expect((await watch).ended).toBe(true);
    const after = await api.readNamespacedPod({ namespace: 'default', name: 'survivor' });
    expect(new URL(cluster.url).port).toBe(port);
    expect(after.status?.phase).toBe('Running');
    expect(new Date(after.status!.containerStatuses![0]!.state!.running!.startedAt!).getTime()).toBe(
      new Date(String(startedAt)).getTime(),
    );
    expect(after.status?.containerStatuses?.[0]?.restartCount).toBe(0);

    const viaHttp = await rawRequest(cluster.kubeconfig, '/podrun-admin/faults/restartApiServer', {
      method: 'POST',
      body: {},
    });
    expect(viaHttp.status).toBe(202);
    // The restart happens right after the 202; a request racing it may see its connection reset.
    let log: string | undefined;
    for (let attempt = 0; log === undefined; attempt++) {
      log = await api.readNamespacedPodLog({ namespace: 'default', name: 'survivor' }).catch((e: Error) => {
        if (attempt > 50 || !/ECONNRESET|ECONNREFUSED|socket hang up/.test(String(e.message))) throw e;
        return new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 20));
      });
    }
    expect(log).toBe('started\n');
    await api.deleteNamespacedPod({ namespace: 'default', name: 'survivor', gracePeriodSeconds: 0 });
  });
});
