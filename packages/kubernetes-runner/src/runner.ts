import {
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
import { checkStrategyChoice } from './strategy-choice.js';
import { TaskRun, type RunEnvironment } from './task-run.js';

/** Options of {@link createKubernetesRunner}. */
export interface KubernetesRunnerOptions {
  /** The Kubernetes port (`createKubePort` of @podrun/kube); shared by every run of this runner. */
  kube: KubePort;
  /** The parsed runner configuration (`parseRunnerConfig` of @podrun/core). */
  config: KubernetesRunnerConfig;
  /**
   * File transfer strategy; built in: exec-tar. Pass it when `config.fileTransfer.type` names
   * another (its `name` must match the type; a custom one needs the default type).
   */
  transfer?: FileTransfer;
  /** Log collector; built in: follow. Same rule as `transfer` with `config.logCollector.type`. */
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
  checkStrategyChoice(
    { path: 'taskRunner.fileTransfer.type', option: 'transfer', builtIn: 'exec-tar' },
    config.fileTransfer.type,
    options.transfer,
  );
  checkStrategyChoice(
    { path: 'taskRunner.logCollector.type', option: 'logs', builtIn: 'follow' },
    config.logCollector.type,
    options.logs,
  );
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
