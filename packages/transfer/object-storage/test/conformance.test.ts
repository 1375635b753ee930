import { describeFileTransferConformance, isLiveConformance, onConformanceCluster } from '@podrun/conformance';
import { createObjectStorageTransfer } from '@podrun/transfer-object-storage';
import { startTestS3 } from './support/s3-server.js';

// Live prerequisites: a bucket this machine and the cluster's pods both reach. Credentials come
// from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the SDK's default chain.
const live = {
  bucket: process.env.PODRUN_LIVE_S3_BUCKET,
  endpoint: process.env.PODRUN_LIVE_S3_ENDPOINT,
  region: process.env.PODRUN_LIVE_S3_REGION,
  forcePathStyle: process.env.PODRUN_LIVE_S3_PATH_STYLE === 'true',
};

describeFileTransferConformance({
  name: 'object-storage',
  skip:
    isLiveConformance() &&
    !live.bucket &&
    'object-storage needs a bucket reachable from this machine and the live cluster: set PODRUN_LIVE_S3_BUCKET (and PODRUN_LIVE_S3_ENDPOINT, PODRUN_LIVE_S3_REGION, PODRUN_LIVE_S3_PATH_STYLE=true for MinIO-like servers)',
  setup: onConformanceCluster(async (cluster) => {
    if (cluster.live) {
      const transfer = createObjectStorageTransfer({
        bucket: live.bucket!,
        ...(live.endpoint && { endpoint: live.endpoint }),
        ...(live.region && { region: live.region }),
        ...(live.forcePathStyle && { forcePathStyle: true }),
      });
      // No way to cut a real object store's streams from here: the dropped-stream case is
      // reported as skipped rather than run without its fault.
      return { transfer: { ...transfer, capabilities: { ...transfer.capabilities, recoversDroppedStream: false } } };
    }
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
