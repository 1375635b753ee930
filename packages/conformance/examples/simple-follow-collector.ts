// Example: a custom log collector in about 90 lines, written against @podrun/core's contract
// and tested by @podrun/conformance (see test/example.test.ts and docs/custom-strategy.md).
// It follows one stream per container, reconnects from its cursor when the stream drops, and
// makes one final read once the container has ended.
import type { LogCollector, LogCursor, LogSink, LogTarget } from '@podrun/core';

/** The whole second of an RFC3339 UTC timestamp, as `sinceTime` reaches the kubelet, minus `back` seconds. */
const secondOf = (ts: string, back = 0): string =>
  new Date(Date.parse(ts.replace(/\.\d+Z$/, 'Z')) - back * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * Reads one stream to its end, delivering the lines that come after `cursor`. The cursor is a
 * position: a read from `since` returns, first, the `linesSince` lines already delivered (stamps
 * of stdout and stderr can be equal or out of order, so comparing stamps would lose lines).
 * `since` stays where the first line was: simple, but every reconnect re-reads the whole log; the
 * built-in collector (@podrun/logs-follow) moves it forward.
 */
async function readStream(
  target: LogTarget,
  sink: LogSink,
  cursor: LogCursor | undefined,
  follow: boolean,
  signal: AbortSignal,
  onCursor?: (c: LogCursor) => void,
) {
  const stream = await target.kube.podLogs(
    target.namespace,
    target.podName,
    { container: target.container, timestamps: true, follow, ...(cursor?.since && { sinceTime: cursor.since }) },
    signal,
  );
  let skip = cursor?.linesSince ?? 0;
  let pending = Buffer.alloc(0);
  const deliver = async (raw: Buffer) => {
    const text = raw.toString('utf8'); // whole lines only, so a split UTF-8 character is never decoded in halves
    const space = text.indexOf(' ');
    const timestamp = text.slice(0, space);
    if (skip > 0) return void skip--; // already delivered before
    await sink.line({ container: target.container, timestamp, text: text.slice(space + 1) });
    // A second of slack: a stderr line written later may be stamped a little earlier.
    const since = cursor?.since ?? secondOf(timestamp, 1);
    const counted = secondOf(timestamp) >= since; // a read from `since` returns only these
    const same = cursor?.timestamp === timestamp;
    cursor = {
      timestamp,
      linesAtTimestamp: same ? cursor!.linesAtTimestamp + 1 : 1,
      since,
      linesSince: (cursor?.linesSince ?? 0) + (counted ? 1 : 0),
    };
    onCursor?.(cursor);
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      pending = Buffer.concat([pending, chunk]);
      for (let nl = pending.indexOf(10); nl >= 0; nl = pending.indexOf(10)) {
        await deliver(pending.subarray(0, nl));
        pending = pending.subarray(nl + 1);
      }
    }
  } finally {
    stream.destroy();
  }
  return cursor;
}

/** Creates the example collector (name `simple-follow`). */
export function createSimpleFollowCollector(): LogCollector {
  return {
    name: 'simple-follow',
    capabilities: { live: true, splitsStreams: false },
    async collect(target, sink, { cursor, waitForLogsMs, signal, onCursor }) {
      await target.started(signal);
      for (;;) {
        const ended = target.isTerminated();
        // After the end, waitForLogs only bounds the final read; nothing ever sleeps.
        const readSignal = ended ? AbortSignal.any([signal, AbortSignal.timeout(waitForLogsMs)]) : signal;
        try {
          cursor = await readStream(target, sink, cursor, !ended, readSignal, onCursor);
        } catch (error) {
          if (signal.aborted) throw error;
          if (!ended) {
            // The stream dropped while running: reconnect from the cursor after a short pause,
            // cut short by the container's end (an event, not a fixed sleep).
            await target.terminated(AbortSignal.any([signal, AbortSignal.timeout(1000)])).catch(() => undefined);
            continue;
          }
          if (readSignal.aborted) return cursor; // waitForLogs reached
          throw error;
        }
        if (ended) return cursor;
        // The follow stream ended: the container ended (final read next) or the connection
        // dropped (reconnect). Either way, read again from the cursor.
      }
    },
  };
}
