// Exec stdin as masked binary WebSocket frames built in buffers this module owns and reuses.
// `ws` copies every Buffer it is given into a new header+payload allocation to mask it (it treats
// the caller's data as read-only); on a 1 GiB upload that is 1 GiB of garbage, which V8 frees only
// after tens of MiB piled up. Here each frame is built, masked in place and written to the socket
// in one piece, and its buffer is taken again only once the socket's write callback says the
// bytes have left it. Frames are whole socket writes, as `ws` writes its own (pings, close), so
// the two never interleave inside a frame.
import { randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';

/** Largest frame payload: the channel byte and up to 64 KiB - 2 data bytes (a 16-bit length). */
const MAX_PAYLOAD = 0xffff;
/** The payload starts 4-aligned after the longest header used here (2 + 2 + 4-byte mask). */
const PAYLOAD_AT = 8;
/** Header room and the longest payload, rounded up to whole 32-bit words. */
const BUFFER_SIZE = PAYLOAD_AT + MAX_PAYLOAD + 1;

/** Where frames go: the upgraded socket of the exec WebSocket. */
export interface FrameSocket {
  write(chunk: Buffer, callback: (error?: Error | null) => void): boolean;
}

/** Data bytes per frame. */
export const FRAME_DATA = MAX_PAYLOAD - 1;

/** Writes `channel` + data as client frames, reusing at most `keep` idle buffers. */
export class StdinFrames {
  #idle: Frame[] = [];
  #random = Buffer.allocUnsafe(4096);
  #randomAt = this.#random.length;
  readonly #mask: MaskPayload;
  /** Buffers allocated so far (for tests: stays flat however much is sent). */
  allocated = 0;

  /** `native` false masks in JavaScript even where `bufferutil` is installed (for tests). */
  constructor(
    private readonly socket: FrameSocket,
    private readonly channel: number,
    private readonly keep: number,
    native = true,
  ) {
    this.#mask = (native && nativeMask()) || xorMask;
  }

  /** Sends `data` in frames of at most 64 KiB; `onSent` runs once per frame written out. */
  send(data: Buffer, onSent: (error?: Error | null) => void): void {
    for (let at = 0; at < data.length; at += FRAME_DATA) {
      this.#frame(data.subarray(at, at + FRAME_DATA), onSent);
    }
  }

  #frame(data: Buffer, onSent: (error?: Error | null) => void): void {
    const frame = this.#idle.pop() ?? this.#allocate();
    const { buffer } = frame;
    const length = data.length + 1;
    const start = length > 125 ? 0 : 2;
    buffer[start] = 0x82; // FIN, binary
    if (start === 0) {
      buffer[1] = 0x80 | 126;
      buffer.writeUInt16BE(length, 2);
    } else {
      buffer[3] = 0x80 | length;
    }
    this.#key(buffer);
    buffer[PAYLOAD_AT] = this.channel;
    data.copy(buffer, PAYLOAD_AT + 1);
    this.#mask(frame, length);
    this.socket.write(buffer.subarray(start, PAYLOAD_AT + length), (error) => {
      if (this.#idle.length < this.keep) this.#idle.push(frame);
      onSent(error);
    });
  }

  #allocate(): Frame {
    this.allocated++;
    // allocUnsafeSlow gives the buffer its own ArrayBuffer from offset 0: the words are aligned.
    const buffer = Buffer.allocUnsafeSlow(BUFFER_SIZE);
    return {
      buffer,
      words: new Int32Array(buffer.buffer, 0, BUFFER_SIZE >> 2),
      payload: buffer.subarray(PAYLOAD_AT),
      key: buffer.subarray(4, 8),
    };
  }

  /** A fresh unpredictable masking key (RFC 6455 5.3) at bytes 4..7. */
  #key(buffer: Buffer): void {
    if (this.#randomAt === this.#random.length) {
      randomFillSync(this.#random);
      this.#randomAt = 0;
    }
    this.#random.copy(buffer, 4, this.#randomAt, (this.#randomAt += 4));
  }
}

/** A frame buffer, the same bytes as 32-bit words, and views of its payload and masking key. */
interface Frame {
  buffer: Buffer;
  words: Int32Array;
  payload: Buffer;
  key: Buffer;
}

type MaskPayload = (frame: Frame, length: number) => void;

let native: MaskPayload | null | undefined;

/** `bufferutil`'s mask in C (an optional dependency, as for `ws`), in place; null without it. */
function nativeMask(): MaskPayload | null {
  if (native === undefined) {
    try {
      const { mask } = createRequire(import.meta.url)('bufferutil') as {
        mask: (source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number) => void;
      };
      native = ({ payload, key }, length) => mask(payload, key, payload, 0, length);
    } catch {
      native = null;
    }
  }
  return native;
}

/** Masks the payload in place with the key at bytes 4..7, a 32-bit word at a time. */
function xorMask({ buffer, words }: Frame, length: number): void {
  const key = words[1]!;
  const whole = length >> 2;
  for (let i = PAYLOAD_AT >> 2, end = i + whole; i < end; i++) words[i]! ^= key;
  for (let i = whole << 2; i < length; i++) buffer[PAYLOAD_AT + i]! ^= buffer[4 + (i & 3)]!;
}
