// pods/exec over WebSocket against a purpose-built endpoint that really runs the command:
// v5 stdin CLOSE, v4 fallback, status-frame-only completion, no-status error, back-pressure both
// ways, keepalive pings, terminate on abort, 401 renewal and retried upgrade failures.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ErrorCodes, ExecError, isPodrunError } from '@podrun/core';
import { createKubeConfig, createKubePort, type PodrunKubePort } from '@podrun/kube';
import { startExecServer, type ExecServer } from './support/exec-server.js';
import { createCa, issue } from './support/pki.js';

let server: ExecServer;
let ca: ReturnType<typeof createCa>;
let port: PodrunKubePort;
let pinging: PodrunKubePort;
let providerCalls = 0;

beforeAll(async () => {
  ca = createCa('exec-ca');
  server = await startExecServer({ server: issue(ca, { cn: 'api', ips: ['127.0.0.1'] }), ca });
  server.tokens.add('tok-exec');
  const kubeConfig = createKubeConfig(
    {
      masterUrl: server.url,
      caCertData: ca.certPem,
      // The first token is stale: the first upgrade gets 401 and must be renewed once.
      oauthTokenProvider: () => (providerCalls++ === 0 ? 'tok-stale' : 'tok-exec'),
    },
    {},
  );
  port = createKubePort({ kubeConfig, retry: { baseDelayMs: 5, maxDelayMs: 20 } });
  pinging = createKubePort({ kubeConfig, exec: { pingIntervalMs: 40 } });
});
afterAll(async () => {
  await port?.close();
  await pinging?.close();
  await server?.stop();
});

