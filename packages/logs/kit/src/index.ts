/**
 * @podrun/logs-kit: the building blocks log collectors share, so that no collector depends on
 * another — a line splitter for timestamped log streams, RFC3339 timestamp helpers, and the
 * position cursor that lets a collector deliver each line once, in order, across reconnects and
 * runner restarts.
 *
 * @packageDocumentation
 */
export { CursorTracker } from './cursor.js';
export { LineSplitter, parseTimestampedLine } from './lines.js';
export type { TimestampedLine } from './lines.js';
export { compareTimestamps, sinceTimeFor } from './timestamps.js';
