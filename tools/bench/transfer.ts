// The exec-tar transfer on its own, through the library, on a cluster given by its kubeconfig:
// uploads an input of `size` bytes into a pod and downloads a copy of it, timing each direction and
// measuring this process's peak RSS. The input is a file on disk (what a user sends) or generated on the
// fly (nothing of it held in memory or on disk); the output is hashed, or written to a file.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  defaultPodPaths,
  parseRunnerConfig,
  silentLogger,
  type InputEntry,
  type OutputSink,
  type TaskRunIdentity,
} from '@podrun/core';
import { createBlockFileWriter } from '@podrun/host';
import { createKubeConfig, createKubePort } from '@podrun/kube';
import { MANAGED_BY_LABEL, buildPod } from '@podrun/pod-spec';
import { createExecTarTransfer } from '@podrun/transfer-exec-tar';
import { ownCpuSeconds, processTreeCpuSeconds } from './cpu.js';

const MiB = 1024 * 1024;

/** One transfer measurement. */
export interface TransferResult {
  bytes: number;
  uploadSeconds: number;
  downloadSeconds: number;
  /** RSS growth over the value right before each direction (after a GC when exposed). */
  uploadRssGrowth: number;
  downloadRssGrowth: number;
  /** Peak growth of what makes up the RSS growth: Buffers' memory and the JS heap, per direction. */
  upload: MemoryGrowth;
  download: MemoryGrowth;
  /** CPU seconds spent per direction by this process and, given `clusterPid`, by the cluster. */
  uploadCpu: TransferCpu;
  downloadCpu: TransferCpu;
  /** sha256 of what came back (equal to what was sent, or the run fails). */
  sha256: string;
}

/** CPU seconds of one direction: the runner (this process), and the cluster with its pods. */
export interface TransferCpu {
  client: number;
  cluster?: number;
}

/** Peak growth (bytes) of `process.memoryUsage()` fields over one direction. */
export interface MemoryGrowth {
  rss: number;
  arrayBuffers: number;
  heapUsed: number;
}

/** The kernel's peak RSS of this process (VmHWM), or undefined where /proc cannot tell. */
function peakRss(): number | undefined {
  try {
    const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

/** Starts a new peak for VmHWM (Linux: writing 5 to clear_refs); false where that is refused. */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * This process's memory growth per phase: `start` begins a phase, `growth` ends it. The RSS peak
 * is the kernel's own (VmHWM, reset per phase), so no spike between samples is missed; Buffers
 * and the JS heap are sampled every 100 ms (sampling more often costs the measured process CPU).
 */
function memorySampler() {
  let base = process.memoryUsage();
  let exactPeak = false;
  let peak: MemoryGrowth = { rss: 0, arrayBuffers: 0, heapUsed: 0 };
  const sample = () => {
    const now = process.memoryUsage();
    peak = {
      rss: Math.max(peak.rss, now.rss - base.rss),
      arrayBuffers: Math.max(peak.arrayBuffers, now.arrayBuffers - base.arrayBuffers),
      heapUsed: Math.max(peak.heapUsed, now.heapUsed - base.heapUsed),
    };
  };
  const timer = setInterval(sample, 100);
  return {
    start() {
      exactPeak = resetPeakRss();
      base = process.memoryUsage();
      peak = { rss: 0, arrayBuffers: 0, heapUsed: 0 };
    },
    growth(): MemoryGrowth {
      sample();
      const kernelPeak = exactPeak ? peakRss() : undefined;
      return kernelPeak === undefined ? peak : { ...peak, rss: Math.max(0, kernelPeak - base.rss) };
    },
    stop: () => clearInterval(timer),
  };
}

/** Where the input comes from and where the output goes. */
export interface TransferOptions {
  kubeconfigPath: string;
  /** A file to upload, or a size (bytes) to generate. */
  input: { file: string } | { size: number };
  /** A file to write the output to; default: hashed only. */
  outputFile?: string;
  image?: string;
  /** The cluster's process, whose CPU (with the pod processes it reaped) is counted per direction. */
  clusterPid?: number;
  /** Called before each timed direction, off the clock (the bench warms free memory there). */
  beforeDirection?: () => void;
}

/** Starts counting CPU; the returned function tells what was spent since. */
function cpuMeter(clusterPid: number | undefined): () => TransferCpu {
  const client = ownCpuSeconds();
  const cluster = clusterPid === undefined ? undefined : processTreeCpuSeconds(clusterPid);
  return () => ({
    client: ownCpuSeconds() - client,
    ...(cluster === undefined ? {} : { cluster: processTreeCpuSeconds(clusterPid!) - cluster }),
  });
}

function generated(size: number): InputEntry {
  const block = Buffer.alloc(MiB, 'podrun ');
  return {
    path: 'in.bin',
    size,
    open: async () =>
      Readable.from(
        (function* () {
          for (let left = size; left > 0; left -= block.length) yield block.subarray(0, Math.min(left, block.length));
        })(),
      ),
  };
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file, { highWaterMark: MiB }), hash);
  return hash.digest('hex');
}

