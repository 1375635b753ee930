// The client side of a Kubernetes channel WebSocket (v4/v5.channel.k8s.io), with the receive path
// `ws` cannot give: each binary message's data is handed on in the pieces the socket delivered,
// never gathered into one buffer. `ws` joins every frame that spans TLS records (all of them: a
// record holds 16 KiB, an exec frame up to 32 KiB on a kubelet, 64 KiB on the emulator) into a
// new allocation, so a 1 GiB download made 1 GiB of garbage besides the records themselves, and
// V8 frees ArrayBuffers only after tens of MiB pile up. RFC 6455 framing for a client: server
// frames are unmasked, ours are masked; no extensions are offered, so RSV bits must be clear.
import { isUtf8 } from 'node:buffer';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;
/** How long a close handshake we started may take before the socket is cut (as `ws`). */
const CLOSE_TIMEOUT_MS = 30_000;
const EMPTY = Buffer.alloc(0);

/** What the channel socket reports. */
export interface ChannelSocketHandlers {
  /** The server switched protocols and chose `protocol`; frames may be sent from now on. */
  open(socket: Socket, protocol: string): void;
  /**
   * A piece of a binary message's data (after its channel byte); `last` on its final piece.
   * Messages holding only a channel byte carry nothing and are not reported.
   */
  data(channel: number, piece: Buffer, last: boolean): void;
  /** Any control frame from the server: a sign of life. */
  control(): void;
  /** The server answered the upgrade with `response` instead of switching protocols. */
  refused(response: IncomingMessage): void;
  error(error: Error): void;
  /** The connection is gone; `code` is the server's close code, or 1006 if it sent none. */
  close(code: number, reason: string): void;
}

/** How to reach the server: request options for `http(s).request`, plus the handshake's limit. */
export interface ChannelSocketOptions extends https.RequestOptions {
  headers: Record<string, string>;
  handshakeTimeoutMs: number;
}

/** One channel WebSocket session; see `ChannelSocketHandlers` for what it reports. */
export class ChannelSocket {
  #state: 'connecting' | 'open' | 'closing' | 'closed' = 'connecting';
  #request: http.ClientRequest;
  #socket: Socket | undefined;
  #protocol = '';
  #reader: FrameReader;
  #closeSent = false;
  #closeReceived: { code: number; reason: string } | undefined;
  #closeTimer: NodeJS.Timeout | undefined;

