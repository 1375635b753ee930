// Runs the embedded cluster in its own process for benchmarks, so its memory is not counted as
// the runner's. Imports the test images (PODRUN_TEST_IMAGES, built by tools/test-images) so pods
// run real images. Prints `KUBECONFIG <path>` and stops when stdin closes.
import { startCluster } from '@podrun/kube-emulator';

const imageArchives = (process.env.PODRUN_TEST_IMAGES ?? '').split(',').filter(Boolean);
const cluster = await startCluster({ imageArchives });
process.stdout.write(`KUBECONFIG ${cluster.kubeconfigPath}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void cluster.stop().then(() => process.exit(0));
});
