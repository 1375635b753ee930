import type { LogCursor } from '@podrun/core';
import { compareTimestamps, isTimestamp, sinceTimeFor } from './timestamps.js';

/**
 * Decides, line by line, what is new relative to a cursor, and moves the cursor.
 *
 * A cursor is the timestamp of the last delivered line plus how many delivered lines carry that
 * exact timestamp; every read starts at or before the cursor, so each stream replays a prefix
 * that this class drops. Memory stays constant however many lines pass (no set of seen lines).
 */
export class CursorTracker {
  #cursor: LogCursor | undefined;
  #skipTimestamp: string | undefined;
  #skipCount = 0;
  #seenAtSkip = 0;

  constructor(cursor?: LogCursor) {
    this.#cursor = cursor ? { ...cursor } : undefined;
  }

  /** The position after the last delivered line, if any line was delivered. */
  get cursor(): LogCursor | undefined {
    return this.#cursor ? { ...this.#cursor } : undefined;
  }

  /** `sinceTime` for the next read, so it starts at or before the cursor. */
  sinceTime(): string | undefined {
    return this.#cursor ? sinceTimeFor(this.#cursor.timestamp) : undefined;
  }

  /** Call when a new read starts: the replayed prefix is counted from here. */
  beginRead(): void {
    this.#skipTimestamp = this.#cursor?.timestamp;
    this.#skipCount = this.#cursor?.linesAtTimestamp ?? 0;
    this.#seenAtSkip = 0;
  }

  /**
   * Whether a line with this timestamp is new. When it is, the cursor moves past it; call only
   * once per line, in stream order.
   */
  accept(timestamp: string): boolean {
    if (!isTimestamp(timestamp)) return true;
    if (this.#skipTimestamp !== undefined) {
      const order = compareTimestamps(timestamp, this.#skipTimestamp);
      if (order < 0) return false;
      if (order === 0) {
        this.#seenAtSkip += 1;
        if (this.#seenAtSkip <= this.#skipCount) return false;
      }
    }
    if (this.#cursor && compareTimestamps(timestamp, this.#cursor.timestamp) === 0) {
      this.#cursor = { timestamp: this.#cursor.timestamp, linesAtTimestamp: this.#cursor.linesAtTimestamp + 1 };
    } else {
      this.#cursor = { timestamp, linesAtTimestamp: 1 };
    }
    return true;
  }
}
