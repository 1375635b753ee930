/**
 * @podrun/logs-follow: log collection through one follow stream per container, with a cursor
 * (timestamp + lines seen at it) so each line is delivered once, in order, across reconnects
 * and runner restarts.
 *
 * @packageDocumentation
 */
export { createFollowLogCollector } from './collector.js';
export type { FollowLogCollectorOptions } from './collector.js';
export { CursorTracker } from './cursor.js';
export { LineSplitter, parseTimestampedLine } from './lines.js';
export type { TimestampedLine } from './lines.js';
export { compareTimestamps, sinceTimeFor } from './timestamps.js';
