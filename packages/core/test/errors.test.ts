import { describe, expect, it } from 'vitest';
import type * as Core from '@podrun/core';
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

describe('errors from another copy of @podrun/core', () => {
  it('are recognised by instanceof and isPodrunError, class by class', async () => {
    // A second module instance, as a bundled CLI and a separately installed strategy each have.
    const copy = '../dist/errors.js?copy';
    const other = (await import(/* @vite-ignore */ copy)) as typeof Core;
    const { PodrunError, TransferError, UnsafePathError } = await import('@podrun/core');
    expect(other.PodrunError).not.toBe(PodrunError);
    const foreign = new other.UnsafePathError('../x', 'escapes the work directory');
    expect(foreign).toBeInstanceOf(UnsafePathError);
    expect(foreign).toBeInstanceOf(TransferError);
    expect(foreign).toBeInstanceOf(PodrunError);
    expect(foreign).not.toBeInstanceOf(ConfigError);
    expect(isPodrunError(foreign, ErrorCodes.UNSAFE_PATH)).toBe(true);
    expect(new other.ConfigError([{ path: 'a', message: 'b' }])).toBeInstanceOf(ConfigError);
    expect(new Error('plain')).not.toBeInstanceOf(PodrunError);
    expect(null as unknown).not.toBeInstanceOf(PodrunError);
  });
});
