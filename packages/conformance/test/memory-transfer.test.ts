import { createMemoryFileTransfer, describeFileTransferConformance, onConformanceCluster } from '@podrun/conformance';

describeFileTransferConformance({
  name: 'memory (reference)',
  setup: onConformanceCluster(() => ({ transfer: createMemoryFileTransfer() })),
  largeFileBytes: 20 * 1024 * 1024,
});
