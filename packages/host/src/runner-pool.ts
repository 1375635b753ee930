import { ConfigError, ErrorCodes, PodrunError } from '@podrun/core';
import type { Logger } from '@podrun/core';
import { canonicalJson } from './cache.js';
import { taskSchemaFor } from './flow/schema.js';
import type { FlowTask } from './flow/schema.js';
import type { HostOptions } from './host-options.js';
import type { ExecutionObserver } from './observer.js';
import { PROCESS_RUNNER_TYPE } from './process-runner.js';
import type { ClusterTarget, RunnerConfig, RunnerEnvironment } from './registry.js';
import { AWS_EKS_TOKEN_TASK, GCP_ACCESS_TOKEN_TASK, eksToken, gcpAccessToken } from './cloud-tokens.js';
import { createRunContext } from './run-context.js';
import { createTemplateRenderer, isTemplate } from './templates.js';
import type { HostTaskRunner } from './runner-paths.js';
import { renderShellTask } from './shell-task.js';
import type { TemplateRenderer, TemplateVars } from './templates.js';
import { resolveWorkerGroup } from './worker-groups.js';

/** What the pool needs from the host: the host's runner settings plus this execution's tools. */
export type RunnerPoolOptions = Pick<
  HostOptions,
  'registry' | 'env' | 'tempDir' | 'cluster' | 'defaultRunner' | 'workerGroups' | 'workerGroupProbe' | 'storage'
> & {
  renderer: TemplateRenderer;
  signal: AbortSignal;
  observer: ExecutionObserver;
  logger: Logger;
};

/** Runners of one execution, built once per (config, cluster) and closed at the end. */
export interface RunnerPool {
  runnerFor(
    task: FlowTask,
    path: string,
    vars: TemplateVars,
  ): Promise<{ runner: HostTaskRunner; config: RunnerConfig }>;
  close(): Promise<void>;
}

