// Container output in the CRI log format the kubelet reads (`<RFC3339Nano> stdout|stderr F|P <text>`),
// one file per container instance so that `previous` can serve the instance before a restart.
// Each stream is stamped on its own when a read returns (as conmon does; containerd stamps each
// line as it reads it), so stamps across the two streams may be equal or out of order in the file.
// Readers are told about appends and the final close through an in-process emitter: the writer
// lives in the same process, so there is nothing to poll and no inotify to trust.
import { EventEmitter, once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { LogClockSettings } from '../contracts.js';
import { formatNanos, nowNanos } from './clock.js';

/** containerd splits lines longer than this into partial (`P`) entries. */
const maxLineBytes = 16 * 1024;

/** One container instance's log file as readers see it. */
export interface LogFile {
  readonly path: string;
  /** `append` after bytes reached the file, `closed` once the writer is done for good. */
  readonly events: EventEmitter;
  /** True once every output stream ended and everything was written. */
  isClosed(): boolean;
}

/** Writes one container instance's stdout and stderr. */
export interface LogWriter {
  readonly file: LogFile;
  /** Captures a stream until it ends. */
  attach(stream: Readable, name: 'stdout' | 'stderr'): void;
  /** Waits for every attached stream to end, writes their last partial lines and closes the file. */
  close(): Promise<void>;
}

/** The stamp of a read from `stream` now. */
function stampOf(stream: 'stdout' | 'stderr', clock: LogClockSettings): bigint {
  let ns = nowNanos();
  if (stream === 'stderr') ns -= BigInt(Math.round(clock.stderrLagMs * 1e6));
  const grain = BigInt(Math.round(clock.granularityMs * 1e6));
  return grain > 0n ? ns - (ns % grain) : ns;
}

/** Creates (appends to) the log file at `path`; `clock` is read at each stamp. */
export function createLogWriter(
  path: string,
  clock: LogClockSettings = { granularityMs: 0, stderrLagMs: 0 },
): LogWriter {
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const out = createWriteStream(path, { flags: 'a', mode: 0o600 });
  out.on('error', () => undefined);
  const sources = new Set<Readable>();
  const ended: Promise<void>[] = [];
  let closed = false;
  let closing: Promise<void> | undefined;
  let draining = false;

  const writeEntry = (stamp: string, stream: string, tag: 'F' | 'P', text: Buffer): void => {
    const head = Buffer.from(`${stamp} ${stream} ${tag} `);
    const ok = out.write(Buffer.concat([head, text, Buffer.from('\n')]), () => events.emit('append'));
    if (!ok && !draining) {
      // The disk is slower than the container: stop reading its pipes until the file catches up.
      draining = true;
      for (const source of sources) source.pause();
      out.once('drain', () => {
        draining = false;
        for (const source of sources) source.resume();
      });
    }
  };

  const file: LogFile = { path, events, isClosed: () => closed };
  return {
    file,
    attach(stream, name) {
      sources.add(stream);
      let pending = Buffer.alloc(0);
      stream.on('data', (chunk: Buffer) => {
        const stamp = formatNanos(stampOf(name, clock));
        let data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
        let newline: number;
        while ((newline = data.indexOf(0x0a)) >= 0) {
          writeEntry(stamp, name, 'F', data.subarray(0, newline));
          data = data.subarray(newline + 1);
        }
        while (data.length >= maxLineBytes) {
          writeEntry(stamp, name, 'P', data.subarray(0, maxLineBytes));
          data = data.subarray(maxLineBytes);
        }
        pending = Buffer.from(data);
      });
      ended.push(
        new Promise<void>((resolve) => {
          let done = false;
          const finish = (): void => {
            if (done) return;
            done = true;
            sources.delete(stream);
            // A last line without a newline is still a full line (the reader adds the newline).
            if (pending.length > 0) writeEntry(formatNanos(stampOf(name, clock)), name, 'F', pending);
            pending = Buffer.alloc(0);
            resolve();
          };
          // A pipe handed over by the process launcher can have ended (empty) before this.
          if (stream.readableEnded || stream.destroyed) return finish();
          stream.once('end', finish);
          stream.once('close', finish);
          stream.once('error', finish);
        }),
      );
    },
    close() {
      closing ??= (async () => {
        await Promise.all(ended);
        out.end();
        if (!out.closed) await once(out, 'close').catch(() => undefined);
        closed = true;
        events.emit('closed');
      })();
      return closing;
    },
  };
}
