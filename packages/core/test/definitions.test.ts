import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  parseWithSchema,
  retryPolicySchema,
  taskCacheSchema,
  workerGroupSchema,
  type RetryPolicy,
} from '@podrun/core';

const issuesOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
};

describe('retry policies', () => {
  it('parses Constant, Random and Exponential with durations in milliseconds and defaults', () => {
    expect(
      parseWithSchema(retryPolicySchema, {
        type: 'constant',
        interval: 'PT15M',
        maxAttempts: 4,
        maxDuration: 'PT1H',
        warningOnRetry: true,
      }),
    ).toEqual({
      type: 'constant',
      interval: 900_000,
      maxAttempts: 4,
      maxDuration: 3_600_000,
      behavior: 'RETRY_FAILED_TASK',
      warningOnRetry: true,
    } satisfies RetryPolicy);
    expect(
      parseWithSchema(retryPolicySchema, {
        type: 'random',
        minInterval: 'PT1S',
        maxInterval: 'PT5S',
        behavior: 'CREATE_NEW_EXECUTION',
      }),
    ).toEqual({
      type: 'random',
      minInterval: 1_000,
      maxInterval: 5_000,
      behavior: 'CREATE_NEW_EXECUTION',
      warningOnRetry: false,
    } satisfies RetryPolicy);
    expect(
      parseWithSchema(retryPolicySchema, {
        type: 'exponential',
        interval: 'PT1S',
        maxInterval: 'PT1M',
        delayFactor: 1.5,
      }),
    ).toEqual({
      type: 'exponential',
      interval: 1_000,
      maxInterval: 60_000,
      delayFactor: 1.5,
      behavior: 'RETRY_FAILED_TASK',
      warningOnRetry: false,
    } satisfies RetryPolicy);
  });

  it('rejects bad policies with paths', () => {
    const issues = issuesOf(() =>
      parseWithSchema(
        retryPolicySchema,
        { type: 'exponential', interval: 'PT10S', maxInterval: 'PT1S', maxAttempts: 0 },
        { path: 'retry' },
      ),
    );
    expect(issues.map((i) => i.path)).toEqual(['retry.maxInterval', 'retry.maxAttempts']);
    expect(
      issuesOf(() =>
        parseWithSchema(
          retryPolicySchema,
          { type: 'exponential', interval: 'PT10S', maxInterval: 'PT1S' },
          { path: 'retry' },
        ),
      ),
    ).toEqual([{ path: 'retry.maxInterval', message: 'must not be shorter than interval' }]);
    expect(
      issuesOf(() => parseWithSchema(retryPolicySchema, { type: 'random', minInterval: 'PT1S' }, { path: 'retry' })),
    ).toEqual([{ path: 'retry.maxInterval', message: 'is required (expected a string)' }]);
    const unknown = issuesOf(() =>
      parseWithSchema(retryPolicySchema, { type: 'constnt', interval: 'PT1S' }, { path: 'retry' }),
    );
    expect(unknown[0]).toEqual({
      path: 'retry.type',
      message: 'expected one of "constant", "random", "exponential", got "constnt" (did you mean "constant"?)',
    });
    const typo = issuesOf(() =>
      parseWithSchema(retryPolicySchema, { type: 'constant', interval: 'PT1S', maxAttempt: 3 }, { path: 'retry' }),
    );
    expect(typo[0]!.message).toContain('did you mean `maxAttempts`?');
    expect(
      issuesOf(() => parseWithSchema(retryPolicySchema, { type: 'constant', interval: 'PT1S', behavior: 'RETRY' }))[0]!
        .message,
    ).toContain('RETRY_FAILED_TASK, CREATE_NEW_EXECUTION');
  });
});

describe('cache and worker group', () => {
  it('parses a cache (enabled required, ttl a duration)', () => {
    expect(parseWithSchema(taskCacheSchema, { enabled: true, ttl: 'PT1H' })).toEqual({ enabled: true, ttl: 3_600_000 });
    expect(parseWithSchema(taskCacheSchema, { enabled: false })).toEqual({ enabled: false });
    expect(issuesOf(() => parseWithSchema(taskCacheSchema, { ttl: 'PT1H' }, { path: 'taskCache' }))).toEqual([
      { path: 'taskCache.enabled', message: 'is required (expected a boolean)' },
    ]);
  });

  it('parses a worker group with its fallback', () => {
    expect(parseWithSchema(workerGroupSchema, { key: 'gpu', fallback: 'WAIT' })).toEqual({
      key: 'gpu',
      fallback: 'WAIT',
    });
    expect(
      issuesOf(() => parseWithSchema(workerGroupSchema, { key: 'gpu', fallback: 'wait' }, { path: 'workerGroup' }))[0],
    ).toEqual({
      path: 'workerGroup.fallback',
      message: 'expected one of FAIL, WAIT, CANCEL, got "wait" (did you mean WAIT?)',
    });
  });
});
