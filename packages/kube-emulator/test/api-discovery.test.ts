import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster } from '../src/index.js';
import type { EmbeddedCluster } from '../src/index.js';
import { kubectl, kubectlPath, rawRequest } from './api-helpers.js';

let cluster: EmbeddedCluster;

beforeAll(async () => {
  cluster = await startCluster();
  cluster.faults.stopScheduling();
});
afterAll(async () => {
  await cluster?.stop();
});

describe('discovery', () => {
  it('serves /version, /api and /api/v1 with verbs, short names and subresources', async () => {
    expect((await rawRequest(cluster.kubeconfig, '/version')).json()).toMatchObject({ major: '1', minor: '32' });
    const api = (await rawRequest(cluster.kubeconfig, '/api')).json();
    expect(api).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const v1 = (await rawRequest(cluster.kubeconfig, '/api/v1')).json<{
      kind: string;
      groupVersion: string;
      resources: Record<string, unknown>[];
    }>();
    expect(v1.kind).toBe('APIResourceList');
    expect(v1.groupVersion).toBe('v1');
    const byName = new Map(v1.resources.map((r) => [r.name, r]));
    expect(byName.get('pods')).toMatchObject({
      namespaced: true,
      kind: 'Pod',
      shortNames: ['po'],
      verbs: expect.arrayContaining(['watch', 'list', 'create', 'delete', 'patch']),
    });
    expect(byName.get('pods/exec')).toMatchObject({ kind: 'PodExecOptions', verbs: ['create', 'get'] });
    expect(byName.get('pods/log')).toMatchObject({ kind: 'Pod', verbs: ['get'] });
    expect(byName.get('serviceaccounts/token')).toMatchObject({ kind: 'TokenRequest', group: 'authentication.k8s.io' });
    for (const name of ['namespaces', 'events', 'persistentvolumeclaims', 'serviceaccounts', 'secrets', 'configmaps'])
      expect(byName.has(name)).toBe(true);
  });

  it('serves /apis and each group it implements', async () => {
    const apis = (await rawRequest(cluster.kubeconfig, '/apis')).json<{ kind: string; groups: { name: string }[] }>();
    expect(apis.kind).toBe('APIGroupList');
    expect(apis.groups.map((g) => g.name)).toEqual([
      'rbac.authorization.k8s.io',
      'authorization.k8s.io',
      'authentication.k8s.io',
    ]);
    const rbac = (await rawRequest(cluster.kubeconfig, '/apis/rbac.authorization.k8s.io/v1')).json<{
      resources: { name: string; namespaced: boolean }[];
    }>();
    expect(rbac.resources.map((r) => r.name)).toEqual(['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings']);
    expect((await rawRequest(cluster.kubeconfig, '/apis/rbac.authorization.k8s.io')).json()).toMatchObject({
      kind: 'APIGroup',
      name: 'rbac.authorization.k8s.io',
    });
    expect((await rawRequest(cluster.kubeconfig, '/apis/apps/v1')).status).toBe(404);
    const openapi = (await rawRequest(cluster.kubeconfig, '/openapi/v3')).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(openapi.paths)).toContain('api/v1');
  });

  it.skipIf(!kubectlPath)(
    'lets kubectl discover resources and create objects from files with server-side field validation',
    async () => {
      const resources = await kubectl(cluster.kubeconfigPath, ['api-resources', '--no-headers']);
      expect(resources.code).toBe(0);
      expect(resources.stdout).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/m);
      expect(resources.stdout).toMatch(/^roles\s+rbac\.authorization\.k8s\.io\/v1\s+true\s+Role$/m);
      const file = join(cluster.stateDir, 'cm.yaml');
      writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-file\ndata:\n  a: b\n');
      const created = await kubectl(cluster.kubeconfigPath, ['create', '-f', file]);
      expect(created.stdout.trim()).toBe('configmap/from-file created');
      const applied = await kubectl(cluster.kubeconfigPath, ['apply', '-f', file]);
      expect(applied.code).toBe(0);
      writeFileSync(
        file,
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unknown-field\nbogus: 1\ndata:\n  a: b\n',
      );
      const strict = await kubectl(cluster.kubeconfigPath, ['create', '-f', file]);
      expect(strict.code).not.toBe(0);
      expect(strict.stderr).toContain('strict decoding error: unknown field "bogus"');
      const version = await kubectl(cluster.kubeconfigPath, ['version', '-o', 'json']);
      expect(JSON.parse(version.stdout).serverVersion.gitVersion).toBe('v1.32.0+podrun');
    },
  );
});

describe('serving as an older Kubernetes', () => {
  it('says 1.29 in /version and negotiates exec v4 at most, as servers before 1.30 do', async () => {
    const { negotiateProtocol } = await import('../src/apiserver/pod-subresources.js');
    const old = await startCluster({ kubernetesVersion: '1.29' });
    try {
      expect((await rawRequest(old.kubeconfig, '/version')).json()).toMatchObject({
        major: '1',
        minor: '29',
        gitVersion: 'v1.29.0+podrun',
      });
    } finally {
      await old.stop();
    }
    expect(negotiateProtocol('v5.channel.k8s.io, v4.channel.k8s.io', 29)).toBe('v4.channel.k8s.io');
    expect(negotiateProtocol('v5.channel.k8s.io, v4.channel.k8s.io', 30)).toBe('v5.channel.k8s.io');
    await expect(startCluster({ kubernetesVersion: 'latest' })).rejects.toThrow(/kubernetesVersion "latest"/);
  });
});
