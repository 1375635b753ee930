// Exec stdin as masked binary WebSocket frames built in buffers this module owns and reuses.
// `ws` copies every Buffer it is given into a new header+payload allocation to mask it (it treats
// the caller's data as read-only); on a 1 GiB upload that is 1 GiB of garbage, which V8 frees only
// after tens of MiB piled up. Here each frame is built, masked in place and written to the socket
// in one piece, and its buffer is taken again only once the socket's write callback says the
// bytes have left it. Frames are whole socket writes, as `ws` writes its own (pings, close), so
// the two never interleave inside a frame.
import { randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';

/** Data bytes per frame: a read of `fs.createReadStream` (64 KiB) goes out as one frame. */
export const FRAME_DATA = 64 * 1024;
/**
 * The payload starts here, 4-aligned, right after the frame header: 2 bytes, the extended length
 * (none, 2 or 8 bytes), and the 4-byte masking key always at PAYLOAD_AT - 4.
 */
const PAYLOAD_AT = 16;
/** Header room and the longest payload (channel byte + data), rounded up to whole 32-bit words. */
const BUFFER_SIZE = (PAYLOAD_AT + FRAME_DATA + 1 + 3) & ~3;
const KEY_AT = PAYLOAD_AT - 4;

/** Where frames go: the upgraded socket of the exec WebSocket. */
export interface FrameSocket {
  write(chunk: Buffer, callback: (error?: Error | null) => void): boolean;
}

/** Writes `channel` + data as client frames, reusing at most `keep` idle buffers. */
export class StdinFrames {
  #idle: Frame[] = [];
  #random = Buffer.allocUnsafe(4096);
  #randomAt = this.#random.length;
  readonly #fill: FillPayload;
  /** Buffers allocated so far (for tests: stays flat however much is sent). */
  allocated = 0;

  /** `native` false masks in JavaScript even where `bufferutil` is installed (for tests). */
  constructor(
    private readonly socket: FrameSocket,
    private readonly channel: number,
    private readonly keep: number,
    native = true,
  ) {
    this.#fill = (native && nativeFill()) || fillInJs;
  }

  /** Sends `data` in frames of at most 64 KiB; `onSent` runs once per frame written out. */
  send(data: Buffer, onSent: (error?: Error | null) => void): void {
    if (data.length <= FRAME_DATA) return this.#frame(data, onSent);
    for (let at = 0; at < data.length; at += FRAME_DATA) {
      this.#frame(data.subarray(at, at + FRAME_DATA), onSent);
    }
  }

  #frame(data: Buffer, onSent: (error?: Error | null) => void): void {
    const frame = this.#idle.pop() ?? this.#allocate();
    const { buffer } = frame;
    const length = data.length + 1;
    let start: number;
    if (length > 0xffff) {
      start = KEY_AT - 10;
      buffer[start + 1] = 0x80 | 127;
      buffer.writeUIntBE(0, start + 2, 2);
      buffer.writeUIntBE(length, start + 4, 6);
    } else if (length > 125) {
      start = KEY_AT - 4;
      buffer[start + 1] = 0x80 | 126;
      buffer.writeUInt16BE(length, start + 2);
    } else {
      start = KEY_AT - 2;
      buffer[start + 1] = 0x80 | length;
    }
    buffer[start] = 0x82; // FIN, binary
    this.#key(buffer);
    this.#fill(frame, this.channel, data);
    frame.onSent = onSent;
    this.socket.write(length === FRAME_DATA + 1 ? frame.full : buffer.subarray(start, PAYLOAD_AT + length), frame.done);
  }

  #allocate(): Frame {
    this.allocated++;
    // allocUnsafeSlow gives the buffer its own ArrayBuffer from offset 0: the words are aligned.
    const buffer = Buffer.allocUnsafeSlow(BUFFER_SIZE);
    const frame: Frame = {
      buffer,
      words: new Int32Array(buffer.buffer, 0, BUFFER_SIZE >> 2),
      key: buffer.subarray(KEY_AT, PAYLOAD_AT),
      shifted: Buffer.alloc(4),
      full: buffer.subarray(KEY_AT - 10, PAYLOAD_AT + FRAME_DATA + 1),
      onSent: () => {},
      done: (error) => {
        if (this.#idle.length < this.keep) this.#idle.push(frame);
        frame.onSent(error);
      },
    };
    return frame;
  }

  /** A fresh unpredictable masking key (RFC 6455 5.3) at KEY_AT. */
  #key(buffer: Buffer): void {
    if (this.#randomAt === this.#random.length) {
      randomFillSync(this.#random);
      this.#randomAt = 0;
    }
    this.#random.copy(buffer, KEY_AT, this.#randomAt, (this.#randomAt += 4));
  }
}

/** A frame buffer, the same bytes as 32-bit words, its masking key, and room for that key rotated. */
interface Frame {
  buffer: Buffer;
  words: Int32Array;
  key: Buffer;
  shifted: Buffer;
  /** A frame of FRAME_DATA bytes, the usual one: sent without a new view per frame. */
  full: Buffer;
  onSent: (error?: Error | null) => void;
  /** The socket's write callback: takes the buffer back, then tells the sender. */
  done: (error?: Error | null) => void;
}

/** Writes the channel byte and the data, masked, as the frame's payload. */
type FillPayload = (frame: Frame, channel: number, data: Buffer) => void;

let native: FillPayload | null | undefined;

/**
 * `bufferutil`'s mask in C (an optional dependency, as for `ws`), which masks while it copies the
 * data in: one pass. The data starts at payload byte 1, so it takes the key rotated by one byte.
 * Null without `bufferutil`.
 */
function nativeFill(): FillPayload | null {
  if (native === undefined) {
    try {
      const { mask } = createRequire(import.meta.url)('bufferutil') as {
        mask: (source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number) => void;
      };
      native = ({ buffer, key, shifted }, channel, data) => {
        buffer[PAYLOAD_AT] = channel ^ key[0]!;
        shifted[0] = key[1]!;
        shifted[1] = key[2]!;
        shifted[2] = key[3]!;
        shifted[3] = key[0]!;
        mask(data, shifted, buffer, PAYLOAD_AT + 1, data.length);
      };
    } catch {
      native = null;
    }
  }
  return native;
}

/** Copies the payload in, then masks it in place with the key before it, 32 bits at a time. */
function fillInJs({ buffer, words }: Frame, channel: number, data: Buffer): void {
  buffer[PAYLOAD_AT] = channel;
  data.copy(buffer, PAYLOAD_AT + 1);
  const length = data.length + 1;
  const key = words[KEY_AT >> 2]!;
  const whole = length >> 2;
  for (let i = PAYLOAD_AT >> 2, end = i + whole; i < end; i++) words[i]! ^= key;
  for (let i = whole << 2; i < length; i++) buffer[PAYLOAD_AT + i]! ^= buffer[KEY_AT + (i & 3)]!;
}