function collector() {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

const exec = (command: string[], options: Parameters<PodrunKubePort['exec']>[4] = {}, signal?: AbortSignal) =>
  port.exec('default', 'p', 'main', command, options, signal);

describe('exec', () => {
  it('offers v5, closes stdin with CLOSE, and resolves with the exit code from the status frame', async () => {
    const out = collector();
    const result = await exec(['sh', '-c', 'cat; echo done >&2; exit 3'], {
      stdin: Readable.from([Buffer.from('hello '), Buffer.from('world')]),
      stdout: out.stream,
      stderr: collector().stream,
    });
    expect(result.exitCode).toBe(3);
    expect(out.text()).toBe('hello world');
    expect(server.sessions.at(-1)!.protocol).toBe('v5.channel.k8s.io');
    expect(providerCalls).toBe(2);
  });

  it('resolves 0 on Success and keeps stderr apart', async () => {
    const out = collector();
    const err = collector();
    expect(
      (await exec(['sh', '-c', 'echo out; echo err >&2'], { stdout: out.stream, stderr: err.stream })).exitCode,
    ).toBe(0);
    expect(out.text()).toBe('out\n');
    expect(err.text()).toBe('err\n');
  });

  it('falls back to v4 (no half-close: the socket stays open for the status frame)', async () => {
    server.protocols = ['v4.channel.k8s.io'];
    try {
      const out = collector();
      const result = await exec(['sh', '-c', 'head -c 5; exit 4'], {
        stdin: Readable.from([Buffer.from('12345')]),
        stdout: out.stream,
      });
      expect(result.exitCode).toBe(4);
      expect(out.text()).toBe('12345');
      expect(server.sessions.at(-1)!.protocol).toBe('v4.channel.k8s.io');
    } finally {
      server.protocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
    }
  });

  it('rejects with PODRUN_EXEC_NO_STATUS when the socket closes without a status frame', async () => {
    server.omitStatus = true;
    try {
      const error = await exec(['true']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ExecError);
      expect(isPodrunError(error, ErrorCodes.EXEC_NO_STATUS)).toBe(true);
    } finally {
      server.omitStatus = false;
    }
  });

  it('rejects with PODRUN_EXEC_FAILED when the status is a failure without an exit code', async () => {
    const error = await exec(['/nonexistent/podrun-binary']).catch((e: unknown) => e);
    expect(isPodrunError(error, ErrorCodes.EXEC_FAILED)).toBe(true);
  });

  it('retries an upgrade answered 503/429 (nothing ran yet)', async () => {
    server.failNext.push({ status: 503 }, { status: 429, retryAfter: '0' });
    const before = server.sessions.length;
    expect((await exec(['true'])).exitCode).toBe(0);
    expect(server.sessions.length).toBe(before + 1);
  });

  it('pauses the socket while the stdout Writable is full', async () => {
    const total = 32 * 1024 * 1024;
    let received = 0;
    let held = true;
    const pending: Array<() => void> = [];
    // A consumer that accepts nothing until released: everything after its first chunk waits.
    const stuck = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _enc, cb) {
        received += chunk.length;
        if (held) pending.push(cb);
        else cb();
      },
    });
    const started = server.nextSession();
    const done = exec(['head', '-c', String(total), '/dev/zero'], { stdout: stuck });
    const session = await started;
    // Either the bytes back up on the server (we stopped reading) or they pile up in the Writable.
    await vi.waitFor(
      () => expect(Math.max(session.bufferedAmount(), stuck.writableLength)).toBeGreaterThan(8 * 1024 * 1024),
      {
        timeout: 30_000,
        interval: 20,
      },
    );
    expect(stuck.writableLength).toBeLessThan(2 * 1024 * 1024);
    held = false;
    pending.splice(0).forEach((cb) => cb());
    expect((await done).exitCode).toBe(0);
    await new Promise<void>((resolve) => (stuck.writableLength ? stuck.once('drain', resolve) : resolve()));
    expect(received).toBe(total);
  });

  it('pauses stdin while the socket is backed up, and delivers every byte', async () => {
    const total = 48 * 1024 * 1024;
    const chunk = Buffer.alloc(256 * 1024, 7);
    let produced = 0;
    const source = new Readable({
      read() {
        if (produced >= total) return void this.push(null);
        produced += chunk.length;
        this.push(chunk);
      },
    });
    server.holdStdin = true;
    const out = collector();
    const paused = new Promise<number>((resolve) => {
      source.once('pause', () => resolve(produced));
      source.once('end', () => resolve(produced));
    });
    const done = exec(['wc', '-c'], { stdin: source, stdout: out.stream });
    try {
      const producedWhenPaused = await paused;
      expect(producedWhenPaused).toBeLessThan(total);
    } finally {
      server.holdStdin = false;
      server.releaseStdin();
    }
    expect((await done).exitCode).toBe(0);
    expect(out.text().trim()).toBe(String(total));
  });

  it('rejects, and ends the session, when the stdout Writable fails', async () => {
    const failing = new Writable({ write: (_chunk, _enc, cb) => cb(new Error('more output than expected')) });
    const error = await exec(['sh', '-c', 'echo a; sleep 30'], { stdout: failing }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecError);
    expect((error as Error).message).toMatch(/writing its output failed \(more output than expected\)/);
    expect(await server.sessions.at(-1)!.closed).toBe(1006);
  });

  it('pings to keep the session alive', async () => {
    server.statusAfterPing = true;
    try {
      expect((await pinging.exec('default', 'p', 'main', ['true'], {})).exitCode).toBe(0);
      expect(server.sessions.at(-1)!.pings).toBeGreaterThan(0);
    } finally {
      server.statusAfterPing = false;
    }
  });

  it('ends a session whose peer stops answering pings while nothing is queued', async () => {
    server.holdStdin = true; // the server stops reading its socket: no pongs
    try {
      const error = await pinging.exec('default', 'p', 'main', ['sleep', '30'], {}).catch((e: unknown) => e);
      expect(isPodrunError(error, ErrorCodes.EXEC_NO_STATUS)).toBe(true);
    } finally {
      server.holdStdin = false;
      server.releaseStdin();
    }
  });

  it('fails an exec whose status frame is larger than any real one, without holding it', async () => {
    server.statusPadding = 200 * 1024;
    try {
      const error = await exec(['true']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ExecError);
      expect((error as Error).message).toMatch(/status frame is larger than 65536 bytes/);
    } finally {
      server.statusPadding = 0;
    }
  });

  it('honours an abort that came while the credentials were being read', async () => {
    let release!: () => void;
    let asked!: () => void;
    const slowToken = new Promise<void>((resolve) => (release = resolve));
    const tokenAsked = new Promise<void>((resolve) => (asked = resolve));
    const kubeConfig = createKubeConfig(
      {
        masterUrl: server.url,
        caCertData: ca.certPem,
        oauthTokenProvider: async () => {
          asked();
          await slowToken;
          return 'tok-exec';
        },
      },
      {},
    );
    const slow = createKubePort({ kubeConfig });
    try {
      const controller = new AbortController();
      const sessions = server.sessions.length;
      const running = slow.exec('default', 'p', 'main', ['true'], {}, controller.signal);
      await tokenAsked;
      const reason = new Error('stop');
      controller.abort(reason);
      release();
      await expect(running).rejects.toBe(reason);
      expect(server.sessions.length).toBe(sessions);
    } finally {
      await slow.close();
    }
  });

  it("goes through the kubeconfig's proxy-url (HTTP CONNECT), with stdin and stdout", async () => {
    const tunnels: string[] = [];
    const proxy = http.createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req: http.IncomingMessage, client: Socket, head: Buffer) => {
      tunnels.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client).pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const dir = mkdtempSync(join(tmpdir(), 'podrun-exec-proxy-'));
    const file = join(dir, 'kubeconfig');
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'c',
            cluster: {
              server: server.url,
              'certificate-authority-data': Buffer.from(ca.certPem).toString('base64'),
              'proxy-url': `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
            },
          },
        ],
        users: [{ name: 'u', user: { token: 'tok-exec' } }],
        contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'ctx',
      }),
    );
    const proxied = createKubePort({ kubeConfig: createKubeConfig(undefined, { KUBECONFIG: file }) });
    try {
      const out = collector();
      const result = await proxied.exec('default', 'p', 'main', ['cat'], {
        stdin: Readable.from([Buffer.from('through the proxy')]),
        stdout: out.stream,
      });
      expect(result.exitCode).toBe(0);
      expect(out.text()).toBe('through the proxy');
      expect(tunnels).toEqual([new URL(server.url).host]);
    } finally {
      await proxied.close();
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('terminates the socket on abort (no close handshake) so the remote process does not linger', async () => {
    const controller = new AbortController();
    const started = server.nextSession();
    const running = exec(['sleep', '30'], {}, controller.signal);
    const session = await started;
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(running).rejects.toBe(reason);
    // 1006: the TCP connection went away without a close frame.
    expect(await session.closed).toBe(1006);
  });
});
