// The channel WebSocket client against a real TCP server that writes frames by hand: split
// anywhere, fragmented, interleaved with control frames, or broken on purpose.
import { createHash } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChannelSocket, FrameReader } from '../src/port/channel-socket.js';

/** An unmasked server frame. */
function frame(opcode: number, payload: Buffer, fin = true, extra = 0): Buffer {
  const length = payload.length;
  const header = length > 0xffff ? Buffer.alloc(10) : length > 125 ? Buffer.alloc(4) : Buffer.alloc(2);
  header[0] = (fin ? 0x80 : 0) | extra | opcode;
  if (length > 0xffff) {
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  } else if (length > 125) {
    header[1] = 126;
    header.writeUInt16BE(length, 2);
  } else header[1] = length;
  return Buffer.concat([header, payload]);
}

const data = (channel: number, bytes: Buffer | string) =>
  frame(2, Buffer.concat([Buffer.of(channel), Buffer.from(bytes)]));

interface Got {
  pieces: Array<{ channel: number; text: string; last: boolean }>;
  controls: number;
  errors: string[];
}

function reader(): { reader: FrameReader; got: Got } {
  const got: Got = { pieces: [], controls: 0, errors: [] };
  const r = new FrameReader({
    data: (channel, piece, last) => got.pieces.push({ channel, text: piece.toString(), last }),
    control: () => got.controls++,
    error: (error) => got.errors.push(error.message),
  });
  return { reader: r, got };
}

/** Joins the pieces of each message, per channel, as a consumer sees them. */
function messages(got: Got): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  let current = '';
  for (const p of got.pieces) {
    current += p.text;
    if (p.last) {
      out.push([p.channel, current]);
      current = '';
    }
  }
  return out;
}

describe('FrameReader', () => {
  it('reads nothing after a close frame', () => {
    const { reader: r, got } = reader();
    r.push(Buffer.concat([data(1, 'before'), frame(8, Buffer.of(0x03, 0xe8)), data(1, 'after')]));
    r.push(data(1, 'later'));
    expect(got.pieces.map((p) => p.text)).toEqual(['before']);
    expect(got.controls).toBe(1);
    expect(got.errors).toEqual([]);
  });

  const stream = Buffer.concat([
    data(1, Buffer.alloc(0)), // a lone channel byte: carries nothing
    data(1, 'hello'),
    data(2, 'x'.repeat(300)), // 16-bit length
    frame(2, Buffer.concat([Buffer.of(1), Buffer.from('a'.repeat(70_000))])), // 64-bit length
    frame(2, Buffer.of(1), false), // a fragmented message: channel byte alone first
    frame(9, Buffer.from('ping')), // a control frame between its fragments
    frame(0, Buffer.from('frag'), false),
    frame(0, Buffer.from('ment'), true),
    frame(1, Buffer.from('text is not a channel message')),
    frame(2, Buffer.from('\u0003{"status":"Success"}')),
  ]);
  const expected: Array<[number, string]> = [
    [1, 'hello'],
    [2, 'x'.repeat(300)],
    [1, 'a'.repeat(70_000)],
    [1, 'fragment'],
    [3, '{"status":"Success"}'],
  ];

  it('reads the same messages whatever the chunk boundaries, one byte at a time included', () => {
    for (const size of [1, 2, 3, 7, 64, 1000, stream.length]) {
      const { reader: r, got } = reader();
      for (let at = 0; at < stream.length; at += size) r.push(stream.subarray(at, at + size));
      expect(got.errors).toEqual([]);
      expect(messages(got)).toEqual(expected);
      expect(got.controls).toBe(1);
      // Only a message's final piece says so, and no piece other than a final one is empty.
      expect(got.pieces.filter((p) => p.text === '' && !p.last)).toEqual([]);
    }
  });

  it('hands data on as views of the chunks it was given, without copying', () => {
    const got: Buffer[] = [];
    const r = new FrameReader({ data: (_c, piece) => got.push(piece), control: () => {}, error: () => {} });
    const chunk = data(1, 'y'.repeat(40_000));
    r.push(chunk.subarray(0, 20_000));
    r.push(chunk.subarray(20_000));
    expect(got.map((b) => b.buffer)).toEqual([chunk.buffer, chunk.buffer]);
    expect(Buffer.concat(got).toString()).toBe('y'.repeat(40_000));
  });

  it.each([
    ['a masked frame', Buffer.of(0x82, 0x81, 1, 2, 3, 4, 5), /masked/],
    ['reserved bits', Buffer.of(0xc2, 0x01, 1), /reserved bits/],
    ['an unknown opcode', Buffer.of(0x83, 0x01, 1), /unknown opcode 3/],
    ['a continuation with no message', Buffer.of(0x80, 0x01, 1), /continuation outside a message/],
    ['a fragmented control frame', Buffer.of(0x09, 0x00), /control frame/],
    ['a control frame over 125 bytes', frame(9, Buffer.alloc(126)), /control frame/],
    ['a short control frame with a 16-bit length', Buffer.of(0x89, 126, 0, 1, 0x61), /control frame/],
    [
      'a new message inside a fragmented one',
      Buffer.concat([frame(2, Buffer.of(1, 2), false), data(1, 'z')]),
      /inside a fragmented/,
    ],
  ])('refuses %s, once, and reads nothing after it', (_what, bytes, message) => {
    const { reader: r, got } = reader();
    r.push(Buffer.concat([bytes, data(1, 'after')]));
    r.push(data(1, 'later'));
    expect(got.errors).toHaveLength(1);
    expect(got.errors[0]).toMatch(message);
    expect(got.pieces.map((p) => p.text)).not.toContain('after');
    expect(got.pieces.map((p) => p.text)).not.toContain('later');
  });
});

