import { resolve } from 'node:path';
import { startEmbeddedCluster } from '../embedded.js';
import { ExitCode } from '../io.js';
import type { CliIo } from '../io.js';

/** Flags of `podrun cluster start`. */
export interface ClusterStartFlags {
  port?: string;
  kubeconfigOut?: string;
  stateDir?: string;
}

/** `podrun cluster start`: the embedded cluster in the foreground until interrupted. */
export async function clusterStartCommand(flags: ClusterStartFlags, io: CliIo): Promise<number> {
  const cluster = await startEmbeddedCluster({
    ...(flags.port ? { port: Number(flags.port) } : {}),
    ...(flags.kubeconfigOut ? { kubeconfigOut: resolve(io.cwd, flags.kubeconfigOut) } : {}),
    stateDir: resolve(io.cwd, flags.stateDir ?? '.podrun/cluster'),
  });
  const kubeconfig = flags.kubeconfigOut ? resolve(io.cwd, flags.kubeconfigOut) : cluster.kubeconfigPath;
  io.stdout.write(
    `embedded cluster running at ${cluster.url}\nkubeconfig: ${kubeconfig}\n  export KUBECONFIG=${kubeconfig}\nstop with Ctrl-C\n`,
  );
  await new Promise<void>((done) => {
    if (io.signal.aborted) return done();
    io.signal.addEventListener('abort', () => done(), { once: true });
  });
  await cluster.stop();
  io.stdout.write('embedded cluster stopped\n');
  return ExitCode.OK;
}
