// Connects a log collector to the run: LogTargets backed by the shared watch, and a sink that
// turns `::{...}::` protocol lines into vars/metrics and persists the cursor after every line,
// so a restarted runner continues exactly where this one stopped.
import {
  createLogProtocolAccumulator,
  type KubePort,
  type LogCursor,
  type LogLine,
  type LogProtocolAccumulator,
  type LogSink,
  type LogTarget,
  type Logger,
  type PodSelector,
  type TaskMetric,
} from '@podrun/core';
import { isStarted, isTerminated } from './pod-status.js';
import type { RunnerState } from './state.js';
import type { PodWatch } from './watch.js';

export function logTarget(
  kube: KubePort,
  selector: PodSelector,
  podName: string,
  container: string,
  watch: PodWatch,
): LogTarget {
  return {
    kube,
    namespace: selector.namespace,
    podName,
    container,
    started: async (signal) => {
      await kube.waitForPod(selector, podName, (pod) => isStarted(pod, container), signal);
    },
    terminated: async (signal) => {
      await kube.waitForPod(selector, podName, (pod) => isTerminated(pod, container), signal);
    },
    isTerminated: () => isTerminated(watch.latest, container),
  };
}

/** The sink of the main container's lines: protocol lines become vars, others go to the task log. */
export class TaskLogSink implements LogSink {
  readonly protocol: LogProtocolAccumulator;
  #persisting: Promise<void> = Promise.resolve();
  #pendingCursor: LogCursor | undefined;

  constructor(
    private readonly taskLogs: LogSink,
    private readonly state: RunnerState,
    private readonly container: string,
    private readonly logger: Logger,
    restored: { vars: Record<string, unknown>; metrics: TaskMetric[] } | undefined,
  ) {
    this.protocol = createLogProtocolAccumulator(restored ?? {});
  }

  async line(line: LogLine): Promise<void> {
    // The previous line's cursor is durable before the next line is delivered.
    await this.#persisting;
    const message = this.protocol.accept(line.text);
    if (!message) {
      await this.taskLogs.line(line);
      return;
    }
    for (const warning of message.warnings) this.logger.warn(`[podrun] [kubernetes-runner] log protocol: ${warning}`);
    await this.state.setProtocol(this.protocol.vars, this.protocol.metrics);
    for (const log of message.logs) await this.taskLogs.line({ ...line, text: log.message });
  }

  /** Records the cursor after a delivered line (persisted before the next line goes out). */
  onCursor = (cursor: LogCursor): void => {
    this.#pendingCursor = cursor;
    this.#persisting = this.#persisting.then(async () => {
      const next = this.#pendingCursor;
      if (!next) return;
      this.#pendingCursor = undefined;
      await this.state.setCursor(this.container, next);
    });
  };

  /** Waits until the last cursor is durable. */
  flush(): Promise<void> {
    return this.#persisting;
  }
}

/** Forwards another container's lines (an init container or sidecar that failed) as they are. */
export function plainSink(taskLogs: LogSink): LogSink {
  return { line: (line) => taskLogs.line(line) };
}
