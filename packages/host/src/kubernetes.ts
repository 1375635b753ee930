import { createRequire } from 'node:module';
import {
  ConfigError,
  KESTRA_KUBERNETES_RUNNER_TYPE,
  KUBERNETES_RUNNER_TYPE as CORE_RUNNER_TYPE,
  defaultPodPaths,
  parseDynamicRunnerConfig,
  parseRunnerConfig,
} from '@podrun/core';
import type {
  ConfigIssue,
  FileTransfer,
  FileTransferConfig,
  KubePort,
  LogCollector,
  LogCollectorConfig,
  TaskRunIdentity,
} from '@podrun/core';
import { canonicalJson } from './cache.js';
import type { RunnerConfig, RunnerEnvironment, RunnerRegistry } from './registry.js';
import type { HostTaskRunner, WorkingPaths } from './runner-paths.js';
import { installedStrategies } from './installed-strategies.js';

/** podrun's type name of the Kubernetes runner (core's). */
export const KUBERNETES_RUNNER_TYPE = CORE_RUNNER_TYPE;
/** The reference's type name, accepted so its examples run unchanged (core's). */
export const KUBERNETES_RUNNER_ALIAS = KESTRA_KUBERNETES_RUNNER_TYPE;

/** Installed version of @podrun/kubernetes-runner, read when asked. */
export function kubernetesRunnerVersion(): string {
  return (createRequire(import.meta.url)('@podrun/kubernetes-runner/package.json') as { version: string }).version;
}

// @podrun/kube's functions as used here; the package is loaded on first use so hosts that never
// run a pod never load client-node.
interface KubeModule {
  createKubeConfig(
    connection: Record<string, unknown> | undefined,
    env: Record<string, string | undefined>,
    selection: { kubeconfigPath?: string; context?: string },
  ): unknown;
  createKubePort(options: { kubeConfig: unknown; namespace?: string; logger?: RunnerEnvironment['logger'] }): KubePort;
}

/**
 * Strategy factories by `fileTransfer.type` / `logCollector.type`, for strategies the runner does
 * not build in (it builds exec-tar and follow). Without one, pvc, object-storage and poll are built
 * from their installed packages (`@podrun/transfer-pvc`, `@podrun/transfer-object-storage`,
 * `@podrun/logs-poll`); a missing package is a `ConfigError` saying what to install. Integrators
 * may override a type, e.g. `{ transfers: { pvc: ... } }`.
 */
export interface KubernetesStrategies {
  transfers?: Record<
    string,
    (config: FileTransferConfig, environment: RunnerEnvironment) => FileTransfer | Promise<FileTransfer>
  >;
  collectors?: Record<
    string,
    (config: LogCollectorConfig, environment: RunnerEnvironment) => LogCollector | Promise<LogCollector>
  >;
}

/**
 * Registers the Kubernetes runner as `io.podrun.kubernetes` (alias
 * `io.kestra.plugin.ee.kubernetes.runner.Kubernetes`). The cluster comes from the runner's own
 * `config` (Connection) when set, else from the host's cluster target (kubeconfig, context, or a
 * worker group's context). One Kubernetes port is shared per cluster for the whole host run.
 */
