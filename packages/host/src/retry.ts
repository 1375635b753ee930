import { nextRetryDelay } from '@podrun/core';
import type { BackoffPolicy, RetryPolicy as RetryConfig } from '@podrun/core';

/** What to do after a failed attempt. */
export type RetryDecision = { retry: false } | { retry: true; delayMs: number };

/** A retry policy made from a task's `retry` block. */
export interface RetryPolicy {
  behavior: 'RETRY_FAILED_TASK' | 'CREATE_NEW_EXECUTION';
  warningOnRetry: boolean;
  /** Total attempts allowed, the first included; Infinity when only maxDuration limits. */
  maxAttempts: number;
  /**
   * After attempt `failedAttempt` (1-based) failed, `elapsedMs` after the first attempt started:
   * retry, and after how long? No retry when attempts or maxDuration would be exceeded.
   */
  next(failedAttempt: number, elapsedMs: number): RetryDecision;
}

/** No retry: one attempt. */
export const NO_RETRY: RetryPolicy = {
  behavior: 'RETRY_FAILED_TASK',
  warningOnRetry: false,
  maxAttempts: 1,
  next: () => ({ retry: false }),
};

/**
 * Builds a policy from core's parsed retry block (durations in ms): `constant` waits `interval`;
 * `random` a uniform delay in [minInterval, maxInterval]; `exponential`
 * `interval × delayFactor^(n-1)` (delayFactor 2 by default) capped at `maxInterval`.
 * `maxAttempts` counts every attempt including the first; `maxDuration` bounds the time from the
 * first attempt's start to the next attempt's start. With neither, one attempt (no endless retry).
 */
export function createRetryPolicy(config: RetryConfig | undefined, random: () => number = Math.random): RetryPolicy {
  if (!config) return NO_RETRY;
  const backoff = backoffOf(config);
  return {
    behavior: config.behavior,
    warningOnRetry: config.warningOnRetry,
    maxAttempts: backoff.maxAttempts,
    next(failedAttempt, elapsedMs) {
      const delayMs = nextRetryDelay(backoff, failedAttempt, elapsedMs, { random });
      return delayMs === undefined ? { retry: false } : { retry: true, delayMs };
    },
  };
}

/** The reference's retry block as core's backoff policy (exact waits: the flow chose them). */
function backoffOf(config: RetryConfig): BackoffPolicy {
  const budget = {
    maxAttempts: config.maxAttempts ?? (config.maxDuration !== undefined ? Infinity : 1),
    ...(config.maxDuration !== undefined && { budgetMs: config.maxDuration }),
  };
  switch (config.type) {
    case 'constant':
      return { ...budget, baseDelayMs: config.interval, maxDelayMs: config.interval, factor: 1, jitter: 'none' };
    case 'random':
      return { ...budget, baseDelayMs: config.minInterval, maxDelayMs: config.maxInterval, jitter: 'uniform' };
    case 'exponential':
      return {
        ...budget,
        baseDelayMs: config.interval,
        maxDelayMs: config.maxInterval,
        factor: config.delayFactor ?? 2,
        jitter: 'none',
      };
  }
}
