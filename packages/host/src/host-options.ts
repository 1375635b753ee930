// What a host is created with, apart from the host so that the parts it creates (the runner
// pool) can take the options without importing the host.
import type { Logger } from '@podrun/core';
import type { ClusterTarget, RunnerConfig, RunnerRegistry } from './registry.js';
import type { SecretSources } from './secrets.js';
import type { LocalStorage } from './storage.js';
import type { WorkerGroupProbe, WorkerGroupTarget } from './worker-groups.js';

/** How a host runs flows. Everything from the environment is passed in here. */
export interface HostOptions {
  registry: RunnerRegistry;
  /** Root of execution state, cache and (by default) storage, e.g. `.podrun`. */
  stateDir: string;
  /** File storage; default `<stateDir>/storage`. */
  storage?: LocalStorage;
  /** The process environment, read once by the caller. */
  env: Readonly<Record<string, string | undefined>>;
  /** Scratch directory for runners (the Process runner's working directories). */
  tempDir: string;
  /** Cluster used by container runners when no worker group or connection says otherwise. */
  cluster?: ClusterTarget;
  /** Runner for tasks without `taskRunner` (and no pluginDefaults); default the Process runner. */
  defaultRunner?: RunnerConfig;
  /** Worker groups of the host configuration: key -> cluster context. */
  workerGroups?: Record<string, WorkerGroupTarget>;
  workerGroupProbe?: WorkerGroupProbe;
  /** Namespace files directory for a flow namespace (namespaceFiles: enabled). */
  namespaceFilesDir?: (namespace: string) => string | undefined;
  logger?: Logger;
  /** podrun's own secret sources for `secret('NAME')`, besides the reference's SECRET_NAME variables. */
  secrets?: SecretSources;
  now?: () => Date;
}
