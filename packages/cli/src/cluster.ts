import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, ErrorCodes } from '@podrun/core';
import type { ClusterTarget } from '@podrun/host';
import { startEmbeddedCluster } from './embedded.js';
import type { CliIo } from './io.js';

/** How the user asked to pick a cluster. */
export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  /** `auto` (default), `embedded` or `kubeconfig`. */
  cluster?: string;
  stateDir: string;
}

/** The cluster a run uses. */
export interface ClusterChoice {
  mode: 'kubeconfig' | 'in-cluster' | 'embedded';
  target: ClusterTarget;
  /** Stops what the CLI started (the embedded cluster). */
  stop(): Promise<void>;
}

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Where kubectl would find a configuration, or undefined when there is none anywhere. */
export function findKubeconfig(
  env: CliIo['env'],
  inClusterToken = IN_CLUSTER_TOKEN,
): 'kubeconfig' | 'in-cluster' | undefined {
  const fromEnv = (env.KUBECONFIG ?? '').split(':').filter(Boolean);
  if (fromEnv.some((f) => existsSync(f))) return 'kubeconfig';
  if (env.HOME && existsSync(join(env.HOME, '.kube', 'config'))) return 'kubeconfig';
  if (env.KUBERNETES_SERVICE_HOST && existsSync(inClusterToken)) return 'in-cluster';
  return undefined;
}

/**
 * Picks the cluster like kubectl (--kubeconfig, KUBECONFIG, ~/.kube/config, in-cluster) and,
 * when there is none anywhere (or `--cluster embedded`), starts the embedded cluster in-process
 * and says so in one line.
 */
export async function chooseCluster(
  flags: ClusterFlags,
  io: CliIo,
  debug: (line: string) => void = () => undefined,
): Promise<ClusterChoice> {
  const mode = flags.cluster ?? 'auto';
  if (!['auto', 'embedded', 'kubeconfig'].includes(mode)) {
    throw new ConfigError([{ path: '--cluster', message: `expected auto, embedded or kubeconfig, got "${mode}"` }], {
      component: 'cli',
    });
  }
  const target: ClusterTarget = {};
  if (flags.context) target.context = flags.context;
  if (flags.namespace) target.namespace = flags.namespace;
  if (mode !== 'embedded') {
    if (flags.kubeconfig) {
      debug(`cluster: the kubeconfig ${flags.kubeconfig}, because --kubeconfig names it`);
      return { mode: 'kubeconfig', target: { ...target, kubeconfigPath: flags.kubeconfig }, stop: async () => {} };
    }
    const found = findKubeconfig(io.env);
    if (found) {
      debug(`cluster: ${whyFound(found, io.env)}${mode === 'auto' ? ' (--cluster auto)' : ''}`);
      return { mode: found, target, stop: async () => {} };
    }
    if (mode === 'kubeconfig') {
      throw new ConfigError(
        [
          {
            path: '--cluster',
            message:
              'no kubeconfig found (KUBECONFIG, ~/.kube/config, in-cluster); pass --kubeconfig or use --cluster embedded',
          },
        ],
        {
          code: ErrorCodes.KUBE_CONNECTION,
          component: 'cli',
        },
      );
    }
  }
  debug(
    mode === 'embedded'
      ? 'cluster: the embedded one, because --cluster embedded asks for it'
      : 'cluster: the embedded one, because there is no kubeconfig (KUBECONFIG unset or missing, no ~/.kube/config) and this is not a pod (no KUBERNETES_SERVICE_HOST)',
  );
  const cluster = await startEmbeddedCluster({});
  io.stderr.write(
    `podrun: ${mode === 'embedded' ? '--cluster embedded' : 'no kubeconfig found'}: running on the embedded cluster at ${cluster.url} (stops when podrun exits; 'podrun cluster start' keeps one running); no images are imported there, so images run on this machine's own filesystem (real images: 'podrun cluster start --image ARCHIVE')\n`,
  );
  return {
    mode: 'embedded',
    target: { ...target, kubeconfigPath: cluster.kubeconfigPath },
    stop: () => cluster.stop(),
  };
}

function whyFound(found: 'kubeconfig' | 'in-cluster', env: CliIo['env']): string {
  if (found === 'in-cluster')
    return 'in-cluster, because KUBERNETES_SERVICE_HOST is set and the service account token exists';
  const listed = (env.KUBECONFIG ?? '').split(':').filter((f) => f && existsSync(f));
  return listed.length > 0
    ? `the kubeconfig ${listed.join(':')}, because KUBECONFIG lists it`
    : `the kubeconfig ${join(env.HOME ?? '~', '.kube', 'config')}, because it exists and KUBECONFIG is unset`;
}
