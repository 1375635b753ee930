// Every benchmark of podrun beside the tool a user would type instead, on one embedded cluster (in
// its own process), in one run, printed as one table. Medians of alternating runs. Not a test.
//
//   npm run bench -- [--runs N] [--mb SIZE] [--memory-mb SIZE] [--tasks 1,50,200] [--kubectl-tasks 1,50]
//                    [--node PATH]   (the Node binary that runs the podrun command; default this one)
//
// Rows: the CLI starting; a trivial task; files through the whole CLI; the exec-tar transfer alone
// in each direction, with the CPU each side spends and the loopback TLS WebSocket of this machine
// as the ceiling; the runner's memory for a large transfer; many tasks at once in one process.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startClusterProcess } from './bench/cluster-process.js';
import { runBatch, type BatchResult } from './bench/concurrency.js';
import { runFanout } from './bench/fanout.js';
import { loopbackWebSocket } from './bench/loopback.js';
import { warmFreeMemory } from './bench/warm-memory.js';
import { processTreeCpuSeconds, timedWithCpu } from './bench/cpu.js';
import type { TransferResult } from './bench/transfer.js';
import { buildTestImages } from './test-images/build.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string' },
    mb: { type: 'string' },
    'memory-mb': { type: 'string' },
    tasks: { type: 'string' },
    'kubectl-tasks': { type: 'string' },
    node: { type: 'string' },
  },
});
const nodeBin = values.node ?? process.execPath;
const runs = Number(values.runs ?? 5);
const mb = Number(values.mb ?? 200);
const memoryMb = Number(values['memory-mb'] ?? 1024);
const taskCounts = (values.tasks ?? '1,50,200').split(',').map(Number);
const kubectlTaskCounts = new Set((values['kubectl-tasks'] ?? '1,50').split(',').map(Number));
const MiB = 1024 * 1024;
/**
 * V8's young generation capped at 2 MiB a half: the Buffers a download received are then collected
 * by scavenges within a few MiB, instead of piling up until V8's external-memory trigger.
 */
const SMALL_YOUNG_GENERATION = '--max-semi-space-size=2';
const root = fileURLToPath(new URL('..', import.meta.url));
const podrun = join(root, 'packages/cli/bin/podrun.js');
const work = mkdtempSync(join(tmpdir(), 'podrun-bench-'));
const nodeVersion = (await run(nodeBin, ['--version'])).trim();

