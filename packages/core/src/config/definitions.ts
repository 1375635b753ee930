import { z } from 'zod';
import { durationMs } from './fields.js';
import type { RetryPolicy, TaskCache, WorkerGroup } from './types.js';

/*
 * The definitions the reference lists beside the runner: retry policies, task cache and worker
 * group. They are task-level (the host applies them) and not dynamic.
 */

const retryBase = {
  maxAttempts: z
    .number({ error: 'expected a whole number of attempts, at least 1' })
    .int({ error: 'expected a whole number of attempts, at least 1' })
    .min(1, { error: 'expected a whole number of attempts, at least 1' })
    .optional()
    .meta({ description: 'Attempts in total, at least 1.' }),
  maxDuration: durationMs({ positive: true }).optional().meta({ description: 'Stop retrying after this long.' }),
  behavior: z
    .enum(['RETRY_FAILED_TASK', 'CREATE_NEW_EXECUTION'])
    .default('RETRY_FAILED_TASK')
    .meta({ description: 'Retry the failed task, or create a new execution.' }),
  warningOnRetry: z.boolean().default(false).meta({ description: 'Mark a task that needed retries as WARNING.' }),
};

type Bounds = { minInterval?: number; maxInterval: number; interval?: number };

function checkBounds(value: Bounds, ctx: z.RefinementCtx): void {
  const lower = value.minInterval ?? value.interval;
  if (lower !== undefined && value.maxInterval < lower) {
    ctx.addIssue({
      code: 'custom',
      path: ['maxInterval'],
      message: `must not be shorter than ${value.minInterval === undefined ? 'interval' : 'minInterval'}`,
    });
  }
}

/** A task retry policy (`type: constant | random | exponential`), durations in milliseconds. */
export const retryPolicySchema = z
  .discriminatedUnion('type', [
    z
      .strictObject({
        type: z.literal('constant'),
        interval: durationMs().meta({ description: 'Time between attempts.' }),
        ...retryBase,
      })
      .meta({ title: 'Constant', description: 'Retry after a fixed interval.' }),
    z
      .strictObject({
        type: z.literal('random'),
        minInterval: durationMs().meta({ description: 'Shortest time between attempts.' }),
        maxInterval: durationMs().meta({ description: 'Longest time between attempts.' }),
        ...retryBase,
      })
      .superRefine(checkBounds)
      .meta({ title: 'Random', description: 'Retry after a random interval between the bounds.' }),
    z
      .strictObject({
        type: z.literal('exponential'),
        interval: durationMs().meta({ description: 'Time before the first retry.' }),
        maxInterval: durationMs().meta({ description: 'Longest time between attempts.' }),
        delayFactor: z
          .number()
          .min(1, { error: 'expected a factor of at least 1' })
          .optional()
          .meta({ description: 'Growth of the interval per attempt (host default 2).' }),
        ...retryBase,
      })
      .superRefine(checkBounds)
      .meta({ title: 'Exponential', description: 'Retry after an interval growing up to maxInterval.' }),
  ])
  .meta({ title: 'RetryPolicy', description: 'How a failed task is retried.' });

/** Task output caching (the reference's Cache). */
export const taskCacheSchema = z
  .strictObject({
    enabled: z.boolean().meta({ description: 'Whether the cache is used.' }),
    ttl: durationMs({ positive: true }).optional().meta({ description: 'How long a cached result stays valid.' }),
  })
  .meta({ title: 'Cache', description: 'Task output caching.' });

/** The worker group a task runs on. */
export const workerGroupSchema = z
  .strictObject({
    key: z.string().min(1).meta({ description: 'The worker group key.' }),
    fallback: z
      .enum(['FAIL', 'WAIT', 'CANCEL'])
      .optional()
      .meta({ description: 'What to do when no worker of the group is available.' }),
  })
  .meta({ title: 'WorkerGroup', description: 'Runs the task on a group of workers.' });

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const typesMatch: [
  Same<z.output<typeof retryPolicySchema>, RetryPolicy>,
  Same<z.output<typeof taskCacheSchema>, TaskCache>,
  Same<z.output<typeof workerGroupSchema>, WorkerGroup>,
] = [true, true, true];
void typesMatch;
