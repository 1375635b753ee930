// Every failure is recognised from the shared watch and reported at once with its reason (not
// after a timeout), and the pod is deleted (delete=true), also on timeout and kill.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, DeadlineExceededError, ErrorCodes, PodFailedError, type Task } from '@podrun/core';
import { MAIN_CONTAINER } from '@podrun/pod-spec';
import { createKubernetesRunner, type KubernetesRunnerOptions } from '@podrun/kubernetes-runner';
import { deletedOrGone, testCluster, type TestCluster } from './support/cluster.js';
import { identityFor, testContext, type TestContext } from './support/context.js';

let env: TestCluster;
beforeAll(async () => {
  env = await testCluster();
});
afterAll(async () => {
  await env?.stop();
});

function start(
  label: string,
  task: Task,
  config: Record<string, unknown> = {},
  options: Partial<KubernetesRunnerOptions> = {},
) {
  const runner = createKubernetesRunner({
    kube: env.kube,
    config: env.config({ imagePullGracePeriod: 'PT0.5S', ...config }),
    ...options,
  });
  const ctx = testContext(identityFor(label), join(env.dir, label));
  const controller = new AbortController();
  const outcome = runner.run(task, ctx, controller.signal).then(
    (result) => ({ result, error: undefined }),
    (error: unknown) => ({ result: undefined, error }),
  );
  return { ctx, controller, outcome };
}

async function failure(run: ReturnType<typeof start>): Promise<unknown> {
  const { result, error } = await run.outcome;
  expect(result).toBeUndefined();
  return error;
}

const sleeper: Task = { commands: ['echo started', 'sleep 120'], containerImage: 'busybox' };

async function running(ctx: TestContext): Promise<string> {
  await ctx.waitForLine('started');
  return ctx.podName()!;
}

describe('fail fast', () => {
  it('an image that cannot be pulled: ImagePullFailed with the pod events', async () => {
    const run = start('pull', { commands: ['true'], containerImage: 'no-such-registry.example/nope:1' });
    const error = await failure(run);
    expect(error).toBeInstanceOf(PodFailedError);
    expect((error as PodFailedError).reason).toBe('ImagePullFailed');
    expect((error as PodFailedError).events.length).toBeGreaterThan(0);
    expect(await deletedOrGone(env.kube, run.ctx.podName())).toBe(true);
  });

  it('honours imagePullGracePeriod from the configuration: PT0S fails at the first pull error', async () => {
    // The failure comes from the first watch event showing ErrImagePull. Were the setting ignored,
    // the 30 s default would let the 20 s waitUntilRunning deadline fire first (a different error).
    const run = start(
      'pull-now',
      { commands: ['true'], containerImage: 'no-such-registry.example/now:1' },
      { imagePullGracePeriod: 'PT0S', waitUntilRunning: 'PT20S' },
    );
    const error = await failure(run);
    expect(error).toBeInstanceOf(PodFailedError);
    expect((error as PodFailedError).reason).toBe('ImagePullFailed');
    expect(await deletedOrGone(env.kube, run.ctx.podName())).toBe(true);
  });

  it('an unschedulable pod with failOnUnschedulable: Unschedulable at once', async () => {
    const run = start(
      'unsched',
      { commands: ['true'], containerImage: 'busybox' },
      { nodeSelector: { disktype: 'ssd-nowhere' }, failOnUnschedulable: true },
    );
    const error = await failure(run);
    expect((error as PodFailedError).reason).toBe('Unschedulable');
    expect(await deletedOrGone(env.kube, run.ctx.podName())).toBe(true);
  });

  it('an unschedulable pod no scale-up can help (NotTriggerScaleUp): Unschedulable with the reason', async () => {
    env.cluster.faults.autoscaler('no-scale-up');
    try {
      const run = start(
        'noscale',
        { commands: ['true'], containerImage: 'busybox' },
        {
          nodeSelector: { disktype: 'ssd-nowhere' },
        },
      );
      const error = await failure(run);
      expect((error as PodFailedError).reason).toBe('Unschedulable');
      expect((error as PodFailedError).message).toContain("cluster-autoscaler: pod didn't trigger scale-up");
      expect(run.ctx.notices.some((n) => n.includes('waiting for a node: 0/1 nodes are available'))).toBe(true);
      expect(await deletedOrGone(env.kube, run.ctx.podName())).toBe(true);
    } finally {
      env.cluster.faults.autoscaler('off');
    }
  });

  it('waits through Unschedulable while an autoscaler adds a node, then runs', async () => {
    env.cluster.faults.stopScheduling();
    env.cluster.faults.autoscaler('scale-up');
    try {
      const run = start('scaleup', { commands: ['echo scheduled at last'], containerImage: 'busybox' });
      await run.ctx.waitForNotice('waiting for a node: 0/1 nodes are available: 1 node(s) were unschedulable');
      await run.ctx.waitForNotice('the cluster-autoscaler is adding a node: pod triggered scale-up');
      // The new node "joins".
      env.cluster.faults.resumeScheduling();
      const { result, error } = await run.outcome;
      expect(error).toBeUndefined();
      expect(result?.exitCode).toBe(0);
      expect(run.ctx.texts()).toEqual(['scheduled at last']);
    } finally {
      env.cluster.faults.resumeScheduling();
      env.cluster.faults.autoscaler('off');
    }
  });

  it('a container referring to a missing secret: CreateContainerConfigError', async () => {
    const run = start(
      'config',
      { commands: ['true'], containerImage: 'busybox' },
      {
        containerSpec: {
          env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'missing-secret', key: 'token' } } }],
        },
      },
    );
    const error = await failure(run);
    expect((error as PodFailedError).reason).toBe('CreateContainerConfigError');
  });

  it("a failing init container: InitContainerFailed, with that container's log", async () => {
    const run = start(
      'init',
      { commands: ['true'], containerImage: 'busybox' },
      {
        podSpec: {
          initContainers: [{ name: 'setup', image: 'busybox', command: ['sh', '-c', 'echo setup broke; exit 3'] }],
        },
      },
    );
    const error = await failure(run);
    expect((error as PodFailedError).reason).toBe('InitContainerFailed');
    expect(run.ctx.texts('setup')).toContain('setup broke');
    expect(await deletedOrGone(env.kube, run.ctx.podName())).toBe(true);
  });

  it('an evicted pod: Evicted', async () => {
    const run = start('evict', sleeper);
    env.cluster.faults.evict('default', await running(run.ctx), 'node pressure');
    const error = await failure(run);
    expect((error as PodFailedError).reason).toBe('Evicted');
  });

  it('an OOM-killed main container: OOMKilled, with the lines logged before', async () => {
    const run = start('oom', sleeper);
    env.cluster.faults.oomKill('default', await running(run.ctx), MAIN_CONTAINER);
    const error = await failure(run);
    expect((error as PodFailedError).reason).toBe('OOMKilled');
    expect(run.ctx.texts()).toEqual(['started']);
  });

  it('a pod deleted by someone else: PodDeleted', async () => {
    const run = start('deleted', sleeper);
    await env.kube.deletePod('default', await running(run.ctx), { gracePeriodSeconds: 0 });
    const error = await failure(run);
    expect(error).toBeInstanceOf(PodFailedError);
    expect((error as PodFailedError).code).toBe(ErrorCodes.POD_DELETED);
  });
});

