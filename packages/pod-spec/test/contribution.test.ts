import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '@podrun/core';
import { build, envOf, issuesOf, main, paths } from './support/fixtures.js';
import { FILES_VOLUME, execTarLikeContribution } from './support/exec-tar-like.js';

describe('a transfer contribution with init container, sidecar and volumes (exec-tar-like)', () => {
  const contribution = execTarLikeContribution(paths);
  const before = JSON.stringify(contribution);
  const pod = build({ contribution, transferName: 'exec-tar' });
  const spec = pod.spec!;

  it('adds the files volume and mounts it in main', () => {
    expect(spec.volumes).toEqual([{ name: FILES_VOLUME, emptyDir: { sizeLimit: '2Gi' } }]);
    expect(main(pod).volumeMounts).toEqual([{ name: FILES_VOLUME, mountPath: '/kestra' }]);
  });

  it('runs the init container before main, with fileSidecar.image as it names none', () => {
    expect(spec.initContainers!.map((c) => c.name)).toEqual(['init-files']);
    expect(spec.initContainers![0]!.image).toBe('busybox');
    expect(spec.initContainers![0]!.command).toEqual(contribution.initContainers![0]!.command);
  });

  it('puts main first, then the sidecar, keeping the image the transfer chose', () => {
    expect(spec.containers.map((c) => c.name)).toEqual(['main', 'out-files']);
    expect(spec.containers[1]!.image).toBe('busybox:1.36');
    expect(spec.containers[1]!.imagePullPolicy).toBeUndefined();
  });

  it("adds the transfer's env after podrun's and wraps the command", () => {
    const env = main(pod).env!.map((e) => e.name);
    expect(env).toEqual(['WORKING_DIR', 'OUTPUT_DIR', 'PODRUN_EXIT_FILE']);
    expect(envOf(main(pod)).PODRUN_EXIT_FILE).toBe('/kestra/exit');
    expect(main(pod).command![3]).toBe('podrun-main');
  });

  it("sets the transfer's annotations beside the identity ones", () => {
    expect(pod.metadata!.annotations!['podrun.io/transfer']).toBe('exec-tar');
    expect(pod.metadata!.annotations!['podrun.io/flow-id']).toBe('new-shell');
  });

  it('does not change the contribution', () => {
    expect(JSON.stringify(contribution)).toBe(before);
  });

  it('an empty contribution adds no init containers, sidecars or volumes', () => {
    const bare = build({ contribution: {} });
    expect(bare.spec!.initContainers).toBeUndefined();
    expect(bare.spec!.volumes).toBeUndefined();
    expect(bare.spec!.containers).toHaveLength(1);
  });

  it("refuses a contribution that sets podrun's own env (a faulty transfer)", () => {
    const faulty = { ...contribution, mainEnv: [{ name: 'WORKING_DIR', value: '/x' }] };
    expect(issuesOf(() => build({ contribution: faulty }), ErrorCodes.POD_SPEC_INVALID)).toEqual([
      'contribution.mainEnv',
    ]);
  });
});

describe('file sidecar settings on the transfer containers', () => {
  const contribution = execTarLikeContribution(paths);

  it('applies fileSidecar.resources in either shape to every transfer container', () => {
    for (const resources of [
      { limit: { cpu: '100m', memory: '64Mi' }, request: { cpu: '10m' } },
      { limits: { cpu: '100m', memory: '64Mi' }, requests: { cpu: '10m' } },
    ]) {
      const pod = build({ contribution, config: { fileSidecar: { image: 'busybox', resources } } });
      const expected = { limits: { cpu: '100m', memory: '64Mi' }, requests: { cpu: '10m' } };
      expect(pod.spec!.initContainers![0]!.resources).toEqual(expected);
      expect(pod.spec!.containers[1]!.resources).toEqual(expected);
      expect(main(pod).resources).toBeUndefined();
    }
  });

  it('uses fileSidecar.image only where the transfer set none', () => {
    const pod = build({ contribution, config: { fileSidecar: { image: 'registry.local/busybox:1.36' } } });
    expect(pod.spec!.initContainers![0]!.image).toBe('registry.local/busybox:1.36');
    expect(pod.spec!.containers[1]!.image).toBe('busybox:1.36');
  });

  it('applies fileSidecar.defaultSpec under the transfer containers (their own values win)', () => {
    const defaultSpec = {
      securityContext: { runAsNonRoot: true, runAsUser: 1000 },
      env: [
        { name: 'TZ', value: 'UTC' },
        { name: 'PODRUN_ROOT', value: '/elsewhere' },
      ],
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
      command: ['ignored'],
    };
    const pod = build({
      contribution,
      config: { fileSidecar: { image: 'busybox', defaultSpec }, podSpec: { volumes: [{ name: 'tmp', emptyDir: {} }] } },
    });
    const sidecar = pod.spec!.containers[1]!;
    expect(sidecar.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000 });
    expect(envOf(sidecar)).toEqual({ TZ: 'UTC', PODRUN_ROOT: '/kestra' });
    expect(sidecar.volumeMounts!.map((m) => m.mountPath)).toEqual(['/tmp', '/kestra']);
    expect(sidecar.command).toEqual(contribution.sidecars![0]!.command);
    expect(pod.spec!.initContainers![0]!.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000 });
  });

  it('merges fileSideCarSpec into every transfer container, overlay winning on user-owned fields', () => {
    const pod = build({
      contribution,
      config: {
        fileSidecar: { image: 'busybox', resources: { limit: { cpu: '100m' } } },
        fileSideCarSpec: {
          image: 'mirror.local/busybox:1.36',
          resources: { limits: { cpu: '200m' } },
          env: [{ name: 'HTTP_PROXY', value: 'http://proxy:3128' }],
          securityContext: { readOnlyRootFilesystem: true },
        },
      },
    });
    for (const c of [pod.spec!.initContainers![0]!, pod.spec!.containers[1]!]) {
      expect(c.image).toBe('mirror.local/busybox:1.36');
      expect(c.resources).toEqual({ limits: { cpu: '200m' } });
      expect(envOf(c).HTTP_PROXY).toBe('http://proxy:3128');
      expect(c.securityContext).toEqual({ readOnlyRootFilesystem: true });
    }
    expect(main(pod).securityContext).toBeUndefined();
  });

  it("refuses fileSideCarSpec that changes the transfer's name, command, env or mounts (reported once)", () => {
    const paths = issuesOf(
      () =>
        build({
          contribution,
          transferName: 'exec-tar',
          config: {
            fileSideCarSpec: {
              name: 'x',
              command: ['sleep', '1'],
              args: ['x'],
              env: [{ name: 'PODRUN_ROOT', value: '/x' }],
              volumeMounts: [{ name: FILES_VOLUME, mountPath: '/kestra' }],
            },
          },
        }),
      ErrorCodes.CONFIG_INVALID,
    );
    expect(paths).toEqual([
      'taskRunner.fileSideCarSpec.name',
      'taskRunner.fileSideCarSpec.command',
      'taskRunner.fileSideCarSpec.args',
      'taskRunner.fileSideCarSpec.volumeMounts[0].mountPath',
      'taskRunner.fileSideCarSpec.env[0].name',
    ]);
  });
});
