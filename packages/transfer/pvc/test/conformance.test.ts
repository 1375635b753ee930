import { describeFileTransferConformance, isLiveConformance, onConformanceCluster } from '@podrun/conformance';
import { createPvcTransfer } from '@podrun/transfer-pvc';

// Live prerequisites of the shared-mount mode: where this machine sees the claims podrun creates
// (an NFS-backed class mounted here, say), and the class that provisions them there.
const liveHostPath = process.env.PODRUN_LIVE_PVC_HOST_PATH;
const liveStorageClass = process.env.PODRUN_LIVE_PVC_STORAGE_CLASS;

// Shared mount: the embedded cluster keeps each claim in <stateDir>/volumes/pvc/<namespace>/<claim>.
describeFileTransferConformance({
  name: 'pvc (shared mount, no exec)',
  skip:
    isLiveConformance() &&
    !liveHostPath &&
    'the shared-mount mode needs the claims visible on this machine: set PODRUN_LIVE_PVC_HOST_PATH (with {namespace} and {claim}) and PODRUN_LIVE_PVC_STORAGE_CLASS',
  setup: onConformanceCluster((cluster) => ({
    transfer: cluster.live
      ? createPvcTransfer({
          hostPath: liveHostPath!,
          ...(liveStorageClass && { storageClassName: liveStorageClass }),
        })
      : createPvcTransfer({ hostPath: `${cluster.stateDir}/volumes/pvc/{namespace}/{claim}` }),
  })),
});

describeFileTransferConformance({
  name: 'pvc (helper pod)',
  setup: onConformanceCluster(() => ({
    transfer: createPvcTransfer({ size: '1Gi', ...(liveStorageClass && { storageClassName: liveStorageClass }) }),
  })),
});
