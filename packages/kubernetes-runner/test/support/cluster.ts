import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunnerConfig, type KubernetesRunnerConfig } from '@podrun/core';
import { createKubeConfig, createKubePort, type PodrunKubePort } from '@podrun/kube';
import { startCluster, type EmbeddedCluster } from '@podrun/kube-emulator';

/** The real test images (tools/test-images, exported by the vitest global setup). */
const testImageArchives = (process.env.PODRUN_TEST_IMAGES ?? '').split(',').filter(Boolean);

export interface TestCluster {
  cluster: EmbeddedCluster;
  kube: PodrunKubePort;
  dir: string;
  config(overrides?: Record<string, unknown>): KubernetesRunnerConfig;
  stop(): Promise<void>;
}

/** Starts an embedded cluster and a port on it, plus a temp dir for stored outputs. */
export async function testCluster(): Promise<TestCluster> {
  const cluster = await startCluster({ imageArchives: testImageArchives });
  const kube = createKubePort({
    kubeConfig: createKubeConfig(undefined, {}, { kubeconfigPath: cluster.kubeconfigPath }),
    retry: { baseDelayMs: 50, maxDelayMs: 500 },
  });
  const dir = mkdtempSync(join(tmpdir(), 'podrun-runner-test-'));
  return {
    cluster,
    kube,
    dir,
    config: (overrides = {}) =>
      parseRunnerConfig({ namespace: 'default', pullPolicy: 'IF_NOT_PRESENT', waitForLogs: 'PT2S', ...overrides }),
    stop: async () => {
      await kube.close();
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True when the pod no longer exists or its deletion was requested. */
export async function deletedOrGone(kube: PodrunKubePort, name: string | undefined): Promise<boolean> {
  if (!name) return false;
  const pod = await kube.getPod('default', name);
  return !pod || Boolean(pod.metadata?.deletionTimestamp);
}
