// The pure parts: failure classification, resume choice, what a task moves.
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { classify, type ClassifyOptions } from '@podrun/kubernetes-runner';
import { chooseResumable } from '../src/resume.js';
import { filesPlan } from '../src/plan.js';

const options = (over: Partial<ClassifyOptions> = {}): ClassifyOptions => ({
  requiredSidecars: new Set(['out-files']),
  pullErrorSince: new Map(),
  imagePullGraceMs: 10_000,
  now: 1_000_000,
  ...over,
});
const status = (name: string, state: V1ContainerStatus['state']): V1ContainerStatus => ({
  name,
  state,
  image: 'x',
  imageID: '',
  ready: false,
  restartCount: 0,
});
const pod = (s: V1Pod['status'], meta: V1Pod['metadata'] = {}): V1Pod => ({
  metadata: { name: 'p', uid: 'u', ...meta },
  status: s,
});

describe('classify', () => {
  it('a non-zero exit of main is a result, not a failure', () => {
    expect(
      classify(
        pod({ phase: 'Failed', containerStatuses: [status('main', { terminated: { exitCode: 3, reason: 'Error' } })] }),
        options(),
      ),
    ).toBeUndefined();
  });

  it('OOMKilled is a failure even with exit code 0', () => {
    expect(
      classify(
        pod({
          phase: 'Running',
          containerStatuses: [status('main', { terminated: { exitCode: 0, reason: 'OOMKilled' } })],
        }),
        options(),
      )?.reason,
    ).toBe('OOMKilled');
  });

  it('image pull errors wait for the grace period; invalid names fail at once', () => {
    const pulling = pod({
      phase: 'Pending',
      containerStatuses: [status('main', { waiting: { reason: 'ImagePullBackOff' } })],
    });
    expect(classify(pulling, options({ pullErrorSince: new Map([['main', 995_000]]) }))).toBeUndefined();
    expect(classify(pulling, options({ pullErrorSince: new Map([['main', 980_000]]) }))?.reason).toBe(
      'ImagePullFailed',
    );
    const invalid = pod({
      phase: 'Pending',
      containerStatuses: [status('main', { waiting: { reason: 'InvalidImageName' } })],
    });
    expect(classify(invalid, options())?.reason).toBe('ImagePullFailed');
  });

  it('recognises the pod-level reasons and the sidecar dying before main', () => {
    expect(classify(pod({ phase: 'Failed', reason: 'DeadlineExceeded' }), options())?.reason).toBe('DeadlineExceeded');
    expect(classify(pod({ phase: 'Failed', reason: 'Evicted', message: 'low memory' }), options())?.reason).toBe(
      'Evicted',
    );
    const unschedulable = pod({
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes' }],
    });
    // A state to wait through, unless asked to fail or the autoscaler says no node can help.
    expect(classify(unschedulable, options())).toBeUndefined();
    expect(classify(unschedulable, { ...options(), failOnUnschedulable: true })?.reason).toBe('Unschedulable');
    expect(classify(unschedulable, { ...options(), noScaleUp: "pod didn't trigger scale-up" })?.message).toContain(
      "cluster-autoscaler: pod didn't trigger scale-up",
    );
    const sidecarDied = pod({
      phase: 'Running',
      containerStatuses: [status('main', { running: {} }), status('out-files', { terminated: { exitCode: 1 } })],
    });
    expect(classify(sidecarDied, options())).toMatchObject({ reason: 'ContainerFailed', container: 'out-files' });
    const initFailed = pod({
      phase: 'Failed',
      initContainerStatuses: [status('init-files', { terminated: { exitCode: 2, reason: 'Error' } })],
    });
    expect(classify(initFailed, options())).toMatchObject({ reason: 'InitContainerFailed', container: 'init-files' });
  });
});

