import type { Readable } from 'node:stream';
import {
  type CollectOptions,
  type LogCollector,
  type LogCursor,
  type LogSink,
  type LogTarget,
  type Logger,
  KubeApiError,
  RETRY_POLICIES,
  backoffDelay,
  linkAbort,
  sleep,
  type BackoffPolicy,
  silentLogger,
} from '@podrun/core';
import { CursorTracker, LineSplitter, parseTimestampedLine } from '@podrun/logs-kit';

/** Options of {@link createFollowLogCollector}. */
export interface FollowLogCollectorOptions {
  /** Diagnostics (reconnects, final read failures). */
  logger?: Logger;
  /** First delay before reconnecting a stream that broke while the container runs; default 250 ms (`RETRY_POLICIES.logReconnect` in core). */
  reconnectDelayMs?: number;
  /** Upper bound of the reconnect back-off; default 5 s. */
  maxReconnectDelayMs?: number;
  /** Attempts of the final non-follow read after the container ended; default 3. */
  finalReadAttempts?: number;
}

type ReadOutcome = 'ended' | 'broken' | 'gone';

function isGone(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 404;
}

/** One collection of one container's log. */
class Collection {
  readonly #tracker: CursorTracker;
  #deliveredInRead = 0;

  constructor(
    private readonly target: LogTarget,
    private readonly sink: LogSink,
    private readonly options: CollectOptions,
    private readonly settings: { logger: Logger; reconnect: BackoffPolicy; finalReadAttempts: number },
  ) {
    this.#tracker = new CursorTracker(options.cursor);
  }

  async run(): Promise<LogCursor | undefined> {
    const { target, options, settings } = this;
    await target.started(options.signal);
    // Consecutive reads that ended without delivering anything: they back off like broken ones.
    let idleReads = 0;
    for (;;) {
      const terminatedBeforeOpen = target.isTerminated();
      const outcome = await this.#read(true);
      // A follow stream opened after the container ended reads its whole log to the end.
      if (outcome === 'ended' && terminatedBeforeOpen) return this.#tracker.cursor;
      if (outcome === 'gone') return this.#tracker.cursor;
      if (target.isTerminated() || (await this.#terminatedWithin(backoffDelay(settings.reconnect, idleReads + 1))))
        break;
      settings.logger.debug('log stream ended while the container runs; reconnecting from the cursor', {
        container: target.container,
        pod: target.podName,
        outcome,
      });
      const idle = outcome === 'broken' || this.#deliveredInRead === 0;
      idleReads = idle ? idleReads + 1 : 0;
    }
    await this.#finalRead();
    return this.#tracker.cursor;
  }

  /** One non-follow read from the cursor closes any gap a broken stream left. */
  async #finalRead(): Promise<void> {
    for (let attempt = 1; attempt <= this.settings.finalReadAttempts; attempt++) {
      const outcome = await this.#read(false);
      if (outcome !== 'broken') return;
      if (attempt < this.settings.finalReadAttempts)
        await sleep(backoffDelay(this.settings.reconnect, attempt), this.options.signal);
    }
    this.settings.logger.warn('[podrun] [logs-follow] the final log read failed; late lines may be missing', {
      container: this.target.container,
      pod: this.target.podName,
    });
  }

  /** Resolves true as soon as the container is seen terminated, false after `ms`. */
  async #terminatedWithin(ms: number): Promise<boolean> {
    const controller = new AbortController();
    const unlink = linkAbort(this.options.signal, controller);
    const timer = setTimeout(() => controller.abort(), ms);
    try {
      await this.target.terminated(controller.signal);
      return true;
    } catch {
      return this.target.isTerminated();
    } finally {
      clearTimeout(timer);
      unlink();
      this.options.signal.throwIfAborted();
    }
  }

  async #read(follow: boolean): Promise<ReadOutcome> {
    const { target, options } = this;
    const controller = new AbortController();
    const unlink = linkAbort(options.signal, controller);
    // After the container ended, waitForLogs bounds how long we wait for the next bytes: a
    // ceiling for late lines, never a sleep.
    let idleTimer: NodeJS.Timeout | undefined;
    let idleExpired = false;
    let ceilingArmed = !follow || target.isTerminated();
    const armIdle = (): void => {
      if (!ceilingArmed) return;
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        idleExpired = true;
        controller.abort();
      }, options.waitForLogsMs);
    };
    if (!ceilingArmed) {
      target.terminated(controller.signal).then(
        () => {
          ceilingArmed = true;
          armIdle();
        },
        () => {},
      );
    }
    let stream: Readable | undefined;
    try {
      this.#tracker.beginRead();
      this.#deliveredInRead = 0;
      stream = await target.kube.podLogs(
        target.namespace,
        target.podName,
        { container: target.container, follow, timestamps: true, sinceTime: this.#tracker.sinceTime() },
        controller.signal,
      );
      // The ceiling counts from the answer on: a slow API server is not a lack of late lines.
      armIdle();
      const splitter = new LineSplitter();
      for await (const chunk of stream as AsyncIterable<Uint8Array | string>) {
        clearTimeout(idleTimer);
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        for (const raw of splitter.push(bytes)) await this.#deliver(raw);
        armIdle();
      }
      const rest = splitter.end();
      // An unterminated last line is final only once the container has ended.
      if (rest !== undefined && (!follow || target.isTerminated())) await this.#deliver(rest);
      return 'ended';
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason ?? error;
      if (idleExpired) return 'ended';
      if (isGone(error)) return 'gone';
      this.settings.logger.debug('log stream broke', {
        container: target.container,
        pod: target.podName,
        error: error instanceof Error ? error.message : String(error),
      });
      return 'broken';
    } finally {
      clearTimeout(idleTimer);
      controller.abort();
      unlink();
      stream?.destroy();
    }
  }

  async #deliver(raw: string): Promise<void> {
    const { timestamp, text } = parseTimestampedLine(raw);
    if (!this.#tracker.accept(timestamp)) return;
    this.#deliveredInRead++;
    await this.sink.line({ container: this.target.container, timestamp, text });
    const cursor = this.#tracker.cursor;
    if (cursor) this.options.onCursor?.(cursor);
  }
}

/**
 * The `follow` log collector: one follow stream per container with server timestamps, a cursor
 * per container, reconnects from the cursor when a stream breaks while the container runs, and
 * no fixed sleep at the end (the stream ends with the container; one final read from the cursor
 * closes any gap, bounded by `waitForLogs` as a ceiling for late lines).
 *
 * @example
 * ```ts
 * const logs = createFollowLogCollector();
 * const cursor = await logs.collect(target, sink, { waitForLogsMs: 5000, signal });
 * ```
 */
export function createFollowLogCollector(options: FollowLogCollectorOptions = {}): LogCollector {
  const settings = {
    logger: options.logger ?? silentLogger,
    reconnect: {
      ...RETRY_POLICIES.logReconnect,
      ...(options.reconnectDelayMs !== undefined && { baseDelayMs: options.reconnectDelayMs }),
      ...(options.maxReconnectDelayMs !== undefined && { maxDelayMs: options.maxReconnectDelayMs }),
    },
    finalReadAttempts: options.finalReadAttempts ?? 3,
  };
  return {
    name: 'follow',
    capabilities: { live: true, splitsStreams: false },
    collect: (target, sink, collectOptions) => new Collection(target, sink, collectOptions, settings).run(),
  };
}
