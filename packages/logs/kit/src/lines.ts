/** One line of a `timestamps=true` log stream, split at the first space only. */
export interface TimestampedLine {
  timestamp: string;
  text: string;
}

/** Splits `2016-10-06T00:17:09.669794202Z hello` into timestamp and the text exactly as written. */
export function parseTimestampedLine(raw: string): TimestampedLine {
  const space = raw.indexOf(' ');
  if (space < 0) return { timestamp: raw, text: '' };
  return { timestamp: raw.slice(0, space), text: raw.slice(space + 1) };
}

/**
 * Turns the byte chunks of one HTTP stream into complete lines. UTF-8 sequences split across
 * chunks are decoded intact (streaming TextDecoder); the text after the last newline is held
 * back until more bytes arrive or the stream ends.
 */
export class LineSplitter {
  readonly #decoder = new TextDecoder('utf-8');
  #pending = '';

  /** Complete lines (without their `\n`) made available by this chunk. */
  push(chunk: Uint8Array): string[] {
    this.#pending += this.#decoder.decode(chunk, { stream: true });
    const parts = this.#pending.split('\n');
    this.#pending = parts.pop() ?? '';
    return parts;
  }

  /** The unterminated last line at the end of a stream, if any. */
  end(): string | undefined {
    this.#pending += this.#decoder.decode();
    const rest = this.#pending;
    this.#pending = '';
    return rest.length > 0 ? rest : undefined;
  }
}
