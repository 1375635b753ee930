// The retry rules as pure functions: which failures are transient for which kind of call, the
// jittered backoff bounds, and Retry-After parsing.
import { describe, expect, it } from 'vitest';
import { KubeApiError } from '@podrun/core';
import { backoffDelay, DEFAULT_RETRY_POLICY, parseRetryAfter, retryable } from '../src/http/retry.js';

const api = (status: number, reason?: string, retryAfterMs?: number) =>
  new KubeApiError('x', { status, reason, details: { retryAfterMs } });
const net = (network: string) => new KubeApiError('x', { details: { network } });

describe('retryable', () => {
  it('retries 429 and refused connections for every call, with the server delay', () => {
    expect(retryable(api(429, 'TooManyRequests', 2000), 'unsafe')).toEqual({ retry: true, afterMs: 2000 });
    expect(retryable(net('not-sent'), 'unsafe').retry).toBe(true);
  });
  it('retries 5xx and dropped connections only for idempotent calls (503 with Retry-After always)', () => {
    expect(retryable(api(500), 'idempotent').retry).toBe(true);
    expect(retryable(api(500), 'unsafe').retry).toBe(false);
    expect(retryable(net('dropped'), 'idempotent').retry).toBe(true);
    expect(retryable(net('dropped'), 'unsafe').retry).toBe(false);
    expect(retryable(api(503, 'ServiceUnavailable', 1000), 'unsafe').retry).toBe(true);
  });
  it('retries 409 Conflict but not 409 AlreadyExists, 4xx, TLS errors or foreign errors', () => {
    expect(retryable(api(409, 'Conflict'), 'unsafe').retry).toBe(true);
    expect(retryable(api(409, 'AlreadyExists'), 'idempotent').retry).toBe(false);
    expect(retryable(api(400), 'idempotent').retry).toBe(false);
    expect(retryable(api(403), 'idempotent').retry).toBe(false);
    expect(retryable(net('tls'), 'idempotent').retry).toBe(false);
    expect(retryable(new Error('x'), 'idempotent').retry).toBe(false);
  });
});

describe('backoff', () => {
  it('grows exponentially with jitter between half and the full step, capped', () => {
    const p = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(1, p, () => 0)).toBe(50);
    expect(backoffDelay(1, p, () => 1)).toBe(100);
    expect(backoffDelay(3, p, () => 0)).toBe(200);
    expect(backoffDelay(3, p, () => 1)).toBe(400);
    expect(backoffDelay(10, p, () => 1)).toBe(1000);
  });
  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
