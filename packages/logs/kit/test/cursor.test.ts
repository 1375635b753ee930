import { describe, expect, it } from 'vitest';
import { CursorTracker, LineSplitter, compareTimestamps, parseTimestampedLine, sinceTimeFor } from '@podrun/logs-kit';

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
  const at = (second: number, nanos = 0): string =>
    new Date(Date.UTC(2024, 0, 1, 0, 0, second))
      .toISOString()
      .replace(/\.\d{3}Z$/, `.${String(nanos).padStart(9, '0')}Z`);

  /** A log as a node writes it: stdout and stderr stamped apart, so stamps repeat and go back. */
  const file: { ts: string; text: string }[] = [];
  for (let i = 0; i < 60; i++) {
    const second = 10 + Math.floor(i / 6);
    file.push({ ts: at(second, 5), text: `out ${i}` }, { ts: at(second, 5), text: `out ${i}b` });
    // stderr read a moment before it was written: stamped up to a second earlier.
    file.push({ ts: at(second - (i % 3 === 0 ? 1 : 0), 999_000_000), text: `err ${i}` });
  }
  /** The kubelet's answer to a read: lines stamped at or after sinceTime (whole seconds), in file order. */
  const read = (since: string | undefined) =>
    file.filter((l) => since === undefined || compareTimestamps(l.ts, since) >= 0);

  it('delivers every line once across reads cut anywhere, with equal and out-of-order stamps', () => {
    for (const cutEvery of [1, 2, 5, 7, 13, 50]) {
      const tracker = new CursorTracker();
      const delivered: string[] = [];
      for (let reads = 0; delivered.length < file.length && reads < file.length; reads++) {
        tracker.beginRead();
        let fresh = 0;
        for (const line of read(tracker.sinceTime())) {
          if (fresh === cutEvery) break; // the stream is cut here
          if (tracker.accept(line.ts)) {
            delivered.push(line.text);
            fresh++;
          }
        }
      }
      expect(delivered, `cut every ${cutEvery} lines`).toEqual(file.map((l) => l.text));
    }
  });

  it('resumes from a persisted cursor (a new process) without losing or repeating a line', () => {
    const first = new CursorTracker();
    first.beginRead();
    const delivered = read(undefined)
      .slice(0, 97)
      .filter((l) => first.accept(l.ts))
      .map((l) => l.text);
    const persisted = JSON.parse(JSON.stringify(first.cursor));
    expect(persisted.since).toMatch(/^2024-01-01T00:00:\d\dZ$/);
    const second = new CursorTracker(persisted);
    second.beginRead();
    for (const line of read(second.sinceTime())) if (second.accept(line.ts)) delivered.push(line.text);
    expect(delivered).toEqual(file.map((l) => l.text));
  });

  it('keeps the read window and the counts small on a long log', () => {
    const tracker = new CursorTracker();
    tracker.beginRead();
    for (const line of file) tracker.accept(line.ts);
    expect(tracker.sinceTime()).toBe(at(19 - 1).replace(/\.\d+Z$/, 'Z'));
    expect(tracker.cursor?.linesSince).toBe(read(tracker.sinceTime()).length);
  });

  it('resumes from a cursor written before `since` existed by the old rule', () => {
    const tracker = new CursorTracker({ timestamp: t(5), linesAtTimestamp: 1 });
    tracker.beginRead();
    expect(tracker.sinceTime()).toBe('2024-01-01T00:00:05Z');
    expect([t(5), t(5), t(6)].map((ts) => tracker.accept(ts))).toEqual([false, true, true]);
    expect(tracker.cursor).toMatchObject({ timestamp: t(6), since: '2024-01-01T00:00:05Z', linesSince: 3 });
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