  constructor(
    url: URL,
    protocols: string[],
    options: ChannelSocketOptions,
    private readonly on: ChannelSocketHandlers,
  ) {
    const key = randomBytes(16).toString('base64');
    const secure = url.protocol === 'wss:' || url.protocol === 'https:';
    const { handshakeTimeoutMs, headers, ...requestOptions } = options;
    this.#reader = new FrameReader({
      data: (channel, piece, last) => on.data(channel, piece, last),
      control: (opcode, payload) => this.#control(opcode, payload),
      error: (error) => this.#fail(error),
    });
    this.#request = (secure ? https : http).request({
      ...requestOptions,
      method: 'GET',
      // URL keeps an IPv6 literal's brackets; a connect() needs the bare address.
      host: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port || (secure ? 443 : 80),
      // Without an agent Node names the port in the Host header unless it is this one.
      defaultPort: secure ? 443 : 80,
      path: url.pathname + url.search,
      timeout: handshakeTimeoutMs,
      headers: {
        ...headers,
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': key,
        'Sec-WebSocket-Protocol': protocols.join(','),
      },
    });
    this.#request.on('timeout', () =>
      this.#request.destroy(
        new Error(`the WebSocket opening handshake got no answer within ${handshakeTimeoutMs / 1000} s`),
      ),
    );
    this.#request.on('error', (error) => {
      if (this.#state === 'connecting') this.#closed(error);
    });
    this.#request.on('response', (response) => {
      this.#state = 'closed';
      on.refused(response);
    });
    this.#request.on('upgrade', (response: IncomingMessage, socket: Socket, head: Buffer) => {
      const accept = createHash('sha1')
        .update(key + GUID)
        .digest('base64');
      const protocol = String(response.headers['sec-websocket-protocol'] ?? '');
      const problem =
        String(response.headers.upgrade).toLowerCase() !== 'websocket'
          ? 'the server switched to something other than WebSocket'
          : response.headers['sec-websocket-accept'] !== accept
            ? 'the server answered the WebSocket handshake with a wrong Sec-WebSocket-Accept'
            : !protocols.includes(protocol)
              ? `the server chose the subprotocol ${JSON.stringify(protocol)}, not one of ${protocols.join(', ')}`
              : response.headers['sec-websocket-extensions']
                ? 'the server named WebSocket extensions, though none were offered'
                : undefined;
      if (problem) {
        socket.destroy();
        return this.#closed(new Error(problem));
      }
      this.#socket = socket;
      this.#protocol = protocol;
      this.#state = 'open';
      socket.setTimeout(0);
      socket.setNoDelay(true);
      socket.on('data', (chunk: Buffer) => this.#reader.push(chunk));
      socket.on('end', () => socket.end());
      socket.on('error', (error) => this.#fail(error));
      socket.on('close', () => this.#closed());
      on.open(socket, protocol);
      if (head.length && !socket.destroyed) this.#reader.push(head);
    });
    this.#request.end();
  }

  /** The subprotocol the server chose ('' before it did). */
  get protocol(): string {
    return this.#protocol;
  }

  /** True while frames can be sent. */
  get isOpen(): boolean {
    return this.#state === 'open';
  }

  /** Bytes written to the socket that have not left it yet. */
  get bufferedAmount(): number {
    return this.#socket?.writableLength ?? 0;
  }

  /** Sends `payload` as one binary message. */
  send(payload: Buffer): void {
    this.#send(OP_BINARY, payload);
  }

  ping(): void {
    this.#send(OP_PING, Buffer.alloc(0));
  }

  /** Stops (and restarts) reading from the server: back-pressure for slow consumers. */
  pause(): void {
    this.#socket?.pause();
  }

  resume(): void {
    this.#socket?.resume();
  }

  /** Starts the close handshake; the socket is cut if the server does not finish it in time. */
  close(code: number): void {
    if (this.#state !== 'open') return;
    this.#state = 'closing';
    this.#sendClose(code);
    // The server's answer must be read even if a full consumer had paused the socket.
    this.#socket!.resume();
  }

  /** Cuts the connection at once, without a close handshake. */
  terminate(): void {
    if (this.#socket) this.#socket.destroy();
    else this.#request.destroy();
  }

  #send(opcode: number, payload: Buffer): void {
    if (this.#state !== 'open' && opcode !== OP_CLOSE) return;
    this.#socket!.write(maskedFrame(opcode, payload));
  }

  #sendClose(code: number): void {
    if (this.#closeSent) return;
    this.#closeSent = true;
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code);
    this.#send(OP_CLOSE, payload);
    // A server that never closes the TCP connection must not keep it (and the process) alive.
    this.#closeTimer = setTimeout(() => this.#socket?.destroy(), CLOSE_TIMEOUT_MS);
    this.#closeTimer.unref();
  }

  #control(opcode: number, payload: Buffer): void {
    this.on.control();
    if (opcode === OP_PING) this.#send(OP_PONG, payload);
    else if (opcode === OP_CLOSE && !this.#closeReceived) {
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      const reason = payload.subarray(2);
      if (payload.length === 1 || (payload.length >= 2 && !validCloseCode(code)) || !isUtf8(reason)) {
        return this.#fail(new Error('the server sent an invalid WebSocket close frame'));
      }
      this.#closeReceived = { code, reason: reason.toString('utf8') };
      // Answer with the same code (RFC 6455 5.5.1), unless ours went out first.
      this.#sendClose(code === 1005 ? 1000 : code);
      this.#state = 'closing';
      this.#socket!.end();
    }
  }

  /** A protocol or socket error: reported once, then the connection is cut. */
  #fail(error: Error): void {
    if (this.#state === 'closed') return;
    this.on.error(error);
    this.#socket?.destroy();
  }

  /** The end: before the upgrade only `error` is reported (there was no connection to close). */
  #closed(beforeUpgrade?: Error): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#closeTimer);
    if (beforeUpgrade) return this.on.error(beforeUpgrade);
    this.on.close(this.#closeReceived?.code ?? 1006, this.#closeReceived?.reason ?? '');
  }
}

/** A code a close frame may carry (RFC 6455 7.4): 1005, 1006 and 1015 are never sent. */
function validCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999)
  );
}

/** A whole client frame: masked with a fresh key (RFC 6455 5.3). Only for small frames. */
function maskedFrame(opcode: number, payload: Buffer): Buffer {
  const lengthBytes = payload.length > 0xffff ? 8 : payload.length > 125 ? 2 : 0;
  const at = 2 + lengthBytes + 4;
  const frame = Buffer.allocUnsafe(at + payload.length);
  frame[0] = 0x80 | opcode;
  if (lengthBytes === 8) {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(payload.length), 2);
  } else if (lengthBytes === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(payload.length, 2);
  } else frame[1] = 0x80 | payload.length;
  const key = frame.subarray(at - 4, at);
  randomFillSync(key);
  for (let i = 0; i < payload.length; i++) frame[at + i] = payload[i]! ^ key[i & 3]!;
  return frame;
}