/** Runs a command to its end; rejects on a non-zero exit, with its stderr. */
function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd = work): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, env, maxBuffer: 64 * MiB }, (error, stdout, stderr) =>
      error ? reject(new Error(`${file} ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout),
    );
  });
}

async function timed(file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  await run(file, args, env);
  return (performance.now() - started) / 1000;
}

/** Peak RSS of a command, in bytes (GNU time's %M), or undefined without /usr/bin/time. */
async function peakRss(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<number | undefined> {
  if (!existsSync('/usr/bin/time')) return undefined;
  const out = await new Promise<string>((resolve, reject) =>
    execFile('/usr/bin/time', ['-f', '%M', file, ...args], { cwd: work, env }, (error, _o, stderr) =>
      error ? reject(error) : resolve(stderr),
    ),
  );
  return Number(out.trim().split('\n').pop()) * 1024;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function sha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

const images = await buildTestImages();
const { child, kubeconfig } = await startClusterProcess({
  ...process.env,
  PODRUN_TEST_IMAGES: images.archives.join(','),
});
const env = { ...process.env, KUBECONFIG: kubeconfig };
const kubectl = 'kubectl';

writeFileSync(
  join(work, 'hello.yml'),
  `id: hello
namespace: bench
tasks:
  - id: hi
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    taskRunner: {type: io.kestra.plugin.ee.kubernetes.runner.Kubernetes}
    commands: ['echo hi']
`,
);
writeFileSync(
  join(work, 'copy.yml'),
  `id: copy
namespace: bench
inputs: [{id: file, type: FILE}]
tasks:
  - id: copy
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    taskRunner: {type: io.kestra.plugin.ee.kubernetes.runner.Kubernetes}
    inputFiles: {in.bin: "{{ inputs.file }}"}
    outputFiles: [in.bin]
    commands: ['true']
`,
);
const big = join(work, 'big.bin');
await run('sh', ['-c', `head -c ${mb * MiB} /dev/urandom > ${big}`]);
writeFileSync(join(work, 'tiny.bin'), 'x');

type Row = [work: string, podrun: string, anchor: string, ratio: string];
const rows: Row[] = [];
const s = (x: number): string => `${x.toFixed(2)} s`;
const ms = (seconds: number): string => `${Math.round(seconds * 1000)} ms`;
/** "; N failed (reason × n; …)" for the kubectl runs that failed, or "" when none did. */
function kubectlFailures(settled: PromiseSettledResult<string>[]): string {
  const reasons = new Map<string, number>();
  for (const r of settled) {
    if (r.status === 'fulfilled') continue;
    const message = String((r.reason as Error).message ?? r.reason);
    // The last line of kubectl's stderr names the cause; the first repeats the command.
    const why = message.split(': ').slice(1).join(': ').trim().split('\n').at(-1) || message;
    reasons.set(why, (reasons.get(why) ?? 0) + 1);
  }
  const failed = [...reasons.values()].reduce((a, n) => a + n, 0);
  return failed ? `; ${failed} failed (${[...reasons].map(([why, n]) => `${n}× ${why}`).join('; ')})` : '';
}
const failureReasons = (b: BatchResult): string => {
  const reasons = Object.entries(b.failures);
  return reasons.length ? ` (${reasons.map(([why, n]) => `${n}× ${why}`).join('; ')})` : '';
};
const rate = (bytes: number, seconds: number): string => `${(bytes / MiB / seconds).toFixed(0)} MiB/s`;
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
const mib = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;

const kubectlPod = async (name: string): Promise<void> => {
  await run(kubectl, ['run', name, '--image=busybox', '--restart=Never', '--', 'sleep', '3600'], env);
  await run(kubectl, ['wait', '--for=condition=Ready', `pod/${name}`, '--timeout=120s'], env);
};
const deletePod = (name: string) =>
  run(kubectl, ['delete', 'pod', name, '--grace-period=0', '--wait=false'], env).catch(() => '');

try {
  // Warm-ups, not measured: the first pod start pays for the image's first mount.
  await timed(nodeBin, [podrun, 'run', 'hello.yml'], env);
  await timed(kubectl, ['run', 'warm', '--image=busybox', '--restart=Never', '--rm', '-i', '--', 'true'], env);

  // 1. The CLI starting, and a trivial task through the whole command.
  const start = { podrun: [] as number[], kubectl: [] as number[] };
  const hello = { podrun: [] as number[], kubectl: [] as number[] };
  for (let i = 0; i < runs; i++) {
    start.podrun.push(await timed(nodeBin, [podrun, '--version'], env));
    start.kubectl.push(await timed(kubectl, ['version', '--client'], env));
    hello.podrun.push(await timed(nodeBin, [podrun, 'run', 'hello.yml'], env));
    hello.kubectl.push(
      await timed(
        kubectl,
        ['run', `hi-${i}`, '--image=busybox', '--restart=Never', '--rm', '-i', '--quiet', '--', 'echo', 'hi'],
        env,
      ),
    );
  }
  rows.push([
    '`podrun --version` / `kubectl version --client`',
    s(median(start.podrun)),
    s(median(start.kubectl)),
    ratio(median(start.podrun), median(start.kubectl)),
  ]);
  rows.push([
    '`echo hi` in busybox, whole command (`podrun run` / `kubectl run --rm -i`)',
    s(median(hello.podrun)),
    s(median(hello.kubectl)),
    ratio(median(hello.podrun), median(hello.kubectl)),
  ]);

  // 2. Files: the transfer alone (library) and through the whole CLI, beside kubectl cp.
  const files = {
    cli: [] as number[],
    up: [] as number[],
    down: [] as number[],
    cpIn: [] as number[],
    cpOut: [] as number[],
  };
  // CPU seconds per direction: [client, cluster with its pods], for podrun and for kubectl cp.
  const cpu = { up: [] as number[][], down: [] as number[][], cpIn: [] as number[][], cpOut: [] as number[][] };
  const kubectlCp = async (args: string[], into: number[][]): Promise<number> => {
    const before = processTreeCpuSeconds(child.pid!);
    const result = await timedWithCpu(kubectl, ['cp', ...args], { cwd: work, env }, existsSync('/usr/bin/time'));
    if (result.cpuSeconds !== undefined) into.push([result.cpuSeconds, processTreeCpuSeconds(child.pid!) - before]);
    return result.seconds;
  };
  // Each timed command starts with the same kind of free memory (tools/bench/warm-memory.ts).
  const copy = (file: string): Promise<number> => {
    warmFreeMemory(work);
    return timed(nodeBin, [podrun, 'run', 'copy.yml', '-i', `file=@${file}`], env);
  };
  const expected = await sha256(big);
  const libraryTransfer = async (i: number): Promise<void> => {
    const out = join(work, `lib-out-${i}.bin`);
    // transfer-process.ts warms free memory before each direction itself.
    const lib = JSON.parse(
      await run(
        process.execPath,
        ['--import', 'tsx', join(root, 'tools/bench/transfer-process.ts'), kubeconfig, big, out, String(child.pid!)],
        { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.dev.json') },
        root,
      ),
    ) as TransferResult;
    if (lib.sha256 !== expected) throw new Error('the exec-tar transfer brought back different bytes');
    rmSync(out);
    files.up.push(lib.uploadSeconds);
    files.down.push(lib.downloadSeconds);
    cpu.up.push([lib.uploadCpu.client, lib.uploadCpu.cluster!]);
    cpu.down.push([lib.downloadCpu.client, lib.downloadCpu.cluster!]);
  };
  const kubectlTransfer = async (i: number): Promise<void> => {
    const pod = `cp-${i}`;
    await kubectlPod(pod);
    warmFreeMemory(work);
    files.cpIn.push(await kubectlCp([big, `${pod}:/tmp/in.bin`], cpu.cpIn));
    const back = join(work, `cp-out-${i}.bin`);
    warmFreeMemory(work);
    files.cpOut.push(await kubectlCp([`${pod}:/tmp/in.bin`, back], cpu.cpOut));
    if ((await sha256(back)) !== expected) throw new Error('kubectl cp brought back different bytes');
    rmSync(back);
    await deletePod(pod);
  };
  for (let i = 0; i < Math.max(3, Math.ceil(runs / 2)); i++) {
    files.cli.push((await copy(big)) - (await copy(join(work, 'tiny.bin'))));
    // Each goes first every other time, so neither always follows the other's clean-up.
    const pair = i % 2 === 0 ? [libraryTransfer, kubectlTransfer] : [kubectlTransfer, libraryTransfer];
    for (const transfer of pair) await transfer(i);
  }
  const bytes = mb * MiB;
  const ceiling = await loopbackWebSocket(bytes);
  const [up, down, cpIn, cpOut] = [files.up, files.down, files.cpIn, files.cpOut].map(median) as [
    number,
    number,
    number,
    number,
  ];
  rows.push([
    `${mb} MiB into a pod, sha256-verified (exec-tar upload / \`kubectl cp\` in)`,
    `${s(up)} (${rate(bytes, up)})`,
    `${s(cpIn)} (${rate(bytes, cpIn)})`,
    ratio(up, cpIn),
  ]);
  rows.push([
    `${mb} MiB out of a pod, sha256-verified (exec-tar download / \`kubectl cp\` out)`,
    `${s(down)} (${rate(bytes, down)})`,
    `${s(cpOut)} (${rate(bytes, cpOut)})`,
    ratio(down, cpOut),
  ]);
  if (cpu.cpIn.length > 0) {
    // Medians per column: where each tool's time goes when everything shares this machine's cores.
    const split = (samples: number[][]): string =>
      `${median(samples.map((x) => x[0]!)).toFixed(2)} + ${median(samples.map((x) => x[1]!)).toFixed(2)} s`;
    rows.push([
      `CPU for ${mb} MiB in / out: the client + the cluster with its pods (sha256 in the pod is podrun's check)`,
      `${split(cpu.up)} / ${split(cpu.down)}`,
      `${split(cpu.cpIn)} / ${split(cpu.cpOut)}`,
      '',
    ]);
  }
  rows.push([
    `ceiling: ${mb} MiB over one loopback TLS WebSocket, this machine (up / down)`,
    `${s(ceiling.up)} / ${s(ceiling.down)}`,
    `${rate(bytes, ceiling.up)} / ${rate(bytes, ceiling.down)}`,
    '',
  ]);
  rows.push([
    `${mb} MiB in and out through the whole CLI (a task handing its input back as its output, minus the same with 1 byte / \`cp\` in + out)`,
    s(median(files.cli)),
    s(cpIn + cpOut),
    ratio(median(files.cli), cpIn + cpOut),
  ]);

  // 3. Memory of the runner process (its own process, the cluster in another), beside kubectl cp's:
  // on Node's defaults, and with the small young generation a transfer-heavy process can be given.
  const runnerMemory = async (nodeFlags: string[]) =>
    JSON.parse(
      await run(
        process.execPath,
        [
          ...nodeFlags,
          '--expose-gc',
          '--import',
          'tsx',
          join(root, 'tools/bench-transfer-memory.ts'),
          String(memoryMb),
        ],
        { ...process.env, PODRUN_BENCH_KUBECONFIG: kubeconfig, TSX_TSCONFIG_PATH: join(root, 'tsconfig.dev.json') },
        root,
      ),
    ) as { uploadRssGrowth: number; downloadRssGrowth: number };
  const memory = await runnerMemory([]);
  const memorySmallYoung = await runnerMemory([SMALL_YOUNG_GENERATION]);
  const memFile = join(work, 'memory.bin');
  await run('sh', ['-c', `head -c ${memoryMb * MiB} /dev/zero > ${memFile}`]);
  await kubectlPod('cp-memory');
  const kIn = await peakRss(kubectl, ['cp', memFile, 'cp-memory:/tmp/m.bin'], env);
  const kOut = await peakRss(kubectl, ['cp', 'cp-memory:/tmp/m.bin', join(work, 'memory-back.bin')], env);
  await deletePod('cp-memory');
  rmSync(memFile);
  rmSync(join(work, 'memory-back.bin'), { force: true });
  const kubectlMemory = kIn && kOut ? `${mib(kIn)} / ${mib(kOut)}` : 'n/a (no /usr/bin/time)';
  rows.push([
    `memory for ${memoryMb} MiB in / out (runner RSS growth / kubectl cp peak RSS)`,
    `+${mib(memory.uploadRssGrowth)} / +${mib(memory.downloadRssGrowth)}`,
    kubectlMemory,
    '',
  ]);
  rows.push([
    `the same, the runner on \`node ${SMALL_YOUNG_GENERATION}\``,
    `+${mib(memorySmallYoung.uploadRssGrowth)} / +${mib(memorySmallYoung.downloadRssGrowth)}`,
    kubectlMemory,
    '',
  ]);

  // 4. Many tasks at once, in one process, each with an input and an output file.
  // CPU per task of the cluster with its pods, beside the runner's own: on one small node the
  // cluster's share is what stretches a task's time as more run at once.
  const clusterCpu = new Map<BatchResult | number, number>();
  const measuringCluster = async <T>(n: number, work: () => Promise<T>): Promise<[T, number]> => {
    const before = processTreeCpuSeconds(child.pid!);
    const result = await work();
    return [result, (processTreeCpuSeconds(child.pid!) - before) / n];
  };
  const cpuSplit = (b: BatchResult) =>
    `; CPU per task: runner ${ms(b.runnerCpuPerTask)}, cluster ${ms(clusterCpu.get(b)!)}`;
  const batches: BatchResult[] = [];
  for (const n of taskCounts) {
    const [batch, cpu] = await measuringCluster(n, () => runBatch(kubeconfig, n, `batch-${n}`));
    clusterCpu.set(batch, cpu);
    batches.push(batch);
  }
  const single = batches.find((b) => b.tasks === 1)?.medianTaskSeconds;
  const kubectlSeconds = new Map<number, number>();
  /** The median `kubectl run` of each batch, from its own start to its end, as a task's is. */
  const kubectlMedianRun = new Map<number, number>();
  const kubectlFailed = new Map<number, string>();
  // What a task spends beyond the pod the plain tool would have run at the same load: the
  // median podrun task minus the median `kubectl run` of the batch of the same size.
  const overhead = (tasks: number, medianTask: number): number | undefined => {
    const anchor = kubectlMedianRun.get(tasks);
    return anchor === undefined ? undefined : medianTask - anchor;
  };
  const medianRunText = (tasks: number): string =>
    kubectlMedianRun.has(tasks) ? s(kubectlMedianRun.get(tasks)!) : 'n/a';
  /** A batch's podrun cell; `alone` is the median task of the same kind of batch of 1. */
  const taskCell = (b: BatchResult, alone: number | undefined): string => {
    const own = overhead(b.tasks, b.medianTaskSeconds);
    const ownAlone = alone === undefined ? undefined : overhead(1, alone);
    let beyond = '';
    if (own !== undefined) {
      const relative =
        b.tasks > 1 && ownAlone && ownAlone > 0 && own > 0 ? ` (${ratio(own, ownAlone)} of one alone)` : '';
      beyond = `; beyond the median \`kubectl run\`: ${s(own)}${relative}`;
    }
    return `${s(b.seconds)}; median task ${s(b.medianTaskSeconds)}${alone ? ` (${ratio(b.medianTaskSeconds, alone)} of one alone)` : ''}${beyond}; ${b.requestsPerTask.toFixed(1)} API requests per task${cpuSplit(b)}; ${b.failed} failed${failureReasons(b)}; ${b.warnings.length ? b.warnings.join('; ') : 'no warnings'}`;
  };
  for (const b of batches) {
    let anchor = 'not run';
    if (kubectlTaskCounts.has(b.tasks)) {
      const started = performance.now();
      const durations: number[] = [];
      const timedRun = async (args: string[]): Promise<string> => {
        const at = performance.now();
        const out = await run(kubectl, args, env);
        durations.push((performance.now() - at) / 1000);
        return out;
      };
      const [settled, cpu] = await measuringCluster(b.tasks, () =>
        // Settled, not all: on a small machine many kubectl processes at once can fail on their own
        // (a TLS handshake timeout at 200), which is part of the comparison.
        Promise.allSettled(
          Array.from({ length: b.tasks }, (_, k) =>
            timedRun([
              'run',
              `many-${b.tasks}-${k}`,
              '--image=busybox',
              '--restart=Never',
              '--rm',
              '-i',
              '--quiet',
              '--',
              'echo',
              'hi',
            ]),
          ),
        ),
      );
      kubectlSeconds.set(b.tasks, (performance.now() - started) / 1000);
      if (durations.length) kubectlMedianRun.set(b.tasks, median(durations));
      clusterCpu.set(b.tasks, cpu);
      const failed = kubectlFailures(settled);
      kubectlFailed.set(b.tasks, failed);
      if (failed) {
        // A kubectl that failed may have left its pod; the next rows need the node's capacity.
        const names = Array.from({ length: b.tasks }, (_, k) => `many-${b.tasks}-${k}`);
        await run(kubectl, ['delete', 'pod', ...names, '--ignore-not-found', '--wait=false'], env);
      }
      anchor = `${s(kubectlSeconds.get(b.tasks)!)} for ${b.tasks} × \`kubectl run --rm -i\` (no files)${failed}; median run ${medianRunText(b.tasks)}; cluster CPU per task ${ms(cpu)}`;
    }
    rows.push([
      `${b.tasks} task(s) with an input and an output file at once, one process`,
      taskCell(b, single),
      anchor,
      // No ratio against an anchor that partly failed: its time is not that of N pods.
      kubectlSeconds.has(b.tasks) && !kubectlFailed.get(b.tasks) ? ratio(b.seconds, kubectlSeconds.get(b.tasks)!) : '',
    ]);
  }

  // 5. The same through one `podrun run`: a ForEach over N values, the whole CLI path.
  const fanouts: BatchResult[] = [];
  for (const n of taskCounts) {
    const [fanout, cpu] = await measuringCluster(n, () => runFanout(podrun, kubeconfig, n, nodeBin));
    clusterCpu.set(fanout, cpu);
    fanouts.push(fanout);
  }
  const alone = fanouts.find((b) => b.tasks === 1)?.medianTaskSeconds;
  for (const b of fanouts) {
    const anchor = kubectlSeconds.get(b.tasks);
    rows.push([
      `${b.tasks} task(s) with an input and an output file in one \`podrun run\` (ForEach, concurrencyLimit 0)`,
      taskCell(b, alone),
      anchor
        ? `${s(anchor)} for ${b.tasks} × \`kubectl run --rm -i\` (no files)${kubectlFailed.get(b.tasks)}; median run ${medianRunText(b.tasks)}; cluster CPU per task ${ms(clusterCpu.get(b.tasks)!)}`
        : 'not run',
      // No ratio against an anchor that partly failed: its time is not that of N pods.
      anchor && !kubectlFailed.get(b.tasks) ? ratio(b.seconds, anchor) : '',
    ]);
  }
} finally {
  child.stdin!.end();
  rmSync(work, { recursive: true, force: true });
}

console.log(
  `\npodrun (Node ${nodeVersion}) beside kubectl, one embedded cluster, medians of ${runs} runs (${new Date().toISOString()})\n`,
);
console.log('| work | podrun | anchor | podrun ÷ anchor |');
console.log('|---|---|---|---|');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
