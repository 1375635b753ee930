import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '@podrun/core';
import { build, envOf, issuesOf, main, paths } from './support/fixtures.js';
import { FILES_VOLUME, execTarLikeContribution } from './support/exec-tar-like.js';

const contribution = execTarLikeContribution(paths);

describe('podSpec overlay', () => {
  const podSpec = {
    containers: [
      {
        name: 'proxy',
        image: 'envoyproxy/envoy:v1.31',
        volumeMounts: [{ name: FILES_VOLUME, mountPath: '/data', readOnly: true }],
      },
      {
        name: 'main',
        env: [{ name: 'LOG_LEVEL', value: 'debug' }],
        securityContext: { runAsUser: 1000 },
        volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
      },
    ],
    initContainers: [{ name: 'fetch-config', image: 'alpine:3', command: ['true'] }],
    volumes: [{ name: 'cache', emptyDir: { medium: 'Memory' } }],
    tolerations: [{ key: 'batch', operator: 'Exists', effect: 'NoSchedule' }],
    securityContext: { fsGroup: 2000 },
    nodeSelector: { pool: 'spot' },
    priorityClassName: 'low',
  };
  const pod = build({ contribution, config: { podSpec, nodeSelector: { pool: 'batch', zone: 'a' } } });
  const spec = pod.spec!;

  it('merges a container named main into the main container', () => {
    expect(envOf(main(pod)).LOG_LEVEL).toBe('debug');
    expect(envOf(main(pod)).WORKING_DIR).toBe('/kestra/working-dir');
    expect(main(pod).securityContext).toEqual({ runAsUser: 1000 });
    expect(main(pod).volumeMounts!.map((m) => m.mountPath)).toEqual(['/kestra', '/cache']);
    expect(main(pod).image).toBe('ubuntu:24.04');
  });

  it("adds other containers after main and the transfer's sidecar", () => {
    expect(spec.containers.map((c) => c.name)).toEqual(['main', 'out-files', 'proxy']);
    expect(spec.containers[2]!.image).toBe('envoyproxy/envoy:v1.31');
  });

  it("adds podSpec.initContainers after the transfer's", () => {
    expect(spec.initContainers!.map((c) => c.name)).toEqual(['init-files', 'fetch-config']);
  });

  it("merges volumes by name after the transfer's", () => {
    expect(spec.volumes!.map((v) => v.name)).toEqual([FILES_VOLUME, 'cache']);
    expect(spec.volumes![1]).toEqual({ name: 'cache', emptyDir: { medium: 'Memory' } });
  });

  it('deep-merges other pod fields; overlay maps merge over the top-level properties', () => {
    expect(spec.tolerations).toEqual(podSpec.tolerations);
    expect(spec.securityContext).toEqual({ fsGroup: 2000 });
    expect(spec.priorityClassName).toBe('low');
    expect(spec.nodeSelector).toEqual({ pool: 'spot', zone: 'a' });
    expect(spec.restartPolicy).toBe('Never');
  });

  it('lets podSpec.serviceAccountName win over the property, and null remove a property', () => {
    expect(
      build({ config: { serviceAccountName: 'a', podSpec: { serviceAccountName: 'b' } } }).spec!.serviceAccountName,
    ).toBe('b');
    expect(
      build({ config: { nodeSelector: { pool: 'x' }, podSpec: { nodeSelector: null } } }).spec!.nodeSelector,
    ).toBeUndefined();
  });

  it('accepts restartPolicy Never and the same activeDeadlineSeconds', () => {
    const pod = build({ config: { podSpec: { restartPolicy: 'Never', activeDeadlineSeconds: 4500 } } });
    expect(pod.spec!.activeDeadlineSeconds).toBe(4500);
  });

  it('never lets keys like __proto__ reach a prototype', () => {
    const podSpec = JSON.parse(
      '{"__proto__": {"polluted": true}, "securityContext": {"__proto__": {"polluted": true}}}',
    );
    const pod = build({ config: { podSpec } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(pod.spec!.securityContext)).toBe(Object.prototype);
  });
});

describe('containerSpec overlay', () => {
  it('merges into main after podSpec main: env by name (overlay wins), mounts by mountPath, envFrom appended', () => {
    const pod = build({
      contribution,
      task: { env: { MODE: 'task', KEEP: 'yes' } },
      config: {
        resources: { request: { cpu: '100m' }, limit: { memory: '1Gi' } },
        podSpec: {
          containers: [
            { name: 'main', env: [{ name: 'MODE', value: 'podSpec' }], envFrom: [{ configMapRef: { name: 'a' } }] },
          ],
          volumes: [{ name: 'cache', emptyDir: {} }],
        },
        containerSpec: {
          env: [
            { name: 'MODE', value: 'containerSpec' },
            { name: 'SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
          ],
          envFrom: [{ secretRef: { name: 'b' } }],
          volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
          resources: { limits: { cpu: '1' } },
          workingDir: '/kestra/working-dir/sub',
          imagePullPolicy: 'IfNotPresent',
        },
      },
    });
    const c = main(pod);
    expect(c.env!.map((e) => e.name)).toEqual([
      'MODE',
      'KEEP',
      'WORKING_DIR',
      'OUTPUT_DIR',
      'PODRUN_EXIT_FILE',
      'SECRET',
    ]);
    expect(envOf(c).MODE).toBe('containerSpec');
    expect(c.env![5]).toEqual({ name: 'SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } });
    expect(c.envFrom).toEqual([{ configMapRef: { name: 'a' } }, { secretRef: { name: 'b' } }]);
    expect(c.volumeMounts!.map((m) => m.mountPath)).toEqual(['/kestra', '/cache']);
    expect(c.resources).toEqual({ requests: { cpu: '100m' }, limits: { memory: '1Gi', cpu: '1' } });
    expect(c.workingDir).toBe('/kestra/working-dir/sub');
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(c.command![3]).toBe('podrun-main');
  });

  it('accepts name main and the same image', () => {
    expect(main(build({ config: { containerSpec: { name: 'main', image: 'ubuntu:24.04' } } })).image).toBe(
      'ubuntu:24.04',
    );
  });
});

describe("the runner's own parts cannot be overridden (errors with paths)", () => {
  const reservedCase = (config: Record<string, unknown>) =>
    issuesOf(() => build({ contribution, transferName: 'exec-tar', config }), ErrorCodes.CONFIG_INVALID);

  it('refuses a podSpec container with a reserved name', () => {
    let message = '';
    try {
      build({
        contribution,
        transferName: 'exec-tar',
        config: {
          podSpec: {
            containers: [
              { name: 'proxy', image: 'x' },
              { name: 'out-files', image: 'x' },
            ],
          },
        },
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(
      'taskRunner.podSpec.containers[1].name: "out-files" is reserved by the exec-tar file transfer; choose another name',
    );
    expect(
      reservedCase({
        podSpec: {
          containers: [
            { name: 'proxy', image: 'x' },
            { name: 'out-files', image: 'x' },
          ],
        },
      }),
    ).toEqual(['taskRunner.podSpec.containers[1].name']);
  });

  it('refuses reserved or main names for init containers, and duplicates', () => {
    expect(
      reservedCase({
        podSpec: {
          initContainers: [
            { name: 'init-files', image: 'x' },
            { name: 'main', image: 'x' },
            { name: 'proxy', image: 'x' },
          ],
          containers: [{ name: 'proxy', image: 'x' }],
        },
      }),
    ).toEqual([
      'taskRunner.podSpec.initContainers[0].name',
      'taskRunner.podSpec.initContainers[1].name',
      'taskRunner.podSpec.initContainers[2].name',
    ]);
  });

  it('refuses names reserved by the contribution even when the transfer adds no such container now', () => {
    const onlyReserved = { reservedContainerNames: ['out-files'], reservedVolumeNames: ['podrun-files'] };
    expect(
      issuesOf(
        () =>
          build({
            contribution: onlyReserved,
            config: {
              podSpec: {
                containers: [{ name: 'out-files', image: 'x' }],
                volumes: [{ name: 'podrun-files', emptyDir: {} }],
              },
            },
          }),
        ErrorCodes.CONFIG_INVALID,
      ),
    ).toEqual(['taskRunner.podSpec.containers[0].name', 'taskRunner.podSpec.volumes[0].name']);
  });

  it('refuses a reserved volume name and a reserved mount path on main', () => {
    expect(
      reservedCase({
        podSpec: { volumes: [{ name: FILES_VOLUME, emptyDir: {} }] },
        containerSpec: { volumeMounts: [{ name: 'other', mountPath: '/kestra' }] },
      }),
    ).toEqual(['taskRunner.containerSpec.volumeMounts[0].mountPath', 'taskRunner.podSpec.volumes[0].name']);
  });

  it("refuses overriding main's image, command or args", () => {
    expect(reservedCase({ containerSpec: { image: 'alpine', command: ['sh'], args: ['-c', 'x'] } })).toEqual([
      'taskRunner.containerSpec.image',
      'taskRunner.containerSpec.command',
      'taskRunner.containerSpec.args',
    ]);
    expect(reservedCase({ podSpec: { containers: [{ name: 'main', image: 'alpine' }] } })).toEqual([
      'taskRunner.podSpec.containers[0].image',
    ]);
    expect(reservedCase({ containerSpec: { name: 'sidecar' } })).toEqual(['taskRunner.containerSpec.name']);
  });

  it('refuses env on main that podrun or the transfer sets', () => {
    expect(
      reservedCase({
        containerSpec: {
          env: [
            { name: 'OUTPUT_DIR', value: '/x' },
            { name: 'OK', value: '1' },
            { name: 'PODRUN_EXIT_FILE', value: '/x' },
          ],
        },
      }),
    ).toEqual(['taskRunner.containerSpec.env[0].name', 'taskRunner.containerSpec.env[2].name']);
    expect(
      issuesOf(() => build({ contribution, task: { env: { PODRUN_EXIT_FILE: '/x' } } }), ErrorCodes.TASK_INVALID),
    ).toEqual(['task.env.PODRUN_EXIT_FILE']);
  });

  it('refuses restartPolicy other than Never and a different activeDeadlineSeconds', () => {
    expect(reservedCase({ podSpec: { restartPolicy: 'OnFailure', activeDeadlineSeconds: 10 } })).toEqual([
      'taskRunner.podSpec.restartPolicy',
      'taskRunner.podSpec.activeDeadlineSeconds',
    ]);
  });
});

describe('overlays the API server would reject fail here, before the pod is created', () => {
  const fails = (config: Record<string, unknown>) =>
    issuesOf(() => build({ contribution, config }), ErrorCodes.CONFIG_INVALID);

  it('a mount of a volume the pod does not have', () => {
    expect(
      fails({
        podSpec: { containers: [{ name: 'proxy', image: 'x', volumeMounts: [{ name: 'nope', mountPath: '/n' }] }] },
      }),
    ).toEqual(['pod.spec.containers[2].volumeMounts[0].name']);
  });

  it('a user container without image, or with an invalid name', () => {
    expect(fails({ podSpec: { containers: [{ name: 'proxy' }, { name: 'Bad_Name', image: 'x' }] } }).sort()).toEqual([
      'pod.spec.containers[2].image',
      'pod.spec.containers[3].name',
    ]);
  });

  it('ephemeralContainers', () => {
    expect(fails({ podSpec: { ephemeralContainers: [{ name: 'debug', image: 'x' }] } })).toEqual([
      'pod.spec.ephemeralContainers',
    ]);
  });

  it('overlays that are not objects, lists that are not lists, items without names', () => {
    expect(
      fails({
        podSpec: { containers: { name: 'x' }, volumes: [{ emptyDir: {} }] },
        containerSpec: ['not', 'an', 'object'],
        fileSideCarSpec: 'nope',
      }).sort(),
    ).toEqual([
      'taskRunner.containerSpec',
      'taskRunner.fileSideCarSpec',
      'taskRunner.podSpec.containers',
      'taskRunner.podSpec.volumes[0].name',
    ]);
  });
});
