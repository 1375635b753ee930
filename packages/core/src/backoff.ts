// The one way podrun waits before trying again: every loop that retries (Kubernetes API calls,
// dropped transfer streams, log reconnects, a flow's task retry) takes its waits from here, and
// every default policy is in RETRY_POLICIES.
import { setTimeout as sleepFor } from 'node:timers/promises';

/** How a loop retries: how many attempts, how the waits grow, how long in total. */
export interface BackoffPolicy {
  /** Attempts in total, the first included (>= 1; `Infinity` when only `budgetMs` limits). */
  maxAttempts: number;
  /** The wait after the first failure, before jitter. */
  baseDelayMs: number;
  /** The largest wait. */
  maxDelayMs: number;
  /** Growth per failed attempt (default 2; 1 keeps the wait constant). */
  factor?: number;
  /**
   * `equal` (default): half the step plus a random half, so clients spread out but waits still
   * grow; `none`: the step exactly; `uniform`: any wait in [baseDelayMs, maxDelayMs], whatever
   * the attempt.
   */
  jitter?: 'equal' | 'none' | 'uniform';
  /** Upper bound for a server's `Retry-After` (default: maxDelayMs). */
  maxRetryAfterMs?: number;
  /** No attempt starts later than this after the first one started (default: no limit). */
  budgetMs?: number;
}

/** podrun's retry policies, in one place. */
export const RETRY_POLICIES = {
  /** Transient Kubernetes API failures (429 with Retry-After, 5xx, dropped connections): 6 attempts, 250 ms to 8 s. */
  kubeApi: { maxAttempts: 6, baseDelayMs: 250, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 },
  /** A dropped file-transfer stream (exec or object storage): 4 attempts, 500 ms doubling. */
  transferStream: { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 8_000, jitter: 'none' },
  /** Reconnecting a log stream while its container runs: unbounded, 250 ms doubling to 5 s while nothing arrives. */
  logReconnect: { maxAttempts: Infinity, baseDelayMs: 250, maxDelayMs: 5_000, jitter: 'none' },
  /** Waiting for a worker group's cluster to become reachable (fallback WAIT): unbounded, 250 ms doubling to 5 s. */
  workerGroupWait: { maxAttempts: Infinity, baseDelayMs: 250, maxDelayMs: 5_000, jitter: 'none' },
} as const satisfies Record<string, BackoffPolicy>;

/** The wait after failed attempt `failedAttempt` (1-based) under `policy`. */
export function backoffDelay(policy: BackoffPolicy, failedAttempt: number, random: () => number = Math.random): number {
  if (policy.jitter === 'uniform') {
    return Math.round(policy.baseDelayMs + random() * Math.max(0, policy.maxDelayMs - policy.baseDelayMs));
  }
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * (policy.factor ?? 2) ** Math.max(0, failedAttempt - 1));
  if (policy.jitter === 'none') return Math.round(step);
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * Whether to try again after attempt `failedAttempt` failed, `elapsedMs` after the first attempt
 * started, and after how long: undefined when the attempts or the budget are spent. A server's
 * `retryAfterMs` replaces the computed wait (capped, plus a little jitter so clients spread).
 */
export function nextRetryDelay(
  policy: BackoffPolicy,
  failedAttempt: number,
  elapsedMs: number,
  options: { retryAfterMs?: number; random?: () => number } = {},
): number | undefined {
  if (failedAttempt >= policy.maxAttempts) return undefined;
  const random = options.random ?? Math.random;
  const wait =
    options.retryAfterMs !== undefined
      ? Math.min(policy.maxRetryAfterMs ?? policy.maxDelayMs, options.retryAfterMs) +
        Math.round(random() * policy.baseDelayMs)
      : backoffDelay(policy, failedAttempt, random);
  if (policy.budgetMs !== undefined && elapsedMs + wait > policy.budgetMs) return undefined;
  return wait;
}

/** `Retry-After` as milliseconds (delta-seconds or an HTTP date). */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Waits `ms`; rejects with the signal's reason when it aborts first. A backoff step, never a fixed sleep. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) throw signal.reason;
  try {
    await sleepFor(ms, undefined, signal ? { signal } : undefined);
  } catch (error) {
    throw signal?.aborted ? signal.reason : error;
  }
}

/** What a failed attempt means to {@link retry}: give up, or try again (after a server's wait). */
export type RetryVerdict = { retry: false } | { retry: true; retryAfterMs?: number };

/** Options of {@link retry}. */
export interface RetryOptions {
  policy: BackoffPolicy;
  /** Whether a failure is worth another attempt. */
  classify(error: unknown, attempt: number): RetryVerdict;
  signal?: AbortSignal;
  /** Called before each wait (for a log line). */
  onRetry?(error: unknown, attempt: number, delayMs: number): void;
  /** Called with the last error when no retry follows; may decorate it. */
  onGiveUp?(error: unknown, attempts: number): void;
  random?: () => number;
  now?: () => number;
}

/** Runs `op` until it succeeds, a failure is not worth retrying, or the policy's budget is spent. */
export async function retry<T>(op: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const now = options.now ?? Date.now;
  const started = now();
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await op(attempt);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      const verdict = options.classify(error, attempt);
      const wait = verdict.retry
        ? nextRetryDelay(options.policy, attempt, now() - started, {
            ...(verdict.retryAfterMs !== undefined && { retryAfterMs: verdict.retryAfterMs }),
            ...(options.random && { random: options.random }),
          })
        : undefined;
      if (wait === undefined) {
        options.onGiveUp?.(error, attempt);
        throw error;
      }
      options.onRetry?.(error, attempt, wait);
      await sleep(wait, options.signal);
    }
  }
}