/** Client frames (masked) the server received, unmasked. */
function parseClientFrames(bytes: Buffer): Array<{ opcode: number; payload: Buffer }> {
  const frames: Array<{ opcode: number; payload: Buffer }> = [];
  let at = 0;
  while (at + 2 <= bytes.length) {
    const opcode = bytes[at]! & 0x0f;
    expect(bytes[at + 1]! & 0x80).toBe(0x80); // a client must mask
    let length = bytes[at + 1]! & 0x7f;
    let p = at + 2;
    if (length === 126) {
      length = bytes.readUInt16BE(p);
      p += 2;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(p));
      p += 8;
    }
    const key = bytes.subarray(p, p + 4);
    p += 4;
    if (p + length > bytes.length) break;
    const payload = Buffer.from(bytes.subarray(p, p + length)).map((b, i) => b ^ key[i & 3]!);
    frames.push({ opcode, payload: Buffer.from(payload) });
    at = p + length;
  }
  return frames;
}

/** The Sec-WebSocket-Accept that answers the request's key. */
function acceptFor(request: IncomingMessage): string {
  return createHash('sha1')
    .update(`${request.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
    .digest('base64');
}

interface Server {
  url: string;
  /** The next upgraded connection, and what the client's request said. */
  next(): Promise<{ socket: Socket; request: IncomingMessage; received: () => Buffer }>;
  /** How the next upgrade is answered; default a correct 101 choosing the first offered protocol. */
  answer: (request: IncomingMessage, socket: Socket) => boolean;
  close(): Promise<void>;
}

async function startServer(): Promise<Server> {
  const waiting: Array<(c: Awaited<ReturnType<Server['next']>>) => void> = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((_req, res) => res.writeHead(404).end('{"kind":"Status","code":404}'));
  const state: Server = {
    url: '',
    next: () => new Promise((resolve) => waiting.push(resolve)),
    answer: (request, socket) => {
      const accept = acceptFor(request);
      const protocol = String(request.headers['sec-websocket-protocol']).split(',')[0]!.trim();
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
      );
      return true;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('upgrade', (request: IncomingMessage, socket: Socket) => {
    sockets.add(socket);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    if (state.answer(request, socket)) waiting.shift()?.({ socket, request, received: () => Buffer.concat(chunks) });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/exec`;
  return state;
}

interface Session {
  socket: ChannelSocket;
  events: string[];
  opened: Promise<string>;
  closed: Promise<{ code: number; reason: string }>;
  failed: Promise<Error>;
}

function connect(url: string, protocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io']): Session {
  const events: string[] = [];
  let opened!: (p: string) => void;
  let closed!: (c: { code: number; reason: string }) => void;
  let failed!: (e: Error) => void;
  const session: Session = {
    events,
    opened: new Promise((r) => (opened = r)),
    closed: new Promise((r) => (closed = r)),
    failed: new Promise((r) => (failed = r)),
    socket: new ChannelSocket(
      new URL(url),
      protocols,
      { headers: { 'X-Test': 'yes' }, handshakeTimeoutMs: 5000 },
      {
        open: (_s, protocol) => opened(protocol),
        data: (channel, piece, last) => events.push(`${channel}:${piece.toString()}${last ? '|' : ''}`),
        control: () => events.push('control'),
        refused: (response) => failed(new Error(`refused ${response.statusCode}`)),
        error: (error) => failed(error),
        close: (code, reason) => closed({ code, reason }),
      },
    ),
  };
  return session;
}

describe('ChannelSocket', () => {
  let server: Server;
  afterEach(async () => server?.close());

  /** A new server with one session open on it: the client's side and the server's end. */
  async function openSession() {
    server = await startServer();
    const next = server.next();
    const s = connect(server.url);
    const end = await next;
    await s.opened;
    return { s, ...end };
  }

  it('opens with the protocol the server chose, passing the caller’s headers, and reads frames', async () => {
    const { s, socket, request } = await openSession();
    expect(await s.opened).toBe('v5.channel.k8s.io');
    expect(s.socket.protocol).toBe('v5.channel.k8s.io');
    expect(request.headers['x-test']).toBe('yes');
    expect(request.headers['sec-websocket-protocol']).toBe('v5.channel.k8s.io,v4.channel.k8s.io');
    socket.write(Buffer.concat([data(1, 'out'), data(2, 'err')]));
    await expect.poll(() => s.events).toEqual(['1:out|', '2:err|']);
  });

  it('answers a ping with a masked pong of the same payload, and sends masked frames', async () => {
    const { s, socket, received } = await openSession();
    socket.write(frame(9, Buffer.from('are you there')));
    await expect.poll(() => parseClientFrames(received()).length).toBe(1);
    s.socket.send(Buffer.of(255, 0));
    s.socket.ping();
    await expect.poll(() => parseClientFrames(received()).length).toBe(3);
    expect(parseClientFrames(received()).map((f) => [f.opcode, f.payload.toString('hex')])).toEqual([
      [0xa, Buffer.from('are you there').toString('hex')],
      [0x2, 'ff00'],
      [0x9, ''],
    ]);
  });

  it('echoes the server’s close frame and reports its code and reason', async () => {
    const { s, socket, received } = await openSession();
    const payload = Buffer.concat([Buffer.of(0x03, 0xf0), Buffer.from('going away')]); // 1008
    socket.write(frame(8, payload));
    socket.on('end', () => socket.end());
    expect(await s.closed).toEqual({ code: 1008, reason: 'going away' });
    expect(parseClientFrames(received())).toEqual([{ opcode: 8, payload: Buffer.of(0x03, 0xf0) }]);
  });

  it('cuts the connection when the server never finishes the close handshake', async () => {
    const { s, socket, received } = await openSession();
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      socket.write(frame(8, Buffer.of(0x03, 0xe8)));
      // The client answers and half-closes; this server keeps its side open.
      await expect.poll(() => parseClientFrames(received()).length).toBe(1);
      let closed = false;
      void s.closed.then(() => (closed = true));
      vi.advanceTimersByTime(29_000);
      await new Promise((resolve) => setImmediate(resolve));
      expect(closed).toBe(false);
      vi.advanceTimersByTime(1_000);
      expect(await s.closed).toEqual({ code: 1000, reason: '' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('close() sends a close frame and ends once the server answers', async () => {
    const { s, socket, received } = await openSession();
    s.socket.close(1000);
    await expect.poll(() => parseClientFrames(received()).length).toBe(1);
    expect(parseClientFrames(received())[0]).toEqual({ opcode: 8, payload: Buffer.of(0x03, 0xe8) });
    socket.write(frame(8, Buffer.of(0x03, 0xe8)));
    socket.on('end', () => socket.end());
    expect(await s.closed).toEqual({ code: 1000, reason: '' });
  });

  it.each([
    ['1006, which no endpoint may send', Buffer.of(0x03, 0xee)],
    ['code 0', Buffer.of(0, 0)],
    ['a one-byte payload', Buffer.of(0x03)],
    ['a reason that is not UTF-8', Buffer.of(0x03, 0xe8, 0xff, 0xfe)],
  ])('refuses a close frame with %s, and cuts the connection', async (_what, payload) => {
    const { s, socket, received } = await openSession();
    socket.write(frame(8, payload));
    expect((await s.failed).message).toMatch(/invalid WebSocket close frame/);
    expect((await s.closed).code).toBe(1006);
    expect(parseClientFrames(received())).toEqual([]);
  });

  it('close() reads the server’s answer even while a full consumer has the socket paused', async () => {
    const { s, socket, received } = await openSession();
    s.socket.pause();
    s.socket.close(1000);
    await expect.poll(() => parseClientFrames(received()).length).toBe(1);
    socket.write(frame(8, Buffer.of(0x03, 0xe8)));
    socket.on('end', () => socket.end());
    expect(await s.closed).toEqual({ code: 1000, reason: '' });
  });

  it('reports a broken frame as an error, then cuts the connection (1006)', async () => {
    const { s, socket } = await openSession();
    socket.write(Buffer.of(0x82, 0x81, 1, 2, 3, 4, 5));
    expect((await s.failed).message).toMatch(/invalid WebSocket frame: masked/);
    expect((await s.closed).code).toBe(1006);
  });

  it('reports 1006 when the connection drops without a close frame', async () => {
    const { s, socket } = await openSession();
    socket.destroy();
    expect(await s.closed).toEqual({ code: 1006, reason: '' });
  });

  it('hands a non-101 answer to refused', async () => {
    server = await startServer();
    server.answer = (_request, socket) => {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno');
      return false;
    };
    const s = connect(server.url);
    expect((await s.failed).message).toBe('refused 403');
  });

  it('refuses a 101 with a wrong Sec-WebSocket-Accept, a protocol or extensions it did not offer', async () => {
    server = await startServer();
    server.answer = (_request, socket) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Accept: d3Jvbmc=\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n',
      );
      return false;
    };
    expect((await connect(server.url).failed).message).toMatch(/wrong Sec-WebSocket-Accept/);
    server.answer = (request, socket) => {
      const accept = acceptFor(request);
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: base64.channel.k8s.io\r\n\r\n`,
      );
      return false;
    };
    expect((await connect(server.url).failed).message).toMatch(/chose the subprotocol "base64.channel.k8s.io"/);
    server.answer = (request, socket) => {
      const accept = acceptFor(request);
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n` +
          'Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n',
      );
      return false;
    };
    expect((await connect(server.url).failed).message).toMatch(/extensions, though none were offered/);
  });
});