/** Creates the runner pool of one execution. */
export function createRunnerPool(options: RunnerPoolOptions): RunnerPool {
  const runners = new Map<string, Promise<HostTaskRunner>>();
  const shared = new Map<string, { value: unknown; close?: (value: never) => void | Promise<void> }>();

  const environment = (cluster: ClusterTarget | undefined): RunnerEnvironment => ({
    logger: options.logger,
    env: options.env,
    tempDir: options.tempDir,
    ...(cluster ? { cluster } : {}),
    tokenFromTask: (provider) => tokenFromTask(provider),
    shared<T>(key: string, create: () => T, close?: (value: T) => void | Promise<void>): T {
      const found = shared.get(key);
      if (found) return found.value as T;
      const value = create();
      shared.set(key, { value, ...(close ? { close: close as (value: never) => void } : {}) });
      return value;
    },
  });

  const build = (config: RunnerConfig, cluster: ClusterTarget | undefined, path: string): Promise<HostTaskRunner> => {
    const key = canonicalJson({ config, cluster });
    let runner = runners.get(key);
    if (!runner) {
      runner = options.registry.create(config, environment(cluster), path);
      runners.set(key, runner);
    }
    return runner;
  };

  // The reference runs the provider's task to get a token; podrun runs it like any task, with the
  // Process runner unless it names its own. @podrun/kube caches the token and calls again on 401
  // or expiry, so every call here runs the task.
  const tokenFromTask = async (provider: {
    task: unknown;
    output: string;
  }): Promise<{ token: string; expiresAt?: number }> => {
    const raw: Record<string, unknown> = { id: 'oauth-token', ...(provider.task as Record<string, unknown>) };
    if (raw.type === GCP_ACCESS_TOKEN_TASK || raw.type === AWS_EKS_TOKEN_TASK) return cloudToken(raw, provider.output);
    const schema = taskSchemaFor(String(raw.type));
    const parsed = schema?.safeParse(raw);
    if (!parsed?.success) {
      throw new ConfigError(
        [
          {
            path: 'taskRunner.config.oauthTokenProvider.task',
            message: 'expected a shell Commands or Script task that prints the token as an output',
          },
        ],
        {
          component: 'host',
        },
      );
    }
    const task = parsed.data;
    const config = (task.taskRunner as RunnerConfig | undefined) ?? { type: PROCESS_RUNNER_TYPE };
    const runner = await build(config, options.cluster, 'taskRunner.config.oauthTokenProvider.task.taskRunner');
    const identity = {
      namespace: 'podrun',
      flowId: 'oauth-token',
      taskId: task.id,
      executionId: 'token',
      taskRunId: `token-${Date.now()}`,
      attempt: 1,
    };
    const paths = runner.workingPaths?.(identity) ?? {
      workingDir: '/kestra/working-dir',
      outputDir: '/kestra/working-dir/outputs',
    };
    const state = new Map<string, unknown>();
    const rendered = await renderShellTask(task, 'oauthTokenProvider.task', options.renderer, { ...paths });
    if (!options.storage)
      throw new PodrunError(ErrorCodes.STORAGE, 'no storage for the token task', { component: 'host' });
    const context = createRunContext({
      identity,
      logger: options.logger,
      // The token task's own lines may contain the token: never shown.
      taskLogs: { line: () => undefined },
      storage: options.storage,
      state: { get: async <T>(k: string) => state.get(k) as T | undefined, set: async (k, v) => void state.set(k, v) },
      renderer: options.renderer,
      vars: { ...paths },
    });
    const result = await runner.run(rendered, context, options.signal);
    // `output` names the token as the reference does: an expression over the task's outputs
    // (`{{ outputs.token.vars.value }}`), or a plain key of its vars.
    const token = isTemplate(provider.output)
      ? renderedOutput(provider.output, task.id, result.vars, result.exitCode)
      : lookup(result.vars, provider.output.replace(/^vars\./, ''));
    if (result.exitCode !== 0 || typeof token !== 'string' || token === '') {
      throw new PodrunError(
        ErrorCodes.KUBE_AUTH,
        `the oauthTokenProvider task did not output "${provider.output}" (exit code ${result.exitCode}); make it print ::{"outputs":{"${provider.output}":"..."}}::`,
        {
          component: 'host',
        },
      );
    }
    return { token };
  };

  // A cloud token task runs in the host, as the reference's plugin does in its worker.
  const cloudToken = async (raw: Record<string, unknown>, output: string) => {
    const gcp = raw.type === GCP_ACCESS_TOKEN_TASK;
    const outputs = gcp ? await gcpAccessToken(raw, options.env) : await eksToken(raw, options.env);
    const [value, expiry] = 'accessToken' in outputs ? ['accessToken', outputs.accessToken] : ['token', outputs.token];
    const token = isTemplate(output)
      ? renderedOutput(output, String(raw.id), { ...outputs }, 0)
      : lookup(outputs as unknown as Record<string, unknown>, output);
    if (typeof token !== 'string' || token === '') {
      throw new PodrunError(
        ErrorCodes.KUBE_AUTH,
        `the oauthTokenProvider output "${output}" names nothing the ${String(raw.type)} task outputs; use {{ outputs.${String(raw.id)}.${value}.tokenValue }}`,
        { component: 'host' },
      );
    }
    // Replaced a minute before it expires, so a long task never runs on an expired token.
    return { token, expiresAt: Date.parse(expiry.expirationTime) - 60_000 };
  };

  return {
    async runnerFor(task, path, vars) {
      const raw = (task.taskRunner as RunnerConfig | undefined) ??
        options.defaultRunner ?? { type: PROCESS_RUNNER_TYPE };
      // The token provider's `output` is an expression over its own task's outputs, rendered when
      // the token is fetched; the rest of the runner block (the provider's task too) renders now.
      const connection = (raw as { config?: Record<string, unknown> }).config;
      const provider = connection?.oauthTokenProvider as Record<string, unknown> | undefined;
      const rendered = options.renderer.renderDeep(
        provider ? { ...raw, config: { ...connection, oauthTokenProvider: { ...provider, output: undefined } } } : raw,
        vars,
      );
      const config = provider ? withProviderOutput(rendered, provider.output) : rendered;
      let cluster = options.cluster;
      if (task.workerGroup) {
        const target = await resolveWorkerGroup(
          { key: task.workerGroup.key, fallback: task.workerGroup.fallback ?? 'FAIL' },
          {
            groups: options.workerGroups ?? {},
            ...(options.workerGroupProbe ? { probe: options.workerGroupProbe } : {}),
            signal: options.signal,
            onWait: (key) => options.observer.workerGroupWaiting?.(task.id, key),
          },
        );
        cluster = { ...options.cluster, ...target };
      }
      return { runner: await build(config, cluster, `${path}.taskRunner`), config };
    },
    async close() {
      for (const { value, close } of shared.values()) await close?.(value as never);
      shared.clear();
      runners.clear();
    },
  };
}

function lookup(value: unknown, path: string): unknown {
  let current = value;
  for (const segment of path.split('.')) {
    if (!current || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function renderedOutput(
  output: string,
  taskId: string,
  vars: Record<string, unknown>,
  exitCode: number,
): string | undefined {
  try {
    // A script task's outputs are `vars`; its vars are also reachable directly, as other token
    // tasks (the reference's cloud ones) put their outputs at the top.
    const outputs = { [taskId]: { ...vars, vars, exitCode } };
    return createTemplateRenderer().render(output, { outputs }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The rendered runner block with the token provider's `output` put back as written. */
function withProviderOutput(rendered: RunnerConfig, output: unknown): RunnerConfig {
  const connection = rendered.config as Record<string, unknown>;
  const provider = connection.oauthTokenProvider as Record<string, unknown>;
  return { ...rendered, config: { ...connection, oauthTokenProvider: { ...provider, output } } };
}
