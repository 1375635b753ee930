import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import WebSocket from 'ws';
import { parse } from 'yaml';
import { startCluster } from '../src/index.js';
import type { EmbeddedCluster } from '../src/index.js';
import { coreApi, kubeConfig, rawRequest } from './api-helpers.js';

let cluster: EmbeddedCluster;
let strict: EmbeddedCluster;

/** A ServiceAccount bound to a Role with these rules; returns a kubeconfig with its token. */
async function limitedAccount(c: EmbeddedCluster, name: string, rules: k8s.V1PolicyRule[]): Promise<string> {
  const kc = kubeConfig(c.kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name } } });
  await rbac.createNamespacedRole({ namespace: 'default', body: { metadata: { name }, rules } });
  await rbac.createNamespacedRoleBinding({
    namespace: 'default',
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: 'default' }],
    },
  });
  const token = await core.createNamespacedServiceAccountToken({
    namespace: 'default',
    name,
    body: { spec: { audiences: [] } },
  });
  return c.kubeconfigFor({ token: token.status!.token });
}

/** Opens an exec WebSocket as client-node would and reports the HTTP status of a refused upgrade. */
function execUpgrade(
  kubeconfig: string,
  podName: string,
): Promise<{ opened: boolean; status?: number; body?: string }> {
  const doc = parse(kubeconfig) as {
    clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { user: { token: string } }[];
  };
  const url = `${doc.clusters[0]!.cluster.server.replace('https', 'wss')}/api/v1/namespaces/default/pods/${podName}/exec?command=true&stdout=true&stderr=true`;
  return new Promise((resolve) => {
    const ws = new WebSocket(url, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], {
      ca: Buffer.from(doc.clusters[0]!.cluster['certificate-authority-data'], 'base64'),
      headers: { Authorization: `Bearer ${doc.users[0]!.user.token}` },
    });
    ws.on('open', () => {
      ws.close();
      resolve({ opened: true });
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ opened: false, status: res.statusCode ?? 0, body }));
    });
    ws.on('error', () => undefined);
  });
}

beforeAll(async () => {
  [cluster, strict] = await Promise.all([startCluster(), startCluster({ execRequiresCreate: true })]);
  cluster.faults.stopScheduling();
});
afterAll(async () => {
  await Promise.all([cluster?.stop(), strict?.stop()]);
});

describe('RBAC', () => {
  it('allows what a Role grants and answers 403 in the Kubernetes message format otherwise', async () => {
    const kc = await limitedAccount(cluster, 'reader', [
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['allowed'] },
    ]);
    const api = coreApi(kc);
    expect((await api.listNamespacedPod({ namespace: 'default' })).items).toEqual([]);
    const denied = await rawRequest(kc, '/api/v1/namespaces/default/pods', {
      method: 'POST',
      body: { metadata: { name: 'x' } },
    });
    expect(denied.status).toBe(403);
    expect(denied.json()).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Forbidden',
      code: 403,
      details: { kind: 'pods' },
      message:
        'pods is forbidden: User "system:serviceaccount:default:reader" cannot create resource "pods" in API group "" in the namespace "default"',
    });
    const watch = await rawRequest(kc, '/api/v1/namespaces/default/pods?watch=1');
    expect(watch.json().message).toContain('cannot watch resource "pods"');
    const named = await rawRequest(kc, '/api/v1/namespaces/default/configmaps/other');
    expect(named.json().message).toBe(
      'configmaps "other" is forbidden: User "system:serviceaccount:default:reader" cannot get resource "configmaps" in API group "" in the namespace "default"',
    );
    expect((await rawRequest(kc, '/api/v1/namespaces/default/configmaps/allowed')).status).toBe(404);
    const cluster403 = await rawRequest(kc, '/api/v1/namespaces');
    expect(cluster403.json().message).toContain('at the cluster scope');
    const other = await rawRequest(kc, '/api/v1/namespaces/kube-system/pods');
    expect(other.status).toBe(403);
  });

  it('answers SelfSubjectAccessReviews from the same rules', async () => {
    const kc = await limitedAccount(cluster, 'execer', [
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
      { apiGroups: [''], resources: ['pods/exec'], verbs: ['get'] },
      { apiGroups: [''], resources: ['*/log'], verbs: ['*'] },
    ]);
    const authz = kubeConfig(kc).makeApiClient(k8s.AuthorizationV1Api);
    const can = async (verb: string, resource: string, subresource = '', namespace = 'default'): Promise<boolean> => {
      const review = await authz.createSelfSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { namespace, verb, resource, subresource } },
        },
      });
      return review.status!.allowed;
    };
    expect(await can('get', 'pods', 'exec')).toBe(true);
    expect(await can('create', 'pods', 'exec')).toBe(false);
    expect(await can('get', 'pods', 'log')).toBe(true);
    expect(await can('delete', 'pods')).toBe(false);
    expect(await can('get', 'pods', '', 'kube-system')).toBe(false);
    const admin = kubeConfig(cluster.kubeconfig).makeApiClient(k8s.AuthorizationV1Api);
    const review = await admin.createSelfSubjectAccessReview({
      body: { spec: { nonResourceAttributes: { path: '/metrics', verb: 'get' } } },
    });
    expect(review.status?.allowed).toBe(true);
  });

  it('maps a WebSocket exec upgrade to get pods/exec, and also create with execRequiresCreate (1.35)', async () => {
    const getOnly = [
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
      { apiGroups: [''], resources: ['pods/exec'], verbs: ['get'] },
    ];
    const allowed = await execUpgrade(await limitedAccount(cluster, 'ws-get', getOnly), 'missing');
    // Authorized: the request reaches the pod lookup.
    expect(allowed).toMatchObject({ opened: false, status: 404 });
    const createOnly = await execUpgrade(
      await limitedAccount(cluster, 'ws-create', [{ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }]),
      'missing',
    );
    expect(createOnly.status).toBe(403);
    expect(JSON.parse(createOnly.body!).message).toContain('cannot get resource "pods/exec"');
    const strictGetOnly = await execUpgrade(await limitedAccount(strict, 'ws-get', getOnly), 'missing');
    expect(strictGetOnly.status).toBe(403);
    expect(JSON.parse(strictGetOnly.body!).message).toBe(
      'pods "missing" is forbidden: User "system:serviceaccount:default:ws-get" cannot create resource "pods/exec" in API group "" in the namespace "default"',
    );
  });

  it('honours ClusterRoleBindings to groups and impersonation by admins', async () => {
    const rbac = kubeConfig(cluster.kubeconfig).makeApiClient(k8s.RbacAuthorizationV1Api);
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'viewers' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'Group', name: 'viewers', apiGroup: 'rbac.authorization.k8s.io' }],
      },
    });
    const viewer = cluster.kubeconfigFor({ user: 'vera', groups: ['viewers'] });
    expect((await rawRequest(viewer, '/api/v1/namespaces/kube-system/pods')).status).toBe(200);
    expect((await rawRequest(viewer, '/api/v1/namespaces/default/secrets')).status).toBe(403);
    const impersonated = await rawRequest(cluster.kubeconfig, '/api/v1/namespaces/default/secrets', {
      headers: { 'Impersonate-User': 'vera', 'Impersonate-Group': 'viewers' },
    });
    expect(impersonated.status).toBe(403);
    expect(impersonated.json().message).toContain('User "vera"');
    const notAllowed = await rawRequest(viewer, '/api/v1/namespaces', {
      headers: { 'Impersonate-User': 'podrun-admin' },
    });
    expect(notAllowed.status).toBe(403);
    expect(notAllowed.json().message).toContain('cannot impersonate resource "users"');
  });
});
