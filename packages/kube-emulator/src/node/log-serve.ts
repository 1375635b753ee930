// Serves one container instance's CRI log file like the kubelet's ReadLogs: tail by lines,
// since filter, timestamps, byte limit, and follow that ends once the container has terminated and
// everything it wrote was sent.
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import type { KubeObject, LogRequest } from '../contracts.js';
import { logTarget } from './check.js';
import { dateNanos, nowNanos, parseNanos } from './clock.js';
import type { LogFile } from './log-store.js';

/** Options of one read, already validated. */
export interface LogReadOptions {
  follow: boolean;
  timestamps: boolean;
  /** Skip entries older than this (epoch nanoseconds). */
  sinceNs?: bigint;
  tailLines?: number;
  limitBytes?: number;
}

const blockSize = 64 * 1024;

/**
 * Streams the log to `out` (which it does not end) until EOF, or with `follow` until the file is
 * closed and drained, the byte limit is reached or `signal` aborts.
 */
export async function streamLog(
  file: LogFile,
  options: LogReadOptions,
  out: Writable,
  signal: AbortSignal,
): Promise<void> {
  let dirty = false;
  let wake: (() => void) | undefined;
  const onChange = (): void => {
    dirty = true;
    wake?.();
  };
  // Listen before the first read: an append that lands during a read must not be missed.
  file.events.on('append', onChange);
  file.events.on('closed', onChange);
  const onAbort = (): void => wake?.();
  signal.addEventListener('abort', onAbort);
  let handle: FileHandle | undefined;
  try {
    handle = await open(file.path, 'r');
    let position = options.tailLines !== undefined ? await tailOffset(handle, options.tailLines) : 0;
    const state = { atLineStart: true, remaining: options.limitBytes ?? Number.POSITIVE_INFINITY };
    let carry = Buffer.alloc(0);
    const buffer = Buffer.alloc(blockSize);
    while (!signal.aborted && state.remaining > 0) {
      dirty = false;
      const closedBeforeRead = file.isClosed();
      const { bytesRead } = await handle.read(buffer, 0, blockSize, position);
      if (bytesRead > 0) {
        position += bytesRead;
        let data =
          carry.length > 0 ? Buffer.concat([carry, buffer.subarray(0, bytesRead)]) : buffer.subarray(0, bytesRead);
        let newline: number;
        while ((newline = data.indexOf(0x0a)) >= 0 && state.remaining > 0) {
          const chunk = formatEntry(data.subarray(0, newline), options, state);
          data = data.subarray(newline + 1);
          if (chunk && !(await write(out, chunk, signal))) return;
        }
        carry = Buffer.from(data);
        continue;
      }
      if (!options.follow || closedBeforeRead) return;
      if (!dirty) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    }
  } finally {
    file.events.off('append', onChange);
    file.events.off('closed', onChange);
    signal.removeEventListener('abort', onAbort);
    await handle?.close();
  }
}

/** Turns one CRI entry into response bytes, honouring since, timestamps and the byte limit. */
function formatEntry(
  entry: Buffer,
  options: LogReadOptions,
  state: { atLineStart: boolean; remaining: number },
): Buffer | undefined {
  const first = entry.indexOf(0x20);
  const second = first < 0 ? -1 : entry.indexOf(0x20, first + 1);
  const third = second < 0 ? -1 : entry.indexOf(0x20, second + 1);
  if (third < 0) return undefined;
  const timestamp = entry.subarray(0, first).toString('latin1');
  if (options.sinceNs !== undefined) {
    const ns = parseNanos(timestamp);
    if (ns !== undefined && ns < options.sinceNs) return undefined;
  }
  const full = entry[second + 1] === 0x46; // 'F'
  const parts: Buffer[] = [];
  if (options.timestamps && state.atLineStart) parts.push(Buffer.from(`${timestamp} `));
  parts.push(entry.subarray(third + 1));
  if (full) parts.push(Buffer.from('\n'));
  state.atLineStart = full;
  let bytes = Buffer.concat(parts);
  if (bytes.length > state.remaining) bytes = bytes.subarray(0, state.remaining);
  state.remaining -= bytes.length;
  return bytes;
}

async function write(out: Writable, chunk: Buffer, signal: AbortSignal): Promise<boolean> {
  if (out.destroyed || signal.aborted) return false;
  if (!out.write(chunk)) {
    // The losing waits are cancelled: left attached, every slow-reader pause of a long log added
    // a listener to the response and the signal (MaxListenersExceededWarning from the eleventh).
    const settled = new AbortController();
    const wait = (emitter: Writable | AbortSignal, name: string) =>
      once(emitter as Writable, name, { signal: settled.signal });
    await Promise.race([wait(out, 'drain'), wait(signal, 'abort'), wait(out, 'close')]).catch(() => undefined);
    settled.abort();
  }
  return !out.destroyed && !signal.aborted;
}

/** Offset of the start of the last `lines` entries, scanning backwards block by block. */
async function tailOffset(handle: FileHandle, lines: number): Promise<number> {
  const { size } = await handle.stat();
  if (lines <= 0) return size;
  const buffer = Buffer.alloc(blockSize);
  let end = size;
  let newlines = 0;
  while (end > 0) {
    const start = Math.max(0, end - blockSize);
    const { bytesRead } = await handle.read(buffer, 0, end - start, start);
    for (let i = bytesRead - 1; i >= 0; i--) {
      // The file ends with a newline, so the (lines+1)-th newline from the end precedes the tail.
      if (buffer[i] === 0x0a && ++newlines === lines + 1) return start + i + 1;
    }
    end = start;
  }
  return 0;
}

/**
 * Answers a pods/log request for `pod` (undefined when it does not exist): a Status for a bad
 * container, an empty body for an instance that never wrote a log, else the stream.
 */
export function serveLogRequest(
  request: LogRequest,
  pod: KubeObject | undefined,
  logFile: (containerID: string) => LogFile | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const target = pod
    ? logTarget(pod, request.container, request.previous)
    : { kind: 'error' as const, message: `pods "${request.pod}" not found` };
  if (target.kind === 'error') {
    const code = pod ? 400 : 404;
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: target.message,
        reason: pod ? 'BadRequest' : 'NotFound',
        code,
      }),
    );
    return;
  }
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  const file = target.kind === 'container' ? logFile(target.containerID) : undefined;
  if (!file) {
    res.end();
    return;
  }
  if (request.follow) {
    res.flushHeaders();
    res.socket?.setNoDelay(true);
  }
  const abort = new AbortController();
  req.on('close', () => abort.abort());
  res.on('close', () => abort.abort());
  const sinceNs =
    request.sinceTime !== undefined
      ? dateNanos(request.sinceTime)
      : request.sinceSeconds !== undefined
        ? nowNanos() - BigInt(request.sinceSeconds) * 1_000_000_000n
        : undefined;
  streamLog(
    file,
    {
      follow: request.follow,
      timestamps: request.timestamps,
      ...(sinceNs !== undefined ? { sinceNs } : {}),
      ...(request.tailLines !== undefined ? { tailLines: request.tailLines } : {}),
      ...(request.limitBytes !== undefined ? { limitBytes: request.limitBytes } : {}),
    },
    res,
    abort.signal,
  ).then(
    () => res.end(),
    () => res.destroy(),
  );
}
