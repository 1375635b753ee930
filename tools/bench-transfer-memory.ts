// Memory benchmark of the exec-tar transfer: uploads a generated 1 GiB input into a pod of the
// embedded cluster and downloads a 1 GiB output, sampling this process's RSS throughout. The
// cluster runs in a child process so only the runner side is measured. Not a test: run it by hand.
//
//   TSX_TSCONFIG_PATH=tsconfig.dev.json node --import tsx tools/bench-transfer-memory.ts [MiB]
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { defaultPodPaths, parseRunnerConfig, silentLogger, type OutputSink, type TaskRunIdentity } from '@podrun/core';
import { createKubeConfig, createKubePort } from '@podrun/kube';
import { MANAGED_BY_LABEL, buildPod } from '@podrun/pod-spec';
import { createExecTarTransfer } from '@podrun/transfer-exec-tar';
import { startClusterProcess } from './bench/cluster-process.js';

const MiB = 1024 * 1024;
const size = Number(process.argv[2] ?? 1024) * MiB;

const { child, kubeconfig: kubeconfigPath } = await startClusterProcess();

let peak = 0;
const sample = () => (peak = Math.max(peak, process.memoryUsage().rss));
const sampler = setInterval(sample, 50);
const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

const kube = createKubePort({ kubeConfig: createKubeConfig(undefined, {}, { kubeconfigPath }) });
const transfer = createExecTarTransfer();
const identity: TaskRunIdentity = {
  namespace: 'bench',
  flowId: 'bench',
  taskId: 'memory',
  executionId: 'e1',
  taskRunId: `r-${Date.now()}`,
  attempt: 1,
};
const paths = defaultPodPaths(identity);
const selector = { namespace: 'default', labelSelector: `${MANAGED_BY_LABEL}=podrun` };
const spec = buildPod({
  task: { commands: ['cp "$WORKING_DIR/big.bin" "$WORKING_DIR/out.bin"'], containerImage: 'busybox' },
  config: parseRunnerConfig({ namespace: 'default', pullPolicy: 'IF_NOT_PRESENT' }),
  identity,
  paths,
  contribution: transfer.contribute({ hasInputs: true, hasOutputs: true, paths, identity }),
  transferName: transfer.name,
});
const pod = await kube.createPod('default', spec);
const ctx = {
  kube,
  namespace: 'default',
  podName: pod.metadata!.name!,
  paths,
  identity,
  logger: silentLogger,
  podSelector: selector,
};

// The input is generated on the fly: nothing of it is ever held in memory or on the runner's disk.
const block = Buffer.alloc(MiB, 'podrun ');
const generated = () =>
  Readable.from(
    (function* () {
      for (let left = size; left > 0; left -= block.length) yield block.subarray(0, Math.min(left, block.length));
    })(),
  );

global.gc?.();
const baseline = process.memoryUsage().rss;
peak = baseline;
let started = Date.now();
await transfer.uploadInputs(
  ctx,
  { entries: [{ path: 'big.bin', size, open: generated }] },
  new AbortController().signal,
);
const uploadPeak = peak;
const uploadSeconds = (Date.now() - started) / 1000;

await kube.waitForPod(selector, ctx.podName, (p) =>
  Boolean(p.status?.containerStatuses?.find((s) => s.name === 'main')?.state?.terminated),
);
global.gc?.();
const beforeDownload = process.memoryUsage().rss;
peak = beforeDownload;
let received = 0;
const hash = createHash('sha256');
const sink: OutputSink = {
  async write(_entry, content) {
    for await (const chunk of content) {
      hash.update(chunk as Buffer);
      received += (chunk as Buffer).length;
    }
  },
};
started = Date.now();
await transfer.downloadOutputs(
  ctx,
  { globs: ['out.bin'], outputDir: false, syncWorkingDirectory: false },
  sink,
  new AbortController().signal,
);
const downloadSeconds = (Date.now() - started) / 1000;
const downloadPeak = peak;
clearInterval(sampler);

console.log(`exec-tar memory benchmark, ${mib(size)} each way (Node ${process.version})`);
console.log(
  `  upload:   ${mib(size)} in ${uploadSeconds.toFixed(1)} s; RSS ${mib(baseline)} -> peak ${mib(uploadPeak)} (+${mib(uploadPeak - baseline)})`,
);
console.log(
  `  download: ${mib(received)} in ${downloadSeconds.toFixed(1)} s; RSS ${mib(beforeDownload)} -> peak ${mib(downloadPeak)} (+${mib(downloadPeak - beforeDownload)})`,
);

await transfer.release(ctx);
await kube.deletePod('default', ctx.podName, { gracePeriodSeconds: 0 });
await kube.close();
child.stdin!.end();
await new Promise((r) => child.on('exit', r));
