import { describeLogCollectorConformance, onConformanceCluster } from '@podrun/conformance';
import { createFollowLogCollector } from '@podrun/logs-follow';

describeLogCollectorConformance({
  name: 'follow',
  setup: onConformanceCluster(() => ({ collector: createFollowLogCollector() })),
});
