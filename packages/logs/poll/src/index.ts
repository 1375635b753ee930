/**
 * @podrun/logs-poll: log collection through periodic reads from a per-container cursor, without a
 * long-lived stream.
 *
 * @packageDocumentation
 */
export { createPollLogCollector } from './collector.js';
export type { PollLogCollectorOptions } from './collector.js';
