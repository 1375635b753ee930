// The reference log collector: waits for the container to end, then reads its whole log into
// memory and delivers what is past the cursor, reading again until a read brings nothing new.
// Plainly correct, not live: lines arrive only after the container ended.
import type { Readable } from 'node:stream';
import { LogCollectionError, type LogCollector, type LogCursor, type LogTarget } from '@podrun/core';
import { CursorTracker, LineSplitter, type TimedLine } from './log-lines.js';

async function readAll(target: LogTarget, sinceTime: string | undefined, signal: AbortSignal): Promise<Buffer> {
  const stream: Readable = await target.kube.podLogs(
    target.namespace,
    target.podName,
    { container: target.container, timestamps: true, ...(sinceTime && { sinceTime }) },
    signal,
  );
  const parts: Buffer[] = [];
  const onAbort = () => stream.destroy(signal.reason as Error);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) parts.push(chunk);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return Buffer.concat(parts);
}

/** Creates the reference in-memory log collector (name `memory`, not live). */
export function createMemoryLogCollector(): LogCollector {
  return {
    name: 'memory',
    capabilities: { live: false, splitsStreams: false },
    async collect(target, sink, options): Promise<LogCursor | undefined> {
      const tracker = new CursorTracker(options.cursor);
      await target.terminated(options.signal);
      // waitForLogs bounds the reads after the end; it is never slept.
      const ceiling = AbortSignal.any([options.signal, AbortSignal.timeout(options.waitForLogsMs)]);
      let lastTail: string | undefined;
      for (;;) {
        let body: Buffer;
        try {
          body = await readAll(target, tracker.sinceTime(), ceiling);
        } catch (error) {
          if (options.signal.aborted) throw options.signal.reason ?? error;
          if (ceiling.aborted) break;
          throw new LogCollectionError(
            `could not read the log of container ${target.container}: ${(error as Error).message}`,
            {
              component: 'memory',
              cause: error,
            },
          );
        }
        const splitter = new LineSplitter();
        const lines = splitter.push(body);
        const tail = splitter.rest();
        tracker.beginRead();
        let delivered = 0;
        const deliver = async (line: TimedLine) => {
          await sink.line({ container: target.container, timestamp: line.timestamp, text: line.text });
          const cursor = tracker.take(line);
          options.onCursor?.(cursor);
          delivered++;
        };
        for (const line of lines) if (tracker.isNew(line)) await deliver(line);
        if (delivered > 0) {
          lastTail = undefined;
          continue;
        }
        // Nothing new: done, unless an unterminated tail is still changing (a cut read).
        const tailKey = tail && `${tail.timestamp} ${tail.text}`;
        if (!tail || tailKey === lastTail) {
          if (tail && tracker.isNew(tail)) await deliver(tail);
          break;
        }
        lastTail = tailKey;
      }
      return tracker.cursor;
    },
  };
}
