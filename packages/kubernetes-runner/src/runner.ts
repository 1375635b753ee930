import {
  ConfigError,
  KUBERNETES_RUNNER_TYPE,
  silentLogger,
  type FileTransfer,
  type KubePort,
  type KubernetesRunnerConfig,
  type LogCollector,
  type Logger,
  type TaskRunner,
} from '@podrun/core';
import { createFollowLogCollector } from '@podrun/logs-follow';
import { MANAGED_BY_LABEL } from '@podrun/pod-spec';
import { createExecTarTransfer } from '@podrun/transfer-exec-tar';
import { TaskRun, type RunEnvironment } from './task-run.js';

/** Options of {@link createKubernetesRunner}. */
export interface KubernetesRunnerOptions {
  /** The Kubernetes port (`createKubePort` of @podrun/kube); shared by every run of this runner. */
  kube: KubePort;
  /** The parsed runner configuration (`parseRunnerConfig` of @podrun/core). */
  config: KubernetesRunnerConfig;
  /** File transfer strategy; default exec-tar, as `config.fileTransfer` says. */
  transfer?: FileTransfer;
  /** Log collector; default follow, as `config.logCollector` says. */
  logs?: LogCollector;
  /** The runner's own diagnostics when a run context gives none. */
  logger?: Logger;
}

/**
 * The Kubernetes task runner: runs a task in a pod (image, commands, env, files), streams its
 * logs, brings its outputs back and cleans up; reattaches to the pod after a crash of the runner
 * process (resume). One runner serves many concurrent runs over one shared pod watch per
 * namespace.
 *
 * @example
 * ```ts
 * const kube = createKubePort({ kubeConfig });
 * const runner = createKubernetesRunner({ kube, config: parseRunnerConfig({ namespace: 'default' }) });
 * const result = await runner.run(task, runContext, signal);
 * ```
 */
export function createKubernetesRunner(options: KubernetesRunnerOptions): TaskRunner {
  const { kube, config } = options;
  const logger = options.logger ?? silentLogger;
  if (!options.transfer && config.fileTransfer.type !== 'exec-tar') {
    throw new ConfigError(
      [
        {
          path: 'taskRunner.fileTransfer.type',
          message: `"${config.fileTransfer.type}" needs its strategy passed as \`transfer\` (e.g. from the host's registry); only exec-tar is built in`,
        },
      ],
      { component: 'kubernetes-runner' },
    );
  }
  if (!options.logs && config.logCollector.type !== 'follow') {
    throw new ConfigError(
      [
        {
          path: 'taskRunner.logCollector.type',
          message: `"${config.logCollector.type}" needs its collector passed as \`logs\`; only follow is built in`,
        },
      ],
      { component: 'kubernetes-runner' },
    );
  }
  const env: RunEnvironment = {
    kube,
    config,
    transfer: options.transfer ?? createExecTarTransfer({ logger }),
    logs: options.logs ?? createFollowLogCollector({ logger }),
    logger,
    // One selector for every pod podrun makes in the namespace: all runs share one informer.
    selector: { namespace: config.namespace, labelSelector: `${MANAGED_BY_LABEL}=podrun` },
  };
  return {
    type: KUBERNETES_RUNNER_TYPE,
    run: (task, context, signal) => new TaskRun(env, task, context, signal).run(),
  };
}
