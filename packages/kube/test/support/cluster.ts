import type { V1Pod } from '@kubernetes/client-node';
import type { ClusterOptions, EmbeddedCluster } from '@podrun/kube-emulator';
import type { KubePortOptions, PodrunKubePort } from '@podrun/kube';
import { startTestCluster } from '@podrun/test-utils';

/** Starts the embedded cluster and a port on its admin kubeconfig that records its debug and warn lines. */
export async function clusterWithPort(
  options: ClusterOptions = {},
  portOptions: Omit<KubePortOptions, 'kubeConfig'> = {},
): Promise<{
  cluster: EmbeddedCluster;
  port: PodrunKubePort;
  debug: Array<{ message: string; fields?: Record<string, unknown> }>;
}> {
  const debug: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  const logger = {
    debug: (message: string, fields?: Record<string, unknown>) => void debug.push({ message, fields }),
    info: () => undefined,
    warn: (message: string, fields?: Record<string, unknown>) => void debug.push({ message, fields }),
    error: () => undefined,
  };
  const cluster = await startTestCluster({ cluster: options, port: { logger, ...portOptions } });
  return { cluster, port: cluster.kube, debug };
}

let seq = 0;
/** A small pod that sleeps (it may stay Pending where the node does not run it). */
export function sleeper(labels: Record<string, string>, name?: string): V1Pod {
  return {
    metadata: name ? { name, labels } : { generateName: `t${++seq}-`, labels },
    spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] },
  };
}
