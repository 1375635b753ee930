// Jittered exponential backoff for transient API failures: 429 (Retry-After honoured), 5xx and
// dropped connections. Which failures are safe to retry depends on the call (see `retryable`).
import { CancelledError, KubeApiError } from '@podrun/core';
import { networkFailure } from './errors.js';

/** How hard to retry transient failures. */
export interface RetryPolicy {
  /** Total attempts including the first (>= 1). */
  maxAttempts: number;
  /** First backoff step. */
  baseDelayMs: number;
  /** Largest backoff step. */
  maxDelayMs: number;
  /** Upper bound for a server's Retry-After. */
  maxRetryAfterMs: number;
}

/** Defaults: 6 attempts, 250 ms doubling to 8 s, Retry-After up to 60 s. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
};

/** "Equal jitter": half the exponential step plus a random half, so retries spread but still grow. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/** Retry-After as milliseconds (delta-seconds or an HTTP date). */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Waits, or rejects with the signal's reason when aborted. Not a fixed sleep: a backoff step. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The error to raise for an aborted signal. */
export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new CancelledError('the Kubernetes call was cancelled', { component: 'kube' });
}

/** How a call may be retried. */
export type Idempotency =
  /** GET, DELETE, PATCH of fixed values: any transient failure may be retried. */
  | 'idempotent'
  /** POST: only failures where the request surely had no effect (429, refused connection, 409 Conflict). */
  | 'unsafe';

/** Whether `error` is transient for a call of this kind, and how long the server asked us to wait. */
export function retryable(error: unknown, kind: Idempotency): { retry: boolean; afterMs?: number } {
  const net = networkFailure(error);
  if (net === 'not-sent') return { retry: true };
  if (net === 'dropped') return { retry: kind === 'idempotent' };
  if (!(error instanceof KubeApiError) || error.status === undefined) return { retry: false };
  const status = error.status;
  if (status === 429) return { retry: true, afterMs: error.details.retryAfterMs as number | undefined };
  // 409 Conflict (not AlreadyExists) is an optimistic-concurrency race such as a quota update.
  if (status === 409) return { retry: error.reason === 'Conflict' };
  // 503 with Retry-After is the API server shedding load before processing.
  if (status === 503 && error.details.retryAfterMs !== undefined)
    return { retry: true, afterMs: error.details.retryAfterMs as number };
  if (status >= 500) return { retry: kind === 'idempotent' };
  return { retry: false };
}

/**
 * Runs `op` until it succeeds, a failure is not transient, or the policy is exhausted.
 * `decide` may veto or adjust a retry (e.g. to check whether a create happened).
 */
export async function withRetry<T>(
  op: (attempt: number) => Promise<T>,
  options: {
    policy: RetryPolicy;
    kind: Idempotency;
    signal?: AbortSignal;
    onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  },
): Promise<T> {
  const { policy, kind, signal } = options;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortReason(signal);
    try {
      return await op(attempt);
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      const verdict = retryable(error, kind);
      if (!verdict.retry || attempt >= policy.maxAttempts) {
        if (error instanceof KubeApiError && attempt > 1) {
          error.details.attempts = attempt;
          error.message += ` (gave up after ${attempt} attempts)`;
        }
        throw error;
      }
      const wait =
        verdict.afterMs !== undefined
          ? Math.min(policy.maxRetryAfterMs, verdict.afterMs) + Math.round(Math.random() * policy.baseDelayMs)
          : backoffDelay(attempt, policy);
      options.onRetry?.(error, attempt, wait);
      await delay(wait, signal);
    }
  }
}
