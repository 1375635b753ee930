// Flows on the Kubernetes runner through the host, on the embedded cluster: outputs between pods,
// a retry that gets a new pod with the next attempt label, and a token from oauthTokenProvider.
import { createVerify, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ErrorCodes } from '@podrun/core';
import { startCluster } from '@podrun/kube-emulator';
import { testImageArchives } from '@podrun/test-utils';
import type { EmbeddedCluster } from '@podrun/kube-emulator';
import { createHost, createRunnerRegistry, registerKubernetesRunner, registerProcessRunner } from '@podrun/host';
import type { Host } from '@podrun/host';

/** The real test images (tools/test-images, exported by the vitest global setup). */
const imageArchives = testImageArchives();

const TOKEN = 'token-from-a-task-0123456789';
let cluster: EmbeddedCluster;
let dir: string;
let host: Host;
const attemptLabels: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podrun-host-k8s-'));
  cluster = await startCluster({
    imageArchives,
    staticTokens: [{ token: TOKEN, user: 'token-user', groups: ['system:masters'] }],
  });
  const registry = createRunnerRegistry();
  registerKubernetesRunner(registry);
  registerProcessRunner(registry);
  host = createHost({
    registry,
    stateDir: join(dir, 'state'),
    env: { PATH: process.env.PATH },
    tempDir: dir,
    cluster: { kubeconfigPath: cluster.kubeconfigPath },
    defaultRunner: { type: 'io.podrun.kubernetes' },
  });
});
afterAll(async () => {
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('host flows on the Kubernetes runner', { timeout: 180_000 }, () => {
  it('passes vars and files between pods and retries a failed attempt in a new pod', async () => {
    const result = await host.run({
      source: `id: k8s
namespace: company.team
tasks:
  - id: produce
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    outputFiles: [r.txt]
    commands:
      - echo "in {{ workingDir }}" > r.txt
      - echo '::{"outputs":{"n":"2"}}::'
  - id: consume
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    inputFiles:
      in.txt: "{{ outputs.produce.outputFiles['r.txt'] }}"
    retry: {type: constant, interval: PT0.2S, maxAttempts: 2}
    commands:
      - cat in.txt
      - test {{ taskrun.attemptsCount }} -ge 1
`,
      observer: {
        taskLog: (task, line) => {
          if (task === 'consume') attemptLabels.push(line.text);
        },
      },
    });
    expect(result.record.status).toBe('SUCCESS');
    expect(result.record.tasks.consume!.attempts.map((a) => a.status)).toEqual(['FAILED', 'SUCCESS']);
    expect(attemptLabels).toEqual(['in /kestra/working-dir', 'in /kestra/working-dir']);
    const pods = [result.record.tasks.produce!.outputs!.pod, result.record.tasks.consume!.outputs!.pod];
    expect(pods.every((p) => p?.name)).toBe(true);
  });

  it('fans out: a ForEach runs a pod per value at once, each with an input and an output file', async () => {
    cluster.metrics.reset();
    const values = ['v0', 'v1', 'v2', 'v3', 'v4', 'v5'];
    const result = await host.run({
      source: `id: fanout
namespace: company.team
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ${JSON.stringify(values)}
    concurrencyLimit: 0
    tasks:
      - id: copy
        type: io.kestra.plugin.scripts.shell.Commands
        containerImage: busybox
        inputFiles:
          in.txt: "payload {{ taskrun.value }}"
        outputFiles: [out.txt]
        commands:
          - cp in.txt out.txt
  - id: gather
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: check
        type: io.kestra.plugin.scripts.shell.Commands
        containerImage: busybox
        inputFiles:
          v5.txt: "{{ outputs.copy.v5.outputFiles['out.txt'] }}"
        commands:
          - cat v5.txt
`,
    });
    expect(result.record.status).toBe('SUCCESS');
    for (const value of values) {
      const run = result.record.tasks[`copy[${value}]`]!;
      expect(run.status).toBe('SUCCESS');
      const chunks: Buffer[] = [];
      for await (const c of (await host.storage.open(run.outputs!.outputFiles['out.txt']!)).content)
        chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe(`payload ${value}`);
    }
    const tasks = values.length + 1;
    expect(cluster.metrics.requestCount({ verb: 'POST', resource: 'pods', subresource: '' })).toBe(tasks);
    // One shared watch for every task of the run (a reconnect may add one).
    expect(cluster.metrics.requestCount({ verb: 'WATCH', resource: 'pods' })).toBeLessThanOrEqual(2);
  });

  it('gets the API token from the oauthTokenProvider task (a wrong token is refused)', async () => {
    const flow = (token: string) => `id: token
namespace: company.team
tasks:
  - id: t
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    taskRunner:
      type: io.kestra.plugin.ee.kubernetes.runner.Kubernetes
      config:
        masterUrl: ${cluster.url}
        caCertData: ${JSON.stringify(cluster.caCertPem)}
        oauthTokenProvider:
          output: token
          task:
            type: io.kestra.plugin.scripts.shell.Script
            taskRunner: {type: io.podrun.process}
            script: echo '::{"outputs":{"token":"${token}"}}::'
    commands: ['echo authenticated by a token task']
`;
    const result = await host.run({ source: flow(TOKEN) });
    expect(result.record.error).toBeUndefined();
    expect(result.record.status).toBe('SUCCESS');
    const refused = await host.run({ source: flow('not-the-token') });
    expect(refused.record.status).toBe('FAILED');
    expect(refused.record.error?.code).toBe(ErrorCodes.KUBE_AUTH);
    expect(JSON.stringify([refused.record.tasks, refused.record.error])).not.toContain('not-the-token');
  });
  it("puts pods in the Connection's namespace when the runner names none; the runner's own wins", async () => {
    const kc = new KubeConfig();
    kc.loadFromString(cluster.kubeconfig);
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'team-a' } } });
    const flow = (runnerNamespace: string) => `id: ns
namespace: company.team
tasks:
  - id: t
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    taskRunner:
      type: io.kestra.plugin.ee.kubernetes.runner.Kubernetes
      ${runnerNamespace}
      config:
        masterUrl: ${cluster.url}
        caCertData: ${JSON.stringify(cluster.caCertPem)}
        oauthToken: ${TOKEN}
        namespace: team-a
    commands: ['echo hi']
`;
    const fromConnection = await host.run({ source: flow('') });
    expect(fromConnection.record.status).toBe('SUCCESS');
    expect(fromConnection.record.tasks.t!.outputs!.pod!.namespace).toBe('team-a');
    const fromRunner = await host.run({ source: flow('namespace: default') });
    expect(fromRunner.record.tasks.t!.outputs!.pod!.namespace).toBe('default');
  });
  it('takes the token from an output expression and fetches it again only after its cache', async () => {
    const runs = join(dir, 'token-runs');
    const flow = (cache: string) => `id: cached
namespace: company.team
tasks:
${['a', 'b']
  .map(
    (id) => `  - id: ${id}
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    taskRunner:
      type: io.kestra.plugin.ee.kubernetes.runner.Kubernetes
      config:
        masterUrl: ${cluster.url}
        caCertData: ${JSON.stringify(cluster.caCertPem)}
        oauthTokenProvider:
          output: "{{ outputs.token.vars.access.value }}"
          cache: ${cache}
          task:
            id: token
            type: io.kestra.plugin.scripts.shell.Commands
            taskRunner: {type: io.podrun.process}
            commands:
              - echo run >> ${runs}
              - echo '::{"outputs":{"access":{"value":"${TOKEN}"}}}::'
    commands: ['sleep 1.2', 'echo ${id}']`,
  )
  .join('\n')}
`;
    const count = async () => (await readFile(runs, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
    const long = await host.run({ source: flow('PT5M') });
    expect(long.record.status).toBe('SUCCESS');
    expect(await count()).toBe(1);
    await rm(runs, { force: true });
    const short = await host.run({ source: flow('PT1S') });
    expect(short.record.status).toBe('SUCCESS');
    expect(await count()).toBeGreaterThan(1);
  });
  it("gets the token from GCP's OauthAccessToken task (a service-account key, its token_uri a local fake)", async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const seen: string[] = [];
    const fake = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const [header, claims, signature] = (form.get('assertion') ?? '').split('.');
        const valid = createVerify('RSA-SHA256')
          .update(`${header}.${claims}`)
          .verify(publicKey, signature ?? '', 'base64url');
        const payload = JSON.parse(Buffer.from(claims ?? '', 'base64url').toString()) as { iss: string; scope: string };
        seen.push(`${form.get('grant_type')} ${payload.iss} ${payload.scope} ${valid}`);
        res.writeHead(valid ? 200 : 401, { 'content-type': 'application/json' });
        res.end(JSON.stringify(valid ? { access_token: TOKEN, expires_in: 3600 } : { error: 'invalid_grant' }));
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const key = JSON.stringify({
      type: 'service_account',
      client_email: 'runner@project.iam.gserviceaccount.com',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      token_uri: `http://127.0.0.1:${(fake.address() as AddressInfo).port}/token`,
    });
    try {
      const result = await host.run({
        source: `id: gke
namespace: company.team
tasks:
  - id: t
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    taskRunner:
      type: io.kestra.plugin.ee.kubernetes.runner.Kubernetes
      config:
        masterUrl: ${cluster.url}
        caCertData: ${JSON.stringify(cluster.caCertPem)}
        oauthTokenProvider:
          output: "{{ outputs.token.accessToken.tokenValue }}"
          task:
            id: token
            type: io.kestra.plugin.gcp.auth.OauthAccessToken
            serviceAccount: ${JSON.stringify(key)}
    commands: ['echo authenticated by a GCP token']
`,
      });
      expect(result.record.error).toBeUndefined();
      expect(result.record.status).toBe('SUCCESS');
      expect(seen).toEqual([
        'urn:ietf:params:oauth:grant-type:jwt-bearer runner@project.iam.gserviceaccount.com https://www.googleapis.com/auth/cloud-platform true',
      ]);
    } finally {
      fake.close();
    }
  });
});
