// Exec WebSockets are new TLS connections outside the REST agent: they share the parsed TLS
// identity of the kubeconfig and resume the last session, against the embedded cluster's server.
import { PassThrough, Readable } from 'node:stream';
import type { SecureContext, TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RETRY_POLICIES } from '@podrun/core';
import { createKubeConfig } from '@podrun/kube';
import type { V1Pod } from '@kubernetes/client-node';
import type { PodrunKubePort } from '@podrun/kube';
import type { EmbeddedCluster } from '@podrun/kube-emulator';
import type { PodrunKubeConfig } from '../src/connection/kubeconfig.js';
import { Transport } from '../src/http/transport.js';
import { runExec } from '../src/port/exec.js';
import { clusterWithPort } from './support/cluster.js';

let cluster: EmbeddedCluster;
let port: PodrunKubePort;
let transport: Transport;

beforeAll(async () => {
  ({ cluster, port } = await clusterWithPort());
  const kc = createKubeConfig(undefined, {}, { kubeconfigPath: cluster.kubeconfigPath }) as PodrunKubeConfig;
  transport = new Transport(kc, RETRY_POLICIES.kubeApi);
  await port.createPod('default', {
    metadata: { name: 'tls-target', labels: { suite: 'tls-session' } },
    spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] },
  });
  await port.waitForPod(
    { namespace: 'default', labelSelector: 'suite=tls-session' },
    'tls-target',
    (p: V1Pod) => p.status?.phase === 'Running',
  );
});
afterAll(async () => {
  transport?.kc.close();
  await cluster?.stop();
});

const exec = () =>
  runExec(
    transport,
    { namespace: 'default', pod: 'tls-target', container: 'main', command: ['cat'] },
    { stdin: Readable.from([Buffer.from('x')]), stdout: new PassThrough().resume() },
    {},
  );

/** What exec passes to `tls.connect`, as webSocketOptions builds it. */
const tlsOptions = async () =>
  (await transport.webSocketOptions()) as Awaited<ReturnType<Transport['webSocketOptions']>> & {
    secureContext?: SecureContext;
    session?: Buffer;
  };

/** Opens one TLS connection the way exec does and tells whether it resumed a session. */
async function resumed(): Promise<boolean> {
  const options = await transport.webSocketOptions();
  const url = new URL(transport.server);
  const socket = (options.createConnection as unknown as (o: object) => TLSSocket)({
    ...options,
    host: url.hostname,
    port: Number(url.port),
  });
  try {
    return await new Promise<boolean>((resolve, reject) => {
      socket.once('secureConnect', () => resolve(socket.isSessionReused()));
      socket.once('error', reject);
    });
  } finally {
    socket.destroy();
  }
}

describe('exec TLS', () => {
  it('parses the credentials once, and resumes the session of an earlier exec', async () => {
    const first = await tlsOptions();
    expect(first.secureContext).toBeDefined();
    expect((await tlsOptions()).secureContext).toBe(first.secureContext);
    expect((await exec()).exitCode).toBe(0);
    expect((await tlsOptions()).session).toBeInstanceOf(Buffer);
    expect(await resumed()).toBe(true);
    // And an exec on a resumed session works like any other.
    expect((await exec()).exitCode).toBe(0);
  });
});
