// A purpose-built pods/exec endpoint over HTTPS + WebSocket that really runs the command as a
// local process, speaking the channel protocol like kube-apiserver (v5 with CLOSE, or v4 only),
// with switches to misbehave (close without a status frame, fail the upgrade, hold stdin).
import { spawn } from 'node:child_process';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Issued } from './pki.js';

export interface ExecSession {
  protocol: string;
  command: string[];
  stdinBytes: number;
  closeCode?: number;
  pings: number;
  closed: Promise<number>;
  /** Bytes the server has queued but not yet written to the socket. */
  bufferedAmount(): number;
}

export interface ExecServer {
  url: string;
  tokens: Set<string>;
  sessions: ExecSession[];
  /** Subprotocols served, in server preference (default v5 then v4). */
  protocols: string[];
  /** Next upgrades answered with this status instead. */
  failNext: Array<{ status: number; retryAfter?: string }>;
  /** Close (1000) after the process exits but send no status frame. */
  omitStatus: boolean;
  /** Do not read stdin from the socket until `releaseStdin()`. */
  holdStdin: boolean;
  releaseStdin(): void;
  /** Send the status only after the client pinged at least once. */
  statusAfterPing: boolean;
  /** Bytes of padding in the status message (a broken server's oversized status). */
  statusPadding: number;
  /** Resolves when the next session starts. */
  nextSession(): Promise<ExecSession>;
  stop(): Promise<void>;
}

export async function startExecServer(pki: { server: Issued; ca: Issued }): Promise<ExecServer> {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => pick(offered) });
  const sockets = new Set<WebSocket>();
  const waiters: Array<(s: ExecSession) => void> = [];
  const held: Array<() => void> = [];
  const state: ExecServer = {
    url: '',
    tokens: new Set(),
    sessions: [],
    protocols: ['v5.channel.k8s.io', 'v4.channel.k8s.io'],
    failNext: [],
    omitStatus: false,
    holdStdin: false,
    statusAfterPing: false,
    statusPadding: 0,
    releaseStdin: () => held.splice(0).forEach((f) => f()),
    nextSession: () => new Promise((resolve) => waiters.push(resolve)),
    stop: async () => {
      for (const s of sockets) s.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  // Like the apiserver: the first offered protocol that the server supports.
  function pick(offered: Set<string>): string | false {
    for (const p of offered) if (state.protocols.includes(p)) return p;
    return false;
  }

  const server = https.createServer({ key: pki.server.keyPem, cert: pki.server.certPem });
  server.on('upgrade', (req, socket, head) => {
    const reject = (status: number, message: string, headers: Record<string, string> = {}) => {
      const body = JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        message,
        code: status,
        reason: 'Test',
      });
      const extra = Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.end(
        `HTTP/1.1 ${status} X\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
      );
    };
    const auth = req.headers.authorization ?? '';
    if (!state.tokens.has(auth.replace(/^Bearer /, ''))) return reject(401, 'Unauthorized');
    const fail = state.failNext.shift();
    if (fail) return reject(fail.status, 'injected', fail.retryAfter ? { 'Retry-After': fail.retryAfter } : {});
    const url = new URL(req.url ?? '/', 'https://x');
    const command = url.searchParams.getAll('command');
    const wantStdin = url.searchParams.get('stdin') === 'true';
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      let resolveClosed!: (code: number) => void;
      const session: ExecSession = {
        protocol: ws.protocol,
        command,
        stdinBytes: 0,
        pings: 0,
        closed: new Promise((r) => (resolveClosed = r)),
        bufferedAmount: () => ws.bufferedAmount,
      };
      state.sessions.push(session);
      const child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      child.on('error', () => undefined);
      child.stdin.on('error', () => undefined);
      if (!wantStdin) child.stdin.end();
      let pinged: () => void = () => undefined;
      const pingSeen = new Promise<void>((r) => (pinged = r));
      ws.on('ping', () => {
        session.pings++;
        pinged();
      });
      ws.send(Buffer.of(1));
      const forward = (channel: number) => (chunk: Buffer) => {
        ws.send(Buffer.concat([Buffer.of(channel), chunk]));
      };
      child.stdout.on('data', forward(1));
      child.stderr.on('data', forward(2));
      const onMessage = (data: Buffer) => {
        if (data[0] === 0) {
          session.stdinBytes += data.length - 1;
          if (!child.stdin.write(data.subarray(1))) {
            ws.pause();
            child.stdin.once('drain', () => ws.resume());
          }
        } else if (data[0] === 255 && data.length === 2 && data[1] === 0) child.stdin.end();
      };
      if (state.holdStdin) {
        ws.pause();
        held.push(() => ws.resume());
      }
      ws.on('message', onMessage);
      const spawnFailed = new Promise<Error>((r) => child.once('error', r));
      const exited = new Promise<number>((r) => child.once('close', (code) => r(code ?? 1)));
      void Promise.race([exited, spawnFailed]).then(async (outcome) => {
        if (state.statusAfterPing) await pingSeen;
        if (ws.readyState !== ws.OPEN) return;
        if (!state.omitStatus) {
          const status =
            outcome instanceof Error
              ? {
                  metadata: {},
                  status: 'Failure',
                  message: `exec failed: ${outcome.message}`,
                  reason: 'InternalError',
                  code: 500,
                  details: { causes: [{ message: outcome.message }] },
                }
              : outcome === 0
                ? { metadata: {}, status: 'Success', message: ' '.repeat(state.statusPadding) }
                : {
                    metadata: {},
                    status: 'Failure',
                    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${outcome}`,
                    reason: 'NonZeroExitCode',
                    details: { causes: [{ reason: 'ExitCode', message: String(outcome) }] },
                  };
          ws.send(Buffer.concat([Buffer.of(3), Buffer.from(JSON.stringify(status))]));
        }
        ws.close(1000);
      });
      ws.on('close', (code) => {
        session.closeCode = code;
        sockets.delete(ws);
        if (child.exitCode === null) child.kill('SIGKILL');
        resolveClosed(code);
      });
      waiters.splice(0).forEach((w) => w(session));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
