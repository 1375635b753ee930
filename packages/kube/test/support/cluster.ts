import type { V1Pod } from '@kubernetes/client-node';
import { startCluster, type ClusterOptions, type EmbeddedCluster } from '@podrun/kube-emulator';
import { createKubeConfig, createKubePort, type KubePortOptions, type PodrunKubePort } from '@podrun/kube';

/** Starts the embedded cluster and a port on its admin kubeconfig. */
export async function clusterWithPort(
  options: ClusterOptions = {},
  portOptions: Omit<KubePortOptions, 'kubeConfig'> = {},
): Promise<{
  cluster: EmbeddedCluster;
  port: PodrunKubePort;
  debug: Array<{ message: string; fields?: Record<string, unknown> }>;
}> {
  const cluster = await startCluster(options);
  const debug: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  const logger = {
    debug: (message: string, fields?: Record<string, unknown>) => void debug.push({ message, fields }),
    info: () => undefined,
    warn: (message: string, fields?: Record<string, unknown>) => void debug.push({ message, fields }),
    error: () => undefined,
  };
  const kubeConfig = createKubeConfig(undefined, {}, { kubeconfigPath: cluster.kubeconfigPath });
  const port = createKubePort({ kubeConfig, retry: { baseDelayMs: 20, maxDelayMs: 200 }, logger, ...portOptions });
  return { cluster, port, debug };
}

let seq = 0;
/** A small pod that sleeps (it may stay Pending where the node does not run it). */
export function sleeper(labels: Record<string, string>, name?: string): V1Pod {
  return {
    metadata: name ? { name, labels } : { generateName: `t${++seq}-`, labels },
    spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] },
  };
}
