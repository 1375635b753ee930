import { createMemoryLogCollector, describeLogCollectorConformance, onConformanceCluster } from '@podrun/conformance';

describeLogCollectorConformance({
  name: 'memory (reference)',
  setup: onConformanceCluster(() => ({ collector: createMemoryLogCollector() })),
});
