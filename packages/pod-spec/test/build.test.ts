import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '@podrun/core';
import { buildPod } from '@podrun/pod-spec';
import { build, config, envOf, identity, issuesOf, main, paths, task } from './support/fixtures.js';

describe('buildPod defaults (the reference Hello World task)', () => {
  const pod = build();
  const spec = pod.spec!;

  it('is a v1 Pod in the configured namespace with a readable unique name', () => {
    expect(pod.apiVersion).toBe('v1');
    expect(pod.kind).toBe('Pod');
    expect(pod.metadata!.name).toBe('new-shell-shell-abc12345');
    expect(pod.metadata!.namespace).toBe('default');
  });

  it('runs one main container with the task image, pull policy Always and the commands', () => {
    expect(spec.containers).toHaveLength(1);
    const c = spec.containers[0]!;
    expect(c.name).toBe('main');
    expect(c.image).toBe('ubuntu:24.04');
    expect(c.imagePullPolicy).toBe('Always');
    expect(c.command).toEqual(['/bin/sh', '-c', 'echo "Hello World"']);
    expect(c.args).toBeUndefined();
    expect(c.workingDir).toBe('/kestra/working-dir');
    expect(c.resources).toBeUndefined();
    expect(c.volumeMounts).toBeUndefined();
  });

  it('sets WORKING_DIR and OUTPUT_DIR from the paths', () => {
    expect(main(pod).env).toEqual([
      { name: 'WORKING_DIR', value: '/kestra/working-dir' },
      { name: 'OUTPUT_DIR', value: '/kestra/working-dir/3fa2c1' },
    ]);
  });

  it('never restarts, has a cluster-side deadline, and adds nothing the task does not need', () => {
    expect(spec.restartPolicy).toBe('Never');
    // PT1H run + PT10M default waitUntilRunning + 5 min transfer margin.
    expect(spec.activeDeadlineSeconds).toBe(3600 + 600 + 300);
    expect(spec.initContainers).toBeUndefined();
    expect(spec.volumes).toBeUndefined();
    expect(spec.nodeSelector).toBeUndefined();
    expect(spec.serviceAccountName).toBeUndefined();
  });

  it('carries identity labels, full identity annotations and main as default container', () => {
    expect(pod.metadata!.labels).toEqual({
      'app.kubernetes.io/managed-by': 'podrun',
      'podrun.io/namespace': 'company.team',
      'podrun.io/flow-id': 'new-shell',
      'podrun.io/task-id': 'shell',
      'podrun.io/execution-id': identity.executionId,
      'podrun.io/taskrun-id': identity.taskRunId,
      'podrun.io/taskrun-attempt': '1',
    });
    expect(pod.metadata!.annotations).toMatchObject({
      'kubectl.kubernetes.io/default-container': 'main',
      'podrun.io/taskrun-id': identity.taskRunId,
      'podrun.io/taskrun-attempt': '1',
    });
  });

  it("adds the reference's kestra.io labels only when referenceLabels asks for them", () => {
    expect(Object.keys(pod.metadata!.labels!).filter((k) => k.startsWith('kestra.io/'))).toEqual([]);
    const labelled = buildPod({
      task: task(),
      config: config({ referenceLabels: true }),
      identity,
      paths,
      contribution: {},
    });
    expect(labelled.metadata!.labels).toMatchObject({
      'kestra.io/namespace': 'company.team',
      'kestra.io/flow-id': 'new-shell',
      'kestra.io/task-id': 'shell',
      'kestra.io/execution-id': identity.executionId,
      'kestra.io/taskrun-id': identity.taskRunId,
      'kestra.io/taskrun-attempt': '0',
      'podrun.io/taskrun-attempt': '1',
    });
  });

  it('is a pure function: same input, same pod; inputs untouched', () => {
    const input = { task: task({ env: { A: '1' } }), config: config({ labels: { team: 'data' } }), identity, paths };
    const before = structuredClone(input);
    const a = buildPod({ ...input, contribution: {}, nameSuffix: 'x1' });
    const b = buildPod({ ...input, contribution: {}, nameSuffix: 'x1' });
    expect(a).toEqual(b);
    expect(input).toEqual(before);
  });
});

