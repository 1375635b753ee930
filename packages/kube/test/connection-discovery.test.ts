// kubectl conventions: --kubeconfig + context, KUBECONFIG with several files (first value wins),
// ~/.kube/config, and the in-cluster service account (token re-read when rotated).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, isPodrunError } from '@podrun/core';
import { createKubeConfig } from '@podrun/kube';
import { createCa, issue, type Issued } from './support/pki.js';
import { probe, rejection } from './support/probe.js';
import { startTlsApiServer, type TlsApiServer } from './support/tls-api-server.js';

let dir: string;
let ca: Issued;
let client: Issued;
let server: TlsApiServer;
const b64 = (s: string) => Buffer.from(s).toString('base64');

function kubeconfig(opts: {
  clusters?: Array<{ name: string; server: string }>;
  users?: Array<{ name: string; token?: string; cert?: boolean }>;
  contexts?: Array<{ name: string; cluster: string; user: string; namespace?: string }>;
  current?: string;
}): string {
  const lines = ['apiVersion: v1', 'kind: Config'];
  if (opts.current) lines.push(`current-context: ${opts.current}`);
  lines.push('clusters:');
  for (const c of opts.clusters ?? []) {
    lines.push(
      `- name: ${c.name}`,
      '  cluster:',
      `    server: ${c.server}`,
      `    certificate-authority-data: ${b64(ca.certPem)}`,
    );
  }
  lines.push('users:');
  for (const u of opts.users ?? []) {
    lines.push(`- name: ${u.name}`, '  user:');
    if (u.token) lines.push(`    token: ${u.token}`);
    if (u.cert)
      lines.push(`    client-certificate-data: ${b64(client.certPem)}`, `    client-key-data: ${b64(client.keyPem)}`);
  }
  lines.push('contexts:');
  for (const c of opts.contexts ?? []) {
    lines.push(`- name: ${c.name}`, '  context:', `    cluster: ${c.cluster}`, `    user: ${c.user}`);
    if (c.namespace) lines.push(`    namespace: ${c.namespace}`);
  }
  return lines.join('\n') + '\n';
}

const write = (name: string, content: string) => {
  const p = path.join(dir, name);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, content);
  return p;
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'podrun-kube-discovery-'));
  ca = createCa('disc-ca');
  client = issue(ca, { cn: 'carol', client: true });
  server = await startTlsApiServer({ server: issue(ca, { cn: 'api', ips: ['127.0.0.1'] }), clientCa: ca });
  server.tokens.add('tok-file-b');
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('KUBECONFIG with several files', () => {
  it('merges them; the first file to set a name or current-context wins', async () => {
    // a.yaml: only the current-context and a user; b.yaml: the cluster, the context, and a
    // duplicate user "u" whose token is wrong (first wins, as in kubectl; client-node would throw).
    const a = write('a.yaml', kubeconfig({ current: 'ctx-b', users: [{ name: 'u', token: 'tok-file-b' }] }));
    const b = write(
      'b.yaml',
      kubeconfig({
        current: 'ignored',
        clusters: [{ name: 'c', server: server.url }],
        users: [{ name: 'u', token: 'tok-never-used' }],
        contexts: [{ name: 'ctx-b', cluster: 'c', user: 'u', namespace: 'from-b' }],
      }),
    );
    const missing = path.join(dir, 'missing.yaml');
    const kc = createKubeConfig(undefined, { KUBECONFIG: [a, missing, b].join(path.delimiter) });
    expect(kc.source).toBe('kubeconfig');
    expect(kc.namespace).toBe('from-b');
    expect(await probe(kc)).toBe('v1.32.0-test');
    expect(server.seen.at(-1)).toBe('token');
  });

  it('wins over ~/.kube/config, which is used when KUBECONFIG is unset', async () => {
    const home = path.join(dir, 'home');
    write(
      'home/.kube/config',
      kubeconfig({
        current: 'h',
        clusters: [{ name: 'c', server: server.url }],
        users: [{ name: 'u', cert: true }],
        contexts: [{ name: 'h', cluster: 'c', user: 'u' }],
      }),
    );
    expect(await probe(createKubeConfig(undefined, { HOME: home }))).toBe('v1.32.0-test');
    expect(server.seen.at(-1)).toBe('cert:carol');
    const onlyMissing = path.join(dir, 'nope.yaml');
    const error = (() => {
      try {
        createKubeConfig(undefined, { HOME: home, KUBECONFIG: onlyMissing });
      } catch (e) {
        return e;
      }
    })();
    expect(isPodrunError(error, ErrorCodes.KUBE_CONNECTION)).toBe(true);
  });
});

