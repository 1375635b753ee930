// Bearer token, token provider (renewed on 401), basic auth, and wrong credentials, against a
// real HTTPS server; client-node's own API clients get the same credentials.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api } from '@kubernetes/client-node';
import { ErrorCodes, KubeApiError, isPodrunError } from '@podrun/core';
import { createKubeConfig } from '@podrun/kube';
import { createCa, issue, type Issued } from './support/pki.js';
import { expectNoSecrets, probe, rejection } from './support/probe.js';
import { startTlsApiServer, type TlsApiServer } from './support/tls-api-server.js';

let ca: Issued;
let server: TlsApiServer;

beforeAll(async () => {
  ca = createCa('auth-ca');
  server = await startTlsApiServer({ server: issue(ca, { cn: 'api', ips: ['127.0.0.1'] }), clientCa: ca });
});
afterAll(() => server?.stop());

const base = () => ({ masterUrl: server.url, caCertData: ca.certPem });

describe('bearer token', () => {
  it('sends oauthToken', async () => {
    server.tokens.add('tok-static-1');
    expect(await probe(createKubeConfig({ ...base(), oauthToken: 'tok-static-1' }, {}))).toBe('v1.32.0-test');
    expect(server.seen.at(-1)).toBe('token');
  });

  it('a wrong token fails with PODRUN_KUBE_AUTH (401) and the message does not contain it', async () => {
    const error = await rejection(probe(createKubeConfig({ ...base(), oauthToken: 'tok-wrong-secret-2' }, {})));
    expect(error).toBeInstanceOf(KubeApiError);
    expect(isPodrunError(error, ErrorCodes.KUBE_AUTH)).toBe(true);
    expect((error as KubeApiError).status).toBe(401);
    expectNoSecrets(error, ['tok-wrong-secret-2']);
  });
});

describe('oauthTokenProvider', () => {
  it('is asked again after a 401 and the request is retried once with the fresh token', async () => {
    const issued = ['tok-expired-3', 'tok-fresh-4'];
    let calls = 0;
    const kc = createKubeConfig({ ...base(), oauthTokenProvider: async () => issued[calls++]! }, {});
    server.tokens.add('tok-fresh-4');
    expect(await probe(kc)).toBe('v1.32.0-test');
    expect(calls).toBe(2);
    // cached afterwards: no third call
    expect(await probe(kc)).toBe('v1.32.0-test');
    expect(calls).toBe(2);
  });

  it('wins over a static oauthToken and serves client-node API clients too', async () => {
    server.tokens.add('tok-provided-5');
    const kc = createKubeConfig(
      { ...base(), oauthToken: 'tok-not-accepted', oauthTokenProvider: () => 'tok-provided-5' },
      {},
    );
    const list = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'default' });
    expect(list.metadata?.resourceVersion).toBe('7');
    kc.close();
  });

  it('a provider whose fresh token is rejected too fails with PODRUN_KUBE_AUTH without the tokens', async () => {
    let calls = 0;
    const kc = createKubeConfig({ ...base(), oauthTokenProvider: () => `tok-bad-${++calls}-zz` }, {});
    const error = await rejection(probe(kc));
    expect(isPodrunError(error, ErrorCodes.KUBE_AUTH)).toBe(true);
    expect(calls).toBe(2);
    expectNoSecrets(error, ['tok-bad-1-zz', 'tok-bad-2-zz']);
  });

  it('a failing provider fails with PODRUN_KUBE_AUTH', async () => {
    const kc = createKubeConfig({ ...base(), oauthTokenProvider: () => Promise.reject(new Error('task failed')) }, {});
    const error = await rejection(probe(kc));
    expect(isPodrunError(error, ErrorCodes.KUBE_AUTH)).toBe(true);
  });
});

describe('basic auth', () => {
  it('sends username and password', async () => {
    server.basic.add('bob:pw-basic-6');
    expect(await probe(createKubeConfig({ ...base(), username: 'bob', password: 'pw-basic-6' }, {}))).toBe(
      'v1.32.0-test',
    );
    expect(server.seen.at(-1)).toBe('basic');
  });

  it('a wrong password fails with PODRUN_KUBE_AUTH without printing it', async () => {
    const error = await rejection(probe(createKubeConfig({ ...base(), username: 'bob', password: 'pw-wrong-7' }, {})));
    expect(isPodrunError(error, ErrorCodes.KUBE_AUTH)).toBe(true);
    expectNoSecrets(error, ['pw-wrong-7', 'bob:pw-wrong-7']);
  });
});

describe('Connection validation', () => {
  it('rejects an unknown apiVersion, a bad masterUrl and half-configured credentials', () => {
    expect(() => createKubeConfig({ ...base(), apiVersion: 'v2' }, {})).toThrow(/apiVersion/);
    expect(() => createKubeConfig({ masterUrl: 'ftp://x' }, {})).toThrow(/masterUrl/);
    expect(() => createKubeConfig({ ...base(), username: 'bob' }, {})).toThrow(/password/);
    expect(() => createKubeConfig({ ...base(), trustCerts: 'maybe' }, {})).toThrow(/trustCerts/);
  });

  it('uses Connection.namespace as the default namespace', () => {
    expect(createKubeConfig({ ...base(), namespace: 'team-a' }, {}).namespace).toBe('team-a');
    expect(createKubeConfig({ ...base() }, {}).namespace).toBe('default');
  });
});

describe('oauthTokenProvider expiry', () => {
  const jwt = (exp: number) =>
    ['{"alg":"none"}', JSON.stringify({ exp })].map((p) => Buffer.from(p).toString('base64url')).join('.') + '.sig';

  it('replaces a JWT shortly before its exp without waiting for a 401', async () => {
    const soon = jwt(Math.floor(Date.now() / 1000) + 10); // inside the 30 s margin: already due
    const later = jwt(Math.floor(Date.now() / 1000) + 3600);
    server.tokens.add(soon);
    server.tokens.add(later);
    const issued = [soon, later];
    let calls = 0;
    const kc = createKubeConfig({ ...base(), oauthTokenProvider: () => issued[Math.min(calls++, 1)]! }, {});
    await probe(kc);
    await probe(kc);
    expect(calls).toBe(2);
    await probe(kc);
    expect(calls).toBe(2);
  });

  it('rejects a provider that is not a function (an unmapped {task, output})', () => {
    expect(() =>
      createKubeConfig({ ...base(), oauthTokenProvider: { task: {}, output: 'x' } as unknown as () => string }, {}),
    ).toThrow(/oauthTokenProvider/);
  });
});
