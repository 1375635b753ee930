import { describeLogCollectorConformance, onConformanceCluster } from '@podrun/conformance';
import { createPollLogCollector } from '@podrun/logs-poll';

describeLogCollectorConformance({
  name: 'poll',
  setup: onConformanceCluster(() => ({ collector: createPollLogCollector({ interval: 250 }) })),
});
