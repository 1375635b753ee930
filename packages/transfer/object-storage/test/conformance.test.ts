import { describeFileTransferConformance, isLiveConformance, onConformanceCluster } from '@podrun/conformance';
import { createObjectStorageTransfer } from '@podrun/transfer-object-storage';
import { startTestS3 } from './support/s3-server.js';

describeFileTransferConformance({
  name: 'object-storage',
  // The test S3 server listens on this machine: a real cluster's pods could not reach it.
  skip:
    isLiveConformance() &&
    'object-storage needs a bucket reachable from the live cluster; run it on the embedded cluster',
  setup: onConformanceCluster(async (cluster) => {
    // Listening where pods (and the runner) reach this machine over the pod network.
    const s3 = await startTestS3(undefined, cluster.hostIP);
    return {
      transfer: createObjectStorageTransfer({
        bucket: s3.bucket,
        endpoint: s3.endpoint,
        region: s3.region,
        forcePathStyle: true,
        credentials: s3.credentials,
      }),
      dropNextStream: s3.dropNextStream,
      droppedStreams: s3.dropped,
      teardown: s3.stop,
    };
  }),
});