describe('deadlines and kill', () => {
  it('the task timeout wins over waitUntilCompletion and deletes the pod', async () => {
    const run = start('timeout', { ...sleeper, timeoutMs: 1500 }, { waitUntilCompletion: 'PT1H' });
    const error = await failure(run);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as DeadlineExceededError).deadline).toBe('timeout');
    expect(run.ctx.texts()).toContain('started');
    expect(await deletedOrGone(env.kube, run.ctx.podName())).toBe(true);
  });

  it('waitUntilRunning is one deadline and says what the pod was doing', async () => {
    const run = start(
      'running',
      { commands: ['true'], containerImage: 'no-such-registry.example/slow:1' },
      { waitUntilRunning: 'PT2S', imagePullGracePeriod: 'PT1H' },
    );
    const error = await failure(run);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as DeadlineExceededError).deadline).toBe('waitUntilRunning');
    expect((error as Error).message).toMatch(/ErrImagePull|ImagePullBackOff/);
    expect(await deletedOrGone(env.kube, run.ctx.podName())).toBe(true);
  });

  it('a kill deletes the pod at once and rejects with CancelledError', async () => {
    const run = start('kill', sleeper);
    const name = await running(run.ctx);
    run.controller.abort();
    const error = await failure(run);
    expect(error).toBeInstanceOf(CancelledError);
    expect(await deletedOrGone(env.kube, name)).toBe(true);
  });

  it('a non-zero exit is a result, and the vars printed before it survive', async () => {
    const run = start('exit', {
      commands: [`echo '::{"outputs":{"rows":42,"name":"a  b"}}::'`, 'echo done', 'exit 3'],
      containerImage: 'busybox',
    });
    const { result, error } = await run.outcome;
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ exitCode: 3, vars: { rows: 42, name: 'a  b' } });
    expect(run.ctx.texts()).toEqual(['done']);
  });
});
