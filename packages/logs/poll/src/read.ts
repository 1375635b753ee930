// One non-follow read of a container's log from the cursor: each complete line that is new is
// delivered (awaiting the sink, for back-pressure); an unterminated tail is returned, not
// delivered, because the container may still be writing it.
import type { Readable } from 'node:stream';
import type { CollectOptions, LogSink, LogTarget } from '@podrun/core';
import { LineSplitter, parseTimestampedLine, type CursorTracker } from '@podrun/logs-kit';

/** What one read brought. */
export interface ReadResult {
  /** Lines delivered by this read. */
  delivered: number;
  /** The raw unterminated last line, if the log did not end with a newline. */
  tail: string | undefined;
}

/** Delivers one line and moves the cursor; the tracker must have accepted it. */
export async function deliver(
  target: LogTarget,
  sink: LogSink,
  tracker: CursorTracker,
  raw: string,
  options: Pick<CollectOptions, 'onCursor'>,
): Promise<boolean> {
  const line = parseTimestampedLine(raw);
  if (!tracker.accept(line.timestamp)) return false;
  await sink.line({ container: target.container, timestamp: line.timestamp, text: line.text });
  const cursor = tracker.cursor;
  if (cursor) options.onCursor?.(cursor);
  return true;
}

/** Reads the log once from the tracker's cursor; `signal` bounds this read only. */
export async function readOnce(
  target: LogTarget,
  sink: LogSink,
  tracker: CursorTracker,
  options: Pick<CollectOptions, 'onCursor'>,
  signal: AbortSignal,
): Promise<ReadResult> {
  const sinceTime = tracker.sinceTime();
  const stream: Readable = await target.kube.podLogs(
    target.namespace,
    target.podName,
    { container: target.container, timestamps: true, ...(sinceTime && { sinceTime }) },
    signal,
  );
  const onAbort = (): void =>
    void stream.destroy(signal.reason instanceof Error ? signal.reason : new Error('read aborted'));
  signal.addEventListener('abort', onAbort, { once: true });
  tracker.beginRead();
  const splitter = new LineSplitter();
  let delivered = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      for (const raw of splitter.push(chunk)) if (await deliver(target, sink, tracker, raw, options)) delivered++;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    stream.destroy();
  }
  return { delivered, tail: splitter.end() };
}
