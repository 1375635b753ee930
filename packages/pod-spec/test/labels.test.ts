import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '@podrun/core';
import {
  identityAnnotations,
  identityLabels,
  identitySelector,
  isValidLabelValue,
  sanitizeLabelValue,
} from '@podrun/pod-spec';
import type { V1Pod } from '@kubernetes/client-node';
import { build, identity, issuesOf } from './support/fixtures.js';
import { expectValidLabelValue } from './support/valid-pod.js';

/** Deterministic pseudo-random strings (seeded), so a failure reproduces. */
function* strings(seed: number, count: number): Generator<string> {
  const alphabet = 'aZ09-_. /:@é漢\u{1F600}';
  let state = seed >>> 0;
  // mulberry32
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  for (let n = 0; n < count; n++) {
    const length = next() % 120;
    const chars = [...alphabet];
    let s = '';
    for (let i = 0; i < length; i++) s += chars[next() % chars.length];
    yield s;
  }
}

function matches(selector: string, pod: V1Pod): boolean {
  return selector.split(',').every((term) => {
    const [key, value] = term.split('=') as [string, string];
    return pod.metadata!.labels![key] === value;
  });
}

describe('sanitizeLabelValue', () => {
  it('keeps valid values as they are (empty included)', () => {
    for (const v of ['', 'a', 'company.team', 'Abc_1-2.3', 'x'.repeat(63)]) expect(sanitizeLabelValue(v)).toBe(v);
  });

  it('shortens long values with a hash: valid, <= 63, readable prefix', () => {
    const long = 'etl-'.repeat(40);
    const out = sanitizeLabelValue(long);
    expectValidLabelValue(out);
    expect(out.startsWith('etl-etl-')).toBe(true);
    expect(out).toMatch(/-[0-9a-f]{10}$/);
  });

  it('keeps long values with a shared prefix distinct', () => {
    const a = 'x'.repeat(80) + 'a';
    const b = 'x'.repeat(80) + 'b';
    expect(sanitizeLabelValue(a)).not.toBe(sanitizeLabelValue(b));
    expect(sanitizeLabelValue(a)).toBe(sanitizeLabelValue(a));
  });

  it('replaces disallowed characters and edges, staying distinct from near-identical inputs', () => {
    const inputs = ['a b', 'a/b', 'a:b', '-ab', 'ab-', '.ab', 'é', '漢字', '\u{1F600}', ' ', 'a  b'];
    const outputs = inputs.map(sanitizeLabelValue);
    outputs.forEach(expectValidLabelValue);
    expect(new Set(outputs).size).toBe(inputs.length);
    expect(outputs).not.toContain('a_b');
    expect(sanitizeLabelValue('a b')).toMatch(/^a-b-[0-9a-f]{10}$/);
  });

  it('maps 2000 random strings to valid values, injectively', () => {
    const seen = new Map<string, string>();
    const inputs = new Set(strings(42, 2000));
    for (const input of inputs) {
      const out = sanitizeLabelValue(input);
      expect(isValidLabelValue(out)).toBe(true);
      expectValidLabelValue(out);
      const previous = seen.get(out);
      if (previous !== undefined) expect(previous).toBe(input);
      seen.set(out, input);
    }
    expect(inputs.size).toBeGreaterThan(1900);
    expect(seen.size).toBe(inputs.size);
  });
});

describe('identity labels, annotations and selector', () => {
  const weird = {
    namespace: 'company.team.' + 'sub.'.repeat(20),
    flowId: 'flow with spaces',
    taskId: '_leading',
    executionId: 'E'.repeat(70),
    taskRunId: 'run/1:2',
    attempt: 3,
  };

  it('labels every identity field under podrun.io/, valid even for awkward values', () => {
    const labels = identityLabels(weird);
    expect(Object.keys(labels).sort()).toEqual([
      'app.kubernetes.io/managed-by',
      'podrun.io/execution-id',
      'podrun.io/flow-id',
      'podrun.io/namespace',
      'podrun.io/task-id',
      'podrun.io/taskrun-attempt',
      'podrun.io/taskrun-id',
    ]);
    Object.values(labels).forEach(expectValidLabelValue);
    expect(labels['podrun.io/taskrun-attempt']).toBe('3');
  });

  it('keeps the full values in annotations', () => {
    expect(identityAnnotations(weird)).toMatchObject({
      'podrun.io/namespace': weird.namespace,
      'podrun.io/flow-id': 'flow with spaces',
      'podrun.io/execution-id': weird.executionId,
      'podrun.io/taskrun-id': 'run/1:2',
    });
    const pod = build({ identity: weird });
    expect(pod.metadata!.annotations!['podrun.io/execution-id']).toBe(weird.executionId);
    expect(pod.metadata!.labels!['podrun.io/execution-id']).not.toBe(weird.executionId);
  });

  it('selects the pod of a task run (any attempt, or one attempt)', () => {
    const pod = build({ identity: weird });
    expect(matches(identitySelector(weird), pod)).toBe(true);
    expect(identitySelector(weird)).not.toContain('taskrun-attempt');
    expect(matches(identitySelector(weird, { attempt: 3 }), pod)).toBe(true);
    expect(matches(identitySelector(weird, { attempt: 2 }), pod)).toBe(false);
    expect(matches(identitySelector({ ...weird, taskRunId: 'run/1:3' }), pod)).toBe(false);
    expect(identitySelector(identity)).toBe(
      'app.kubernetes.io/managed-by=podrun,podrun.io/namespace=company.team,podrun.io/flow-id=new-shell,' +
        `podrun.io/task-id=shell,podrun.io/execution-id=${identity.executionId},podrun.io/taskrun-id=${identity.taskRunId}`,
    );
  });

  it('throws a task error for an unusable identity', () => {
    expect(issuesOf(() => identityLabels({ ...identity, flowId: '' }), ErrorCodes.TASK_INVALID)).toEqual([
      'identity.flowId',
    ]);
  });
});

describe('user labels', () => {
  it('adds them, values made valid, identity labels alongside', () => {
    const pod = build({ config: { labels: { team: 'data', 'example.com/cost-center': 'R&D 42' } } });
    const labels = pod.metadata!.labels!;
    expect(labels.team).toBe('data');
    expect(labels['example.com/cost-center']).toBe(sanitizeLabelValue('R&D 42'));
    expect(labels['podrun.io/flow-id']).toBe('new-shell');
  });

  it('lets identity win over a user label on clash (managed-by)', () => {
    const pod = build({ config: { labels: { 'app.kubernetes.io/managed-by': 'someone-else' } } });
    expect(pod.metadata!.labels!['app.kubernetes.io/managed-by']).toBe('podrun');
  });

  it('refuses the reserved podrun.io/ prefix and invalid keys, with their paths', () => {
    const paths = issuesOf(
      () => build({ config: { labels: { 'podrun.io/flow-id': 'x', 'bad key': 'x', ['a'.repeat(64)]: 'x' } } }),
      ErrorCodes.CONFIG_INVALID,
    );
    expect(paths).toEqual([
      'taskRunner.labels.podrun.io/flow-id',
      'taskRunner.labels.bad key',
      `taskRunner.labels.${'a'.repeat(64)}`,
    ]);
  });
});
