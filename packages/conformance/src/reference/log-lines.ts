// Reading `pods/log?timestamps=true` bodies: lines are split on the newline byte (so a UTF-8
// character split across chunks is decoded whole), the timestamp is cut at the first space only
// (so the text keeps its whitespace), and a cursor skips what was already delivered.
import type { LogCursor } from '@podrun/core';

/** One parsed line: the server's timestamp as sent, and the text without its newline. */
export interface TimedLine {
  timestamp: string;
  text: string;
}

/** Splits a byte stream into complete lines; `rest()` is an unterminated tail, if any. */
export class LineSplitter {
  #pending: Buffer[] = [];

  push(chunk: Buffer): TimedLine[] {
    const lines: TimedLine[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      this.#pending.push(chunk.subarray(start, nl));
      lines.push(parseTimedLine(Buffer.concat(this.#pending).toString('utf8')));
      this.#pending = [];
      start = nl + 1;
    }
    if (start < chunk.length) this.#pending.push(Buffer.from(chunk.subarray(start)));
    return lines;
  }

  /** The unterminated tail as a line, or undefined. */
  rest(): TimedLine | undefined {
    if (this.#pending.length === 0) return undefined;
    const line = parseTimedLine(Buffer.concat(this.#pending).toString('utf8'));
    this.#pending = [];
    return line;
  }
}

/** Splits `<timestamp> <text>` at the first space. */
export function parseTimedLine(raw: string): TimedLine {
  const space = raw.indexOf(' ');
  return space < 0 ? { timestamp: raw, text: '' } : { timestamp: raw.slice(0, space), text: raw.slice(space + 1) };
}

/** A sortable form of an RFC3339(Nano) UTC timestamp (fraction padded to 9 digits). */
export function timestampKey(timestamp: string): string {
  const m = /^(.*?T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(timestamp);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}` : timestamp;
}

/** Decides which lines are new relative to a cursor, and moves the cursor as lines are taken. */
export class CursorTracker {
  #cursor: LogCursor | undefined;
  #seenAt = 0;
  #seenKey = '';

  constructor(cursor?: LogCursor) {
    this.#cursor = cursor && { ...cursor };
  }

  get cursor(): LogCursor | undefined {
    return this.#cursor && { ...this.#cursor };
  }

  /** Starts a new read: lines at the cursor's timestamp are counted again from zero. */
  beginRead(): void {
    this.#seenAt = 0;
    this.#seenKey = '';
  }

  /** True when the line was not delivered before; the caller then delivers it and calls `take`. */
  isNew(line: TimedLine): boolean {
    const key = timestampKey(line.timestamp);
    if (!this.#cursor) return true;
    const at = timestampKey(this.#cursor.timestamp);
    if (key < at) return false;
    if (key > at) return true;
    if (this.#seenKey !== key) {
      this.#seenKey = key;
      this.#seenAt = 0;
    }
    this.#seenAt++;
    return this.#seenAt > this.#cursor.linesAtTimestamp;
  }

  /** Records a delivered line. */
  take(line: TimedLine): LogCursor {
    const same = this.#cursor && timestampKey(this.#cursor.timestamp) === timestampKey(line.timestamp);
    this.#cursor = { timestamp: line.timestamp, linesAtTimestamp: same ? this.#cursor!.linesAtTimestamp + 1 : 1 };
    this.#seenKey = timestampKey(line.timestamp);
    this.#seenAt = this.#cursor.linesAtTimestamp;
    return { ...this.#cursor };
  }

  /** The `sinceTime` to read from: the cursor's own timestamp (lines at it are skipped by count). */
  sinceTime(): string | undefined {
    return this.#cursor?.timestamp;
  }
}
