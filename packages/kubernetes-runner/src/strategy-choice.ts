// The strategies the config names versus the objects passed: the runner builds only its own
// defaults (exec-tar, follow), so any other type must be passed, and what is passed must be what
// the config names — a silent mismatch would run the task with a strategy nobody configured.
import { ConfigError } from '@podrun/core';

/** The package and factory of each strategy type a config can name. */
const PACKAGES: Record<string, { pkg: string; factory: string }> = {
  'exec-tar': { pkg: '@podrun/transfer-exec-tar', factory: 'createExecTarTransfer' },
  pvc: { pkg: '@podrun/transfer-pvc', factory: 'createPvcTransfer' },
  'object-storage': { pkg: '@podrun/transfer-object-storage', factory: 'createObjectStorageTransfer' },
  follow: { pkg: '@podrun/logs-follow', factory: 'createFollowLogCollector' },
  poll: { pkg: '@podrun/logs-poll', factory: 'createPollLogCollector' },
};

/** Which strategy slot is checked: its config path, option name and built-in default. */
export interface StrategySlot {
  path: 'taskRunner.fileTransfer.type' | 'taskRunner.logCollector.type';
  option: 'transfer' | 'logs';
  builtIn: string;
}

/**
 * Throws a `ConfigError` when the config names a type that is not built in and nothing was passed
 * (saying which package to install and pass), or when the passed strategy's `name` differs from
 * the configured type. A custom strategy (a name no config can hold) is accepted while the config
 * keeps the default type, which is how custom strategies are plugged in.
 */
export function checkStrategyChoice(
  slot: StrategySlot,
  configured: string,
  passed: { name: string } | undefined,
): void {
  const wanted = PACKAGES[configured];
  const use = wanted
    ? `${wanted.factory}() from ${wanted.pkg} (npm install ${wanted.pkg})`
    : `a "${configured}" strategy`;
  let message: string | undefined;
  if (!passed && configured !== slot.builtIn) {
    message = `"${configured}" is not built into the runner: pass ${use} as \`${slot.option}\``;
  } else if (passed && passed.name !== configured && (configured !== slot.builtIn || PACKAGES[passed.name])) {
    message = `is "${configured}" but the strategy passed as \`${slot.option}\` is "${passed.name}": pass ${use}, or set the type to "${passed.name}"`;
  }
  if (message) throw new ConfigError([{ path: slot.path, message }], { component: 'kubernetes-runner' });
}