interface FrameReaderHandlers {
  data(channel: number, piece: Buffer, last: boolean): void;
  control(opcode: number, payload: Buffer): void;
  error(error: Error): void;
}

/**
 * Parses server frames from socket chunks. Data frames' payloads are passed on as subarrays of the
 * chunks; only frame headers (at most 10 bytes) and control payloads (at most 125) are copied.
 */
export class FrameReader {
  /** A frame header that a chunk boundary split. */
  #header = Buffer.alloc(10);
  #headerHave = 0;
  /** Payload bytes of the current frame still to come (-1: reading a header). */
  #remaining = -1;
  #opcode = 0;
  #fin = false;
  #control: Buffer[] = [];
  /** The message in progress: its opcode (binary or text), channel, and data bytes so far. */
  #message: { opcode: number; channel: number; bytes: number } | undefined;
  #stopped = false;

  constructor(private readonly on: FrameReaderHandlers) {}

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.#stopped) {
      if (this.#remaining < 0) {
        at = this.#readHeader(chunk, at);
        if (this.#remaining === 0) this.#payload(EMPTY);
      } else {
        const end = Math.min(chunk.length, at + this.#remaining);
        this.#remaining -= end - at;
        this.#payload(chunk.subarray(at, end));
        at = end;
      }
    }
  }

  /** Reads as much of a frame header as `chunk` holds from `at`; returns where it stopped. */
  #readHeader(chunk: Buffer, at: number): number {
    const header = this.#header;
    while (this.#headerHave < 2 && at < chunk.length) header[this.#headerHave++] = chunk[at++]!;
    if (this.#headerHave < 2) return at;
    const len7 = header[1]! & 0x7f;
    const need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0);
    while (this.#headerHave < need && at < chunk.length) header[this.#headerHave++] = chunk[at++]!;
    if (this.#headerHave < need) return at;
    this.#headerHave = 0;
    const length = len7 === 126 ? header.readUInt16BE(2) : len7 === 127 ? Number(header.readBigUInt64BE(2)) : len7;
    this.#fin = (header[0]! & 0x80) !== 0;
    this.#opcode = header[0]! & 0x0f;
    const problem = this.#check(header, length);
    if (problem) {
      this.#stopped = true;
      this.on.error(new Error(`the server sent an invalid WebSocket frame: ${problem}`));
      return chunk.length;
    }
    if (this.#opcode === OP_BINARY || this.#opcode === OP_TEXT) {
      this.#message = { opcode: this.#opcode, channel: -1, bytes: 0 };
    }
    this.#remaining = length;
    return at;
  }

  #check(header: Buffer, length: number): string | undefined {
    const opcode = this.#opcode;
    if (header[0]! & 0x70) return 'reserved bits set (no extension was negotiated)';
    if (header[1]! & 0x80) return 'masked (a server must not mask)';
    if (!Number.isSafeInteger(length)) return 'payload length too large';
    if (opcode >= OP_CLOSE) {
      if (opcode > OP_PONG) return `unknown opcode ${opcode}`;
      if (!this.#fin || (header[1]! & 0x7f) > 125) return 'a control frame fragmented or longer than 125 bytes';
      return undefined;
    }
    if (opcode === OP_CONTINUATION) return this.#message ? undefined : 'a continuation outside a message';
    if (opcode !== OP_BINARY && opcode !== OP_TEXT) return `unknown opcode ${opcode}`;
    return this.#message ? 'a new message inside a fragmented one' : undefined;
  }

  #payload(piece: Buffer): void {
    const frameDone = this.#remaining === 0;
    if (frameDone) this.#remaining = -1;
    if (this.#opcode >= OP_CLOSE) {
      if (piece.length) this.#control.push(Buffer.from(piece));
      if (!frameDone) return;
      // Nothing may follow a close frame (RFC 6455 5.5.1): the rest is not read.
      if (this.#opcode === OP_CLOSE) this.#stopped = true;
      this.on.control(this.#opcode, Buffer.concat(this.#control.splice(0)));
      return;
    }
    const message = this.#message!;
    const last = frameDone && this.#fin;
    if (last) this.#message = undefined;
    if (message.opcode !== OP_BINARY) return;
    let data = piece;
    if (message.channel < 0 && data.length) {
      message.channel = data[0]!;
      data = data.subarray(1);
    }
    message.bytes += data.length;
    if (data.length || (last && message.bytes > 0)) this.on.data(message.channel, data, last);
  }
}
