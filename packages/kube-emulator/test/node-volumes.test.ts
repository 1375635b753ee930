import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expand } from '../src/node/env.js';
import { sh, startHarness, status } from './node-harness.js';
import type { Harness } from './node-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  h.store.create('configmaps', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'settings', namespace: 'default' },
    data: { mode: 'fast', 'app.conf': 'a=1\nb=2\n' },
  });
  h.store.create('secrets', {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'creds', namespace: 'default' },
    data: { user: Buffer.from('admin').toString('base64'), password: Buffer.from('pa55').toString('base64') },
  });
});
afterAll(async () => {
  await h.close();
});

const body = async (pod: string): Promise<string> => (await h.logs(pod)).body;

describe('environment', () => {
  it('resolves value, $(VAR) expansion, fieldRef, resourceFieldRef, key refs and envFrom', async () => {
    h.createPod(
      'env',
      {
        serviceAccountName: 'builder',
        containers: [
          sh(
            'main',
            'for v in A B NAME NS UID APP POD_IP NODE SA MEM mode SEC_user PLAIN; do echo "$v=$$(printenv "$v")"; done',
            {
              resources: { limits: { memory: '64Mi' } },
              envFrom: [{ configMapRef: { name: 'settings' } }, { secretRef: { name: 'creds' }, prefix: 'SEC_' }],
              env: [
                { name: 'A', value: 'alpha' },
                { name: 'B', value: '$(A)-beta-$$(A)-$(MISSING)' },
                { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                { name: 'UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
                { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
                { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
                { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
                { name: 'PLAIN', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
              ],
            },
          ),
        ],
      },
      { labels: { app: 'demo' } },
    );
    const done = await h.phase('env', 'Succeeded');
    expect(await body('env')).toBe(
      [
        'A=alpha',
        'B=alpha-beta-$(A)-$(MISSING)',
        'NAME=env',
        'NS=default',
        `UID=${done.metadata.uid}`,
        'APP=demo',
        `POD_IP=${(done.status as { podIP: string }).podIP}`,
        'NODE=podrun-node',
        'SA=builder',
        'MEM=64',
        'mode=fast',
        'SEC_user=admin',
        'PLAIN=fast',
        '',
      ].join('\n'),
    );
  });

  it('expands command and args with the container env and runs workingDir', async () => {
    h.createPod('args', {
      containers: [
        {
          name: 'main',
          image: 'busybox',
          workingDir: '/work/dir',
          command: ['sh', '-c'],
          args: ['echo $(GREETING) from $(pwd)'],
          env: [{ name: 'GREETING', value: 'hi' }],
        },
      ],
    });
    await h.phase('args', 'Succeeded');
    expect(await body('args')).toBe('hi from /work/dir\n');
  });

  it('implements Kubernetes $(VAR) expansion rules', () => {
    const lookup = (name: string): string | undefined => ({ A: 'x' })[name];
    expect(expand('$(A)$$(A)$(B)$A$(A', lookup)).toBe('x$(A)$(B)$A$(A');
  });

  it('reports configMapKeyRef errors with the kubelet message', async () => {
    h.createPod('badkey', {
      containers: [
        sh('main', 'true', { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'settings', key: 'nope' } } }] }),
      ],
    });
    const waiting = await h.waitFor(
      'badkey',
      (p) => status(p)?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError',
    );
    expect(status(waiting).containerStatuses[0].state.waiting.message).toBe(
      "couldn't find key nope in ConfigMap default/settings",
    );
    h.store.remove('pods', 'default', 'badkey');
  });
});

describe('volumes', () => {
  it('materialises configMap, secret (items, modes) and downwardAPI files read-only', async () => {
    h.createPod(
      'files',
      {
        containers: [
          sh(
            'main',
            'cat /cfg/app.conf /cfg/mode; echo; ls /sec; cat /sec/nested/pw; echo; stat -c %a /sec/nested/pw /cfg/mode; cat /meta/labels; echo; cat /meta/name; echo; touch /cfg/x 2>/dev/null || echo ro',
            {
              volumeMounts: [
                { name: 'cfg', mountPath: '/cfg' },
                { name: 'sec', mountPath: '/sec' },
                { name: 'meta', mountPath: '/meta' },
              ],
            },
          ),
        ],
        volumes: [
          { name: 'cfg', configMap: { name: 'settings' } },
          {
            name: 'sec',
            secret: { secretName: 'creds', defaultMode: 0o400, items: [{ key: 'password', path: 'nested/pw' }] },
          },
          {
            name: 'meta',
            downwardAPI: {
              items: [
                { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
                { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
              ],
            },
          },
        ],
      },
      { labels: { b: 'two', a: 'one' } },
    );
    await h.phase('files', 'Succeeded');
    expect(await body('files')).toBe(
      ['a=1', 'b=2', 'fast', 'nested', 'pa55', '400', '644', 'a="one"', 'b="two"', 'files', 'ro', ''].join('\n'),
    );
  });

  it('keeps the pod ContainerCreating with a FailedMount event while a configMap is missing', async () => {
    h.createPod('nomount', {
      containers: [sh('main', 'cat /cfg/k', { volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }] })],
      volumes: [{ name: 'cfg', configMap: { name: 'late' } }],
    });
    await h.waitFor('nomount', () =>
      h.events.some((e) => e.involvedObject.name === 'nomount' && e.reason === 'FailedMount'),
    );
    const event = h.events.find((e) => e.involvedObject.name === 'nomount' && e.reason === 'FailedMount')!;
    expect(event).toMatchObject({
      type: 'Warning',
      message: 'MountVolume.SetUp failed for volume "cfg" : configmap "late" not found',
    });
    expect(status(h.pod('nomount')!).containerStatuses[0].state.waiting.reason).toBe('ContainerCreating');
    h.store.create('configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'late', namespace: 'default' },
      data: { k: 'v' },
    });
    await h.phase('nomount', 'Succeeded');
    expect(await body('nomount')).toBe('v\n');
  });

  it('mounts subPath entries of a volume', async () => {
    h.createPod('subpath', {
      containers: [
        sh('main', 'cat /etc/app/app.conf; ls /etc/app | wc -l; echo x > /scratch/file; ls /scratch', {
          volumeMounts: [
            { name: 'cfg', mountPath: '/etc/app/app.conf', subPath: 'app.conf' },
            { name: 'tmp', mountPath: '/scratch', subPath: 'sub/dir' },
          ],
        }),
      ],
      volumes: [
        { name: 'cfg', configMap: { name: 'settings' } },
        { name: 'tmp', emptyDir: {} },
      ],
    });
    await h.phase('subpath', 'Succeeded');
    expect(await body('subpath')).toBe('a=1\nb=2\n1\nfile\n');
  });
});