describe('runner properties pod-spec honours', () => {
  it.each([
    ['ALWAYS', 'Always'],
    ['IF_NOT_PRESENT', 'IfNotPresent'],
    ['NEVER', 'Never'],
  ] as const)('pullPolicy %s -> imagePullPolicy %s', (pullPolicy, expected) => {
    expect(main(build({ config: { pullPolicy } })).imagePullPolicy).toBe(expected);
  });

  it('rejects an unknown pullPolicy', () => {
    const paths = issuesOf(() => build({ config: { pullPolicy: 'SOMETIMES' as never } }), ErrorCodes.CONFIG_INVALID);
    expect(paths).toEqual(['taskRunner.pullPolicy']);
  });

  it('maps resources request/limit to the main container requests/limits', () => {
    const pod = build({
      config: { resources: { request: { cpu: '250m', memory: '64Mi' }, limit: { cpu: 2, memory: '1Gi' } } },
    });
    expect(main(pod).resources).toEqual({
      requests: { cpu: '250m', memory: '64Mi' },
      limits: { cpu: '2', memory: '1Gi' },
    });
  });

  it('sets only the resource sides that are configured', () => {
    expect(main(build({ config: { resources: { limit: { memory: '512Mi' } } } })).resources).toEqual({
      limits: { memory: '512Mi' },
    });
    expect(main(build({ config: { resources: {} } })).resources).toBeUndefined();
  });

  it('rejects resource quantities Kubernetes would not parse, with their paths', () => {
    const paths = issuesOf(
      () => build({ config: { resources: { request: { cpu: 'two' }, limit: { memory: '1 GB' } } } }),
      ErrorCodes.CONFIG_INVALID,
    );
    expect(paths).toEqual(['taskRunner.resources.request.cpu', 'taskRunner.resources.limit.memory']);
  });

  it('sets nodeSelector and serviceAccountName', () => {
    const pod = build({
      config: { nodeSelector: { 'kubernetes.io/arch': 'amd64', pool: 'batch' }, serviceAccountName: 'task-runner' },
    });
    expect(pod.spec!.nodeSelector).toEqual({ 'kubernetes.io/arch': 'amd64', pool: 'batch' });
    expect(pod.spec!.serviceAccountName).toBe('task-runner');
  });

  it('rejects an invalid nodeSelector (never rewritten: it must match node labels exactly)', () => {
    const paths = issuesOf(
      () => build({ config: { nodeSelector: { pool: 'batch jobs', 'bad key!': 'x' } } }),
      ErrorCodes.CONFIG_INVALID,
    );
    expect(paths).toEqual(['taskRunner.nodeSelector.pool', 'taskRunner.nodeSelector.bad key!']);
  });

  it('rejects invalid namespace and serviceAccountName', () => {
    const paths = issuesOf(
      () => build({ config: { namespace: 'Team_A', serviceAccountName: 'Runner!' } }),
      ErrorCodes.CONFIG_INVALID,
    );
    expect(paths).toEqual(['taskRunner.namespace', 'taskRunner.serviceAccountName']);
  });

  it('derives activeDeadlineSeconds from waitUntilCompletion, rounding up', () => {
    expect(build({ config: { waitUntilCompletion: 60_000 } }).spec!.activeDeadlineSeconds).toBe(60 + 600 + 300);
    expect(build({ config: { waitUntilCompletion: 1_500 } }).spec!.activeDeadlineSeconds).toBe(902);
  });

  it("lets the task's timeout win over waitUntilCompletion", () => {
    const pod = build({ config: { waitUntilCompletion: 3_600_000 }, task: { timeoutMs: 30_000 } });
    expect(pod.spec!.activeDeadlineSeconds).toBe(30 + 600 + 300);
  });

  it('uses waitUntilRunning in the margin when given', () => {
    const pod = build({ config: { waitUntilCompletion: 60_000, waitUntilRunning: 120_000 } });
    expect(pod.spec!.activeDeadlineSeconds).toBe(60 + 120 + 300);
  });

  it('rejects non-positive durations', () => {
    expect(issuesOf(() => build({ config: { waitUntilCompletion: 0 } }), ErrorCodes.CONFIG_INVALID)).toEqual([
      'taskRunner.waitUntilCompletion',
    ]);
    expect(issuesOf(() => build({ task: { timeoutMs: -1 } }), ErrorCodes.TASK_INVALID)).toEqual(['task.timeoutMs']);
  });
});

describe('task checks', () => {
  it('requires containerImage, with a task error at its path', () => {
    expect(issuesOf(() => build({ task: { containerImage: undefined } }), ErrorCodes.TASK_INVALID)).toEqual([
      'task.containerImage',
    ]);
    expect(issuesOf(() => build({ task: { containerImage: '  ' } }), ErrorCodes.TASK_INVALID)).toEqual([
      'task.containerImage',
    ]);
  });

  it('requires at least one command', () => {
    expect(issuesOf(() => build({ task: { commands: [] } }), ErrorCodes.TASK_INVALID)).toEqual(['task.commands']);
  });

  it('puts the task env first, in order, then WORKING_DIR and OUTPUT_DIR', () => {
    const env = main(build({ task: { env: { B: '2', A: 'x y', N: 3 as never } } })).env!;
    expect(env.map((e) => e.name)).toEqual(['B', 'A', 'N', 'WORKING_DIR', 'OUTPUT_DIR']);
    expect(envOf(main(build({ task: { env: { A: 'x y' } } }))).A).toBe('x y');
    expect(env[2]).toEqual({ name: 'N', value: '3' });
  });

  it("refuses task env that would replace podrun's WORKING_DIR / OUTPUT_DIR", () => {
    const paths = issuesOf(
      () => build({ task: { env: { WORKING_DIR: '/tmp', OUTPUT_DIR: '/o' } } }),
      ErrorCodes.TASK_INVALID,
    );
    expect(paths).toEqual(['task.env.WORKING_DIR', 'task.env.OUTPUT_DIR']);
  });

  it('reports every problem at once, with the caller-chosen paths; a task problem sets the code', () => {
    const paths = issuesOf(
      () =>
        build({
          configPath: 'tasks[0].taskRunner',
          taskPath: 'tasks[0]',
          task: { containerImage: undefined },
          config: { namespace: 'NOPE', pullPolicy: 'X' as never },
        }),
      ErrorCodes.TASK_INVALID,
    );
    expect(paths).toEqual([
      'tasks[0].containerImage',
      'tasks[0].taskRunner.namespace',
      'tasks[0].taskRunner.pullPolicy',
    ]);
  });

  it('rejects a broken identity', () => {
    const paths = issuesOf(
      () => build({ identity: { ...identity, taskRunId: '', attempt: 0 } }),
      ErrorCodes.TASK_INVALID,
    );
    expect(paths).toEqual(['identity.taskRunId', 'identity.attempt']);
  });
});
