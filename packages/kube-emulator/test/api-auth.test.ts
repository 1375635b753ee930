import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { startCluster } from '../src/index.js';
import type { EmbeddedCluster } from '../src/index.js';
import { coreApi, errorBody, kubeConfig, rawRequest } from './api-helpers.js';

let cluster: EmbeddedCluster;

beforeAll(async () => {
  cluster = await startCluster({
    staticTokens: [{ token: 'static-secret-token', user: 'alice', groups: ['team-a'] }],
    basicAuth: [{ username: 'bob', password: 'hunter2', groups: ['system:masters'] }],
  });
});
afterAll(async () => {
  await cluster?.stop();
});

describe('authentication', () => {
  it('serves HTTPS with the kubeconfig CA and authenticates the admin client certificate', async () => {
    expect(cluster.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const api = coreApi(cluster.kubeconfig);
    const list = await api.listNamespace();
    expect(list.items.map((n) => n.metadata?.name)).toEqual(expect.arrayContaining(['default', 'kube-system']));
    const review = await kubeConfig(cluster.kubeconfig)
      .makeApiClient(k8s.AuthenticationV1Api)
      .createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    expect(review.status?.userInfo?.username).toBe('podrun-admin');
    expect(review.status?.userInfo?.groups).toEqual(expect.arrayContaining(['system:masters', 'system:authenticated']));
  });

  it('answers 401 with an Unauthorized Status without credentials or with a bad token', async () => {
    const anonymous = await rawRequest(cluster.kubeconfig, '/api/v1/namespaces', { anonymous: true });
    expect(anonymous.status).toBe(401);
    expect(anonymous.json()).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
    const bad = await rawRequest(cluster.kubeconfigFor({ token: 'nope' }), '/api/v1/namespaces');
    expect(bad.status).toBe(401);
    const badBasic = await rawRequest(cluster.kubeconfigFor({ username: 'bob', password: 'wrong' }), '/version');
    expect(badBasic.status).toBe(401);
  });

  it('accepts static tokens and basic auth, and certificates for other users', async () => {
    const asAlice = await rawRequest(cluster.kubeconfigFor({ token: 'static-secret-token' }), '/api/v1/namespaces');
    // Authenticated but not authorized: alice has no role.
    expect(asAlice.status).toBe(403);
    expect(asAlice.json().message).toBe(
      'namespaces is forbidden: User "alice" cannot list resource "namespaces" in API group "" at the cluster scope',
    );
    const asBob = await rawRequest(
      cluster.kubeconfigFor({ username: 'bob', password: 'hunter2' }),
      '/api/v1/namespaces',
    );
    expect(asBob.status).toBe(200);
    const carol = cluster.kubeconfigFor({ user: 'carol', groups: ['system:masters'] });
    expect((await coreApi(carol).readNamespace({ name: 'default' })).metadata?.name).toBe('default');
    // Everyone authenticated may read discovery.
    expect((await rawRequest(cluster.kubeconfigFor({ user: 'dave' }), '/version')).status).toBe(200);
  });

  it('issues ServiceAccount tokens through the TokenRequest API that authenticate as the account', async () => {
    const api = coreApi(cluster.kubeconfig);
    await api.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: 'robot' } } });
    const issued = await api.createNamespacedServiceAccountToken({
      namespace: 'default',
      name: 'robot',
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: [], expirationSeconds: 3600 },
      },
    });
    const token = issued.status?.token ?? '';
    expect(token.split('.')).toHaveLength(3);
    const asRobot = cluster.kubeconfigFor({ token });
    const review = await kubeConfig(asRobot)
      .makeApiClient(k8s.AuthenticationV1Api)
      .createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    expect(review.status?.userInfo?.username).toBe('system:serviceaccount:default:robot');
    expect(review.status?.userInfo?.groups).toEqual([
      'system:serviceaccounts',
      'system:serviceaccounts:default',
      'system:authenticated',
    ]);

    // A token for another audience is not valid for the API server.
    const foreign = await api.createNamespacedServiceAccountToken({
      namespace: 'default',
      name: 'robot',
      body: { spec: { audiences: ['vault'] } },
    });
    expect((await rawRequest(cluster.kubeconfigFor({ token: foreign.status!.token }), '/version')).status).toBe(401);

    // Deleting the account invalidates its tokens.
    await api.deleteNamespacedServiceAccount({ namespace: 'default', name: 'robot' });
    expect((await rawRequest(asRobot, '/version')).status).toBe(401);
  });

  it('refuses too short token lifetimes with 422', async () => {
    const api = coreApi(cluster.kubeconfig);
    const error = await api
      .createNamespacedServiceAccountToken({
        namespace: 'default',
        name: 'default',
        body: { spec: { audiences: [], expirationSeconds: 60 } },
      })
      .catch((e: unknown) => e);
    expect((error as { code: number }).code).toBe(422);
    expect(errorBody(error).details.causes[0].field).toBe('spec.expirationSeconds');
  });

  it('serves plain HTTP only when asked, with a token kubeconfig client-node accepts', async () => {
    const plain = await startCluster({ plainHttp: true });
    try {
      expect(plain.url).toMatch(/^http:\/\//);
      expect(plain.kubeconfig).toContain('insecure-skip-tls-verify: true');
      const names = (await coreApi(plain.kubeconfig).listNamespace()).items.map((n) => n.metadata?.name);
      expect(names).toContain('default');
      expect((await rawRequest(plain.kubeconfig, '/version', { anonymous: true })).status).toBe(401);
    } finally {
      await plain.stop();
    }
  });
});
