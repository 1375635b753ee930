import type { TransferProgress } from '@podrun/core';
import type { ExecutionObserver, ExecutionRecord } from '@podrun/host';
import type { OutStream } from './io.js';
import type { SavedOutputs } from './outputs.js';
import { createFanoutView } from './progress.js';

/** Options of {@link createPrinter}. */
export interface PrinterOptions {
  /** Where task log lines go: stdout normally, stderr with --json. */
  logs: OutStream;
  /** Where podrun's own messages go. */
  messages: OutStream;
  verbose?: boolean;
  /**
   * Print every line of tasks inside Parallel and ForEach as well; by default they are counted in
   * a live summary (their lines are in the execution's log files).
   */
  allLogs?: boolean;
  /** Off a terminal, the summary's interval in ms (default 5000). */
  summaryIntervalMs?: number;
  /** Where the execution's log files are (`<state-dir>/executions`), named in the summary. */
  logsDir?: string;
}

/**
 * Live output of a run: task lines prefixed `[task]`, podrun's own lines on the message stream,
 * and transfer progress as a bar on a terminal or one plain line per finished transfer otherwise.
 * Tasks inside Parallel and ForEach are summarised instead (done, running, failed, queued: one
 * line redrawn on a terminal, a plain line at an interval otherwise); a failed one prints its
 * error and last lines.
 */
export function createPrinter(options: PrinterOptions): ExecutionObserver {
  const { logs, messages } = options;
  const tty = Boolean(messages.isTTY);
  const fanout = createFanoutView({
    out: messages,
    ...(options.summaryIntervalMs !== undefined ? { plainIntervalMs: options.summaryIntervalMs } : {}),
  });
  // A run inside Parallel/ForEach whose lines are summarised rather than printed.
  const quiet = (task: string) => !options.allLogs && fanout.has(task);
  let barOpen = false;
  const clearBar = () => {
    fanout.clear();
    if (barOpen) {
      messages.write('\r\x1b[2K');
      barOpen = false;
    }
  };
  const say = (task: string, text: string) => {
    clearBar();
    messages.write(`[${task}] ${text}\n`);
    fanout.redraw();
  };
  const lastPhase = new Map<string, number>();
  const progress = (task: string, p: TransferProgress) => {
    if (quiet(task)) return;
    const total = p.totalBytes ?? p.bytes;
    const done = p.bytes >= total;
    if (tty) {
      const width = 24;
      const filled = total ? Math.round((p.bytes / total) * width) : width;
      messages.write(
        `\r\x1b[2K[${task}] ${p.phase === 'upload' ? 'upload  ' : 'download'} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${bytes(p.bytes)} / ${bytes(total)}`,
      );
      barOpen = true;
      if (done) {
        messages.write('\n');
        barOpen = false;
      }
      return;
    }
    const key = `${task}/${p.phase}`;
    if (done && lastPhase.get(key) !== total) {
      lastPhase.set(key, total);
      say(task, `${p.phase === 'upload' ? 'uploaded' : 'downloaded'} ${bytes(total)}`);
    }
  };
  return {
    executionStarted(record, resumed) {
      messages.write(
        `podrun: ${resumed ? 'resuming' : 'running'} ${record.namespace}.${record.flowId}, execution ${record.id}\n`,
      );
    },
    taskQueued(task) {
      fanout.queued(task);
    },
    taskStarted(task, attempt, resumed) {
      if (fanout.has(task)) fanout.started(task);
      if (resumed) say(task, `reattaching (attempt ${attempt})`);
      else if (attempt > 1 && !quiet(task)) say(task, `attempt ${attempt}`);
    },
    taskLog(task, line) {
      if (quiet(task)) return fanout.line(task, line);
      clearBar();
      logs.write(`[${task}] ${line.text}\n`);
      fanout.redraw();
    },
    runnerLog(task, level, message) {
      if (level === 'debug' && !options.verbose) return;
      if ((level === 'info' || level === 'debug') && quiet(task) && !options.verbose) return;
      // The task prefix already says where the line comes from.
      const text = message.replace(/^\[podrun\](?: \[[^\]]+\])? /, '');
      say(task, level === 'info' || level === 'debug' ? text : `${level}: ${text}`);
    },
    taskProgress: progress,
    taskCached(task, from) {
      say(task, `cache hit: outputs reused from execution ${from}, nothing run`);
    },
    taskRetrying(task, attempt, delayMs, error) {
      say(task, `attempt ${attempt} failed (${firstLine(error.message)}); retrying in ${seconds(delayMs)}`);
    },
    workerGroupWaiting(task, key) {
      say(task, `worker group "${key}" is unavailable; waiting for it (fallback WAIT)`);
    },
    taskFinished(task, record) {
      const tail = fanout.has(task) ? fanout.finished(task, record) : [];
      if (record.flowable) {
        say(task, `${record.status}: ${fanout.text()}`);
        return;
      }
      if (record.status === 'FAILED' || record.status === 'WARNING' || record.status === 'CANCELLED') {
        const why = record.error
          ? firstLine(record.error.message)
          : `succeeded after ${record.attempts.length} attempts`;
        say(task, `${record.status}: ${why}`);
        if (tail.length && quiet(task)) {
          clearBar();
          messages.write(tail.map((l) => `[${task}]   ${l}\n`).join(''));
          fanout.redraw();
        }
      }
    },
    executionFinished(record) {
      fanout.stop();
      if (options.logsDir && Object.values(record.tasks).some((t) => t.parent !== undefined))
        messages.write(
          `podrun: every task's lines are in ${options.logsDir}/${record.id}/logs/ (podrun logs ${record.id} [TASK])\n`,
        );
    },
    executionRetried(previous, next, delayMs) {
      clearBar();
      messages.write(
        `podrun: execution ${previous.id} failed; a new execution ${next} starts in ${seconds(delayMs)} (retry behavior CREATE_NEW_EXECUTION)\n`,
      );
    },
  };
}

