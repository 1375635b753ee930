/**
 * @podrun/logs-poll: Log collection through periodic reads with a cursor.
 *
 * @packageDocumentation
 */
