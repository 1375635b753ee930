// The ceiling of this machine for what exec transfers do: bytes through one TLS WebSocket over
// loopback, in 64 KiB frames, no process, no disk, no cluster. Both ends are in this process, as a
// client and a server (one core each at best).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';

/** Seconds to send `bytes` from client to server (`up`) and from server to client (`down`). */
export async function loopbackWebSocket(bytes: number): Promise<{ up: number; down: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'podrun-loopback-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) });
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const chunk = Buffer.alloc(64 * 1024, 7);
  const pump = (ws: WebSocket, done: () => void) => {
    let left = bytes;
    const next = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        ws.send(chunk.subarray(0, n));
        if (ws.bufferedAmount > 1024 * 1024) return void setImmediate(waitDrain);
      }
      done();
    };
    const waitDrain = () => (ws.bufferedAmount > 512 * 1024 ? setImmediate(waitDrain) : next());
    next();
  };
  const count = (ws: WebSocket, resolve: () => void) => {
    let got = 0;
    ws.on('message', (data: Buffer) => {
      got += data.length;
      if (got >= bytes) resolve();
    });
  };
  try {
    const time = async (direction: 'up' | 'down'): Promise<number> => {
      const connected = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
      const client = new WebSocket(`wss://127.0.0.1:${port}`, { rejectUnauthorized: false, perMessageDeflate: false });
      await new Promise((resolve) => client.once('open', resolve));
      const peer = await connected;
      const started = performance.now();
      await new Promise<void>((resolve) => {
        if (direction === 'up') {
          count(peer, resolve);
          pump(client, () => {});
        } else {
          count(client, resolve);
          pump(peer, () => {});
        }
      });
      const seconds = (performance.now() - started) / 1000;
      client.close();
      return seconds;
    };
    return { up: await time('up'), down: await time('down') };
  } finally {
    wss.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
