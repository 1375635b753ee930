import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { startCluster } from '../src/index.js';
import type { EmbeddedCluster } from '../src/index.js';
import { coreApi, errorBody, kubeConfig, pod, rawRequest } from './api-helpers.js';

let cluster: EmbeddedCluster;
let api: k8s.CoreV1Api;

beforeAll(async () => {
  cluster = await startCluster();
  // Pods stay unscheduled here: these tests are about the API, not about running containers.
  cluster.faults.stopScheduling();
  api = coreApi(cluster.kubeconfig);
});
afterAll(async () => {
  await cluster?.stop();
});

async function failureOf(promise: Promise<unknown>): Promise<{ code: number; body: Record<string, any> }> {
  const error = await promise.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (e: unknown) => e,
  );
  return { code: (error as { code: number }).code, body: errorBody(error) };
}

describe('pods: create, get, list, patch, delete', () => {
  it('creates with defaults, a uid, a resourceVersion and Pending status', async () => {
    const created = await api.createNamespacedPod({
      namespace: 'default',
      body: pod('alpha', { labels: { app: 'a', tier: 'web' } }),
    });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(0);
    expect(created.status?.phase).toBe('Pending');
    expect(created.spec?.serviceAccountName).toBe('default');
    expect(created.spec?.terminationGracePeriodSeconds).toBe(30);
    expect(created.spec?.containers[0]?.imagePullPolicy).toBe('Always');
    const read = await api.readNamespacedPod({ namespace: 'default', name: 'alpha' });
    expect(read.metadata?.uid).toBe(created.metadata?.uid);
  });

  it('generates names from generateName', async () => {
    const created = await api.createNamespacedPod({
      namespace: 'default',
      body: { ...pod(''), metadata: { generateName: 'job-', labels: { app: 'b' } } },
    });
    expect(created.metadata?.name).toMatch(/^job-[a-z0-9]{5}$/);
  });

  it('answers 409 AlreadyExists and 404 NotFound with Kubernetes Status bodies', async () => {
    const dup = await failureOf(api.createNamespacedPod({ namespace: 'default', body: pod('alpha') }));
    expect(dup.code).toBe(409);
    expect(dup.body).toMatchObject({
      reason: 'AlreadyExists',
      message: 'pods "alpha" already exists',
      details: { name: 'alpha', kind: 'pods' },
    });
    const missing = await failureOf(api.readNamespacedPod({ namespace: 'default', name: 'nope' }));
    expect(missing.code).toBe(404);
    expect(missing.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'NotFound',
      message: 'pods "nope" not found',
      code: 404,
    });
    const noNamespace = await failureOf(api.createNamespacedPod({ namespace: 'ghost', body: pod('x') }));
    expect(noNamespace.code).toBe(404);
    expect(noNamespace.body.message).toBe('namespaces "ghost" not found');
  });

  it('lists with a resourceVersion, label selectors and field selectors', async () => {
    await api.createNamespacedPod({ namespace: 'default', body: pod('beta', { labels: { app: 'a', tier: 'db' } }) });
    await api.createNamespacedPod({ namespace: 'default', body: pod('gamma', { labels: { env: 'prod' } }) });
    const names = async (opts: { labelSelector?: string; fieldSelector?: string }): Promise<string[]> =>
      (await api.listNamespacedPod({ namespace: 'default', ...opts })).items.map((p) => p.metadata!.name!).sort();
    const all = await api.listNamespacedPod({ namespace: 'default' });
    expect(Number(all.metadata?.resourceVersion)).toBeGreaterThanOrEqual(
      Number(all.items.at(-1)?.metadata?.resourceVersion),
    );
    expect(await names({ labelSelector: 'app=a' })).toEqual(['alpha', 'beta']);
    expect(await names({ labelSelector: 'app==a,tier!=db' })).toEqual(['alpha']);
    expect(await names({ labelSelector: 'tier in (db, cache)' })).toEqual(['beta']);
    expect(await names({ labelSelector: 'app notin (a)' })).toHaveLength(2);
    expect(await names({ labelSelector: 'env' })).toEqual(['gamma']);
    expect(await names({ labelSelector: '!app' })).toEqual(['gamma']);
    expect(await names({ fieldSelector: 'metadata.name=beta' })).toEqual(['beta']);
    expect(await names({ fieldSelector: 'status.phase=Pending,metadata.name!=alpha' })).not.toContain('alpha');
    expect(await names({ fieldSelector: 'metadata.namespace=default,status.phase=Running' })).toEqual([]);
    const bad = await failureOf(api.listNamespacedPod({ namespace: 'default', fieldSelector: 'spec.foo=1' }));
    expect(bad.code).toBe(400);
    expect(bad.body.message).toBe('field label not supported: spec.foo');
  });

  it('pages lists with limit and continue', async () => {
    const first = await api.listNamespacedPod({ namespace: 'default', limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.metadata?._continue).toBeTruthy();
    const rest = await api.listNamespacedPod({
      namespace: 'default',
      limit: 100,
      _continue: first.metadata!._continue!,
    });
    const all = await api.listNamespacedPod({ namespace: 'default' });
    expect([...first.items, ...rest.items].map((p) => p.metadata?.name)).toEqual(
      all.items.map((p) => p.metadata?.name),
    );
  });

  it('patches labels and annotations with merge, strategic-merge and JSON patches', async () => {
    const merged = await api.patchNamespacedPod(
      { namespace: 'default', name: 'alpha', body: { metadata: { labels: { tier: null, color: 'blue' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    expect(merged.metadata?.labels).toEqual({ app: 'a', color: 'blue' });
    const strategic = await api.patchNamespacedPod(
      { namespace: 'default', name: 'alpha', body: { metadata: { annotations: { note: 'x' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    expect(strategic.metadata?.annotations).toEqual({ note: 'x' });
    const image = await api.patchNamespacedPod(
      { namespace: 'default', name: 'alpha', body: { spec: { containers: [{ name: 'main', image: 'alpine' }] } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    // Containers merge by name: only the image changed.
    expect(image.spec?.containers).toHaveLength(1);
    expect(image.spec?.containers[0]).toMatchObject({
      name: 'main',
      image: 'alpine',
      command: ['sh', '-c', 'echo hello'],
    });
    const json = await api.patchNamespacedPod({
      namespace: 'default',
      name: 'alpha',
      body: [
        { op: 'add', path: '/metadata/labels/owner', value: 'podrun' },
        { op: 'remove', path: '/metadata/labels/color' },
      ],
    });
    expect(json.metadata?.labels).toEqual({ app: 'a', owner: 'podrun' });
    expect(Number(json.metadata?.resourceVersion)).toBeGreaterThan(Number(merged.metadata?.resourceVersion));
    const forbidden = await failureOf(
      api.patchNamespacedPod({
        namespace: 'default',
        name: 'alpha',
        body: [{ op: 'replace', path: '/spec/restartPolicy', value: 'Always' }],
      }),
    );
    expect(forbidden.code).toBe(422);
    expect(forbidden.body.details.causes[0]).toMatchObject({ reason: 'FieldValueForbidden', field: 'spec' });
  });

  it('rejects a PUT with a stale resourceVersion with 409 Conflict', async () => {
    const current = await api.readNamespacedPod({ namespace: 'default', name: 'beta' });
    const stale = structuredClone(current);
    current.metadata!.labels = { ...current.metadata!.labels, updated: 'yes' };
    const updated = await api.replaceNamespacedPod({ namespace: 'default', name: 'beta', body: current });
    expect(updated.metadata?.labels?.updated).toBe('yes');
    const conflict = await failureOf(api.replaceNamespacedPod({ namespace: 'default', name: 'beta', body: stale }));
    expect(conflict.code).toBe(409);
    expect(conflict.body.reason).toBe('Conflict');
    expect(conflict.body.message).toBe(
      'Operation cannot be fulfilled on pods "beta": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  it('deletes an unscheduled pod at once and returns it', async () => {
    const deleted = await api.deleteNamespacedPod({ namespace: 'default', name: 'gamma' });
    expect(deleted.metadata?.name).toBe('gamma');
    expect((await failureOf(api.readNamespacedPod({ namespace: 'default', name: 'gamma' }))).code).toBe(404);
  });
});

describe('validation', () => {
  it('answers 422 Invalid with causes in the API server format', async () => {
    const body = pod('bad');
    body.spec!.containers[0]!.image = '';
    const missingImage = await failureOf(api.createNamespacedPod({ namespace: 'default', body }));
    expect(missingImage.code).toBe(422);
    expect(missingImage.body).toMatchObject({
      reason: 'Invalid',
      message: 'Pod "bad" is invalid: spec.containers[0].image: Required value',
      details: {
        name: 'bad',
        kind: 'Pod',
        causes: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers[0].image' }],
      },
    });
  });

  it('allows container restartPolicy Always on init containers only (native sidecars)', async () => {
    const regular = pod('sidecar-bad');
    regular.spec!.containers[0]!.restartPolicy = 'Always';
    const failure = await failureOf(api.createNamespacedPod({ namespace: 'default', body: regular }));
    expect(failure.body.message).toBe(
      'Pod "sidecar-bad" is invalid: spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers',
    );
    const init = pod('sidecar-never');
    init.spec!.initContainers = [{ name: 'side', image: 'busybox', restartPolicy: 'Never' }];
    expect((await failureOf(api.createNamespacedPod({ namespace: 'default', body: init }))).body.message).toBe(
      'Pod "sidecar-never" is invalid: spec.initContainers[0].restartPolicy: Unsupported value: "Never": supported values: "Always"',
    );
  });

  it('checks names, labels, container names, volume mounts and restartPolicy', async () => {
    const body: k8s.V1Pod = {
      metadata: { name: 'Bad_Name', labels: { 'bad key!': 'v', ok: 'bad value!' } },
      spec: {
        restartPolicy: 'Sometimes',
        volumes: [{ name: 'data', emptyDir: {} }],
        initContainers: [{ name: 'main', image: 'busybox' }],
        containers: [
          { name: 'main', image: 'busybox', volumeMounts: [{ name: 'missing', mountPath: '/m' }] },
          { name: 'Upper', image: 'busybox' },
        ],
      },
    };
    const result = await failureOf(api.createNamespacedPod({ namespace: 'default', body }));
    expect(result.code).toBe(422);
    const causes = result.body.details.causes as { field: string; reason: string; message: string }[];
    const byField = (field: string) => causes.filter((c) => c.field === field).map((c) => c.reason);
    expect(byField('metadata.name')).toEqual(['FieldValueInvalid']);
    expect(causes.find((c) => c.field === 'metadata.name')?.message).toContain(
      'a lowercase RFC 1123 subdomain must consist of',
    );
    expect(byField('metadata.labels')).toEqual(['FieldValueInvalid', 'FieldValueInvalid']);
    expect(byField('spec.containers[0].name')).toEqual(['FieldValueDuplicate']);
    expect(byField('spec.containers[1].name')).toEqual(['FieldValueInvalid']);
    expect(causes.find((c) => c.field === 'spec.containers[0].volumeMounts[0].name')).toMatchObject({
      reason: 'FieldValueNotFound',
      message: 'Not found: "missing"',
    });
    expect(causes.find((c) => c.field === 'spec.restartPolicy')).toMatchObject({
      reason: 'FieldValueNotSupported',
      message: 'Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"',
    });
    expect(result.body.message).toMatch(/^Pod "Bad_Name" is invalid: \[/);
  });

  it('rejects unknown fields with fieldValidation=Strict and warns otherwise', async () => {
    const body = { ...pod('strict'), spec: { ...pod('strict').spec, foo: 1 } };
    const strict = await rawRequest(cluster.kubeconfig, '/api/v1/namespaces/default/pods?fieldValidation=Strict', {
      method: 'POST',
      body,
    });
    expect(strict.status).toBe(400);
    expect(strict.json()).toMatchObject({
      reason: 'BadRequest',
      message: 'strict decoding error: unknown field "spec.foo"',
    });
    const warn = await rawRequest(cluster.kubeconfig, '/api/v1/namespaces/default/pods', { method: 'POST', body });
    expect(warn.status).toBe(201);
    expect(warn.headers.warning).toContain('unknown field \\"spec.foo\\"');
    expect((warn.json().spec as Record<string, unknown>).foo).toBeUndefined();
  });

  it('refuses a pod whose ServiceAccount does not exist with 403', async () => {
    const body = pod('nosa');
    body.spec!.serviceAccountName = 'ghost';
    const result = await failureOf(api.createNamespacedPod({ namespace: 'default', body }));
    expect(result.code).toBe(403);
    expect(result.body.message).toBe(
      'pods "nosa" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found',
    );
  });
});

describe('other resources', () => {
  it('creates namespaces with a default ServiceAccount and the root CA ConfigMap, and deletes them', async () => {
    await api.createNamespace({ body: { metadata: { name: 'team-x' } } });
    const sa = await api.readNamespacedServiceAccount({ namespace: 'team-x', name: 'default' });
    expect(sa.metadata?.namespace).toBe('team-x');
    const cm = await api.readNamespacedConfigMap({ namespace: 'team-x', name: 'kube-root-ca.crt' });
    expect(cm.data?.['ca.crt']).toBe(cluster.caCertPem);
    const bad = await failureOf(api.createNamespace({ body: { metadata: { name: 'Not.A.Label' } } }));
    expect(bad.code).toBe(422);
    await api.deleteNamespace({ name: 'team-x' });
    expect((await failureOf(api.readNamespace({ name: 'team-x' }))).code).toBe(404);
    expect((await failureOf(api.deleteNamespace({ name: 'default' }))).code).toBe(403);
  });

  it('binds PersistentVolumeClaims at once and validates access modes', async () => {
    const claim = await api.createNamespacedPersistentVolumeClaim({
      namespace: 'default',
      body: {
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } },
      },
    });
    expect(claim.status).toMatchObject({
      phase: 'Bound',
      accessModes: ['ReadWriteMany'],
      capacity: { storage: '1Gi' },
    });
    const bad = await failureOf(
      api.createNamespacedPersistentVolumeClaim({
        namespace: 'default',
        body: {
          metadata: { name: 'bad' },
          spec: { accessModes: ['Sometimes'], resources: { requests: { storage: '1Gi' } } },
        },
      }),
    );
    expect(bad.code).toBe(422);
    expect(bad.body.details.causes[0].field).toBe('spec.accessModes');
    const deleted = await api.deleteNamespacedPersistentVolumeClaim({ namespace: 'default', name: 'data' });
    expect(deleted.metadata?.name).toBe('data');
  });

  it('stores Secrets (stringData folded into data) and ConfigMaps, and deletes with a Success Status', async () => {
    const secret = await api.createNamespacedSecret({
      namespace: 'default',
      body: { metadata: { name: 's' }, stringData: { key: 'value' } },
    });
    expect(secret.data).toEqual({ key: Buffer.from('value').toString('base64') });
    expect(secret.type).toBe('Opaque');
    await api.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'c' }, data: { a: 'b' } } });
    const status = await api.deleteNamespacedConfigMap({ namespace: 'default', name: 'c' });
    expect(status).toMatchObject({ status: 'Success', details: { name: 'c', kind: 'configmaps' } });
  });

  it('serves RBAC objects and refuses changing a binding roleRef', async () => {
    const rbac = kubeConfig(cluster.kubeconfig).makeApiClient(k8s.RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: 'default',
      body: { metadata: { name: 'reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] },
    });
    const binding = await rbac.createNamespacedRoleBinding({
      namespace: 'default',
      body: {
        metadata: { name: 'reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
        subjects: [{ kind: 'User', name: 'erin', apiGroup: 'rbac.authorization.k8s.io' }],
      },
    });
    binding.roleRef.name = 'other';
    const result = await failureOf(
      rbac.replaceNamespacedRoleBinding({ namespace: 'default', name: 'reader', body: binding }),
    );
    expect(result.code).toBe(422);
    expect(result.body.message).toBe(
      'RoleBinding.rbac.authorization.k8s.io "reader" is invalid: roleRef: Invalid value: {"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"other"}: cannot change roleRef',
    );
    const roles = await rbac.listClusterRole();
    expect(roles.items.map((r) => r.metadata?.name)).toEqual(expect.arrayContaining(['cluster-admin', 'edit', 'view']));
  });

  it('records events and filters them by involvedObject', async () => {
    const events = await api.listNamespacedEvent({
      namespace: 'default',
      fieldSelector: 'involvedObject.kind=Pod,involvedObject.name=nope',
    });
    expect(events.items).toEqual([]);
    expect(events.metadata?.resourceVersion).toBeTruthy();
  });
});
