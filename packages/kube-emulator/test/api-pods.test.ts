// Pod subresources and lifecycle as the API server exposes them: pods/log parameter checks,
// pods/exec subprotocol negotiation and errors before the upgrade, graceful deletion, events,
// claim directories and namespace deletion.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import WebSocket from 'ws';
import { parse } from 'yaml';
import { claimDirectory, startCluster } from '../src/index.js';
import type { EmbeddedCluster } from '../src/index.js';
import { coreApi, kubeConfig, pod, rawRequest, readWatch } from './api-helpers.js';

let cluster: EmbeddedCluster;
let api: k8s.CoreV1Api;

beforeAll(async () => {
  cluster = await startCluster();
  api = coreApi(cluster.kubeconfig);
  const two = pod('duo', {}, ['sh', '-c', 'echo ready; sleep 300']);
  two.spec!.containers.push({ name: 'side', image: 'busybox', command: ['sh', '-c', 'sleep 300'] });
  two.spec!.terminationGracePeriodSeconds = 1;
  await api.createNamespacedPod({ namespace: 'default', body: two });
  await waitForPod('default', 'duo', (p) => p.status?.phase === 'Running');
});
afterAll(async () => {
  await cluster?.stop();
});

async function waitForPod(namespace: string, name: string, ready: (p: k8s.V1Pod) => boolean): Promise<k8s.V1Pod> {
  const { events } = await readWatch(
    cluster.kubeconfig,
    `/api/v1/namespaces/${namespace}/pods?watch=1&fieldSelector=metadata.name%3D${name}`,
    (e) => e.some((x) => ready(x.object as k8s.V1Pod)),
  );
  return events.find((x) => ready(x.object as k8s.V1Pod))!.object as k8s.V1Pod;
}

function upgrade(
  path: string,
  protocols: string[],
): Promise<{ protocol?: string; status?: number; body?: string; frames: Buffer[]; closeCode?: number }> {
  const doc = parse(cluster.kubeconfig) as {
    clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  };
  const b64 = (v: string): Buffer => Buffer.from(v, 'base64');
  return new Promise((resolve) => {
    const frames: Buffer[] = [];
    const ws = new WebSocket(`${doc.clusters[0]!.cluster.server.replace('https', 'wss')}${path}`, protocols, {
      ca: b64(doc.clusters[0]!.cluster['certificate-authority-data']),
      cert: b64(doc.users[0]!.user['client-certificate-data']),
      key: b64(doc.users[0]!.user['client-key-data']),
    });
    ws.on('message', (data: Buffer) => frames.push(Buffer.from(data)));
    ws.on('close', (code) => resolve({ protocol: ws.protocol, frames, closeCode: code }));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, frames }));
    });
    ws.on('error', () => undefined);
  });
}

describe('pods/log', () => {
  it('validates parameters like the API server', async () => {
    const both = await rawRequest(
      cluster.kubeconfig,
      '/api/v1/namespaces/default/pods/duo/log?container=main&sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z',
    );
    expect(both.status).toBe(422);
    expect(both.json()).toMatchObject({
      reason: 'Invalid',
      message:
        'PodLogOptions "duo" is invalid: : Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified',
    });
    const tail = await rawRequest(
      cluster.kubeconfig,
      '/api/v1/namespaces/default/pods/duo/log?container=main&tailLines=-1',
    );
    expect(tail.json().details.causes[0]).toMatchObject({ field: 'tailLines', reason: 'FieldValueInvalid' });
    const which = await rawRequest(cluster.kubeconfig, '/api/v1/namespaces/default/pods/duo/log');
    expect(which.status).toBe(400);
    expect(which.json().message).toBe('a container name must be specified for pod duo, choose one of: [main side]');
    const unknown = await rawRequest(cluster.kubeconfig, '/api/v1/namespaces/default/pods/duo/log?container=nope');
    expect(unknown.json().message).toBe('container nope is not valid for pod duo');
    const missing = await rawRequest(cluster.kubeconfig, '/api/v1/namespaces/default/pods/ghost/log');
    expect(missing.status).toBe(404);
  });

  it('delegates valid requests to the node', async () => {
    expect(await api.readNamespacedPodLog({ namespace: 'default', name: 'duo', container: 'main' })).toBe('ready\n');
  });
});