/** The human summary printed after a run. */
export function summary(record: ExecutionRecord, saved: SavedOutputs, previous: string[]): string {
  const lines: string[] = [];
  const took = record.endedAt ? ` in ${seconds(Date.parse(record.endedAt) - Date.parse(record.startedAt))}` : '';
  lines.push('');
  lines.push(`Execution ${record.id} ${record.status} (${record.namespace}.${record.flowId}${took})`);
  if (previous.length) lines.push(`  after earlier executions: ${previous.join(', ')}`);
  // A Parallel or ForEach with many runs lists only those that did not succeed, and a count.
  const runsOf = new Map<string, number>();
  for (const task of Object.values(record.tasks))
    if (task.parent !== undefined) runsOf.set(task.parent, (runsOf.get(task.parent) ?? 0) + 1);
  const hidden = new Map<string, number>();
  for (const [key, task] of Object.entries(record.tasks)) {
    if (task.parent !== undefined && (runsOf.get(task.parent) ?? 0) > SUMMARY_RUNS && task.status === 'SUCCESS') {
      hidden.set(task.parent, (hidden.get(task.parent) ?? 0) + 1);
      continue;
    }
    const attempts = task.attempts.length > 1 ? `, ${task.attempts.length} attempts` : '';
    const exit = task.outputs ? `, exit ${task.outputs.exitCode}` : '';
    const branch = task.branch ? ` (${task.branch})` : '';
    lines.push(`  ${key}${branch}: ${task.status}${exit}${attempts}${task.cached ? ', from cache' : ''}`);
    if (task.outputs && Object.keys(task.outputs.vars).length)
      lines.push(`    vars: ${JSON.stringify(task.outputs.vars)}`);
    for (const [name, path] of Object.entries(saved[key] ?? {})) lines.push(`    ${name} -> ${path}`);
    if (task.error && task.status !== 'SUCCESS')
      lines.push(`    error: ${task.error.message.split('\n').join('\n      ')}`);
  }
  for (const [parent, count] of hidden)
    lines.push(`  ${parent}: ${count} more task runs SUCCESS (--json lists every run and its files)`);
  if (record.error && !Object.values(record.tasks).some((t) => t.error)) lines.push(`  error: ${record.error.message}`);
  return `${lines.join('\n')}\n`;
}

/** A Parallel or ForEach with more runs than this lists only those that did not succeed. */
const SUMMARY_RUNS = 20;

/** The `--json` document. */
export function jsonDocument(
  record: ExecutionRecord,
  saved: SavedOutputs,
  previous: string[],
  resumed: boolean,
): Record<string, unknown> {
  return {
    executionId: record.id,
    namespace: record.namespace,
    flowId: record.flowId,
    status: record.status,
    startedAt: record.startedAt,
    endedAt: record.endedAt,
    resumed,
    previousExecutions: previous,
    tasks: Object.entries(record.tasks).map(([key, t]) => ({
      id: t.id,
      key,
      ...(t.parent !== undefined ? { parent: t.parent } : {}),
      ...(t.branch ? { branch: t.branch } : {}),
      ...(t.value !== undefined ? { value: t.value, iteration: t.iteration } : {}),
      ...(t.flowable ? { flowable: t.flowable } : {}),
      status: t.status,
      attempts: t.attempts.length,
      cached: Boolean(t.cached),
      exitCode: t.outputs?.exitCode,
      vars: t.outputs?.vars ?? {},
      metrics: t.outputs?.metrics ?? [],
      outputFiles: Object.fromEntries(
        Object.entries(t.outputs?.outputFiles ?? {}).map(([name, uri]) => [name, { uri, path: saved[key]?.[name] }]),
      ),
      pod: t.outputs?.pod,
      error: t.error,
    })),
    error: record.error,
  };
}

function firstLine(text: string): string {
  return text.split('\n')[0]!;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
