// N tasks through one `podrun run`: a ForEach over N values (concurrencyLimit 0), each task with an
// input and an output file, the whole CLI path (flow, host state, progress summary, outputs saved).
// How long the run takes, the median task (from its state), the API requests per task and any
// process warning the CLI printed.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requestTotal, type BatchResult } from './concurrency.js';
import { endedChildrenCpuSeconds } from './cpu.js';

/** Runs one `podrun run` of a ForEach over `count` values against the cluster of `kubeconfigPath`. */
export async function runFanout(
  podrunBin: string,
  kubeconfigPath: string,
  count: number,
  nodeBin = process.execPath,
): Promise<BatchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'podrun-bench-fanout-'));
  const values = Array.from({ length: count }, (_, k) => `v${k}`);
  writeFileSync(
    join(dir, 'fanout.yml'),
    `id: fanout
namespace: bench
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ${JSON.stringify(values)}
    concurrencyLimit: 0
    tasks:
      - id: copy
        type: io.kestra.plugin.scripts.shell.Commands
        containerImage: busybox
        taskRunner: {type: io.kestra.plugin.ee.kubernetes.runner.Kubernetes, namespace: default}
        inputFiles:
          in.txt: "task {{ taskrun.value }}"
        outputFiles: [out.txt]
        commands: ['tr a-z A-Z < in.txt > out.txt']
`,
  );
  try {
    const before = await requestTotal(kubeconfigPath);
    const cpuBefore = endedChildrenCpuSeconds();
    const started = performance.now();
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve) =>
      execFile(
        nodeBin,
        ['--trace-warnings', podrunBin, 'run', 'fanout.yml', '--kubeconfig', kubeconfigPath, '--json'],
        { cwd: dir, maxBuffer: 256 << 20, env: { ...process.env, KUBECONFIG: kubeconfigPath } },
        (_error, out, err) => resolve({ stdout: out, stderr: err }),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    // The `podrun` process is the only child that ended meanwhile.
    const runnerCpuPerTask = (endedChildrenCpuSeconds() - cpuBefore) / count;
    const after = await requestTotal(kubeconfigPath);
    const result = JSON.parse(stdout) as {
      executionId: string;
      tasks: { key: string; status: string; error?: { message: string } }[];
    };
    const state = JSON.parse(
      readFileSync(join(dir, '.podrun', 'executions', result.executionId, 'state.json'), 'utf8'),
    ) as { tasks: Record<string, { flowable?: string; attempts: { startedAt: string; endedAt?: string }[] }> };
    const durations = Object.values(state.tasks)
      .filter((t) => !t.flowable && t.attempts[0]?.endedAt)
      .map((t) => (Date.parse(t.attempts[0]!.endedAt!) - Date.parse(t.attempts[0]!.startedAt)) / 1000)
      .sort((a, b) => a - b);
    const runs = result.tasks.filter((t) => t.key !== 'each');
    const failures: Record<string, number> = {};
    for (const t of runs) {
      if (t.status === 'SUCCESS') continue;
      const why = (t.error?.message ?? t.status).split('\n')[0]!.slice(0, 200);
      failures[why] = (failures[why] ?? 0) + 1;
    }
    return {
      tasks: count,
      failed: count - runs.filter((t) => t.status === 'SUCCESS').length,
      seconds,
      medianTaskSeconds: durations[Math.floor(durations.length / 2)] ?? NaN,
      requestsPerTask: (after - before) / count,
      runnerCpuPerTask,
      warnings: stderr
        .split('\n')
        .filter((l) => /Warning:/.test(l))
        .slice(0, 3),
      failures,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
