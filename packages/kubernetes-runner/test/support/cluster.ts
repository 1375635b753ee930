import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunnerConfig, type KubernetesRunnerConfig } from '@podrun/core';
import type { PodrunKubePort } from '@podrun/kube';
import type { EmbeddedCluster } from '@podrun/kube-emulator';
import { startTestCluster } from '@podrun/test-utils';

export interface TestCluster {
  cluster: EmbeddedCluster;
  kube: PodrunKubePort;
  dir: string;
  config(overrides?: Record<string, unknown>): KubernetesRunnerConfig;
  stop(): Promise<void>;
}

/** Starts an embedded cluster and a port on it, plus a temp dir for stored outputs. */
export async function testCluster(): Promise<TestCluster> {
  const cluster = await startTestCluster({ port: { retry: { baseDelayMs: 50, maxDelayMs: 500 } } });
  const kube = cluster.kube;
  const dir = mkdtempSync(join(tmpdir(), 'podrun-runner-test-'));
  return {
    cluster,
    kube,
    dir,
    config: (overrides = {}) =>
      parseRunnerConfig({ namespace: 'default', pullPolicy: 'IF_NOT_PRESENT', waitForLogs: 'PT2S', ...overrides }),
    stop: async () => {
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
