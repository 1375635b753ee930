import { describeFileTransferConformance, isLiveConformance, onConformanceCluster } from '@podrun/conformance';
import { createPvcTransfer } from '@podrun/transfer-pvc';

// Shared mount: the embedded cluster keeps each claim in <stateDir>/volumes/pvc/<namespace>/<claim>.
describeFileTransferConformance({
  name: 'pvc (shared mount, no exec)',
  skip: isLiveConformance() && 'the shared-mount mode needs the claim mounted on this machine',
  setup: onConformanceCluster((cluster) => ({
    transfer: createPvcTransfer({ hostPath: `${cluster.stateDir}/volumes/pvc/{namespace}/{claim}` }),
  })),
});

describeFileTransferConformance({
  name: 'pvc (helper pod)',
  setup: onConformanceCluster(() => ({ transfer: createPvcTransfer({ size: '1Gi' }) })),
});
