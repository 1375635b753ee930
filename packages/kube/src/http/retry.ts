// Which transient API failures are safe to retry — 429 (Retry-After honoured), 5xx, dropped
// connections — depends on the call (see `retryable`); the waits are core's backoff.
import { CancelledError, KubeApiError, RETRY_POLICIES, retry } from '@podrun/core';
import type { BackoffPolicy } from '@podrun/core';
import { networkFailure } from './errors.js';

/** How hard to retry transient failures: core's backoff policy. */
export type RetryPolicy = BackoffPolicy;

/** Defaults: 6 attempts, 250 ms doubling to 8 s, Retry-After up to 60 s (`RETRY_POLICIES.kubeApi`). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = RETRY_POLICIES.kubeApi;

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
 * Runs `op` until it succeeds, a failure is not transient, or the policy is exhausted (core's
 * `retry` with the Kubernetes classification above).
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
  try {
    return await retry(op, {
      policy,
      ...(signal && { signal }),
      classify: (error) => {
        const verdict = retryable(error, kind);
        return verdict.retry
          ? { retry: true, ...(verdict.afterMs !== undefined && { retryAfterMs: verdict.afterMs }) }
          : { retry: false };
      },
      ...(options.onRetry && { onRetry: options.onRetry }),
      onGiveUp: (error, attempts) => {
        if (error instanceof KubeApiError && attempts > 1) {
          error.details.attempts = attempts;
          error.message += ` (gave up after ${attempts} attempts)`;
        }
      },
    });
  } catch (error) {
    if (signal?.aborted) throw abortReason(signal);
    throw error;
  }
}
