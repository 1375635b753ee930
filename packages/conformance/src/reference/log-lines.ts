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

/** The whole second of an RFC3339 UTC timestamp (as `sinceTime` reaches the kubelet), minus `back` seconds. */
function secondOf(timestamp: string, back = 0): string {
  const millis = Date.parse(timestamp.replace(/\.\d+Z$/, 'Z'));
  return Number.isNaN(millis) ? timestamp : new Date(millis - back * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * Decides which lines are new relative to a cursor, and moves the cursor as lines are taken. The
 * cursor is a position, not a stamp: a read starts at `since` (a second before the newest stamp)
 * and the first `linesSince` lines it returns were delivered before. Stamps of stdout and stderr
 * may be equal or out of order, so comparing them would lose lines; counting cannot.
 */
export class CursorTracker {
  #cursor: LogCursor | undefined;
  #toSkip = 0;
  /** Delivered lines per second, for seconds at or after `since` (rebuilt by every read). */
  #perSecond = new Map<string, number>();

  constructor(cursor?: LogCursor) {
    this.#cursor = cursor && { ...cursor };
  }

  get cursor(): LogCursor | undefined {
    return this.#cursor && { ...this.#cursor };
  }

  /** Starts a new read from {@link sinceTime}: its first lines repeat the delivered ones. */
  beginRead(): void {
    this.#toSkip = this.#cursor?.linesSince ?? 0;
    this.#perSecond.clear();
  }

  /** True when the line was not delivered before; the caller then delivers it and calls `take`. */
  isNew(line: TimedLine): boolean {
    if (this.#toSkip === 0) return true;
    this.#toSkip--;
    this.#count(secondOf(line.timestamp));
    return false;
  }

  /** Records a delivered line. */
  take(line: TimedLine): LogCursor {
    const second = secondOf(line.timestamp);
    this.#count(second);
    const newest = secondOf(line.timestamp, 1);
    const old = this.#cursor?.since;
    const since = old !== undefined && old > newest ? old : newest;
    let linesSince = 0;
    for (const [s, n] of this.#perSecond) if (s >= since) linesSince += n;
    const same = this.#cursor && timestampKey(this.#cursor.timestamp) === timestampKey(line.timestamp);
    this.#cursor = {
      timestamp: line.timestamp,
      linesAtTimestamp: same ? this.#cursor!.linesAtTimestamp + 1 : 1,
      since,
      linesSince,
    };
    return { ...this.#cursor };
  }

  #count(second: string): void {
    this.#perSecond.set(second, (this.#perSecond.get(second) ?? 0) + 1);
  }

  /** The `sinceTime` to read from. */
  sinceTime(): string | undefined {
    return this.#cursor?.since;
  }
}
