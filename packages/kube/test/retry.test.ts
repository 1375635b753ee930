// Which failures are transient for which kind of call (the waits are core's backoff, tested there).
import { describe, expect, it } from 'vitest';
import { KubeApiError } from '@podrun/core';
import { retryable } from '../src/http/retry.js';

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
