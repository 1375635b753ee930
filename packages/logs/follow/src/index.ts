/**
 * @podrun/logs-follow: Log collection through one follow stream per container with a cursor.
 *
 * @packageDocumentation
 */
