import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import {
  createHost,
  createRunnerRegistry,
  isKubernetesRunner,
  KUBERNETES_RUNNER_TYPE,
  registerKubernetesRunner,
  registerProcessRunner,
} from '@podrun/host';
import type { Flow, Host, RunnerConfig, RunnerRegistry, WorkerGroupProbe } from '@podrun/host';
import type { HostConfig } from './host-config.js';
import type { ClusterChoice } from './cluster.js';
import { cliLogger } from './debug.js';
import type { CliIo } from './io.js';

/** The runner for tasks that name none: podrun runs tasks in pods. */
export const DEFAULT_RUNNER: RunnerConfig = { type: KUBERNETES_RUNNER_TYPE };

/** The registry of the CLI: the Kubernetes and Process runners (and their reference aliases). */
export function createCliRegistry(): RunnerRegistry {
  const registry = createRunnerRegistry();
  registerKubernetesRunner(registry);
  registerProcessRunner(registry);
  return registry;
}

/** True when some task of the flow runs on the Kubernetes runner (so a cluster is needed). */
export function flowNeedsCluster(flow: Flow, registry: RunnerRegistry): boolean {
  return flow.tasks.some((t) =>
    isKubernetesRunner(registry, (t.taskRunner as RunnerConfig | undefined) ?? DEFAULT_RUNNER),
  );
}

/** Options of {@link createCliHost}. */
export interface CliHostOptions {
  registry: RunnerRegistry;
  stateDir: string;
  hostConfig: HostConfig;
  cluster?: ClusterChoice;
  /** Namespace files directory (default: the flow file's directory). */
  namespaceFiles?: string;
  io: CliIo;
  /** Print debug lines (`-v` or DEBUG=podrun:*). */
  debug?: boolean;
}

/** Builds the host the CLI runs flows with. */
export function createCliHost(options: CliHostOptions): Host {
  const { io } = options;
  return createHost({
    registry: options.registry,
    stateDir: options.stateDir,
    env: io.env,
    logger: cliLogger(io, options.debug ?? false),
    tempDir: io.env.TMPDIR ?? tmpdir(),
    ...(options.cluster ? { cluster: options.cluster.target } : {}),
    defaultRunner: DEFAULT_RUNNER,
    workerGroups: options.hostConfig.workerGroups,
    ...(options.hostConfig.secrets ? { secrets: options.hostConfig.secrets } : {}),
    workerGroupProbe: createWorkerGroupProbe(io),
    ...(options.namespaceFiles ? { namespaceFilesDir: () => resolve(io.cwd, options.namespaceFiles!) } : {}),
  });
}

/**
 * A worker group is available when its context exists and the API server answers /version
 * within a few seconds.
 */
export function createWorkerGroupProbe(io: CliIo): WorkerGroupProbe {
  return async (_key, target, signal) => {
    const kube = await import('@podrun/kube');
    let port;
    try {
      const kubeConfig = kube.createKubeConfig(
        undefined,
        { ...io.env },
        {
          ...(target.kubeconfigPath ? { kubeconfigPath: target.kubeconfigPath } : {}),
          ...(target.context ? { context: target.context } : {}),
        },
      );
      port = kube.createKubePort({ kubeConfig, retry: { maxAttempts: 1 } });
      const timeout = AbortSignal.timeout(5000);
      await Promise.race([
        port.serverVersion(),
        new Promise((_, reject) => {
          const stop = () => reject(new Error('unavailable'));
          timeout.addEventListener('abort', stop, { once: true });
          signal.addEventListener('abort', stop, { once: true });
        }),
      ]);
      return true;
    } catch {
      return false;
    } finally {
      await port?.close();
    }
  };
}
