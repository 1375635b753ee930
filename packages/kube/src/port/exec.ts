// pods/exec over WebSocket, written on `ws` because client-node's Exec resolves when the socket
// opens (not when the command ends), has no keepalive, and on v4 closes the socket at stdin EOF.
// Here: v5.channel.k8s.io first (real stdin CLOSE), done only on the channel-3 status frame,
// back-pressure both ways, pings, terminate() on abort.
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { ErrorCodes, ExecError, KubeApiError, parseRetryAfter } from '@podrun/core';
import type { ExecOptions, ExecResult } from '@podrun/core';
import { networkError, statusError } from '../http/errors.js';
import { abortReason, withRetry } from '../http/retry.js';
import { readText, type Transport } from '../http/transport.js';
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
  const wsOptions = await t.webSocketOptions();
  return await new Promise<ExecResult>((resolve, reject) => {
    const ws = new WebSocket(url, [V5, V4], { ...wsOptions, perMessageDeflate: false, handshakeTimeout: 30_000 });
    const { stdin, stdout, stderr } = options;
    const highWater = tuning.stdinHighWaterMark ?? 1024 * 1024;
    let opened = false;
    let settled = false;
    let ping: NodeJS.Timeout | undefined;
    let lastError: unknown;
    let alive = true;
    const blocked = new Set<NodeJS.WritableStream>();

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
    signal?.addEventListener('abort', onAbort, { once: true });

    // Built and masked in reused buffers, written to the socket directly (see stdin-frames.ts):
    // `ws` would copy every chunk into a new allocation to mask it.
    let frames: StdinFrames | undefined;
    const onStdinData = (chunk: Buffer | string) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      frames!.send(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, afterSend);
      if (ws.bufferedAmount > highWater) stdin!.pause();
    };
    const afterSend = (error?: Error | null) => {
      if (!error) alive = true;
      if (!error && stdin?.isPaused() && !settled && ws.bufferedAmount <= highWater / 2) stdin.resume();
    };
    // v5 half-closes stdin; v4 has no way to, so the socket stays open for the status frame.
    const onStdinEnd = () => {
      if (ws.protocol === V5 && ws.readyState === WebSocket.OPEN) ws.send(Buffer.of(CLOSE, STDIN));
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
    stdout?.on('error', onOutputError);
    stderr?.on('error', onOutputError);

    const deliver = (stream: NodeJS.WritableStream | undefined, payload: Buffer) => {
      if (!stream) return;
      if (!stream.write(payload) && !blocked.has(stream)) {
        blocked.add(stream);
        ws.pause();
        stream.once('drain', () => {
          blocked.delete(stream);
          if (!blocked.size && !settled) ws.resume();
        });
      }
    };

    ws.on('message', (data: Buffer, isBinary: boolean) => {
      // A lone channel byte carries nothing: the server's first frame is one, naming the first
      // channel it opened (the status channel when neither stdout nor stderr was asked for).
      if (!isBinary || data.length < 2) return;
      const channel = data[0];
      const payload = data.subarray(1);
      if (channel === STDOUT) deliver(stdout, payload);
      else if (channel === STDERR) deliver(stderr, payload);
      else if (channel === STATUS) {
        let status: ExecStatus;
        try {
          status = JSON.parse(payload.toString('utf8')) as ExecStatus;
        } catch {
          return fail(new ExecError(`${what} failed: the status frame is not JSON`, { component: 'kube' }));
        }
        try {
          const exitCode = exitCodeOf(status, what);
          settle(() => resolve({ exitCode }));
        } catch (error) {
          settle(() => reject(error));
        }
        if (ws.readyState === WebSocket.OPEN) ws.close(1000);
      }
    });

    ws.on('upgrade', (res: IncomingMessage) => {
      res.socket.setKeepAlive(true, 30_000);
      // As many buffers as can be in flight below the high-water mark plus one chunk above it.
      if (stdin) frames = new StdinFrames(res.socket, STDIN, Math.ceil((2 * highWater) / FRAME_DATA) + 2);
    });

    ws.on('open', () => {
      opened = true;
      t.decided(
        'exec protocol',
        ws.protocol === V5
          ? `${V5}: the server speaks it (Kubernetes 1.30+), so stdin can be closed`
          : `${ws.protocol || V4}: the server does not offer ${V5} (before Kubernetes 1.30, or a proxy), so stdin is never closed and transfers announce their length`,
      );
      // Any sign of life counts: a pong, a frame, or a completed send. A peer that is merely slow
      // to read (our bytes still queued) or a socket we paused ourselves is not declared dead;
      // TCP keepalive covers those.
      ws.on('pong', () => (alive = true));
      ws.on('message', () => (alive = true));
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
      if (stdin) {
        stdin.on('data', onStdinData);
        stdin.once('end', onStdinEnd);
        stdin.once('error', onStdinError);
        if (stdin.readableEnded) onStdinEnd();
        stdin.resume();
      }
    });

    ws.on('unexpected-response', (req, res: IncomingMessage) => {
      void readText(res, 64 * 1024)
        .catch(() => '')
        .then((body) => {
          const error = statusError(res.statusCode ?? 0, body, t.context(what), {
            retryAfterMs: parseRetryAfter(res.headers['retry-after']),
          });
          settle(() => reject(error));
          req.destroy();
        });
    });

    ws.on('error', (error) => {
      if (!opened) return settle(() => reject(networkError(error, t.context(what))));
      lastError = error;
    });

    ws.on('close', (code, reason) => {
      const why =
        lastError instanceof Error
          ? lastError.message
          : `close code ${code}${reason.length ? ` ${reason.toString()}` : ''}`;
      settle(() =>
        reject(
          new ExecError(
            `${what} ended without a status frame (${why}), so its outcome is unknown; the connection was cut ` +
              '(API server restart, proxy or network). Retry the operation if it is idempotent',
            { component: 'kube', code: ErrorCodes.EXEC_NO_STATUS, cause: lastError },
          ),
        ),
      );
    });
  });
}
