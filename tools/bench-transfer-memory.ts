// Memory benchmark of the exec-tar transfer: uploads a generated input (1 GiB by default) into a
// pod of the embedded cluster and downloads it back, sampling this process's RSS. The cluster runs
// in another process, so only the runner side is measured, with the test images (as `npm run
// bench`): the pod runs the real BusyBox, not the host's tools. Not a test.
//
//   npm run bench:memory -- [MiB]
// With PODRUN_BENCH_KUBECONFIG set it uses that cluster and prints one JSON line (for npm run bench).
import { startClusterProcess } from './bench/cluster-process.js';
import { measureTransfer, type MemoryGrowth } from './bench/transfer.js';
import { buildTestImages } from './test-images/build.js';

const MiB = 1024 * 1024;
const size = Number(process.argv[2] ?? 1024) * MiB;
const given = process.env.PODRUN_BENCH_KUBECONFIG;
const cluster = given
  ? undefined
  : await startClusterProcess({
      ...process.env,
      PODRUN_TEST_IMAGES: (await buildTestImages()).archives.join(','),
    });
try {
  const result = await measureTransfer({ kubeconfigPath: given ?? cluster!.kubeconfig, input: { size } });
  if (result.bytes !== size) throw new Error(`downloaded ${result.bytes} bytes of ${size}`);
  if (given) {
    console.log(JSON.stringify(result));
  } else {
    const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
    console.log(`exec-tar memory benchmark, ${mib(size)} each way (Node ${process.version})`);
    const parts = (g: MemoryGrowth) =>
      `RSS +${mib(g.rss)} (peaks: Buffers +${mib(g.arrayBuffers)}, JS heap +${mib(g.heapUsed)})`;
    console.log(`  upload:   ${result.uploadSeconds.toFixed(1)} s, ${parts(result.upload)}`);
    console.log(`  download: ${result.downloadSeconds.toFixed(1)} s, ${parts(result.download)}`);
  }
} finally {
  if (cluster) {
    cluster.child.stdin!.end();
    await new Promise((resolve) => cluster.child.on('exit', resolve));
  }
}
