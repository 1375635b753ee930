/**
 * @podrun/test-utils (private): the setup podrun's own tests share — an embedded cluster with the
 * real test images (built by the vitest global setup) and a Kubernetes port on its admin
 * kubeconfig, with short retries so fault tests stay fast.
 *
 * @packageDocumentation
 */
import {
  createKubeConfig,
  createKubePort,
  type KubePortOptions,
  type PodrunKubeConfig,
  type PodrunKubePort,
} from '@podrun/kube';
import { startCluster, type ClusterOptions, type EmbeddedCluster } from '@podrun/kube-emulator';

/** The OCI archives of the test images (tools/test-images), exported by the vitest global setup. */
export function testImageArchives(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.PODRUN_TEST_IMAGES ?? '').split(',').filter(Boolean);
}

/** A kubeconfig for the cluster's admin, as a user would load the file. */
export function adminKubeConfig(cluster: Pick<EmbeddedCluster, 'kubeconfigPath'>): PodrunKubeConfig {
  return createKubeConfig(undefined, {}, { kubeconfigPath: cluster.kubeconfigPath });
}

/** A started cluster with a port on it; `stop()` closes the port, then stops the cluster. */
export interface TestCluster extends EmbeddedCluster {
  kube: PodrunKubePort;
}

/**
 * Starts an embedded cluster with the test images imported (plus `options.cluster`) and a port on
 * its admin kubeconfig with short retries (plus `options.port`).
 */
export async function startTestCluster(
  options: { cluster?: ClusterOptions; port?: Omit<KubePortOptions, 'kubeConfig'> } = {},
): Promise<TestCluster> {
  const cluster = await startCluster({ imageArchives: testImageArchives(), ...options.cluster });
  const kube = createKubePort({
    kubeConfig: adminKubeConfig(cluster),
    retry: { baseDelayMs: 20, maxDelayMs: 200 },
    ...options.port,
  });
  const stopCluster = cluster.stop.bind(cluster);
  return Object.assign(cluster, {
    kube,
    stop: async () => {
      await kube.close();
      await stopCluster();
    },
  });
}
