import { resolve } from 'node:path';
import { startEmbeddedCluster } from '../embedded.js';
import { ExitCode } from '../io.js';
import type { CliIo } from '../io.js';

/** Flags of `podrun cluster start`. */
export interface ClusterStartFlags {
  port?: string;
  kubeconfigOut?: string;
  stateDir?: string;
  /** false with `--no-pod-network`. */
  podNetwork?: boolean;
  /** `--image` archives imported at start. */
  image?: string[];
  /** `--kubernetes-version`: the version to serve as. */
  kubernetesVersion?: string;
}

/** Says where pods live on the network, so that servers for them listen at the right address. */
function podNetworkLine(cluster: { hostIP: string; podNetworkFallback: string | undefined }): string {
  return cluster.podNetworkFallback === undefined
    ? `pods: own network namespaces; they reach this machine at ${cluster.hostIP}`
    : `pods share the host network: ${cluster.podNetworkFallback}`;
}

/** `podrun cluster start`: the embedded cluster in the foreground until interrupted. */
export async function clusterStartCommand(flags: ClusterStartFlags, io: CliIo): Promise<number> {
  const cluster = await startEmbeddedCluster({
    ...(flags.port ? { port: Number(flags.port) } : {}),
    ...(flags.kubeconfigOut ? { kubeconfigOut: resolve(io.cwd, flags.kubeconfigOut) } : {}),
    stateDir: resolve(io.cwd, flags.stateDir ?? '.podrun/cluster'),
    ...(flags.podNetwork === false ? { podNetwork: false } : {}),
    ...(flags.image?.length ? { imageArchives: flags.image.map((archive) => resolve(io.cwd, archive)) } : {}),
    ...(flags.kubernetesVersion ? { kubernetesVersion: flags.kubernetesVersion } : {}),
  });
  const kubeconfig = flags.kubeconfigOut ? resolve(io.cwd, flags.kubeconfigOut) : cluster.kubeconfigPath;
  io.stdout.write(
    `embedded cluster running at ${cluster.url}\n${podNetworkLine(cluster)}\nkubeconfig: ${kubeconfig}\n  export KUBECONFIG=${kubeconfig}\nstop with Ctrl-C\n`,
  );
  await new Promise<void>((done) => {
    if (io.signal.aborted) return done();
    io.signal.addEventListener('abort', () => done(), { once: true });
  });
  await cluster.stop();
  io.stdout.write('embedded cluster stopped\n');
  return ExitCode.OK;
}
