import { createRequire } from 'node:module';
import { createProcessRunner, PROCESS_RUNNER_TYPE } from './process-runner.js';
import type { RunnerRegistry } from './registry.js';

/** The reference's name for its local Process runner, accepted as an alias. */
export const PROCESS_RUNNER_ALIAS = 'io.kestra.plugin.core.runner.Process';

/** Version of @podrun/host, read when asked (not at import time). */
export function hostVersion(): string {
  // By package name, not '../package.json': the bundled podrun command runs this from its own folder.
  return (createRequire(import.meta.url)('@podrun/host/package.json') as { version: string }).version;
}

/** Registers the Process runner (`io.podrun.process`, alias `io.kestra.plugin.core.runner.Process`). */
export function registerProcessRunner(registry: RunnerRegistry): void {
  registry.register(
    PROCESS_RUNNER_TYPE,
    (config, environment) => {
      const options = {
        tempDir: environment.tempDir,
        env: environment.env,
        ...(typeof config.keepWorkingDirectory === 'boolean'
          ? { keepWorkingDirectory: config.keepWorkingDirectory }
          : {}),
      };
      return createProcessRunner(options);
    },
    {
      aliases: [PROCESS_RUNNER_ALIAS],
      version: hostVersion(),
      validate: (config) =>
        Object.keys(config)
          .filter((k) => !['type', 'version', 'keepWorkingDirectory'].includes(k))
          .map((k) => ({
            path: k,
            message: `unknown property "${k}" of the Process runner (it takes version, keepWorkingDirectory)`,
          })),
    },
  );
}
