import type { LogCursor } from '@podrun/core';
import { compareTimestamps, epochSecondOf, isTimestamp } from './timestamps.js';

/**
 * How far before the newest delivered stamp a read starts. A node stamps stdout and stderr
 * independently (per read, with its own clock reading), so a line written later can carry an
 * earlier stamp; reads reaching this far back still return it.
 */
export const STAMP_SKEW_SECONDS = 1;

/**
 * Decides, line by line, what is new relative to a cursor, and moves the cursor.
 *
 * The kubelet answers a read from `sinceTime` with every line stamped at or after it (whole
 * seconds: the API server drops the fraction), in file order. So the lines podrun already
 * delivered that such a read returns come first, and there are exactly as many as it delivered
 * with a stamp at or after `since`: a read skips that many and delivers the rest. That holds
 * whatever the order of the stamps (equal, or out of order between stdout and stderr), unlike a
 * cursor that compares each line's stamp with the last one. `since` trails the newest stamp by
 * {@link STAMP_SKEW_SECONDS}, and memory stays constant: only per-second counts of that window.
 */
export class CursorTracker {
  /** `sinceTime` of the next read (epoch seconds), once a line was delivered. */
  #since: number | undefined;
  /** Delivered lines stamped at or after `#since`. */
  #linesSince = 0;
  /** How those lines spread over seconds; `#unplaced` of them are of unknown second (restored). */
  #perSecond = new Map<number, number>();
  #unplaced = 0;
  #last: LogCursor | undefined;
  /** The prefix of the current read that repeats delivered lines. */
  #toSkip = 0;
  /** A cursor written before `since` existed: its first read skips by the old rule. */
  #legacy: LogCursor | undefined;
  #legacySeen = 0;

  constructor(cursor?: LogCursor) {
    if (!cursor) return;
    this.#last = { timestamp: cursor.timestamp, linesAtTimestamp: cursor.linesAtTimestamp };
    const since = cursor.since !== undefined ? epochSecondOf(cursor.since) : undefined;
    if (since !== undefined && cursor.linesSince !== undefined) {
      this.#since = since;
      this.#linesSince = this.#unplaced = cursor.linesSince;
    } else {
      this.#since = epochSecondOf(cursor.timestamp);
      this.#legacy = this.#last;
    }
  }

  /** The position after the last delivered line, if any line was delivered. */
  get cursor(): LogCursor | undefined {
    if (!this.#last) return undefined;
    return {
      ...this.#last,
      ...(this.#since !== undefined && { since: isoSecond(this.#since), linesSince: this.#linesSince }),
    };
  }

  /** `sinceTime` for the next read. */
  sinceTime(): string | undefined {
    return this.#since !== undefined ? isoSecond(this.#since) : undefined;
  }

  /** Call when a new read (from {@link sinceTime}) starts: its first lines repeat delivered ones. */
  beginRead(): void {
    this.#toSkip = this.#linesSince;
    // Rebuilt from the repeated lines, which carry their real stamps.
    this.#perSecond.clear();
    this.#unplaced = this.#linesSince;
    if (this.#legacy) {
      // The old rule finds the repeated lines again by stamp; count them afresh.
      this.#legacySeen = 0;
      this.#linesSince = this.#unplaced = this.#toSkip = 0;
    }
  }

  /**
   * Whether a line with this timestamp is new. When it is, the cursor moves past it; call only
   * once per line, in stream order.
   */
  accept(timestamp: string): boolean {
    if (!isTimestamp(timestamp)) return true;
    const second = epochSecondOf(timestamp)!;
    if (this.#legacy) {
      if (this.#legacyRepeats(timestamp)) {
        this.#count(second);
        return false;
      }
      this.#legacy = undefined;
    } else if (this.#toSkip > 0) {
      // A line before `since` here comes from a server that ignored sinceTime: old, drop it.
      if (this.#since !== undefined && second < this.#since) return false;
      this.#toSkip -= 1;
      this.#place(second);
      return false;
    }
    this.#toSkip = 0;
    const same = this.#last && compareTimestamps(timestamp, this.#last.timestamp) === 0;
    this.#last = { timestamp, linesAtTimestamp: same ? this.#last!.linesAtTimestamp + 1 : 1 };
    this.#since ??= second - STAMP_SKEW_SECONDS;
    this.#count(second);
    this.#advance(second);
    return true;
  }

  /** The old rule: everything up to the legacy cursor's timestamp and count was delivered. */
  #legacyRepeats(timestamp: string): boolean {
    const order = compareTimestamps(timestamp, this.#legacy!.timestamp);
    if (order < 0) return true;
    if (order > 0) return false;
    this.#legacySeen += 1;
    return this.#legacySeen <= this.#legacy!.linesAtTimestamp;
  }

  /** A repeated line of known second replaces one of unknown second. */
  #place(second: number): void {
    if (this.#unplaced > 0) this.#unplaced -= 1;
    this.#perSecond.set(second, (this.#perSecond.get(second) ?? 0) + 1);
  }

  /** A delivered line: counted when a read from `since` would return it. */
  #count(second: number): void {
    if (this.#since === undefined || second < this.#since) return;
    this.#linesSince += 1;
    this.#perSecond.set(second, (this.#perSecond.get(second) ?? 0) + 1);
  }

  /** Moves `since` up behind the newest stamp, once every counted line's second is known. */
  #advance(second: number): void {
    const next = second - STAMP_SKEW_SECONDS;
    if (this.#since === undefined || next <= this.#since || this.#unplaced > 0) return;
    for (const [s, n] of this.#perSecond) {
      if (s < next) {
        this.#linesSince -= n;
        this.#perSecond.delete(s);
      }
    }
    this.#since = next;
  }
}

function isoSecond(epochSecond: number): string {
  return new Date(epochSecond * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
