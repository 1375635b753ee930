import { describeFileTransferConformance, onConformanceCluster } from '@podrun/conformance';
import { createExecTarTransfer } from '@podrun/transfer-exec-tar';

describeFileTransferConformance({
  name: 'exec-tar',
  setup: onConformanceCluster(() => ({ transfer: createExecTarTransfer() })),
});
