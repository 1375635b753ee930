// pods/exec over a channel WebSocket (channel-socket.ts), not client-node's Exec: that resolves
// when the socket opens (not when the command ends), has no keepalive, and on v4 closes the
// socket at stdin EOF.
// Here: v5.channel.k8s.io first (real stdin CLOSE), done only on the channel-3 status frame,
// back-pressure both ways, pings, terminate() on abort.
import { ErrorCodes, ExecError, KubeApiError, parseRetryAfter } from '@podrun/core';
import type { ExecOptions, ExecResult } from '@podrun/core';
import { networkError, statusError } from '../http/errors.js';
import { abortReason, withRetry } from '../http/retry.js';
import { readText, type Transport } from '../http/transport.js';
import { ChannelSocket } from './channel-socket.js';
import { FRAME_DATA, StdinFrames } from './stdin-frames.js';

/** Exec tuning. */
export interface ExecTuning {
  /**
   * Ping interval (default 30 s). Two intervals without any sign of life (pong, frame, completed
   * send) while nothing is queued end the session.
   */
  pingIntervalMs?: number;
  /** Stdin is paused while more than this many bytes wait in the socket (default 1 MiB). */
  stdinHighWaterMark?: number;
}

const V5 = 'v5.channel.k8s.io';
const V4 = 'v4.channel.k8s.io';
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const CLOSE = 255;
/** Larger status frames fail the exec (a real one is a few hundred bytes). */
const MAX_STATUS_BYTES = 64 * 1024;

interface ExecStatus {
  status?: string;
  message?: string;
  reason?: string;
  details?: { causes?: Array<{ reason?: string; type?: string; message?: string }> };
}

/** Exit code from a channel-3 Status, or an ExecError for a failure that is not an exit code. */
export function exitCodeOf(status: ExecStatus, what: string): number {
  if (status.status === 'Success') return 0;
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => (c.reason ?? c.type) === 'ExitCode');
    const code = Number.parseInt(cause?.message ?? '', 10);
    if (Number.isInteger(code)) return code;
  }
  throw new ExecError(
    `${what} failed: ${status.message ?? status.reason ?? 'unknown error'}; check the command and the container`,
    {
      component: 'kube',
      details: { reason: status.reason },
    },
  );
}

/** Parameters of one exec. */
export interface ExecTarget {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
}

/** Runs one exec session; see `KubePort.exec`. */
export async function runExec(
  t: Transport,
  target: ExecTarget,
  options: ExecOptions,
  tuning: ExecTuning,
  signal?: AbortSignal,
): Promise<ExecResult> {
  const what = `exec ${JSON.stringify(target.command[0] ?? '')} in ${target.namespace}/${target.pod} container ${target.container}`;
  const silent = !options.stdin && !options.stdout && !options.stderr;
  const url = t.url(
    `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(target.pod)}/exec`,
    {
      command: target.command,
      container: target.container,
      stdin: !!options.stdin,
      // The API server refuses an exec without any stream; output nobody asked for is dropped.
      stdout: !!options.stdout || silent,
      stderr: (!!options.stderr || silent) && !options.tty,
      tty: !!options.tty,
    },
  );
  url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  let renewed = false;
  // Failures before the upgrade completes are retried: nothing ran yet.
  return await withRetry(
    async () => {
      try {
        return await session(t, url, what, options, tuning, signal);
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 401 && !renewed && t.kc.refreshCredentials()) {
          renewed = true;
          return await session(t, url, what, options, tuning, signal);
        }
        throw error;
      }
    },
    { policy: t.policy, kind: 'idempotent', signal, onRetry: t.onRetry(what) },
  );
}

