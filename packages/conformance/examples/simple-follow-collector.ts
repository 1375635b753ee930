// Example: a custom log collector in about 90 lines, written against @podrun/core's contract
// and tested by @podrun/conformance (see test/example.test.ts and docs/custom-strategy.md).
// It follows one stream per container, reconnects from its cursor when the stream drops, and
// makes one final read once the container has ended.
import type { LogCollector, LogCursor, LogSink, LogTarget } from '@podrun/core';

/** Sortable form of an RFC3339 timestamp: fraction padded to nine digits. */
const sortKey = (ts: string): string =>
  ts.replace(/(?:\.(\d+))?Z$/, (_m, f: string | undefined) => `.${(f ?? '').padEnd(9, '0')}Z`);

/** Reads one stream to its end, delivering the lines that come after `cursor`. */
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
    // sinceTime is honoured to the second by some servers: ask from the cursor's second and skip.
    {
      container: target.container,
      timestamps: true,
      follow,
      ...(cursor && { sinceTime: cursor.timestamp.replace(/\.\d+Z$/, 'Z') }),
    },
    signal,
  );
  let skip = cursor ? cursor.linesAtTimestamp : 0;
  let pending = Buffer.alloc(0);
  const deliver = async (raw: Buffer) => {
    const text = raw.toString('utf8'); // whole lines only, so a split UTF-8 character is never decoded in halves
    const space = text.indexOf(' ');
    const timestamp = text.slice(0, space);
    const order = cursor ? sortKey(timestamp).localeCompare(sortKey(cursor.timestamp)) : 1;
    if (order < 0 || (order === 0 && skip-- > 0)) return; // already delivered before
    await sink.line({ container: target.container, timestamp, text: text.slice(space + 1) });
    cursor = { timestamp, linesAtTimestamp: order === 0 ? cursor!.linesAtTimestamp + 1 : 1 };
    skip = 0;
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