describe('chooseResumable', () => {
  const identity = { namespace: 'n', flowId: 'f', taskId: 't', executionId: 'e', taskRunId: 'r', attempt: 2 };
  const at = (
    name: string,
    phase: string,
    attempt: number,
    created: string,
    extra: Partial<V1Pod['status']> = {},
  ): V1Pod =>
    pod(
      { phase, ...extra },
      {
        name,
        uid: name,
        creationTimestamp: new Date(created),
        labels: { 'podrun.io/taskrun-attempt': String(attempt) },
      },
    );
  const base = { needsOutputs: false, outputsStored: () => false, outputsReadable: () => false };

  it('prefers a finished pod of this attempt, then Running, then Pending, oldest first', () => {
    const done = at('done', 'Succeeded', 2, '2024-01-01T00:00:03Z', {
      containerStatuses: [status('main', { terminated: { exitCode: 0 } })],
    });
    const oldDone = at('old-done', 'Succeeded', 1, '2024-01-01T00:00:00Z', {
      containerStatuses: [status('main', { terminated: { exitCode: 0 } })],
    });
    const running = at('running', 'Running', 1, '2024-01-01T00:00:01Z');
    const pending = at('pending', 'Pending', 2, '2024-01-01T00:00:02Z');
    expect(chooseResumable([pending, running, oldDone, done], identity, base).winner?.metadata?.name).toBe('done');
    expect(chooseResumable([pending, running, oldDone], identity, base).winner?.metadata?.name).toBe('running');
    const choice = chooseResumable([pending, oldDone], identity, base);
    expect(choice.winner?.metadata?.name).toBe('pending');
    expect(choice.losers.map((p) => p.metadata?.name)).toEqual(['old-done']);
  });

  it('prefers the pod recorded in the state, skips pods being deleted and finished pods whose outputs are gone', () => {
    const a = at('a', 'Running', 2, '2024-01-01T00:00:00Z');
    const b = at('b', 'Running', 2, '2024-01-01T00:00:01Z');
    expect(chooseResumable([a, b], identity, { ...base, stateUid: 'b' }).winner?.metadata?.name).toBe('b');
    const deleting = at('c', 'Running', 2, '2024-01-01T00:00:00Z');
    deleting.metadata!.deletionTimestamp = new Date();
    expect(chooseResumable([deleting], identity, base)).toEqual({ winner: undefined, losers: [] });
    const finished = at('d', 'Succeeded', 2, '2024-01-01T00:00:00Z', {
      containerStatuses: [status('main', { terminated: { exitCode: 0 } })],
    });
    expect(chooseResumable([finished], identity, { ...base, needsOutputs: true }).winner).toBeUndefined();
    expect(
      chooseResumable([finished], identity, { ...base, needsOutputs: true, outputsStored: () => true }).winner,
    ).toBe(finished);
  });
});

describe('filesPlan', () => {
  const paths = { root: '/kestra', workingDir: '/kestra/working-dir', outputDir: '/kestra/working-dir/out-1' };
  const identity = { namespace: 'n', flowId: 'f', taskId: 't', executionId: 'e', taskRunId: 'r', attempt: 1 };
  const none = { entries: [] };
  const one = { entries: [{ path: 'a', size: 0, open: () => undefined as never }] };

  it('moves nothing for a task without files', () => {
    expect(filesPlan({ commands: ['echo hi'] }, none, paths, identity, false)).toMatchObject({
      hasInputs: false,
      hasOutputs: false,
    });
  });

  it('collects OUTPUT_DIR when the task could write there, or when asked', () => {
    expect(filesPlan({ commands: ['echo x > "$OUTPUT_DIR/x"'] }, none, paths, identity, false).select.outputDir).toBe(
      true,
    );
    expect(filesPlan({ commands: ['python main.py'] }, one, paths, identity, false)).toMatchObject({
      hasInputs: true,
      hasOutputs: true,
    });
    expect(filesPlan({ commands: ['run'], enableOutputDirectory: true }, none, paths, identity, false).hasOutputs).toBe(
      true,
    );
    expect(
      filesPlan({ commands: ['echo $OUTPUT_DIR'], enableOutputDirectory: false }, none, paths, identity, false)
        .hasOutputs,
    ).toBe(false);
    expect(filesPlan({ commands: ['x'], outputFiles: ['*.csv'] }, none, paths, identity, false).select).toEqual({
      globs: ['*.csv'],
      outputDir: false,
      syncWorkingDirectory: false,
    });
    expect(filesPlan({ commands: ['x'] }, none, paths, identity, true).hasOutputs).toBe(true);
  });
});
