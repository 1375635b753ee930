// The exec stdin frame writer against a real `ws` server, which rejects unmasked or malformed
// client frames: every byte arrives in order under the stdin channel, and the buffers are reused,
// so sending 64 MiB allocates no more of them than one chunk's frames.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { FRAME_DATA, StdinFrames } from '../src/port/stdin-frames.js';

let server: WebSocketServer;
let url: string;

beforeAll(async () => {
  server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

/** Connects, returns the frame writer on its socket and what the server receives. */
async function connect(keep: number, native = true) {
  const received = { hash: createHash('sha256'), bytes: 0, badChannel: 0, closeCode: 0 };
  server.once('connection', (peer) => {
    peer.on('message', (data: Buffer) => {
      if (data[0] !== 0) received.badChannel++;
      received.hash.update(data.subarray(1));
      received.bytes += data.length - 1;
    });
    peer.on('close', (code) => (received.closeCode = code));
  });
  const ws = new WebSocket(url);
  let frames!: StdinFrames;
  ws.on('upgrade', (res: IncomingMessage) => (frames = new StdinFrames(res.socket, 0, keep, native)));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return { ws, frames, received };
}

/** Sends one chunk and waits until all its frames left the socket. */
function sendAll(frames: StdinFrames, data: Buffer): Promise<void> {
  let left = Math.max(1, Math.ceil(data.length / FRAME_DATA));
  return new Promise((resolve, reject) =>
    frames.send(data, (error) => (error ? reject(error) : --left === 0 && resolve())),
  );
}

describe('exec stdin frames', () => {
  it.each([
    ['bufferutil', true],
    ['JavaScript', false],
  ])('carries every byte, in order, in frames of every length class, masked by %s', async (_, native) => {
    const { ws, frames, received } = await connect(8, native);
    const sent = createHash('sha256');
    let total = 0;
    // Payload (channel byte + data) up to 125 bytes: 7-bit length; to 65535: 16-bit; beyond: 64-bit;
    // beyond FRAME_DATA: split in frames.
    const sizes = [1, 124, 125, 126, 4097, 65534, 65535, FRAME_DATA, FRAME_DATA + 1, 3 * FRAME_DATA + 7, 1_000_003];
    for (const size of sizes) {
      const data = Buffer.alloc(size);
      for (let i = 0; i < size; i++) data[i] = (i * 31 + size) & 0xff;
      sent.update(data);
      total += size;
      await sendAll(frames, data);
    }
    ws.close(1000);
    await new Promise((resolve) => ws.once('close', resolve));
    expect(received.closeCode).toBe(1000);
    expect(received.badChannel).toBe(0);
    expect(received.bytes).toBe(total);
    expect(received.hash.digest('hex')).toBe(sent.digest('hex'));
  });

  it('reuses its buffers: 64 MiB in 1 MiB chunks allocate only one chunk’s frames', async () => {
    const { ws, frames, received } = await connect(32);
    const chunk = Buffer.alloc(1024 * 1024, 'podrun ');
    for (let i = 0; i < 64; i++) await sendAll(frames, chunk);
    ws.close(1000);
    await new Promise((resolve) => ws.once('close', resolve));
    expect(received.bytes).toBe(64 * chunk.length);
    expect(frames.allocated).toBe(Math.ceil(chunk.length / FRAME_DATA));
  });
});
