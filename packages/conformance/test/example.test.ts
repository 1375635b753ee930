// The example of docs/custom-strategy.md passes the suite, so the guide cannot rot.
import { describeLogCollectorConformance, onConformanceCluster } from '@podrun/conformance';
import { createSimpleFollowCollector } from '../examples/simple-follow-collector.js';

describeLogCollectorConformance({
  name: 'simple-follow (example)',
  setup: onConformanceCluster(() => ({ collector: createSimpleFollowCollector() })),
});
