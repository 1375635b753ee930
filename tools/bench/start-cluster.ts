// Runs the embedded cluster in its own process for benchmarks, so its memory is not counted as
// the runner's. Prints `KUBECONFIG <path>` and stops when stdin closes.
import { startCluster } from '@podrun/kube-emulator';

const cluster = await startCluster();
process.stdout.write(`KUBECONFIG ${cluster.kubeconfigPath}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void cluster.stop().then(() => process.exit(0));
});
