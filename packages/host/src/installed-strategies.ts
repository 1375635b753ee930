// The strategies a runner config can name beyond the runner's own (exec-tar, follow), built from
// the packages installed beside the host: each is imported only when a task asks for it (the S3
// SDK is heavy), and a missing one is a ConfigError naming the package to install.
import {
  ConfigError,
  type FileTransfer,
  type FileTransferConfig,
  type LogCollector,
  type LogCollectorConfig,
} from '@podrun/core';
import type { RunnerEnvironment } from './registry.js';

type Factory<T> = (options: Record<string, unknown>) => T;

async function factory<T>(path: string, pkg: string, name: string): Promise<Factory<T>> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pkg)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    throw new ConfigError([{ path, message: `needs ${pkg}, which is not installed: npm install ${pkg}` }], {
      component: 'host',
      cause: error,
    });
  }
  return module[name] as Factory<T>;
}

/** pvc and object-storage transfers and the poll collector, from their installed packages. */
export const installedStrategies: {
  transfers: Record<string, (config: FileTransferConfig, environment: RunnerEnvironment) => Promise<FileTransfer>>;
  collectors: Record<string, (config: LogCollectorConfig, environment: RunnerEnvironment) => Promise<LogCollector>>;
} = {
  transfers: {
    pvc: async ({ type: _type, ...options }, environment) => {
      const create = await factory<FileTransfer>(
        'taskRunner.fileTransfer.type',
        '@podrun/transfer-pvc',
        'createPvcTransfer',
      );
      return create({ ...options, logger: environment.logger });
    },
    'object-storage': async ({ type: _type, ...options }) => {
      const create = await factory<FileTransfer>(
        'taskRunner.fileTransfer.type',
        '@podrun/transfer-object-storage',
        'createObjectStorageTransfer',
      );
      return create(options);
    },
  },
  collectors: {
    poll: async (config, environment) => {
      const create = await factory<LogCollector>(
        'taskRunner.logCollector.type',
        '@podrun/logs-poll',
        'createPollLogCollector',
      );
      return create({ interval: (config as { interval?: unknown }).interval, logger: environment.logger });
    },
  },
};
