import { describe, expect, it } from 'vitest';
import {
  CursorTracker,
  LineSplitter,
  compareTimestamps,
  parseTimestampedLine,
  sinceTimeFor,
} from '@podrun/logs-follow';

describe('timestamps', () => {
  it('orders RFC3339Nano numerically, whatever the precision or offset', () => {
    expect(compareTimestamps('2024-01-01T00:00:00.000000001Z', '2024-01-01T00:00:00Z')).toBeGreaterThan(0);
    expect(compareTimestamps('2024-01-01T00:00:00.5Z', '2024-01-01T00:00:00.500000000Z')).toBe(0);
    expect(compareTimestamps('2024-01-01T01:00:00+01:00', '2024-01-01T00:00:00Z')).toBe(0);
    expect(compareTimestamps('2024-01-01T00:00:09.9Z', '2024-01-01T00:00:10Z')).toBeLessThan(0);
  });

  it('asks for the start of the cursor second so lines sharing it are never lost', () => {
    expect(sinceTimeFor('2024-05-06T07:08:09.123456789Z')).toBe('2024-05-06T07:08:09Z');
    expect(sinceTimeFor('not a time')).toBeUndefined();
  });
});

describe('CursorTracker', () => {
  const t = (n: number): string => `2024-01-01T00:00:0${n}.000000000Z`;

  it('delivers every line once across overlapping reads, counting lines that share a timestamp', () => {
    const tracker = new CursorTracker();
    tracker.beginRead();
    expect([t(1), t(2), t(2)].map((ts) => tracker.accept(ts))).toEqual([true, true, true]);
    expect(tracker.cursor).toEqual({ timestamp: t(2), linesAtTimestamp: 2 });
    // A reconnect replays from the start of the second: the first two lines at t(2) are known.
    tracker.beginRead();
    expect([t(1), t(2), t(2), t(2), t(3)].map((ts) => tracker.accept(ts))).toEqual([false, false, false, true, true]);
    expect(tracker.cursor).toEqual({ timestamp: t(3), linesAtTimestamp: 1 });
  });

  it('resumes from a persisted cursor', () => {
    const tracker = new CursorTracker({ timestamp: t(5), linesAtTimestamp: 1 });
    tracker.beginRead();
    expect(tracker.sinceTime()).toBe('2024-01-01T00:00:05Z');
    expect([t(4), t(5), t(5), t(6)].map((ts) => tracker.accept(ts))).toEqual([false, false, true, true]);
  });
});

describe('LineSplitter', () => {
  it('keeps UTF-8 sequences split across chunks intact', () => {
    const bytes = Buffer.from('2024-01-01T00:00:00Z h\u00e9llo \u{1F600}\n2024-01-01T00:00:01Z x');
    const splitter = new LineSplitter();
    const lines: string[] = [];
    for (let i = 0; i < bytes.length; i++) lines.push(...splitter.push(bytes.subarray(i, i + 1)));
    expect(lines).toEqual(['2024-01-01T00:00:00Z h\u00e9llo \u{1F600}']);
    expect(splitter.end()).toBe('2024-01-01T00:00:01Z x');
  });

  it('splits only at the first space, keeping whitespace', () => {
    expect(parseTimestampedLine('2024-01-01T00:00:00Z   two  spaces\t')).toEqual({
      timestamp: '2024-01-01T00:00:00Z',
      text: '  two  spaces\t',
    });
    expect(parseTimestampedLine('2024-01-01T00:00:00Z')).toEqual({ timestamp: '2024-01-01T00:00:00Z', text: '' });
  });
});