export function registerKubernetesRunner(registry: RunnerRegistry, options: KubernetesStrategies = {}): void {
  registry.register(
    KUBERNETES_RUNNER_TYPE,
    async (config, environment) => {
      const [kubeModule, runnerModule] = await Promise.all([
        import('@podrun/kube'),
        import('@podrun/kubernetes-runner'),
      ]);
      const connection = config.config as Record<string, unknown> | undefined;
      const cluster = environment.cluster ?? {};
      // Where pods go: the runner's own `namespace` when written; else the cluster's (the CLI's
      // --namespace, a worker group's); else the Connection's `namespace` (config.namespace: the
      // connection's default namespace, as kubectl's context namespace is); else `default`.
      const connectionNamespace = typeof connection?.namespace === 'string' ? connection.namespace : undefined;
      const namespace = config.namespace ?? cluster.namespace ?? connectionNamespace;
      const parsed = parseRunnerConfig({
        ...config,
        type: KUBERNETES_RUNNER_TYPE,
        ...(namespace !== undefined ? { namespace } : {}),
      });
      const kube = environment.shared(
        `kube:${canonicalJson({ connection, kubeconfigPath: cluster.kubeconfigPath, context: cluster.context })}`,
        () => {
          const conn = withTokenProvider(
            connection as Record<string, unknown> | undefined,
            environment,
            parsed.config?.oauthTokenProvider?.cache,
          );
          const selection = {
            ...(cluster.kubeconfigPath ? { kubeconfigPath: cluster.kubeconfigPath } : {}),
            ...(cluster.context ? { context: cluster.context } : {}),
          };
          const kubeConfig = (kubeModule as unknown as KubeModule).createKubeConfig(
            conn,
            { ...environment.env },
            selection,
          );
          return (kubeModule as unknown as KubeModule).createKubePort({ kubeConfig, logger: environment.logger });
        },
        (port) => port.close(),
      );
      const transfer =
        options.transfers?.[parsed.fileTransfer.type] ?? installedStrategies.transfers[parsed.fileTransfer.type];
      const logs =
        options.collectors?.[parsed.logCollector.type] ?? installedStrategies.collectors[parsed.logCollector.type];
      const runner = runnerModule.createKubernetesRunner({
        kube,
        config: parsed,
        logger: environment.logger,
        ...(transfer ? { transfer: await transfer(parsed.fileTransfer, environment) } : {}),
        ...(logs ? { logs: await logs(parsed.logCollector, environment) } : {}),
      });
      const hostRunner: HostTaskRunner = {
        type: KUBERNETES_RUNNER_TYPE,
        run: (task, context, signal) => runner.run(task, context, signal),
        // The runner derives OUTPUT_DIR from the task run id the same way, so a resumed run agrees.
        workingPaths: (identity: TaskRunIdentity) => pick(defaultPodPaths(identity)),
      };
      return hostRunner;
    },
    { aliases: [KUBERNETES_RUNNER_ALIAS], version: kubernetesRunnerVersion(), validate: validateKubernetesConfig },
  );
}

// Every property of the reference, checked by core's schema (templates allowed where dynamic).
function validateKubernetesConfig(config: RunnerConfig): ConfigIssue[] {
  try {
    parseDynamicRunnerConfig(config, { path: '' });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
}

function pick(paths: { workingDir: string; outputDir: string }): WorkingPaths {
  return { workingDir: paths.workingDir, outputDir: paths.outputDir };
}

// The reference's oauthTokenProvider names a task whose output is the token; client-node wants a
// function it can call again on 401.
function withTokenProvider(
  connection: Record<string, unknown> | undefined,
  environment: RunnerEnvironment,
  cacheMs = 5 * 60_000,
): Record<string, unknown> | undefined {
  const provider = connection?.oauthTokenProvider as { task: unknown; output: string } | undefined;
  if (!connection || !provider || typeof provider !== 'object') return connection;
  const tokenFromTask = environment.tokenFromTask;
  return {
    ...connection,
    // `cache` (default PT5M, as the reference): the token is fetched again after that long, or
    // earlier on a 401 or 30 s before a JWT expires.
    oauthTokenProvider: tokenFromTask
      ? async () => {
          const { token, expiresAt } = await tokenFromTask(provider);
          return { token, expiresAt: Math.min(Date.now() + cacheMs, expiresAt ?? Infinity) };
        }
      : undefined,
  };
}

/** Configuration type guard used by the CLI to tell which tasks need a cluster. */
export function isKubernetesRunner(registry: RunnerRegistry, config: RunnerConfig | undefined): boolean {
  if (!config) return false;
  return registry.has(config.type) && registry.resolve(config.type).type === KUBERNETES_RUNNER_TYPE;
}
