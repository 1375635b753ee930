import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { ErrorCodes, ConfigError, KubeApiError, TransferError, type ExecOptions, type KubePort } from '@podrun/core';
import {
  RecordingSink,
  SUITE_LABEL,
  TransferRun,
  fileEntry,
  startConformanceCluster,
  withFaults,
  type ConformanceCluster,
} from '@podrun/conformance';
import { createPvcTransfer } from '@podrun/transfer-pvc';

let cluster: ConformanceCluster;
beforeAll(async () => {
  cluster = await startConformanceCluster();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

/** The cluster's port, recording the pod of every exec. */
function recordingExec(kube: KubePort, pods: string[]): KubePort {
  return new Proxy(kube, {
    get(target, prop) {
      if (prop === 'exec') {
        return (
          ns: string,
          pod: string,
          container: string,
          command: string[],
          options: ExecOptions,
          signal?: AbortSignal,
        ) => {
          pods.push(pod);
          return target.exec(ns, pod, container, command, options, signal);
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A task run of this file's own cases on `kube`. */
function transferRun(
  kube: KubePort,
  transfer: ReturnType<typeof createPvcTransfer>,
  spec: ConstructorParameters<typeof TransferRun>[1],
): TransferRun {
  const { faults } = withFaults(kube);
  const env = {
    kube,
    faults,
    transfer,
    namespace: cluster.namespace,
    image: cluster.image,
    selector: { namespace: cluster.namespace, labelSelector: `${SUITE_LABEL}=pvc-own` },
    suiteId: 'pvc-own',
  };
  return new TransferRun(env, spec);
}

async function roundTrip(kube: KubePort, transfer: ReturnType<typeof createPvcTransfer>, label: string) {
  const run = transferRun(kube, transfer, {
    label,
    inputs: [fileEntry('data.txt', 'hello pvc\n')],
    script: 'cp data.txt out.txt',
    select: { globs: ['out.txt'] },
  });
  await run.runToEnd();
  const sink = new RecordingSink();
  await run.download(sink);
  expect(sink.get('out.txt')?.bytes?.toString()).toBe('hello pvc\n');
  return run;
}

describe('pvc transfer', () => {
  it('with a shared mount: no exec at all, a claim of its own removed on release', async () => {
    const execs: string[] = [];
    const kube = recordingExec(cluster.kube, execs);
    const transfer = createPvcTransfer({ hostPath: `${cluster.stateDir}/volumes/pvc/{namespace}/{claim}` });
    expect(transfer.capabilities.needsExec).toBe(false);
    const run = await roundTrip(kube, transfer, 'shared');
    const helpers = await cluster.kube.listPods(cluster.namespace, 'transfer.podrun.io/pvc-helper=true');
    expect(helpers).toEqual([]);
    const claimName = run.contribution!.volumes![0]!.persistentVolumeClaim!.claimName;
    expect(await cluster.kube.getPersistentVolumeClaim(cluster.namespace, claimName)).toBeDefined();
    await run.dispose();
    expect(await cluster.kube.getPersistentVolumeClaim(cluster.namespace, claimName)).toBeUndefined();
    expect(execs).toEqual([]);
  });

  it('with helper pods: the task pod is never exec’d into', async () => {
    const execs: string[] = [];
    const kube = recordingExec(cluster.kube, execs);
    const transfer = createPvcTransfer({});
    const run = await roundTrip(kube, transfer, 'helper');
    await run.dispose();
    expect(execs.length).toBeGreaterThan(0);
    expect(execs.every((pod) => pod.startsWith('podrun-pvc-') && pod !== run.podName)).toBe(true);
    expect(await cluster.kube.listPods(cluster.namespace, 'transfer.podrun.io/pvc-helper=true')).toEqual([]);
  });

  it('with an existing claim: one directory per run under subPath, removed on release', async () => {
    await cluster.kube.createPersistentVolumeClaim(cluster.namespace, {
      metadata: { name: 'shared-files' },
      spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } },
    });
    const claimDir = `${cluster.stateDir}/volumes/pvc/${cluster.namespace}/shared-files`;
    const transfer = createPvcTransfer({ existingClaim: 'shared-files', subPath: 'runs', hostPath: claimDir });
    const run = await roundTrip(cluster.kube, transfer, 'existing');
    const mount = run.contribution!.mainVolumeMounts![0]!;
    expect(mount.subPath).toMatch(/^runs\/[0-9a-f]{16}-1$/);
    expect(existsSync(`${claimDir}/${mount.subPath}/working-dir/out.txt`)).toBe(true);
    await run.dispose();
    expect(existsSync(`${claimDir}/${mount.subPath}`)).toBe(false);
    expect(await cluster.kube.getPersistentVolumeClaim(cluster.namespace, 'shared-files')).toBeDefined();
  });

  it('reports a helper pod it may not delete instead of leaving it behind silently', async () => {
    const forbidden = new Proxy(cluster.kube, {
      get(target, prop) {
        if (prop === 'deletePod') {
          return async (ns: string, name: string, options?: { gracePeriodSeconds?: number }) => {
            if (name.startsWith('podrun-pvc-'))
              throw new KubeApiError(`pods "${name}" is forbidden: User "runner" cannot delete resource "pods"`, {
                status: 403,
                reason: 'Forbidden',
              });
            return target.deletePod(ns, name, options);
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const run = transferRun(forbidden, createPvcTransfer({}), {
      label: 'forbidden',
      inputs: [fileEntry('data.txt', 'x')],
      script: 'true',
      select: { globs: [] },
    });
    const error = await run.runToEnd().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransferError);
    expect((error as Error).message).toMatch(
      /could not delete the helper pod podrun-pvc-.* it keeps the claim mounted/,
    );
    for (const pod of await cluster.kube.listPods(cluster.namespace, 'transfer.podrun.io/pvc-helper=true'))
      await cluster.kube.deletePod(cluster.namespace, pod.metadata!.name!, { gracePeriodSeconds: 0 });
    await run.dispose().catch(() => undefined);
  });

  it('rejects a sub path or host path that could escape', () => {
    for (const options of [{ subPath: '../up' }, { hostPath: 'relative/dir' }, { hostPath: '/a/../b' }]) {
      let error: unknown;
      try {
        createPvcTransfer(options);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe(ErrorCodes.CONFIG_INVALID);
    }
  });
});