describe('pods/exec', () => {
  it('echoes exactly one subprotocol: the first one offered that is served', async () => {
    const path = '/api/v1/namespaces/default/pods/duo/exec?container=main&command=echo&command=hi&stdout=true';
    const v5 = await upgrade(path, ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
    expect(v5.protocol).toBe('v5.channel.k8s.io');
    expect(v5.closeCode).toBe(1000);
    const v4 = await upgrade(path, ['base64.channel.k8s.io', 'v4.channel.k8s.io', 'v5.channel.k8s.io']);
    expect(v4.protocol).toBe('v4.channel.k8s.io');
    const text = Buffer.concat(v4.frames.filter((f) => f[0] === 1).map((f) => f.subarray(1))).toString();
    expect(text).toBe('hi\n');
    const status = v4.frames.find((f) => f[0] === 3);
    expect(JSON.parse(status!.subarray(1).toString())).toEqual({ metadata: {}, status: 'Success' });
  });

  it('answers errors before the upgrade as HTTP Status bodies', async () => {
    const none = await upgrade('/api/v1/namespaces/default/pods/duo/exec?container=main&command=true', [
      'v5.channel.k8s.io',
    ]);
    expect(none.status).toBe(400);
    expect(JSON.parse(none.body!)).toMatchObject({
      kind: 'Status',
      reason: 'BadRequest',
      message: 'you must specify at least 1 of stdin, stdout, stderr',
    });
    const unsupported = await upgrade('/api/v1/namespaces/default/pods/duo/exec?container=main&command=true&stdout=1', [
      'base64.channel.k8s.io',
    ]);
    expect(unsupported.status).toBe(400);
    const ghost = await upgrade('/api/v1/namespaces/default/pods/ghost/exec?command=true&stdout=1', [
      'v5.channel.k8s.io',
    ]);
    expect(ghost.status).toBe(404);
    expect(JSON.parse(ghost.body!).message).toBe('pods "ghost" not found');
    const plainGet = await rawRequest(
      cluster.kubeconfig,
      '/api/v1/namespaces/default/pods/duo/exec?container=main&command=true&stdout=1',
    );
    expect(plainGet.json().message).toBe('Upgrade request required');
  });

  it('works with client-node Exec, including the exit code status', async () => {
    const exec = new k8s.Exec(kubeConfig(cluster.kubeconfig));
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (c: Buffer) => (text += c.toString()));
    const status = await new Promise<k8s.V1Status>((resolve, reject) => {
      exec
        .exec('default', 'duo', 'side', ['sh', '-c', 'echo out; exit 7'], stdout, null, null, false, resolve)
        .catch(reject);
    });
    expect(text).toBe('out\n');
    expect(status).toMatchObject({
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '7' }] },
    });
  });
});

describe('exec faults', () => {
  it('cutExecAfterBytes (admin HTTP path) cuts the next exec mid-stream, without a status frame', async () => {
    const posted = await rawRequest(cluster.kubeconfig, '/podrun-admin/faults/cutExecAfterBytes', {
      method: 'POST',
      body: { bytes: 1000, count: 1 },
    });
    expect(posted.status).toBe(200);
    const path =
      '/api/v1/namespaces/default/pods/duo/exec?container=main&command=head&command=-c&command=100000&command=%2Fdev%2Fzero&stdout=true';
    const cut = await upgrade(path, ['v5.channel.k8s.io']);
    const bytes = (r: { frames: Buffer[] }): number =>
      r.frames.filter((f) => f[0] === 1).reduce((n, f) => n + f.length - 1, 0);
    expect(bytes(cut)).toBeLessThanOrEqual(1000);
    expect(cut.frames.some((f) => f[0] === 3)).toBe(false);
    expect(cut.closeCode).toBe(1006);
    const whole = await upgrade(path, ['v5.channel.k8s.io']);
    expect(bytes(whole)).toBe(100000);
    expect(whole.closeCode).toBe(1000);
  });
});

describe('lifecycle seen through the API', () => {
  it('records node events and filters them by involvedObject', async () => {
    const events = await api.listNamespacedEvent({
      namespace: 'default',
      fieldSelector: 'involvedObject.kind=Pod,involvedObject.name=duo',
    });
    const reasons = events.items.map((e) => e.reason);
    expect(reasons).toContain('Scheduled');
    expect(events.items.find((e) => e.reason === 'Scheduled')).toMatchObject({
      type: 'Normal',
      involvedObject: { kind: 'Pod', name: 'duo', namespace: 'default' },
    });
  });

  it('deletes gracefully: deletionTimestamp first, then DELETED once the node stopped the pod', async () => {
    const rv = (await api.listNamespacedPod({ namespace: 'default' })).metadata!.resourceVersion!;
    const watched = readWatch(
      cluster.kubeconfig,
      `/api/v1/namespaces/default/pods?watch=1&resourceVersion=${rv}`,
      (e) => e.some((x) => x.type === 'DELETED'),
    );
    const deleting = await api.deleteNamespacedPod({ namespace: 'default', name: 'duo' });
    expect(deleting.metadata?.deletionTimestamp).toBeDefined();
    expect(deleting.metadata?.deletionGracePeriodSeconds).toBe(1);
    const { events } = await watched;
    expect(events[0]).toMatchObject({ type: 'MODIFIED', object: { metadata: { deletionGracePeriodSeconds: 1 } } });
    expect(events.at(-1)!.type).toBe('DELETED');
  });

  it('backs claims with a directory and deletes namespaces with their pods', async () => {
    await api.createNamespace({ body: { metadata: { name: 'scratch' } } });
    await api.createNamespacedPersistentVolumeClaim({
      namespace: 'scratch',
      body: {
        metadata: { name: 'work' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    });
    const dir = claimDirectory(cluster.stateDir, 'scratch', 'work');
    expect(existsSync(dir)).toBe(true);
    const body = pod('user', {}, ['sh', '-c', 'echo data > /work/file; sleep 300']);
    body.spec!.terminationGracePeriodSeconds = 1;
    body.spec!.volumes = [{ name: 'w', persistentVolumeClaim: { claimName: 'work' } }];
    body.spec!.containers[0]!.volumeMounts = [{ name: 'w', mountPath: '/work' }];
    await api.createNamespacedPod({ namespace: 'scratch', body });
    await waitForPod('scratch', 'user', (p) => p.status?.phase === 'Running');
    const watched = readWatch(
      cluster.kubeconfig,
      '/api/v1/namespaces?watch=1&fieldSelector=metadata.name%3Dscratch',
      (e) => e.some((x) => x.type === 'DELETED'),
    );
    const terminating = await api.deleteNamespace({ name: 'scratch' });
    // client-node types the answer as V1Status; kube-apiserver returns the Namespace.
    expect((terminating as unknown as k8s.V1Namespace).status?.phase).toBe('Terminating');
    await watched;
    expect(existsSync(dir)).toBe(false);
  });
});
