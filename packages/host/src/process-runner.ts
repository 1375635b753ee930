import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { constants } from 'node:os';
import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { CancelledError, DeadlineExceededError, parseLogProtocolLine } from '@podrun/core';
import type { RunContext, Task, TaskMetric, TaskRunIdentity, TaskRunResult } from '@podrun/core';
import { collectOutputs, stageInputs } from './local-files.js';
import type { HostTaskRunner, WorkingPaths } from './runner-paths.js';

/** Options of {@link createProcessRunner}. */
export interface ProcessRunnerOptions {
  /** Parent of the per-task-run working directories (e.g. the OS temp dir). */
  tempDir: string;
  /** Environment the commands inherit (PATH etc.), as read by the host at startup. */
  env: Readonly<Record<string, string | undefined>>;
  /** Keep working directories after the run (debugging); default false. */
  keepWorkingDirectory?: boolean;
  /** Grace period between SIGTERM and SIGKILL on cancel, in ms; default 2000. */
  killGraceMs?: number;
}

/** Type name of the Process runner. */
export const PROCESS_RUNNER_TYPE = 'io.podrun.process';

/**
 * The local Process runner: commands run as plain local processes in a fresh working directory,
 * inputs staged into it, outputs (globs and OUTPUT_DIR) collected into storage, the log protocol
 * parsed. The image is ignored. Cancellation kills the whole process group.
 */
export function createProcessRunner(options: ProcessRunnerOptions): HostTaskRunner {
  const workingPaths = (identity: TaskRunIdentity): WorkingPaths => {
    const id = createHash('sha256').update(`${identity.taskRunId}/${identity.attempt}`).digest('hex').slice(0, 16);
    const workingDir = join(options.tempDir, `podrun-${id}`);
    return { workingDir, outputDir: join(workingDir, `outputs-${id.slice(0, 8)}`) };
  };
  return {
    type: PROCESS_RUNNER_TYPE,
    workingPaths,
    run: (task, context, signal) => runProcess(task, context, signal, workingPaths(context.identity), options),
  };
}

async function runProcess(
  task: Task,
  context: RunContext,
  signal: AbortSignal,
  paths: WorkingPaths,
  options: ProcessRunnerOptions,
): Promise<TaskRunResult> {
  if (signal.aborted) throw new CancelledError('the task was cancelled before it started', { component: 'process' });
  await rm(paths.workingDir, { recursive: true, force: true });
  await mkdir(paths.outputDir, { recursive: true });
  try {
    const inputs = await context.resolveInputs(task);
    await stageInputs(paths.workingDir, inputs, { signal, onProgress: context.onProgress, component: 'process' });

    const vars: Record<string, unknown> = {};
    const metrics: TaskMetric[] = [];
    const exitCode = await execute(task, context, signal, paths, options, { vars, metrics });

    const outputFiles = await collectOutputs(
      paths,
      { globs: task.outputFiles ?? [], outputDir: task.enableOutputDirectory !== false, syncWorkingDirectory: false },
      context.storage,
      { signal, onProgress: context.onProgress },
    );
    return { exitCode, outputFiles, vars, metrics };
  } finally {
    if (!options.keepWorkingDirectory) await rm(paths.workingDir, { recursive: true, force: true });
  }
}

function execute(
  task: Task,
  context: RunContext,
  signal: AbortSignal,
  paths: WorkingPaths,
  options: ProcessRunnerOptions,
  sink: { vars: Record<string, unknown>; metrics: TaskMetric[] },
): Promise<number> {
  const [command, ...args] = task.interpreter?.length ? task.interpreter : ['/bin/sh', '-c'];
  const child = spawn(command!, [...args, task.commands.join('\n')], {
    cwd: paths.workingDir,
    env: { ...cleanEnv(options.env), ...task.env, WORKING_DIR: paths.workingDir, OUTPUT_DIR: paths.outputDir },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const killGroup = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  let stopReason: 'cancel' | 'timeout' | undefined;
  const stop = (why: 'cancel' | 'timeout') => {
    if (stopReason) return;
    stopReason = why;
    killGroup(why === 'timeout' ? 'SIGKILL' : 'SIGTERM');
    if (why === 'cancel') setTimeout(() => killGroup('SIGKILL'), options.killGraceMs ?? 2000).unref();
  };
  const onAbort = () => stop('cancel');
  signal.addEventListener('abort', onAbort, { once: true });
  const timer = task.timeoutMs ? setTimeout(() => stop('timeout'), task.timeoutMs) : undefined;

  const pumps = Promise.all([pump(child.stdout, 'stdout', context, sink), pump(child.stderr, 'stderr', context, sink)]);
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, sig) => resolve(code ?? 128 + signalNumber(sig)));
  });
  return Promise.all([exited, pumps])
    .then(([code]) => {
      if (stopReason === 'timeout') {
        throw new DeadlineExceededError(
          'timeout',
          `the task ran longer than its timeout (${task.timeoutMs} ms) and was killed; raise timeout or make the commands faster`,
          {
            component: 'process',
          },
        );
      }
      if (stopReason === 'cancel')
        throw new CancelledError('the task was cancelled; its processes were killed', { component: 'process' });
      return code;
    })
    .finally(() => {
      signal.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
    });
}

async function pump(
  stream: Readable,
  name: 'stdout' | 'stderr',
  context: RunContext,
  sink: { vars: Record<string, unknown>; metrics: TaskMetric[] },
): Promise<void> {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  for await (const text of lines) {
    const timestamp = new Date().toISOString();
    const message = parseLogProtocolLine(text);
    if (!message) {
      await context.taskLogs.line({ container: 'main', timestamp, text, stream: name });
      continue;
    }
    Object.assign(sink.vars, message.outputs ?? {});
    sink.metrics.push(...(message.metrics ?? []));
    for (const log of message.logs ?? []) {
      await context.taskLogs.line({ container: 'main', timestamp, text: log.message, stream: name });
    }
  }
}

function cleanEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

function signalNumber(sig: NodeJS.Signals | null): number {
  return sig ? (constants.signals[sig] ?? 1) : 1;
}
