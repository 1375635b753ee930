import { describe, expect, it } from 'vitest';
import { ConfigError, ErrorCodes, KubeApiError, PodFailedError, isPodrunError } from '@podrun/core';

describe('error hierarchy', () => {
  it('lists every configuration issue with its path', () => {
    const err = new ConfigError([
      { path: 'taskRunner.waitForLogs', message: 'expected an ISO-8601 duration such as PT5S, got "5 seconds"' },
      { path: 'taskRunner.pullPolicy', message: 'expected one of ALWAYS, IF_NOT_PRESENT, NEVER' },
    ]);
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.message).toContain('taskRunner.waitForLogs: expected an ISO-8601 duration');
    expect(err.message).toContain('taskRunner.pullPolicy');
    expect(isPodrunError(err, ErrorCodes.CONFIG_INVALID)).toBe(true);
  });

  it('maps HTTP statuses of API errors to stable codes', () => {
    expect(new KubeApiError('x', { status: 404 }).code).toBe(ErrorCodes.KUBE_NOT_FOUND);
    expect(new KubeApiError('x', { status: 403 }).code).toBe(ErrorCodes.KUBE_FORBIDDEN);
    expect(new KubeApiError('x', { status: 500 }).code).toBe(ErrorCodes.KUBE_API);
  });

  it('appends the pod Warning events to a pod failure', () => {
    const err = new PodFailedError('ImagePullFailed', 'image nope:1 cannot be pulled', {
      component: 'kubernetes-runner',
      events: ['Failed: Failed to pull image "nope:1"'],
    });
    expect(err.message).toMatch(/^\[podrun\] \[kubernetes-runner\] image nope:1/);
    expect(err.message).toContain('Failed to pull image');
    expect(err.details.reason).toBe('ImagePullFailed');
  });
});
