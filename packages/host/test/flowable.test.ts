// Parallel and ForEach on the Process runner: concurrency limits, Kestra's variables and output
// addresses, the failure rule (running siblings finish, nothing new starts), retries per child run
// and resume per child run.
import { writeFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '@podrun/core';
import { parseFlow } from '@podrun/host';
import { processHost } from './support/process-host.js';
import type { ExecutionObserver, HostOptions } from '@podrun/host';

let dir: string;
let meetScript: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podrun-flowable-'));
  // `sh meet.sh DIR ME OTHER...`: leaves the marker ME in DIR, then waits (at most ~10 s) until
  // every other marker exists. Tasks that all get past it ran at the same time.
  meetScript = join(dir, 'meet.sh');
  await writeFile(
    meetScript,
    'where=$1; touch "$where/$2"; shift 2; n=0\nfor m in "$@"; do until [ -e "$where/$m" ]; do n=$((n+1)); [ $n -gt 400 ] && exit 9; sleep 0.025; done; done\n',
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const host = (extra: Partial<HostOptions> = {}) =>
  processHost(dir, { defaultRunner: { type: 'io.podrun.process' }, ...extra });

function recorder() {
  const logs: string[] = [];
  const events: string[] = [];
  const observer: ExecutionObserver = {
    taskQueued: (task) => void events.push(`queued ${task}`),
    taskStarted: (task) => void events.push(`started ${task}`),
    taskLog: (task, line) => void logs.push(`${task}: ${line.text}`),
    taskFinished: (task, record) => void events.push(`finished ${task} ${record.status}`),
  };
  return { logs, events, observer };
}

const meet = (where: string, me: string, others: string[]) => `sh ${meetScript} ${where} ${me} ${others.join(' ')}`;

describe('Parallel', () => {
  it('runs its tasks at the same time, then the next task', async () => {
    const spot = await mkdtemp(join(dir, 'meet-'));
    const task = (id: string) =>
      `      - {id: ${id}, type: io.podrun.shell.Commands, commands: ['${meet(spot, id, ['a', 'b', 'c'])}', 'echo "::{\\"outputs\\":{\\"me\\":\\"${id}\\"}}::"']}`;
    const r = recorder();
    const result = await host().run({
      source: `id: par
namespace: company.team
tasks:
  - id: all
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
${['a', 'b', 'c'].map(task).join('\n')}
  - id: after
    type: io.podrun.shell.Commands
    commands: ['echo {{ outputs.a.vars.me }}{{ outputs.b.vars.me }}{{ outputs.c.vars.me }}']
`,
      observer: r.observer,
    });
    expect(result.record.status).toBe('SUCCESS');
    expect(result.record.tasks.all).toMatchObject({ status: 'SUCCESS', flowable: 'Parallel' });
    expect(result.record.tasks.a).toMatchObject({ status: 'SUCCESS', parent: 'all' });
    expect(r.logs).toContain('after: abc');
    expect(r.events.filter((e) => e.startsWith('queued'))).toEqual(['queued a', 'queued b', 'queued c']);
    expect(r.events.at(-1)).toBe('finished after SUCCESS');
  });

  it('keeps at most `concurrent` tasks running', async () => {
    const log = join(dir, 'concurrent.log');
    const task = (id: string) =>
      `      - {id: ${id}, type: io.podrun.shell.Commands, commands: ['echo "+ ${id}" >> ${log}', 'sleep 0.1', 'echo "- ${id}" >> ${log}']}`;
    const result = await host().run({
      source: `id: limited
namespace: company.team
tasks:
  - id: two-at-a-time
    type: io.kestra.plugin.core.flow.Parallel
    concurrent: 2
    tasks:
${['t1', 't2', 't3', 't4', 't5'].map(task).join('\n')}
`,
    });
    expect(result.record.status).toBe('SUCCESS');
    let running = 0;
    let most = 0;
    for (const line of (await readFile(log, 'utf8')).trim().split('\n')) {
      running += line.startsWith('+') ? 1 : -1;
      most = Math.max(most, running);
    }
    expect(most).toBeLessThanOrEqual(2);
    expect(running).toBe(0);
  });

  it('lets running siblings finish after a failure, starts no new one, and fails the flow', async () => {
    const spot = await mkdtemp(join(dir, 'fail-'));
    const r = recorder();
    const result = await host().run({
      source: `id: failing
namespace: company.team
tasks:
  - id: group
    type: io.kestra.plugin.core.flow.Parallel
    concurrent: 2
    tasks:
      # slow runs until the host has recorded bad's failure (the marker the observer leaves).
      - {id: slow, type: io.podrun.shell.Commands, commands: ['${meet(spot, 'slow', ['failed'])}', 'echo slow done']}
      - {id: bad, type: io.podrun.shell.Commands, commands: ['exit 3']}
      - {id: never, type: io.podrun.shell.Commands, commands: ['echo never']}
  - id: next
    type: io.podrun.shell.Commands
    commands: ['echo next']
`,
      observer: {
        ...r.observer,
        taskFinished: (task, record) => {
          if (task === 'bad') writeFileSync(join(spot, 'failed'), record.status);
        },
      },
    });
    expect(result.record.status).toBe('FAILED');
    expect(result.record.tasks.slow!.status).toBe('SUCCESS');
    expect(result.record.tasks.bad!.status).toBe('FAILED');
    expect(result.record.tasks.never).toBeUndefined();
    expect(result.record.tasks.next).toBeUndefined();
    expect(r.logs).toContain('slow: slow done');
    expect(result.record.tasks.group).toMatchObject({ status: 'FAILED', error: { code: ErrorCodes.TASK_FAILED } });
    expect(result.record.tasks.group!.error!.message).toContain(
      '1 of 2 task runs in group ended FAILED, 1 not started',
    );
    expect(result.record.error!.details).toMatchObject({ taskId: 'group', failed: ['bad'] });
  });

  it('with allowFailure ends WARNING and the flow goes on; a child with allowFailure does not fail it', async () => {
    const result = await host().run({
      source: `id: tolerant
namespace: company.team
tasks:
  - id: group
    type: io.kestra.plugin.core.flow.Parallel
    allowFailure: true
    tasks:
      - {id: bad, type: io.podrun.shell.Commands, commands: ['exit 1']}
  - id: inner-ok
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - {id: tolerated, type: io.podrun.shell.Commands, allowFailure: true, commands: ['exit 1']}
  - id: next
    type: io.podrun.shell.Commands
    commands: ['echo next']
`,
    });
    expect(result.record.status).toBe('WARNING');
    expect(result.record.tasks.group!.status).toBe('WARNING');
    expect(result.record.tasks['inner-ok']!.status).toBe('WARNING');
    expect(result.record.tasks.next!.status).toBe('SUCCESS');
  });
});

describe('ForEach', () => {
  it('runs its tasks per value with taskrun.value and taskrun.iteration, one group at a time by default', async () => {
    const r = recorder();
    const result = await host().run({
      source: `id: each
namespace: company.team
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.ForEach
    values: [a, 7, {k: v}, a]
    tasks:
      - id: first
        type: io.podrun.shell.Commands
        commands:
          - echo '::{"outputs":{"i":{{ taskrun.iteration }}}}::'
      - id: second
        type: io.podrun.shell.Commands
        commands: ["echo '{{ taskrun.value }} {{ outputs.first[taskrun.value].vars.i }}'"]
  - id: after
    type: io.podrun.shell.Commands
    commands: ["echo {{ outputs.first['a'].vars.i }}{{ outputs.first['7'].vars.i }}{{ outputs.second['a'].exitCode }}"]
`,
      observer: r.observer,
    });
    expect(result.record.status).toBe('SUCCESS');
    // Duplicates are dropped; non-strings become their JSON text (Kestra's rules).
    expect(result.record.tasks.loop!.items).toEqual(['a', '7', '{"k":"v"}']);
    expect(Object.keys(result.record.tasks)).toEqual([
      'loop',
      'first[a]',
      'second[a]',
      'first[7]',
      'second[7]',
      'first[{"k":"v"}]',
      'second[{"k":"v"}]',
      'after',
    ]);
    expect(result.record.tasks['first[7]']).toMatchObject({ id: 'first', value: '7', iteration: 1, parent: 'loop' });
    expect(r.logs).toEqual(['second[a]: a 0', 'second[7]: 7 1', 'second[{"k":"v"}]: {"k":"v"} 2', 'after: 010']);
    // Every run's lines are in the execution's log files, whatever the observer shows.
    const logs = join(dir, 'state', 'executions', result.record.id, 'logs');
    expect(await readFile(join(logs, 'second', 'a.log'), 'utf8')).toBe('a 0\n');
    expect(await readFile(join(logs, 'after.log'), 'utf8')).toBe('010\n');
    // A value that is not a plain file name gets a stable stand-in, never a path of its own.
    expect((await readdir(join(logs, 'second'))).sort()).toEqual([
      '7.log',
      'a.log',
      expect.stringMatching(/^value-[0-9a-f]{12}\.log$/),
    ]);
    // concurrencyLimit 1 (Kestra's default): a group starts when the previous one ended.
    const order = r.events.filter((e) => !e.startsWith('queued'));
    expect(order.indexOf('started first[7]')).toBeGreaterThan(order.indexOf('finished second[a] SUCCESS'));
  });

  it('runs groups at once with concurrencyLimit 0, values from a JSON string, nested loops with parent', async () => {
    const spot = await mkdtemp(join(dir, 'each-'));
    const r = recorder();
    const result = await host().run({
      observer: r.observer,
      source: `id: nested
namespace: company.team
inputs:
  - {id: list, type: JSON, defaults: '["x", "y"]'}
tasks:
  - id: outer
    type: io.kestra.plugin.core.flow.ForEach
    values: "{{ inputs.list | json }}"
    concurrencyLimit: 0
    tasks:
      - id: inner
        type: io.kestra.plugin.core.flow.ForEach
        values: ["1", "2"]
        concurrencyLimit: 0
        tasks:
          - id: leaf
            type: io.podrun.shell.Commands
            commands:
              - ${meet(spot, '{{ parent.taskrun.value }}{{ taskrun.value }}', ['x1', 'x2', 'y1', 'y2'])}
              - echo '::{"outputs":{"p":"{{ parents[0].taskrun.value }}-{{ taskrun.value }}"}}::'
  - id: after
    type: io.podrun.shell.Commands
    commands: ["echo {{ outputs.leaf['y']['2'].vars.p }} {{ outputs.leaf.x['1'].vars.p }}"]
`,
    });
    expect(result.record.status).toBe('SUCCESS');
    expect(result.record.tasks['leaf[y][2]']).toMatchObject({ valuePath: ['y', '2'], parent: 'inner[y]', value: '2' });
    expect(result.record.tasks['inner[x]']).toMatchObject({ flowable: 'ForEach', parent: 'outer', value: 'x' });
    expect(r.logs).toContain('after: y-2 x-1');
  });

  it('fails with a clear error when values is not a list', async () => {
    const result = await host().run({
      source: `id: badvalues
namespace: company.team
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.ForEach
    values: "not json"
    tasks:
      - {id: t, type: io.podrun.shell.Commands, commands: ['echo x']}
`,
    });
    expect(result.record.status).toBe('FAILED');
    expect(result.record.tasks.loop!.error).toMatchObject({ code: ErrorCodes.TEMPLATE });
    expect(result.record.tasks.loop!.error!.message).toContain('tasks[0].values');
  });

  it('retries each child run on its own', async () => {
    const marks = await mkdtemp(join(dir, 'retry-'));
    const result = await host().run({
      source: `id: retrying
namespace: company.team
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.ForEach
    values: [ok, flaky]
    concurrencyLimit: 0
    tasks:
      - id: t
        type: io.podrun.shell.Commands
        retry: {type: constant, interval: PT0.05S, maxAttempts: 3}
        commands:
          # flaky fails on its first attempt only.
          - "[ {{ taskrun.value }} = ok ] || [ -e ${marks}/{{ taskrun.value }} ] || { touch ${marks}/{{ taskrun.value }}; exit 1; }"
`,
    });
    expect(result.record.status).toBe('SUCCESS');
    expect(result.record.tasks['t[ok]']!.attempts.map((a) => a.status)).toEqual(['SUCCESS']);
    expect(result.record.tasks['t[flaky]']!.attempts.map((a) => a.status)).toEqual(['FAILED', 'SUCCESS']);
  });

  it('resumes: finished child runs are kept, a running one continues with its identity, the rest run', async () => {
    const h = host();
    const source = `id: resumable-each
namespace: company.team
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.ForEach
    values: [a, b, c]
    tasks:
      - {id: t, type: io.podrun.shell.Commands, commands: ['echo {{ taskrun.value }}']}
  - {id: after, type: io.podrun.shell.Commands, commands: ["echo {{ outputs.t.a.exitCode }}"]}
`;
    await h.run({ source, executionId: 'each-resume' });
    // Pretend the process died while t[b] ran: t[c] and after never started.
    const record = await h.load('each-resume');
    const runId = record.tasks['t[b]']!.taskRunId;
    record.tasks['t[b]']!.status = 'RUNNING';
    record.tasks['t[b]']!.runState = { pod: 'kept' };
    delete record.tasks['t[c]'];
    delete record.tasks.after;
    record.tasks.loop!.status = 'RUNNING';
    record.status = 'RUNNING';
    await writeFile(join(dir, 'state', 'executions', 'each-resume', 'state.json'), JSON.stringify(record));
    const r = recorder();
    const resumed = await h.resume('each-resume', { observer: r.observer });
    expect(resumed.record.status).toBe('SUCCESS');
    expect(r.logs).toEqual(['t[b]: b', 't[c]: c', 'after: 0']);
    expect(resumed.record.tasks['t[b]']!.taskRunId).toBe(runId);
    expect(resumed.record.tasks['t[b]']!.runState).toEqual({ pod: 'kept' });
    expect(r.events).toContain('started t[b]');
    expect(r.events).not.toContain('started t[a]');
  });
});

describe('validation of Parallel and ForEach', () => {
  it('reports nested problems with their paths, duplicate ids across the tree, and Kestra defaults', () => {
    const bad = () =>
      parseFlow(`id: v
namespace: company.team
tasks:
  - id: p
    type: io.kestra.plugin.core.flow.Parallel
    concurent: 2
    tasks:
      - {id: t, type: io.podrun.shell.Commands, commands: [ls]}
      - {id: u, type: io.podrun.shell.Commands}
  - id: e
    type: io.kestra.plugin.core.flow.ForEach
    values: 3
    tasks:
      - {id: t, type: io.podrun.shell.Commands, commands: [ls]}
`);
    expect(bad).toThrowError(expect.objectContaining({ code: ErrorCodes.FLOW_INVALID }));
    let issues: { path: string; message: string }[] = [];
    try {
      bad();
    } catch (error) {
      issues = (error as { issues: { path: string; message: string }[] }).issues;
    }
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'tasks[0].concurent',
        'tasks[0].tasks[1].commands',
        'tasks[1].values',
        'tasks[1].tasks[0].id',
      ]),
    );
    expect(issues.find((i) => i.path === 'tasks[1].tasks[0].id')!.message).toContain('also tasks[0].tasks[0]');
    const flow = parseFlow(`id: ok
namespace: company.team
tasks:
  - id: e
    type: io.kestra.plugin.core.flow.ForEach
    values: [a]
    tasks:
      - id: p
        type: io.kestra.plugin.core.flow.Parallel
        tasks:
          - {id: t, type: io.podrun.shell.Commands, commands: [ls]}
`);
    expect(flow.steps[0]).toMatchObject({ concurrencyLimit: 1, tasks: [{ id: 'p', concurrent: 0 }] });
    expect(flow.tasks.map((t) => t.id)).toEqual(['t']);
  });
});
