/**
 * @podrun/logs-follow: log collection through one follow stream per container, with a cursor
 * (a position: the second a read starts from and the lines already delivered from it) so each
 * line is delivered once, in order, across reconnects and runner restarts.
 *
 * @packageDocumentation
 */
export { createFollowLogCollector } from './collector.js';
export type { FollowLogCollectorOptions } from './collector.js';
