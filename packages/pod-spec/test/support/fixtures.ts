import type { PodContribution, PodPaths, Task, TaskRunIdentity } from '@podrun/core';
import { isPodrunError } from '@podrun/core';
import type { ConfigError, ErrorCode } from '@podrun/core';
import { buildPod } from '@podrun/pod-spec';
import type { BuildPodInput, PodSpecConfig } from '@podrun/pod-spec';
import type { V1Pod } from '@kubernetes/client-node';
import { expect } from 'vitest';
import { expectValidPod } from './valid-pod.js';

export const identity: TaskRunIdentity = {
  namespace: 'company.team',
  flowId: 'new-shell',
  taskId: 'shell',
  executionId: '5WbNcUMmAq4KQzAj0SGLzx',
  taskRunId: '2hG8VhqSd4aA0zvdRUoiMc',
  attempt: 1,
};

export const paths: PodPaths = {
  root: '/kestra',
  workingDir: '/kestra/working-dir',
  outputDir: '/kestra/working-dir/3fa2c1',
};

/** The reference's defaults, parsed (durations in ms). */
export function config(overrides: Partial<PodSpecConfig> = {}): PodSpecConfig {
  return {
    namespace: 'default',
    pullPolicy: 'ALWAYS',
    fileSidecar: { image: 'busybox' },
    waitUntilCompletion: 3_600_000,
    ...overrides,
  };
}

export function task(overrides: Partial<Task> = {}): Task {
  return { commands: ['echo "Hello World"'], containerImage: 'ubuntu:24.04', ...overrides };
}

export interface BuildOverrides extends Partial<Omit<BuildPodInput, 'config' | 'task'>> {
  config?: Partial<PodSpecConfig>;
  task?: Partial<Task>;
  contribution?: PodContribution;
}

/** Builds with fixtures and validates EVERY pod against the official schema before returning it. */
export function build(overrides: BuildOverrides = {}): V1Pod {
  const pod = buildPod({
    identity,
    paths,
    contribution: {},
    nameSuffix: 'abc12345',
    ...overrides,
    config: config(overrides.config),
    task: task(overrides.task),
  });
  expectValidPod(pod);
  return pod;
}

/** Runs `fn`, expects a ConfigError with `code`, returns its issue paths. */
export function issuesOf(fn: () => unknown, code: ErrorCode): string[] {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(isPodrunError(caught, code)).toBe(true);
  expect((caught as Error).name).toBe('ConfigError');
  return (caught as ConfigError).issues.map((i) => i.path);
}

export function main(pod: V1Pod) {
  return pod.spec!.containers.find((c) => c.name === 'main')!;
}

export function envOf(container: { env?: { name: string; value?: string }[] }): Record<string, string | undefined> {
  return Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
}
