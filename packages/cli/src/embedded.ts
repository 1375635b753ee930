// The embedded cluster is loaded only when used: most commands never need it.
import { writeFile } from 'node:fs/promises';
import type { EmbeddedCluster } from '@podrun/kube-emulator';

/** Options the CLI passes to the emulator. */
export interface EmbeddedOptions {
  port?: number;
  /** Also write the admin kubeconfig here. */
  kubeconfigOut?: string;
  /** Keep cluster state here (default: a temporary directory removed on stop). */
  stateDir?: string;
  /** false: pods share the host network (ClusterOptions.podNetwork). */
  podNetwork?: boolean;
  /** Image archives to import at start (ClusterOptions.imageArchives). */
  imageArchives?: string[];
  /** The Kubernetes version to serve as (ClusterOptions.kubernetesVersion). */
  kubernetesVersion?: string;
}

/** Starts @podrun/kube-emulator in this process. */
export async function startEmbeddedCluster(options: EmbeddedOptions): Promise<EmbeddedCluster> {
  const { startCluster } = await import('@podrun/kube-emulator');
  const cluster = await startCluster({
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
    ...(options.podNetwork === false ? { podNetwork: false } : {}),
    ...(options.imageArchives ? { imageArchives: options.imageArchives } : {}),
    ...(options.kubernetesVersion ? { kubernetesVersion: options.kubernetesVersion } : {}),
  });
  if (options.kubeconfigOut) await writeFile(options.kubeconfigOut, cluster.kubeconfig, { mode: 0o600 });
  return cluster;
}