async function session(
  t: Transport,
  url: URL,
  what: string,
  options: ExecOptions,
  tuning: ExecTuning,
  signal?: AbortSignal,
): Promise<ExecResult> {
  if (signal?.aborted) throw abortReason(signal);
  const socketOptions = await t.webSocketOptions();
  return await new Promise<ExecResult>((resolve, reject) => {
    const { stdin, stdout, stderr } = options;
    const highWater = tuning.stdinHighWaterMark ?? 1024 * 1024;
    let opened = false;
    let settled = false;
    let ping: NodeJS.Timeout | undefined;
    let lastError: unknown;
    let alive = true;
    /** Output streams that are full, each with the 'drain' listener that will resume the socket. */
    const blocked = new Map<NodeJS.WritableStream, () => void>();
    const status: Buffer[] = [];
    let statusBytes = 0;

    const cleanup = () => {
      clearInterval(ping);
      signal?.removeEventListener('abort', onAbort);
      if (stdin) {
        stdin.off('data', onStdinData);
        stdin.off('end', onStdinEnd);
        stdin.off('error', onStdinError);
      }
      stdout?.off('error', onOutputError);
      stderr?.off('error', onOutputError);
      for (const [stream, onDrain] of blocked) stream.off('drain', onDrain);
      blocked.clear();
    };
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      cleanup();
      fn();
    };
    const fail = (error: unknown) => {
      settle(() => reject(error));
      ws.terminate();
    };
    const onAbort = () => fail(abortReason(signal!));

    // Built and masked in reused buffers, written to the socket directly (see stdin-frames.ts).
    let frames: StdinFrames | undefined;
    const onStdinData = (chunk: Buffer | string) => {
      if (!ws.isOpen) return;
      frames!.send(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, afterSend);
      if (ws.bufferedAmount > highWater) stdin!.pause();
    };
    const afterSend = (error?: Error | null) => {
      if (!error) alive = true;
      if (!error && stdin?.isPaused() && !settled && ws.bufferedAmount <= highWater / 2) stdin.resume();
    };
    // v5 half-closes stdin; v4 has no way to, so the socket stays open for the status frame.
    const onStdinEnd = () => {
      if (ws.protocol === V5 && ws.isOpen) ws.send(Buffer.of(CLOSE, STDIN));
    };
    const onStdinError = (error: Error) =>
      fail(
        new ExecError(`${what} failed: reading its stdin failed (${error.message})`, {
          component: 'kube',
          cause: error,
        }),
      );

    // A Writable that fails (e.g. refuses more output than it expected) ends the exec; without a
    // listener its 'error' event would end the process.
    const onOutputError = (error: Error) =>
      fail(
        new ExecError(`${what} failed: writing its output failed (${error.message})`, {
          component: 'kube',
          cause: error,
        }),
      );

    const deliver = (stream: NodeJS.WritableStream | undefined, piece: Buffer) => {
      if (!stream || !piece.length) return;
      if (!stream.write(piece) && !blocked.has(stream)) {
        const onDrain = () => {
          blocked.delete(stream);
          if (!blocked.size && !settled) ws.resume();
        };
        blocked.set(stream, onDrain);
        ws.pause();
        stream.once('drain', onDrain);
      }
    };

    const onStatus = (payload: Buffer) => {
      let parsed: ExecStatus;
      try {
        parsed = JSON.parse(payload.toString('utf8')) as ExecStatus;
      } catch {
        return fail(new ExecError(`${what} failed: the status frame is not JSON`, { component: 'kube' }));
      }
      try {
        const exitCode = exitCodeOf(parsed, what);
        settle(() => resolve({ exitCode }));
      } catch (error) {
        settle(() => reject(error));
      }
      ws.close(1000);
    };

    const ws = new ChannelSocket(
      url,
      [V5, V4],
      { ...socketOptions, handshakeTimeoutMs: 30_000 },
      {
        open: (socket, protocol) => {
          opened = true;
          socket.setKeepAlive(true, 30_000);
          t.decided(
            'exec protocol',
            protocol === V5
              ? `${V5}: the server speaks it (Kubernetes 1.30+), so stdin can be closed`
              : `${protocol}: the server does not offer ${V5} (before Kubernetes 1.30, or a proxy), so stdin is never closed and transfers announce their length`,
          );
          startPings();
          if (stdin) {
            // As many buffers as can be in flight below the high-water mark plus one chunk above it.
            frames = new StdinFrames(socket, STDIN, Math.ceil((2 * highWater) / FRAME_DATA) + 2);
            stdin.on('data', onStdinData);
            stdin.once('end', onStdinEnd);
            stdin.once('error', onStdinError);
            if (stdin.readableEnded) onStdinEnd();
            stdin.resume();
          }
        },
        data: (channel, piece, last) => {
          alive = true;
          if (settled) return;
          if (channel === STDOUT) deliver(stdout, piece);
          else if (channel === STDERR) deliver(stderr, piece);
          else if (channel === STATUS) {
            // A Status is a few hundred bytes; a server sending more is broken, not trusted.
            statusBytes += piece.length;
            if (statusBytes > MAX_STATUS_BYTES) {
              return fail(
                new ExecError(`${what} failed: the status frame is larger than ${MAX_STATUS_BYTES} bytes`, {
                  component: 'kube',
                }),
              );
            }
            status.push(piece);
            if (last) onStatus(Buffer.concat(status.splice(0)));
          }
        },
        control: () => (alive = true),
        refused: (response) => {
          void readText(response, 64 * 1024)
            .catch(() => '')
            .then((body) => {
              const error = statusError(response.statusCode ?? 0, body, t.context(what), {
                retryAfterMs: parseRetryAfter(response.headers['retry-after']),
              });
              settle(() => reject(error));
              ws.terminate();
            });
        },
        error: (error) => {
          if (!opened) return settle(() => reject(networkError(error, t.context(what))));
          lastError = error;
        },
        close: (code, reason) => {
          const why =
            lastError instanceof Error ? lastError.message : `close code ${code}${reason ? ` ${reason}` : ''}`;
          settle(() =>
            reject(
              new ExecError(
                `${what} ended without a status frame (${why}), so its outcome is unknown; the connection was cut ` +
                  '(API server restart, proxy or network). Retry the operation if it is idempotent',
                { component: 'kube', code: ErrorCodes.EXEC_NO_STATUS, cause: lastError },
              ),
            ),
          );
        },
      },
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    // Aborted while the credentials were being read: the listener came too late to hear it.
    if (signal?.aborted) onAbort();
    stdout?.on('error', onOutputError);
    stderr?.on('error', onOutputError);

    // Any sign of life counts: a control frame, data, or a completed send. A peer that is merely
    // slow to read (our bytes still queued) or a socket we paused ourselves is not declared dead;
    // TCP keepalive covers those.
    function startPings() {
      let silent = 0;
      ping = setInterval(() => {
        silent = alive || blocked.size || ws.bufferedAmount > 0 ? 0 : silent + 1;
        if (silent >= 2) {
          lastError = new Error('no answer to two keepalive pings');
          ws.terminate();
          return;
        }
        alive = false;
        ws.ping();
      }, tuning.pingIntervalMs ?? 30_000);
      ping.unref();
    }
  });
}
