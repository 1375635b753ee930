// N tasks at once through one runner in this process, each with an input and an output file: how
// long a batch takes, the median task, the API requests per task (the cluster's own
// apiserver_request_total) and any process warning (MaxListenersExceededWarning would be a leak).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunnerConfig, parseTask, silentLogger, type RunContext } from '@podrun/core';
import { createLocalStorage, resolveInputs } from '@podrun/host';
import { createKubeConfig, createKubePort } from '@podrun/kube';
import { createKubernetesRunner } from '@podrun/kubernetes-runner';
import { ownCpuSeconds } from './cpu.js';

/** What one batch of concurrent tasks measured. */
export interface BatchResult {
  tasks: number;
  failed: number;
  seconds: number;
  medianTaskSeconds: number;
  requestsPerTask: number;
  /**
   * CPU seconds the runner itself spent per task (this process for the library, the `podrun`
   * process for a flow): what podrun costs, apart from the cluster and its pods.
   */
  runnerCpuPerTask: number;
  warnings: string[];
  /** Why tasks failed: the first line of each distinct error, with how many tasks it ended. */
  failures: Record<string, number>;
}

/**
 * The cluster's apiserver_request_total over resources, summed (read with kubectl): requests to
 * non-resource paths (discovery, /metrics itself) are the reading's, not the tasks'.
 */
export async function requestTotal(kubeconfigPath: string): Promise<number> {
  const text = await new Promise<string>((resolve, reject) =>
    execFile(
      'kubectl',
      ['--kubeconfig', kubeconfigPath, 'get', '--raw', '/metrics'],
      { maxBuffer: 64 << 20 },
      (e, out) => (e ? reject(e) : resolve(out)),
    ),
  );
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('apiserver_request_total{') && !/[{,]resource=""/.test(line))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** Runs `count` tasks at once against the cluster of `kubeconfigPath`. */
export async function runBatch(kubeconfigPath: string, count: number, label: string): Promise<BatchResult> {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
  process.on('warning', onWarning);
  const dir = mkdtempSync(join(tmpdir(), 'podrun-bench-batch-'));
  const kube = createKubePort({ kubeConfig: createKubeConfig(undefined, {}, { kubeconfigPath }) });
  const runner = createKubernetesRunner({ kube, config: parseRunnerConfig({ namespace: 'default' }) });
  const storage = createLocalStorage({ root: dir });
  try {
    const before = await requestTotal(kubeconfigPath);
    const cpuBefore = ownCpuSeconds();
    const started = performance.now();
    const durations: number[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: count }, async (_, k) => {
        const identity = {
          namespace: 'bench',
          flowId: label,
          taskId: `t${k}`,
          executionId: `e${Date.now().toString(36)}`,
          taskRunId: `r${k}`,
          attempt: 1,
        };
        const state = new Map<string, unknown>();
        const ctx: RunContext = {
          identity,
          logger: silentLogger,
          taskLogs: { line: () => {} },
          storage: storage.forTaskRun(identity),
          state: {
            get: async <T>(key: string) => state.get(key) as T | undefined,
            set: async (key: string, value: unknown) => void state.set(key, value),
          },
          render: (template) => template,
          resolveInputs: (task) => resolveInputs(task, storage),
        };
        const task = parseTask({
          containerImage: 'busybox',
          commands: ['tr a-z A-Z < in.txt > out.txt'],
          inputFiles: { 'in.txt': { content: `task ${k}\n` } },
          outputFiles: ['out.txt'],
        });
        const t0 = performance.now();
        const result = await runner.run(task, ctx, new AbortController().signal);
        durations.push((performance.now() - t0) / 1000);
        if (result.exitCode !== 0 || !result.outputFiles['out.txt'])
          throw new Error(
            `exit code ${result.exitCode}, outputs: ${Object.keys(result.outputFiles).join(', ') || 'none'}`,
          );
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const runnerCpuPerTask = (ownCpuSeconds() - cpuBefore) / count;
    const after = await requestTotal(kubeconfigPath);
    durations.sort((a, b) => a - b);
    const failures: Record<string, number> = {};
    for (const r of results) {
      if (r.status !== 'rejected') continue;
      const why = (r.reason instanceof Error ? r.reason.message : String(r.reason)).split('\n')[0]!.slice(0, 200);
      failures[why] = (failures[why] ?? 0) + 1;
    }
    return {
      tasks: count,
      failed: results.filter((r) => r.status === 'rejected').length,
      seconds,
      medianTaskSeconds: durations[Math.floor(durations.length / 2)] ?? NaN,
      requestsPerTask: (after - before) / count,
      runnerCpuPerTask,
      warnings,
      failures,
    };
  } finally {
    process.off('warning', onWarning);
    await kube.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