/** Runs one upload and one download through a fresh pod; deletes it afterwards. */
export async function measureTransfer(options: TransferOptions): Promise<TransferResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const memory = memorySampler();
  const kube = createKubePort({
    kubeConfig: createKubeConfig(undefined, {}, { kubeconfigPath: options.kubeconfigPath }),
  });
  const transfer = createExecTarTransfer();
  const identity: TaskRunIdentity = {
    namespace: 'bench',
    flowId: 'bench',
    taskId: 'transfer',
    executionId: 'e1',
    taskRunId: `r-${Date.now().toString(36)}`,
    attempt: 1,
  };
  const paths = defaultPodPaths(identity);
  const selector = { namespace: 'default', labelSelector: `${MANAGED_BY_LABEL}=podrun` };
  const spec = buildPod({
    task: { commands: ['cp "$WORKING_DIR/in.bin" "$WORKING_DIR/out.bin"'], containerImage: options.image ?? 'busybox' },
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
  try {
    const entry: InputEntry =
      'file' in options.input
        ? {
            path: 'in.bin',
            size: (await stat(options.input.file)).size,
            // As the CLI's storage reads a stored input (@podrun/host storage.ts).
            open: async () => createReadStream((options.input as { file: string }).file, { highWaterMark: MiB }),
          }
        : generated(options.input.size);
    // Timed from a running init container, as kubectl cp is timed from a running pod.
    await kube.waitForPod(selector, ctx.podName, (p) =>
      Boolean(p.status?.initContainerStatuses?.some((s) => s.state?.running)),
    );
    options.beforeDirection?.();
    gc?.();
    memory.start();
    let started = performance.now();
    let cpu = cpuMeter(options.clusterPid);
    await transfer.uploadInputs(ctx, { entries: [entry] }, new AbortController().signal);
    const uploadSeconds = (performance.now() - started) / 1000;
    const uploadCpu = cpu();
    const upload = memory.growth();

    await kube.waitForPod(selector, ctx.podName, (p) =>
      Boolean(p.status?.containerStatuses?.find((s) => s.name === 'main')?.state?.terminated),
    );
    options.beforeDirection?.();
    gc?.();
    memory.start();
    const hash = createHash('sha256');
    let bytes = 0;
    const sink: OutputSink = {
      async write(_entry, content) {
        const count = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            // A written output is hashed after the clock stops: kubectl cp is not charged for a check.
            if (!options.outputFile) hash.update(chunk);
            bytes += chunk.length;
            callback(null, chunk);
          },
        });
        const drop = new Writable({ write: (_chunk, _encoding, callback) => callback() });
        // As the CLI's storage writes a downloaded output (@podrun/host storage.ts).
        await pipeline(content, count, options.outputFile ? createBlockFileWriter(options.outputFile, 0o600) : drop);
      },
    };
    started = performance.now();
    cpu = cpuMeter(options.clusterPid);
    await transfer.downloadOutputs(
      ctx,
      { globs: ['out.bin'], outputDir: false, syncWorkingDirectory: false },
      sink,
      new AbortController().signal,
    );
    const downloadSeconds = (performance.now() - started) / 1000;
    const downloadCpu = cpu();
    const download = memory.growth();
    return {
      bytes,
      uploadSeconds,
      downloadSeconds,
      uploadRssGrowth: upload.rss,
      downloadRssGrowth: download.rss,
      upload,
      download,
      uploadCpu,
      downloadCpu,
      sha256: options.outputFile ? await sha256Of(options.outputFile) : hash.digest('hex'),
    };
  } finally {
    memory.stop();
    await transfer.release(ctx).catch(() => {});
    await kube.deletePod('default', ctx.podName, { gracePeriodSeconds: 0 }).catch(() => {});
    await kube.close();
  }
}