describe('--kubeconfig and --context', () => {
  it('reads only the given file and selects the context', async () => {
    const file = write(
      'explicit.yaml',
      kubeconfig({
        current: 'broken',
        clusters: [
          { name: 'good', server: server.url },
          { name: 'bad', server: 'https://127.0.0.1:1' },
        ],
        users: [{ name: 'u', cert: true }],
        contexts: [
          { name: 'broken', cluster: 'bad', user: 'u' },
          { name: 'works', cluster: 'good', user: 'u', namespace: 'sel' },
        ],
      }),
    );
    const kc = createKubeConfig(
      undefined,
      { KUBECONFIG: '/does/not/matter' },
      { kubeconfigPath: file, context: 'works' },
    );
    expect(kc.namespace).toBe('sel');
    expect(await probe(kc)).toBe('v1.32.0-test');
    expect(() => createKubeConfig(undefined, {}, { kubeconfigPath: file, context: 'nope' })).toThrow(/nope/);
  });

  it('lets Connection fields override the kubeconfig (namespace, credentials)', async () => {
    const file = write(
      'overlay.yaml',
      kubeconfig({
        current: 'x',
        clusters: [{ name: 'c', server: server.url }],
        users: [{ name: 'u', cert: true }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u', namespace: 'kc-ns' }],
      }),
    );
    const onlyNs = createKubeConfig({ namespace: 'conn-ns' }, {}, { kubeconfigPath: file });
    expect(onlyNs.namespace).toBe('conn-ns');
    await probe(onlyNs);
    expect(server.seen.at(-1)).toBe('cert:carol');
    await probe(createKubeConfig({ oauthToken: 'tok-file-b' }, {}, { kubeconfigPath: file }));
    expect(server.seen.at(-1)).toBe('token');
  });
});

describe('in-cluster service account', () => {
  it('uses the token, CA and namespace files, and re-reads a rotated token', async () => {
    const root = path.join(dir, 'sa');
    write('sa/token', 'tok-sa-old');
    write('sa/ca.crt', ca.certPem);
    write('sa/namespace', 'pod-ns');
    server.tokens.add('tok-sa-old');
    const env = {
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: String(server.port),
      inClusterRoot: root,
      HOME: path.join(dir, 'empty-home'),
    };
    const kc = createKubeConfig(undefined, env);
    expect(kc.source).toBe('in-cluster');
    expect(kc.namespace).toBe('pod-ns');
    expect(await probe(kc)).toBe('v1.32.0-test');
    // The kubelet rotates the token: the old one stops working.
    server.tokens.delete('tok-sa-old');
    server.tokens.add('tok-sa-new-longer');
    write('sa/token', 'tok-sa-new-longer');
    expect(await probe(kc)).toBe('v1.32.0-test');
  });

  it('without any configuration fails with PODRUN_KUBE_CONNECTION', async () => {
    const error = await rejection(
      Promise.resolve().then(() =>
        createKubeConfig(undefined, { HOME: path.join(dir, 'empty-home'), inClusterRoot: path.join(dir, 'none') }),
      ),
    );
    expect(isPodrunError(error, ErrorCodes.KUBE_CONNECTION)).toBe(true);
  });
});
