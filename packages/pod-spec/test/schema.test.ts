import { describe, expect, it } from 'vitest';
import { buildPod } from '@podrun/pod-spec';
import type { V1Pod } from '@kubernetes/client-node';
import { build, config, identity, paths, task } from './support/fixtures.js';
import { execTarLikeContribution } from './support/exec-tar-like.js';
import { expectValidPod } from './support/valid-pod.js';

describe('the schema check used on every built pod can fail', () => {
  const good = (): V1Pod =>
    buildPod({ task: task(), config: config(), identity, paths, contribution: {}, nameSuffix: 'a1' });

  it.each([
    ['a string deadline', (p: V1Pod) => ((p.spec as unknown as Record<string, unknown>).activeDeadlineSeconds = '10')],
    ['a container without name', (p: V1Pod) => delete (p.spec!.containers[0] as { name?: string }).name],
    ['a numeric env value', (p: V1Pod) => ((p.spec!.containers[0]!.env![0] as { value: unknown }).value = 1)],
    ['a 64-character label value', (p: V1Pod) => (p.metadata!.labels!.x = 'a'.repeat(64))],
    ['an upper-case pod name', (p: V1Pod) => (p.metadata!.name = 'Pod')],
    [
      'a mount of a missing volume',
      (p: V1Pod) => (p.spec!.containers[0]!.volumeMounts = [{ name: 'v', mountPath: '/v' }]),
    ],
  ])('rejects %s', (_, breakIt) => {
    const pod = good();
    expectValidPod(pod);
    breakIt(pod);
    expect(() => expectValidPod(pod)).toThrow();
  });
});

describe('a pod using every property pod-spec honours at once passes the official schema', () => {
  it('is valid', () => {
    const pod = build({
      contribution: execTarLikeContribution(paths),
      transferName: 'exec-tar',
      identity: { ...identity, executionId: 'x'.repeat(100), flowId: 'A very long flow name with spaces and Ünicode' },
      task: { env: { A: 'a' }, interpreter: ['/bin/bash', '-c'], timeoutMs: 120_000 },
      config: {
        namespace: 'team-a',
        labels: { team: 'data', 'example.com/owner': 'someone@example.com' },
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        pullPolicy: 'IF_NOT_PRESENT',
        resources: { request: { cpu: '100m', memory: '128Mi' }, limit: { cpu: '1', memory: '1Gi' } },
        serviceAccountName: 'task-runner',
        podSpec: {
          containers: [
            { name: 'proxy', image: 'envoyproxy/envoy:v1.31' },
            { name: 'main', env: [{ name: 'B', value: 'b' }] },
          ],
          initContainers: [{ name: 'setup', image: 'alpine:3' }],
          volumes: [{ name: 'cache', emptyDir: {} }],
          tolerations: [{ key: 'batch', operator: 'Exists' }],
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['a'] }] }],
              },
            },
          },
        },
        containerSpec: {
          volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
          securityContext: { allowPrivilegeEscalation: false },
        },
        fileSideCarSpec: { securityContext: { runAsNonRoot: true } },
        fileSidecar: {
          image: 'busybox:1.36',
          resources: { limit: { memory: '32Mi' } },
          defaultSpec: { env: [{ name: 'TZ', value: 'UTC' }] },
        },
        waitUntilCompletion: 600_000,
        waitUntilRunning: 60_000,
      },
    });
    expect(pod.spec!.containers.map((c) => c.name)).toEqual(['main', 'out-files', 'proxy']);
    expect(pod.spec!.initContainers!.map((c) => c.name)).toEqual(['init-files', 'setup']);
    expect(pod.spec!.activeDeadlineSeconds).toBe(120 + 60 + 300);
    expect(pod.metadata!.name).toBe('a-very-long-flow-name-with-spaces-and-nicode-shell-abc12345');
  });
});
