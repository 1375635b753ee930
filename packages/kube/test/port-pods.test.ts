// Pod CRUD, PVCs, events, canI and version against the embedded cluster, plus the retry rules:
// 429 (Retry-After honoured), 5xx, 409 AlreadyExists vs Conflict, dropped connections around a
// create (ambiguous: look before re-posting), and an API server restart.
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedCluster } from '@podrun/kube-emulator';
import { ErrorCodes, KubeApiError, isPodrunError } from '@podrun/core';
import { createKubeConfig, createKubePort, CREATE_REQUEST_ANNOTATION, type PodrunKubePort } from '@podrun/kube';
import { clusterWithPort, sleeper } from './support/cluster.js';
import { startCuttingProxy, type CuttingProxy } from './support/cutting-proxy.js';

let cluster: EmbeddedCluster;
let port: PodrunKubePort;
let debug: Array<{ message: string; fields?: Record<string, unknown> }>;
let proxy: CuttingProxy;
let viaProxy: PodrunKubePort;
const NS = 'default';

beforeAll(async () => {
  ({ cluster, port, debug } = await clusterWithPort({
    staticTokens: [{ token: 'tok-proxy-admin', user: 'proxy-admin', groups: ['system:masters'] }],
  }));
  proxy = await startCuttingProxy(cluster.url, cluster.caCertPem);
  // These tests need pod objects, not processes: keep pods Pending so no sandbox is built.
  cluster.faults.stopScheduling();
  viaProxy = createKubePort({
    kubeConfig: createKubeConfig({ masterUrl: proxy.url, oauthToken: 'tok-proxy-admin' }, {}),
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
  });
});
afterAll(async () => {
  await viaProxy?.close();
  await port?.close();
  await proxy?.stop();
  await cluster?.stop();
});

const count = (verb: string, resource = 'pods', code?: number) =>
  cluster.metrics.requestCount({ verb, resource, ...(code ? { code } : {}) });

