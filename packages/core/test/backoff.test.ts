// The one backoff: wait growth and jitter bounds, the attempt and time budgets, Retry-After, and
// retry() giving up, retrying and stopping on abort (real timers of a few milliseconds).
import { describe, expect, it } from 'vitest';
import { RETRY_POLICIES, backoffDelay, nextRetryDelay, parseRetryAfter, retry, sleep } from '@podrun/core';

const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };

describe('backoffDelay', () => {
  it('grows exponentially with equal jitter between half and the full step, capped', () => {
    expect(backoffDelay(policy, 1, () => 0)).toBe(50);
    expect(backoffDelay(policy, 1, () => 1)).toBe(100);
    expect(backoffDelay(policy, 3, () => 0)).toBe(200);
    expect(backoffDelay(policy, 3, () => 1)).toBe(400);
    expect(backoffDelay(policy, 10, () => 1)).toBe(1000);
  });
  it('is exact without jitter, follows the factor, and uniform stays within its range', () => {
    expect(backoffDelay({ ...policy, jitter: 'none', factor: 3 }, 3, () => 0.5)).toBe(900);
    expect(backoffDelay({ ...policy, jitter: 'none', factor: 1 }, 7)).toBe(100);
    for (const r of [0, 0.5, 1]) {
      const wait = backoffDelay({ ...policy, jitter: 'uniform' }, 4, () => r);
      expect(wait).toBeGreaterThanOrEqual(100);
      expect(wait).toBeLessThanOrEqual(1000);
    }
  });
});

describe('nextRetryDelay', () => {
  it('stops at maxAttempts and when the wait would overrun the budget', () => {
    expect(nextRetryDelay(policy, 4, 0, { random: () => 1 })).toBe(800);
    expect(nextRetryDelay(policy, 5, 0)).toBeUndefined();
    expect(nextRetryDelay({ ...policy, budgetMs: 1000 }, 1, 950, { random: () => 1 })).toBeUndefined();
    expect(nextRetryDelay({ ...policy, budgetMs: 1000 }, 1, 900, { random: () => 1 })).toBe(100);
  });
  it("takes a server's Retry-After, capped, plus a little jitter", () => {
    expect(nextRetryDelay({ ...policy, maxRetryAfterMs: 5000 }, 1, 0, { retryAfterMs: 3000, random: () => 0 })).toBe(
      3000,
    );
    expect(nextRetryDelay({ ...policy, maxRetryAfterMs: 5000 }, 1, 0, { retryAfterMs: 90_000, random: () => 1 })).toBe(
      5100,
    );
  });
  it('keeps every default policy in one table', () => {
    expect(Object.keys(RETRY_POLICIES).sort()).toEqual([
      'kubeApi',
      'logReconnect',
      'transferStream',
      'workerGroupWait',
    ]);
  });
});

describe('parseRetryAfter', () => {
  it('parses seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('retry', () => {
  const fast = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 };

  it('retries what classify allows until it succeeds, reporting each wait', async () => {
    const waits: number[] = [];
    const result = await retry(
      async (attempt) => {
        if (attempt < 3) throw new Error(`fail ${attempt}`);
        return attempt;
      },
      { policy: fast, classify: () => ({ retry: true }), onRetry: (_e, _a, ms) => waits.push(ms) },
    );
    expect(result).toBe(3);
    expect(waits).toHaveLength(2);
  });
  it('gives up with the last error when attempts are spent or the failure is final', async () => {
    let calls = 0;
    const gaveUp: number[] = [];
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error('always');
        },
        { policy: fast, classify: () => ({ retry: true }), onGiveUp: (_e, n) => gaveUp.push(n) },
      ),
    ).rejects.toThrow('always');
    expect(calls).toBe(3);
    expect(gaveUp).toEqual([3]);
    calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error('final');
        },
        { policy: fast, classify: () => ({ retry: false }) },
      ),
    ).rejects.toThrow('final');
    expect(calls).toBe(1);
  });
  it('stops waiting at once when aborted, with the signal reason', async () => {
    const controller = new AbortController();
    const reason = new Error('killed');
    const pending = retry(
      async () => {
        queueMicrotask(() => controller.abort(reason));
        throw new Error('transient');
      },
      {
        policy: { ...fast, baseDelayMs: 60_000, maxDelayMs: 60_000 },
        classify: () => ({ retry: true }),
        signal: controller.signal,
      },
    );
    await expect(pending).rejects.toBe(reason);
    await expect(sleep(60_000, controller.signal)).rejects.toBe(reason);
  });
});
