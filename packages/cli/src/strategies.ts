// The strategies the Kubernetes runner does not build in, mapped by their `type`. Each package is
// imported only when a task asks for it (the S3 SDK is heavy).
import type { KubernetesStrategies } from '@podrun/host';

/** pvc and object-storage transfers, poll logs; exec-tar and follow are the runner's own. */
export const cliStrategies: KubernetesStrategies = {
  transfers: {
    pvc: async (config, environment) => {
      if (config.type !== 'pvc') throw new Error('unreachable');
      const { createPvcTransfer } = await import('@podrun/transfer-pvc');
      const { type: _type, ...options } = config;
      return createPvcTransfer({ ...options, logger: environment.logger });
    },
    'object-storage': async (config) => {
      if (config.type !== 'object-storage') throw new Error('unreachable');
      const { createObjectStorageTransfer } = await import('@podrun/transfer-object-storage');
      const { type: _type, ...options } = config;
      return createObjectStorageTransfer(options);
    },
  },
  collectors: {
    poll: async (config, environment) => {
      if (config.type !== 'poll') throw new Error('unreachable');
      const { createPollLogCollector } = await import('@podrun/logs-poll');
      return createPollLogCollector({ interval: config.interval, logger: environment.logger });
    },
  },
};