describe('pods', () => {
  it('creates (name and generateName), gets, lists by selector, patches metadata and deletes', async () => {
    const named = await port.createPod(NS, sleeper({ suite: 'crud' }, 'crud-named'));
    const generated = await port.createPod(NS, sleeper({ suite: 'crud' }));
    expect(named.metadata?.name).toBe('crud-named');
    expect(generated.metadata?.name).toMatch(/^t\d+-/);
    expect(named.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(named.metadata?.annotations?.[CREATE_REQUEST_ANNOTATION]).toBeTruthy();

    expect((await port.getPod(NS, 'crud-named'))?.metadata?.uid).toBe(named.metadata?.uid);
    expect(await port.getPod(NS, 'crud-missing')).toBeUndefined();
    const listed = await port.listPods(NS, 'suite=crud');
    expect(listed.map((p) => p.metadata?.name).sort()).toEqual([generated.metadata?.name, 'crud-named'].sort());

    const patched = await port.patchPodMetadata(NS, 'crud-named', {
      labels: { extra: 'yes', suite: null },
      annotations: { note: 'n' },
    });
    expect(patched.metadata?.labels).toMatchObject({ extra: 'yes' });
    expect(patched.metadata?.labels?.suite).toBeUndefined();
    expect(patched.metadata?.annotations?.note).toBe('n');

    await port.deletePod(NS, 'crud-named', { gracePeriodSeconds: 0 });
    await port.deletePod(NS, 'crud-named'); // already gone: not an error
    await port.deletePod(NS, generated.metadata!.name!, { gracePeriodSeconds: 0 });
  });

  it('does not retry 409 AlreadyExists', async () => {
    await port.createPod(NS, sleeper({ suite: 'dup' }, 'dup-pod'));
    cluster.metrics.reset();
    const error = await port.createPod(NS, sleeper({ suite: 'dup' }, 'dup-pod')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect((error as KubeApiError).status).toBe(409);
    expect((error as KubeApiError).reason).toBe('AlreadyExists');
    expect(count('POST')).toBe(1);
  });
});

describe('retries', () => {
  it('retries a 429 after the Retry-After the server sent', async () => {
    cluster.metrics.reset();
    debug.length = 0;
    cluster.faults.failNext({ status: 429, verb: 'create', resource: 'pods', retryAfterSeconds: 1 });
    const pod = await port.createPod(NS, sleeper({ suite: 'retry' }));
    expect(pod.metadata?.name).toBeTruthy();
    expect(count('POST', 'pods', 429)).toBe(1);
    expect(count('POST', 'pods', 201)).toBe(1);
    const retry = debug.find((d) => d.fields?.status === 429);
    expect(retry?.fields?.delayMs).toBeGreaterThanOrEqual(1000);
  });

  it('retries 5xx on idempotent calls and gives up after maxAttempts', async () => {
    cluster.metrics.reset();
    cluster.faults.failNext({ status: 503, verb: 'get', resource: 'pods', count: 2 });
    cluster.faults.failNext({ status: 500, verb: 'list', resource: 'pods' });
    expect(await port.getPod(NS, 'dup-pod')).toBeDefined();
    expect(await port.listPods(NS, 'suite=dup')).toHaveLength(1);
    expect(count('GET', 'pods', 503)).toBe(2);
    expect(count('LIST', 'pods', 500)).toBe(1);

    cluster.faults.failNext({ status: 500, verb: 'get', resource: 'pods', count: 50 });
    const error = await port.getPod(NS, 'dup-pod').catch((e: unknown) => e);
    cluster.faults.clearFailures();
    expect(error).toBeInstanceOf(KubeApiError);
    expect((error as KubeApiError).status).toBe(500);
    expect((error as KubeApiError).details.attempts).toBe(6);
  });

  it('a create whose connection dropped after the server made the pod returns that pod (no duplicate)', async () => {
    cluster.metrics.reset();
    proxy.rules.push({ method: 'POST', pathPattern: /\/pods$/, when: 'after', remaining: 1 });
    const pod = await viaProxy.createPod(NS, sleeper({ suite: 'cut-named' }, 'cut-named'));
    expect(pod.metadata?.name).toBe('cut-named');
    expect(count('POST', 'pods')).toBe(1);
    expect(await port.listPods(NS, 'suite=cut-named')).toHaveLength(1);

    proxy.rules.push({ method: 'POST', pathPattern: /\/pods$/, when: 'after', remaining: 1 });
    const generated = await viaProxy.createPod(NS, sleeper({ suite: 'cut-generated' }));
    expect(count('POST', 'pods')).toBe(2);
    const all = await port.listPods(NS, 'suite=cut-generated');
    expect(all.map((p) => p.metadata?.uid)).toEqual([generated.metadata?.uid]);
  });

  it('a create whose connection dropped before the server saw it is sent again', async () => {
    cluster.metrics.reset();
    proxy.rules.push({ method: 'POST', pathPattern: /\/pods$/, when: 'before', remaining: 1 });
    const pod = await viaProxy.createPod(NS, sleeper({ suite: 'cut-before' }, 'cut-before'));
    expect(pod.metadata?.name).toBe('cut-before');
    expect(count('POST', 'pods')).toBe(1);
  });

  it('rides out an API server restart (connections refused and reset)', async () => {
    let restarted = false;
    const restart = cluster.restartApiServer().then(() => (restarted = true));
    // Keep calling while the server goes down and comes back: every call must succeed.
    let calls = 0;
    while (!restarted) {
      expect((await port.getPod(NS, 'dup-pod'))?.metadata?.name).toBe('dup-pod');
      calls++;
    }
    await restart;
    expect(calls).toBeGreaterThan(0);
    expect((await port.createPod(NS, sleeper({ suite: 'after-restart' }))).metadata?.name).toBeTruthy();
  });

  it('an unreachable server fails with PODRUN_KUBE_CONNECTION', async () => {
    const dead = createKubePort({
      kubeConfig: createKubeConfig({ masterUrl: 'https://127.0.0.1:1', trustCerts: true, oauthToken: 'x' }, {}),
      retry: { maxAttempts: 2, baseDelayMs: 5 },
    });
    const error = await dead.listPods(NS).catch((e: unknown) => e);
    expect(isPodrunError(error, ErrorCodes.KUBE_CONNECTION)).toBe(true);
    await dead.close();
  });
});

describe('other resources', () => {
  it('creates, gets and deletes a PVC', async () => {
    const claim = await port.createPersistentVolumeClaim(NS, {
      metadata: { name: 'work' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    expect(claim.metadata?.name).toBe('work');
    expect((await port.getPersistentVolumeClaim(NS, 'work'))?.metadata?.uid).toBe(claim.metadata?.uid);
    await port.deletePersistentVolumeClaim(NS, 'work');
    await port.deletePersistentVolumeClaim(NS, 'work');
    expect(await port.getPersistentVolumeClaim(NS, 'work')).toBeUndefined();
  });

  it('answers canI from a SelfSubjectAccessReview, for admin and a limited identity', async () => {
    expect((await port.canI({ namespace: NS, verb: 'create', resource: 'pods', subresource: 'exec' })).allowed).toBe(
      true,
    );
    const limited = createKubePort({ kubeConfig: kubeConfigFor({ user: 'nobody' }) });
    expect((await limited.canI({ namespace: NS, verb: 'delete', resource: 'pods' })).allowed).toBe(false);
    await limited.close();
  });

  it("reads the server version and lists a pod's events", async () => {
    expect((await port.serverVersion()).major).toBe('1');
    const events = await port.listPodEvents(NS, 'dup-pod');
    expect(Array.isArray(events)).toBe(true);
    for (const e of events) expect(e.involvedObject.name).toBe('dup-pod');
  });

  it('orders events by their time, eventTime (a MicroTime string) included', async () => {
    // Events written through events.k8s.io/v1 reach core/v1 with eventTime only; client-node's
    // models leave that MicroTime a string, so ordering must read it as a time too.
    const event = (name: string, times: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: NS },
      involvedObject: { kind: 'Pod', name: 'timed-pod', namespace: NS },
      reason: name,
      message: name,
      type: 'Normal',
      ...times,
    });
    for (const e of [
      event('a-third', { eventTime: '2026-01-01T00:00:03.000001Z', reportingComponent: 'test', action: 'x' }),
      event('b-first', { lastTimestamp: '2026-01-01T00:00:01Z' }),
      event('c-second', { firstTimestamp: '2026-01-01T00:00:02Z' }),
    ])
      await postAsAdmin(`/api/v1/namespaces/${NS}/events`, e);
    const events = await port.listPodEvents(NS, 'timed-pod');
    // Listed by name (a, b, c), wanted by time.
    expect(events.map((e) => e.reason)).toEqual(['b-first', 'c-second', 'a-third']);
  });
});

/** POSTs `body` over the cluster's HTTPS API as the suite's admin token. */
async function postAsAdmin(path: string, body: unknown): Promise<void> {
  const text = JSON.stringify(body);
  await new Promise<void>((resolve, reject) => {
    const request = https.request(
      new URL(path, cluster.url),
      {
        method: 'POST',
        ca: cluster.caCertPem,
        headers: { authorization: 'Bearer tok-proxy-admin', 'content-type': 'application/json' },
      },
      (response) => {
        response.resume();
        response.on('end', () =>
          response.statusCode === 201 ? resolve() : reject(new Error(`POST ${path}: ${response.statusCode}`)),
        );
      },
    );
    request.on('error', reject);
    request.end(text);
  });
}

function kubeConfigFor(identity: { user: string }) {
  const file = path.join(cluster.stateDir, `kc-${identity.user}`);
  writeFileSync(file, cluster.kubeconfigFor(identity));
  return createKubeConfig(undefined, {}, { kubeconfigPath: file });
}
