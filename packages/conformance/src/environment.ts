// Where the suites run: the embedded cluster by default, a real cluster in live mode. Nothing is
// read from the environment until a suite starts, so importing this package has no effects.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubePort } from '@podrun/core';
import { createKubeConfig, createKubePort } from '@podrun/kube';

/** Environment variable that switches the suites to a real cluster (set by `vitest.live.config.ts`). */
export const LIVE_MODE_VARIABLE = 'PODRUN_CONFORMANCE_MODE';
/** Kubeconfig of the real cluster used in live mode. */
export const LIVE_KUBECONFIG_VARIABLE = 'PODRUN_LIVE_KUBECONFIG';
/**
 * Comma-separated image archives (OCI layouts or `docker save` tars) the embedded cluster imports,
 * so the suites run real images (podrun's own tests set it from tools/test-images); without it,
 * catalogue images run on the host's filesystem.
 */
export const TEST_IMAGES_VARIABLE = 'PODRUN_TEST_IMAGES';

/**
 * The Kubernetes version the embedded cluster serves as (e.g. `1.29`: exec negotiates v4, with no
 * stdin close), so strategies are also checked against older servers. Default: the emulator's.
 */
export const KUBERNETES_VERSION_VARIABLE = 'PODRUN_CONFORMANCE_KUBERNETES_VERSION';

/** The image archives named by {@link TEST_IMAGES_VARIABLE}. */
export function testImageArchives(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env[TEST_IMAGES_VARIABLE] ?? '').split(',').filter(Boolean);
}

/** A cluster the suites run against, with a Kubernetes port and a namespace of their own. */
export interface ConformanceCluster {
  /** The port strategies and the suite use. */
  kube: KubePort;
  /** Namespace pods are created in. */
  namespace: string;
  /** Image of the suite's containers: it needs sh, cp, head, sha256sum, sleep (busybox). */
  image: string;
  /** True against a real cluster (live mode). */
  live: boolean;
  /** Kubeconfig file of the cluster. */
  kubeconfigPath: string;
  /**
   * Embedded cluster only: its state directory. A claim's files live in
   * `<stateDir>/volumes/pvc/<namespace>/<claim>` on this host.
   */
  stateDir?: string;
  /**
   * Embedded cluster only: the address pods reach this machine at (its pod bridge, or 127.0.0.1
   * when pods share the host network). A test server the pods use listens there.
   */
  hostIP?: string;
  /** Stops what was started (the embedded cluster) and closes the port. */
  stop(): Promise<void>;
}

/** True when the suites run against a real cluster (`npm run test:live`). */
export function isLiveConformance(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[LIVE_MODE_VARIABLE] === 'live';
}

/**
 * Why the suites cannot run in this mode, or undefined when they can. In live mode without
 * `PODRUN_LIVE_KUBECONFIG` the suites are skipped with this reason printed.
 */
export function conformanceSkipReason(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (isLiveConformance(env) && !env[LIVE_KUBECONFIG_VARIABLE]) {
    return `live conformance needs a real cluster: set ${LIVE_KUBECONFIG_VARIABLE} to its kubeconfig (and optionally PODRUN_LIVE_NAMESPACE, PODRUN_LIVE_IMAGE)`;
  }
  return undefined;
}

async function startEmbedded(env: NodeJS.ProcessEnv): Promise<ConformanceCluster> {
  // Loaded lazily: live runs and integrators testing on a real cluster never start it.
  const { startCluster } = await import('@podrun/kube-emulator');
  const stateDir = mkdtempSync(join(tmpdir(), 'podrun-conformance-'));
  const version = env[KUBERNETES_VERSION_VARIABLE];
  const cluster = await startCluster({
    stateDir,
    imageArchives: testImageArchives(env),
    ...(version ? { kubernetesVersion: version } : {}),
  });
  // As harsh as a busy node: stderr stamped before it is written and a coarse clock, so log
  // collectors meet equal and out-of-order stamps across stdout and stderr.
  cluster.faults.logClock({ granularityMs: 100, stderrLagMs: 500 });
  const kube = createKubePort({
    kubeConfig: createKubeConfig(undefined, {}, { kubeconfigPath: cluster.kubeconfigPath }),
  });
  return {
    kube,
    namespace: 'default',
    image: 'busybox',
    live: false,
    kubeconfigPath: cluster.kubeconfigPath,
    stateDir,
    hostIP: cluster.hostIP,
    async stop() {
      await kube.close().catch(() => undefined);
      await cluster.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

async function connectLive(env: NodeJS.ProcessEnv): Promise<ConformanceCluster> {
  const kubeconfigPath = env[LIVE_KUBECONFIG_VARIABLE]!;
  const kubeConfig = createKubeConfig(undefined, {}, { kubeconfigPath });
  const namespace = env.PODRUN_LIVE_NAMESPACE;
  const kube = createKubePort({ kubeConfig, ...(namespace && { namespace }) });
  return {
    kube,
    namespace: kube.defaultNamespace,
    image: env.PODRUN_LIVE_IMAGE ?? 'busybox',
    live: true,
    kubeconfigPath,
    async stop() {
      await kube.close().catch(() => undefined);
    },
  };
}

/**
 * Starts the cluster a suite runs against: a fresh embedded cluster, or in live mode a
 * connection to `PODRUN_LIVE_KUBECONFIG` (namespace `PODRUN_LIVE_NAMESPACE` or the kubeconfig's).
 */
export async function startConformanceCluster(env: NodeJS.ProcessEnv = process.env): Promise<ConformanceCluster> {
  return isLiveConformance(env) ? connectLive(env) : startEmbedded(env);
}

/**
 * Turns a strategy factory into a suite `setup`: starts the conformance cluster, then calls
 * `make` with it; the cluster is returned with what `make` made and stopped after the suite.
 */
export function onConformanceCluster<S extends object>(
  make: (cluster: ConformanceCluster) => S | Promise<S>,
): () => Promise<S & { cluster: ConformanceCluster }> {
  return async () => {
    const cluster = await startConformanceCluster();
    try {
      return { ...(await make(cluster)), cluster };
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  };
}
