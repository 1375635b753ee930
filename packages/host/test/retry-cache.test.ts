import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { computeCacheKey, createRetryPolicy, NO_RETRY } from '@podrun/host';
import type { InputTree } from '@podrun/core';

const tree = (files: Record<string, string>): InputTree => ({
  entries: Object.entries(files).map(([path, content]) => ({
    path,
    size: content.length,
    open: () => Readable.from([Buffer.from(content)]),
  })),
});

describe('retry policies', () => {
  it('constant: same interval until maxAttempts (the first attempt counts)', () => {
    const p = createRetryPolicy({
      type: 'constant',
      interval: 2000,
      maxAttempts: 3,
      behavior: 'RETRY_FAILED_TASK',
      warningOnRetry: false,
    });
    expect(p.next(1, 0)).toEqual({ retry: true, delayMs: 2000 });
    expect(p.next(2, 0)).toEqual({ retry: true, delayMs: 2000 });
    expect(p.next(3, 0)).toEqual({ retry: false });
  });
  it('exponential: grows by delayFactor, capped at maxInterval', () => {
    const p = createRetryPolicy({
      type: 'exponential',
      interval: 1000,
      maxInterval: 5000,
      delayFactor: 3,
      maxAttempts: 10,
      behavior: 'RETRY_FAILED_TASK',
      warningOnRetry: false,
    });
    expect([1, 2, 3].map((n) => (p.next(n, 0) as { delayMs: number }).delayMs)).toEqual([1000, 3000, 5000]);
  });
  it('random: within [minInterval, maxInterval]', () => {
    const low = createRetryPolicy(
      {
        type: 'random',
        minInterval: 1000,
        maxInterval: 3000,
        maxAttempts: 2,
        behavior: 'RETRY_FAILED_TASK',
        warningOnRetry: false,
      },
      () => 0,
    );
    const high = createRetryPolicy(
      {
        type: 'random',
        minInterval: 1000,
        maxInterval: 3000,
        maxAttempts: 2,
        behavior: 'RETRY_FAILED_TASK',
        warningOnRetry: false,
      },
      () => 0.999,
    );
    expect(low.next(1, 0)).toEqual({ retry: true, delayMs: 1000 });
    expect((high.next(1, 0) as { delayMs: number }).delayMs).toBeLessThanOrEqual(3000);
  });
  it('maxDuration stops retries that would start too late; no policy means one attempt', () => {
    const p = createRetryPolicy({
      type: 'constant',
      interval: 10_000,
      maxDuration: 30_000,
      behavior: 'CREATE_NEW_EXECUTION',
      warningOnRetry: true,
    });
    expect(p.maxAttempts).toBe(Infinity);
    expect(p.next(5, 15_000)).toEqual({ retry: true, delayMs: 10_000 });
    expect(p.next(6, 25_000)).toEqual({ retry: false });
    expect(p.behavior).toBe('CREATE_NEW_EXECUTION');
    expect(NO_RETRY.next(1, 0)).toEqual({ retry: false });
  });
});

describe('cache keys', () => {
  it('depend on the rendered definition and the input contents, not on where inputs came from', async () => {
    const a = await computeCacheKey({
      definition: { commands: ['cp a b'], env: { X: '1', Y: '2' } },
      inputs: tree({ 'a.txt': 'one' }),
    });
    const sameReordered = await computeCacheKey({
      definition: { env: { Y: '2', X: '1' }, commands: ['cp a b'] },
      inputs: tree({ 'a.txt': 'one' }),
    });
    const otherContent = await computeCacheKey({
      definition: { commands: ['cp a b'], env: { X: '1', Y: '2' } },
      inputs: tree({ 'a.txt': 'two' }),
    });
    const otherCommand = await computeCacheKey({
      definition: { commands: ['cp a c'], env: { X: '1', Y: '2' } },
      inputs: tree({ 'a.txt': 'one' }),
    });
    expect(a).toBe(sameReordered);
    expect(a).not.toBe(otherContent);
    expect(a).not.toBe(otherCommand);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });
});
