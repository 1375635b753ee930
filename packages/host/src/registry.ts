import { ConfigError, ErrorCodes, closestMatch } from '@podrun/core';
import type { ConfigIssue, Logger, TaskRunner } from '@podrun/core';
import { checkPluginVersion } from './version.js';

/** A runner configuration block (`taskRunner:` in a flow): `type` plus the runner's properties. */
export interface RunnerConfig {
  type: string;
  version?: string;
  [key: string]: unknown;
}

/** Which cluster a container runner talks to when its config has no `config` connection. */
export interface ClusterTarget {
  /** Path of a kubeconfig file; several may be joined with `:` as in KUBECONFIG. */
  kubeconfigPath?: string;
  /** Kubeconfig content (used by the embedded cluster). */
  kubeconfig?: string;
  /** Context to use; the kubeconfig's current context otherwise. */
  context?: string;
  /** Namespace override for pods (the runner config's `namespace` otherwise). */
  namespace?: string;
}

/** What the host gives a runner factory. Everything a runner needs from outside comes from here. */
export interface RunnerEnvironment {
  logger: Logger;
  /** The process environment as read by the host at startup (never read at import time). */
  env: Readonly<Record<string, string | undefined>>;
  /** Scratch directory for runners that need local files. */
  tempDir: string;
  /** The cluster chosen by the host (CLI flags, worker group); container runners use it by default. */
  cluster?: ClusterTarget;
  /**
   * Runs a token task (`oauthTokenProvider`) and returns the output it names, with the token's
   * expiry (epoch ms) when the task reports one.
   */
  tokenFromTask?: (provider: { task: unknown; output: string }) => Promise<{ token: string; expiresAt?: number }>;
  /**
   * A resource shared by every runner of this host run (e.g. one Kubernetes client per cluster),
   * created once per key and closed when the host run ends.
   */
  shared<T>(key: string, create: () => T, close?: (value: T) => void | Promise<void>): T;
}

/** Builds a runner from its (rendered) configuration. */
export type RunnerFactory = (config: RunnerConfig, environment: RunnerEnvironment) => TaskRunner | Promise<TaskRunner>;

/** How a runner type was registered. */
export interface RunnerRegistration {
  /** Canonical type name, e.g. `io.podrun.kubernetes`. */
  type: string;
  aliases: string[];
  /** Installed plugin version, checked against a config's `version`. */
  version: string;
  factory: RunnerFactory;
  /**
   * Validates a configuration block before any run (templates may still be unrendered).
   * Returns issues with paths relative to the block.
   */
  validate?: (config: RunnerConfig) => ConfigIssue[];
}

/** Options of {@link RunnerRegistry.register}. */
export interface RegisterOptions {
  aliases?: string[];
  /** Installed plugin version; default `0.0.0`. */
  version?: string;
  validate?: RunnerRegistration['validate'];
}

/** Maps runner `type` names (and aliases) to factories. */
export interface RunnerRegistry {
  register(type: string, factory: RunnerFactory, options?: RegisterOptions): void;
  /** The registration for a type or alias; ConfigError PODRUN_PLUGIN_UNKNOWN (with a suggestion) otherwise. */
  resolve(type: string, path?: string): RunnerRegistration;
  has(type: string): boolean;
  /** Canonical type names, in registration order. */
  types(): string[];
  /** Validates a config block (type known, version matches, runner's own checks). */
  validate(config: RunnerConfig, path?: string): ConfigIssue[];
  /** Checks `version` and builds the runner. */
  create(config: RunnerConfig, environment: RunnerEnvironment, path?: string): Promise<TaskRunner>;
}

/** Creates an empty registry; see `registerBuiltinRunners` for podrun's own runners. */
export function createRunnerRegistry(): RunnerRegistry {
  const byName = new Map<string, RunnerRegistration>();
  const canonical: string[] = [];

  const resolve = (type: string, path = 'taskRunner.type'): RunnerRegistration => {
    const found = byName.get(type);
    if (found) return found;
    const suggestion = closestMatch(type, [...byName.keys()]);
    throw new ConfigError(
      [
        {
          path,
          message: `unknown task runner type "${type}"${suggestion ? `; did you mean \`${suggestion}\`?` : ''} (known: ${canonical.join(', ')})`,
        },
      ],
      { code: ErrorCodes.PLUGIN_UNKNOWN, component: 'registry', title: 'unknown task runner' },
    );
  };

  return {
    register(type, factory, options = {}) {
      const registration: RunnerRegistration = {
        type,
        aliases: options.aliases ?? [],
        version: options.version ?? '0.0.0',
        factory,
        ...(options.validate ? { validate: options.validate } : {}),
      };
      if (!byName.has(type)) canonical.push(type);
      for (const name of [type, ...registration.aliases]) byName.set(name, registration);
    },
    resolve,
    has: (type) => byName.has(type),
    types: () => [...canonical],
    validate(config, path = 'taskRunner') {
      let registration: RunnerRegistration;
      try {
        registration = resolve(config.type, `${path}.type`);
      } catch (error) {
        return error instanceof ConfigError ? error.issues : [{ path: `${path}.type`, message: String(error) }];
      }
      const issues: ConfigIssue[] = [];
      try {
        checkPluginVersion(registration.type, config.version, registration.version, `${path}.version`);
      } catch (error) {
        if (error instanceof ConfigError) issues.push(...error.issues);
        else throw error;
      }
      for (const issue of registration.validate?.(config) ?? []) {
        issues.push({ ...issue, path: issue.path && issue.path !== '(root)' ? `${path}.${issue.path}` : path });
      }
      return issues;
    },
    async create(config, environment, path = 'taskRunner') {
      const registration = resolve(config.type, `${path}.type`);
      checkPluginVersion(registration.type, config.version, registration.version, `${path}.version`);
      return registration.factory(config, environment);
    },
  };
}
