import { setTimeout as delay } from 'node:timers/promises';
import {
  ConfigError,
  KubeApiError,
  LogCollectionError,
  silentLogger,
  type CollectOptions,
  type LogCollector,
  type LogCursor,
  type LogSink,
  type LogTarget,
  type Logger,
} from '@podrun/core';
import { CursorTracker } from '@podrun/logs-kit';
import { deliver, readOnce } from './read.js';

/** Options of {@link createPollLogCollector}. */
export interface PollLogCollectorOptions {
  /** Milliseconds between reads while the container runs (the `poll` block's `interval`, default PT2S). */
  interval?: number;
  /** Longest a single read may take while the container runs (default: 10 intervals, at least 30 s). */
  readTimeoutMs?: number;
  /** Consecutive failed reads tolerated while the container runs (default 5). */
  maxFailedReads?: number;
  /** Diagnostics (failed reads); never receives log content. */
  logger?: Logger;
}

const COMPONENT = 'poll';

function gone(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 404;
}

/**
 * Creates the polling log collector (name `poll`): reads each container's log periodically with
 * `sinceTime` from a per-container cursor instead of holding a long-lived follow stream, for
 * clusters or proxies that cut long connections. Lines are delivered once and in order (the
 * cursor counts lines at its timestamp, so a re-read overlap is dropped). Between reads the
 * collector waits `interval` or until the container ends, whichever comes first; after the end it
 * reads until one read brings nothing new, never longer than waitForLogs.
 *
 * @example
 * ```ts
 * const logs = createPollLogCollector({ interval: 2000 });
 * ```
 */
export function createPollLogCollector(options: PollLogCollectorOptions = {}): LogCollector {
  const interval = options.interval ?? 2000;
  if (!Number.isFinite(interval) || interval <= 0) {
    throw new ConfigError(
      [{ path: 'logs.interval', message: `must be a positive duration, got ${String(options.interval)}` }],
      {
        component: COMPONENT,
      },
    );
  }
  const readTimeoutMs = options.readTimeoutMs ?? Math.max(30_000, 10 * interval);
  const maxFailedReads = options.maxFailedReads ?? 5;
  const logger = options.logger ?? silentLogger;

  async function whileRunning(
    target: LogTarget,
    sink: LogSink,
    tracker: CursorTracker,
    opts: CollectOptions,
  ): Promise<void> {
    const { signal } = opts;
    const stopWaiting = new AbortController();
    // The end of the container is an event: it cuts the wait between two reads short.
    const ended = target.terminated(AbortSignal.any([signal, stopWaiting.signal])).then(
      () => true,
      () => false,
    );
    let failures = 0;
    try {
      while (!target.isTerminated()) {
        try {
          await readOnce(target, sink, tracker, opts, AbortSignal.any([signal, AbortSignal.timeout(readTimeoutMs)]));
          failures = 0;
        } catch (error) {
          if (signal.aborted) throw signal.reason ?? error;
          if (gone(error)) return;
          if (++failures >= maxFailedReads) {
            throw new LogCollectionError(
              `reading the log of container ${target.container} failed ${failures} times in a row; check the connection to the cluster`,
              { component: COMPONENT, cause: error },
            );
          }
          logger.debug(`[podrun] [${COMPONENT}] a log read failed; the next read resumes from the cursor`, {
            pod: target.podName,
            container: target.container,
            error: error instanceof Error ? error.message : String(error),
          });
        }
        if (target.isTerminated()) break;
        await Promise.race([delay(interval, undefined, { signal }), ended]);
      }
    } finally {
      stopWaiting.abort();
    }
  }

  async function afterEnd(
    target: LogTarget,
    sink: LogSink,
    tracker: CursorTracker,
    opts: CollectOptions,
  ): Promise<void> {
    // waitForLogs is a ceiling for late lines, never a sleep: reading stops at the first read
    // that brings nothing new.
    const ceiling = AbortSignal.any([opts.signal, AbortSignal.timeout(opts.waitForLogsMs)]);
    let lastTail: string | undefined;
    for (;;) {
      let result;
      try {
        result = await readOnce(target, sink, tracker, opts, ceiling);
      } catch (error) {
        if (opts.signal.aborted) throw opts.signal.reason ?? error;
        if (ceiling.aborted || gone(error)) return;
        logger.debug(`[podrun] [${COMPONENT}] a final log read failed; retrying within waitForLogs`, {
          pod: target.podName,
          container: target.container,
          error: error instanceof Error ? error.message : String(error),
        });
        continue;
      }
      if (result.delivered > 0) {
        lastTail = undefined;
        continue;
      }
      // An unterminated last line is delivered once two reads agree on it (a cut read differs).
      if (result.tail === undefined) return;
      if (result.tail === lastTail) {
        await deliver(target, sink, tracker, result.tail, opts);
        return;
      }
      lastTail = result.tail;
    }
  }

  return {
    name: 'poll',
    capabilities: { live: true, splitsStreams: false },
    async collect(target, sink, opts): Promise<LogCursor | undefined> {
      const tracker = new CursorTracker(opts.cursor);
      await target.started(opts.signal);
      await whileRunning(target, sink, tracker, opts);
      await afterEnd(target, sink, tracker, opts);
      return tracker.cursor;
    },
  };
}
