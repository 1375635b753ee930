// `kubectl auth can-i` for an RBAC-limited ServiceAccount made with kubectl create/apply and a
// token from `kubectl create token`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster } from '../src/index.js';
import type { EmbeddedCluster } from '../src/index.js';
import { kubectl, kubectlPath, writeKubeconfig } from './api-helpers.js';

let cluster: EmbeddedCluster;

beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster?.stop();
});

const manifest = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: task-runner
  namespace: work
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch", "create", "delete"]
- apiGroups: [""]
  resources: ["pods/log"]
  verbs: ["get"]
- apiGroups: [""]
  resources: ["pods/exec"]
  verbs: ["get", "create"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: task-runner
  namespace: work
subjects:
- kind: ServiceAccount
  name: runner
  namespace: work
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: task-runner
`;

describe.skipIf(!kubectlPath)('kubectl auth can-i', () => {
  it('answers for a limited ServiceAccount from the same RBAC rules', async () => {
    const admin = cluster.kubeconfigPath;
    expect((await kubectl(admin, ['create', 'namespace', 'work'])).stdout).toContain('namespace/work created');
    expect((await kubectl(admin, ['-n', 'work', 'create', 'serviceaccount', 'runner'])).code).toBe(0);
    const file = join(cluster.stateDir, 'rbac.yaml');
    writeFileSync(file, manifest);
    const applied = await kubectl(admin, ['apply', '-f', file]);
    expect(applied.stdout).toContain('role.rbac.authorization.k8s.io/task-runner created');
    expect(applied.stdout).toContain('rolebinding.rbac.authorization.k8s.io/task-runner created');
    expect((await kubectl(admin, ['apply', '-f', file])).stdout).toContain('unchanged');

    const token = await kubectl(admin, ['-n', 'work', 'create', 'token', 'runner', '--duration=1h']);
    expect(token.code).toBe(0);
    const runner = writeKubeconfig(cluster, 'runner', cluster.kubeconfigFor({ token: token.stdout.trim() }));
    const canI = async (...args: string[]): Promise<string> => {
      const result = await kubectl(runner, ['auth', 'can-i', ...args]);
      return result.stdout.trim();
    };
    expect(await canI('create', 'pods', '-n', 'work')).toBe('yes');
    expect(await canI('get', 'pods', '--subresource=exec', '-n', 'work')).toBe('yes');
    expect(await canI('get', 'pods', '--subresource=log', '-n', 'work')).toBe('yes');
    expect(await canI('delete', 'secrets', '-n', 'work')).toBe('no');
    expect(await canI('create', 'pods', '-n', 'default')).toBe('no');
    expect(await canI('list', 'namespaces')).toBe('no');
    const whoami = await kubectl(runner, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    expect(whoami.stdout).toBe('system:serviceaccount:work:runner');
    const list = await kubectl(runner, ['auth', 'can-i', '--list', '-n', 'work']);
    expect(list.stdout).toMatch(/pods\/exec\s+\[\]\s+\[\]\s+\[get create\]/);

    const denied = await kubectl(runner, ['get', 'secrets', '-n', 'work']);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain(
      'secrets is forbidden: User "system:serviceaccount:work:runner" cannot list resource "secrets" in API group "" in the namespace "work"',
    );
    expect((await kubectl(runner, ['get', 'pods', '-n', 'work'])).stderr).toContain(
      'No resources found in work namespace.',
    );
  });
});
