// Output safety (links never make the runner read outside the working directory) and the
// emulator's faults (dropped watches, expired resourceVersions, 429/503, exec cut mid-transfer)
// not losing a task that could succeed.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, UnsafePathError, type Task } from '@podrun/core';
import { createKubernetesRunner } from '@podrun/kubernetes-runner';
import { deletedOrGone, testCluster, type TestCluster } from './support/cluster.js';
import { identityFor, testContext } from './support/context.js';

let env: TestCluster;
beforeAll(async () => {
  env = await testCluster();
});
afterAll(async () => {
  env?.cluster.faults.clearFailures();
  await env?.stop();
});

function start(label: string, task: Task, config: Record<string, unknown> = {}) {
  const runner = createKubernetesRunner({ kube: env.kube, config: env.config(config) });
  const ctx = testContext(identityFor(label), join(env.dir, label));
  return { ctx, result: runner.run(task, ctx, new AbortController().signal) };
}

describe('output safety', () => {
  it.each([
    ['an output that is a link to a host file', ['ln -s /etc/passwd "$WORKING_DIR/out.txt"'], ['out.txt'], {}],
    [
      'a link escaping the working directory, met by syncWorkingDirectory',
      ['ln -s ../.. "$WORKING_DIR/up"'],
      [],
      { syncWorkingDirectory: true },
    ],
    ['OUTPUT_DIR replaced by a link', ['rmdir "$OUTPUT_DIR"', 'ln -s /etc "$OUTPUT_DIR"'], ['nothing'], {}],
  ])('refuses %s with UnsafePathError and stores nothing', async (_what, commands, outputFiles, config) => {
    const { ctx, result } = start(
      'unsafe',
      { commands, containerImage: 'busybox', outputFiles, enableOutputDirectory: true },
      config,
    );
    const error = await result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafePathError);
    expect((error as UnsafePathError).code).toBe(ErrorCodes.UNSAFE_PATH);
    expect(ctx.stored.size).toBe(0);
    expect(await deletedOrGone(env.kube, ctx.podName())).toBe(true);
  });
});

describe('faults do not lose a task that could succeed', () => {
  const task: Task = {
    commands: [
      'echo started',
      'i=1; while [ $i -le 20 ]; do echo "line $i"; i=$((i+1)); sleep 0.05; done',
      'head -c 3000000 /dev/zero | tr "\\0" x > "$WORKING_DIR/out.txt"',
    ],
    containerImage: 'busybox',
    inputFiles: { 'in.txt': { content: 'in' } },
    outputFiles: ['out.txt'],
  };
  const lines = ['started', ...Array.from({ length: 20 }, (_, i) => `line ${i + 1}`)];

  it('watches dropped and resourceVersions expired mid-run', async () => {
    const { ctx, result } = start('watch-faults', task);
    await ctx.waitForLine('started');
    const watches = (): number => env.cluster.metrics.requestCount({ verb: 'WATCH', resource: 'pods' });
    const lists = (): number => env.cluster.metrics.requestCount({ verb: 'LIST', resource: 'pods' });
    const before = { watches: watches(), lists: lists() };
    env.cluster.faults.dropWatches();
    await ctx.waitForLine('line 5');
    // The dropped watch was opened again from where it stood.
    expect(watches()).toBeGreaterThan(before.watches);
    const afterDrop = { watches: watches(), lists: lists() };
    env.cluster.faults.expireResourceVersions();
    const r = await result;
    // The expired resourceVersion (410) made the shared watch list again, then watch anew.
    expect(lists()).toBeGreaterThan(afterDrop.lists);
    expect(watches()).toBeGreaterThan(afterDrop.watches);
    expect(r.exitCode).toBe(0);
    expect(ctx.texts()).toEqual(lines);
    expect(ctx.stored.get('out.txt')!.size).toBe(3_000_000);
  });

  it('429 and 503 answers on create, log and exec', async () => {
    env.cluster.faults.failNext({ status: 429, retryAfterSeconds: 1, verb: 'create', resource: 'pods' });
    env.cluster.faults.failNext({ status: 503, verb: 'get', resource: 'pods', subresource: 'log' });
    env.cluster.faults.failNext({ status: 503, verb: 'get', resource: 'pods', subresource: 'exec' });
    env.cluster.metrics.reset();
    const { ctx, result } = start('http-faults', task);
    const r = await result;
    // Each fault was served once, and the runner went on past it.
    const answered = (code: number, subresource?: string): number =>
      env.cluster.metrics.requestCount({ code, resource: 'pods', ...(subresource !== undefined && { subresource }) });
    expect(answered(429)).toBe(1);
    expect(answered(503, 'log')).toBe(1);
    expect(answered(503, 'exec')).toBe(1);
    expect(env.cluster.metrics.requestCount({ verb: 'POST', resource: 'pods', code: 201 })).toBe(1);
    expect(r.exitCode).toBe(0);
    expect(ctx.texts()).toEqual(lines);
    expect(ctx.stored.get('out.txt')!.size).toBe(3_000_000);
  });

  it('an exec stream cut in the middle of the output transfer', async () => {
    const { ctx, result } = start('exec-cut', task);
    await ctx.waitForLine('line 20');
    env.cluster.metrics.reset();
    env.cluster.faults.cutExecAfterBytes(1_000_000, 1);
    const r = await result;
    env.cluster.faults.cutExecAfterBytes(undefined);
    expect(r.exitCode).toBe(0);
    // download cut + download retried (no release exec: the pod is deleted anyway)
    expect(env.cluster.metrics.requestCount({ resource: 'pods', subresource: 'exec' })).toBeGreaterThanOrEqual(2);
    expect(ctx.stored.get('out.txt')!.size).toBe(3_000_000);
  });
});
