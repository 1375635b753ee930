// `errors` and `finally` of flows, Parallel and ForEach on the Process runner: when each list
// runs, the state it leaves, cancellation, resume in the middle of `errors`, and validation.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '@podrun/core';
import { parseFlow } from '@podrun/host';
import { processHost } from './support/process-host.js';
import type { ExecutionObserver } from '@podrun/host';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podrun-handlers-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const host = () => processHost(dir, { defaultRunner: { type: 'io.podrun.process' } });

function recorder(onLog?: (task: string, text: string) => void) {
  const logs: string[] = [];
  const observer: ExecutionObserver = {
    taskLog: (task, line) => {
      logs.push(`${task}: ${line.text}`);
      onLog?.(task, line.text);
    },
  };
  return { logs, observer };
}

const sh = (id: string, command: string) => `  - {id: ${id}, type: io.podrun.shell.Commands, commands: ['${command}']}`;

describe('errors and finally of a flow', () => {
  it('a failed task stops `tasks`, runs every `errors` task, then `finally`; the execution ends FAILED', async () => {
    const r = recorder();
    const result = await host().run({
      source: `id: fails
namespace: company.team
tasks:
${sh('ok', 'echo "::{\\"outputs\\":{\\"n\\":1}}::"')}
${sh('boom', 'exit 3')}
${sh('never', 'echo never')}
errors:
${sh('alert', 'echo alert after {{ outputs.ok.vars.n }}')}
${sh('brokenAlert', 'exit 4')}
${sh('secondAlert', 'echo second alert')}
finally:
${sh('cleanup', 'echo cleanup')}
`,
      observer: r.observer,
    });
    expect(result.record.status).toBe('FAILED');
    // The failure the execution reports is the task's, not the failed `errors` task's.
    expect(result.record.error?.details?.taskId).toBe('boom');
    expect(r.logs).toEqual(['alert: alert after 1', 'secondAlert: second alert', 'cleanup: cleanup']);
    expect(result.record.tasks.never).toBeUndefined();
    expect(result.record.tasks.alert).toMatchObject({ status: 'SUCCESS', branch: 'errors' });
    expect(result.record.tasks.brokenAlert).toMatchObject({ status: 'FAILED', branch: 'errors' });
    expect(result.record.tasks.cleanup).toMatchObject({ status: 'SUCCESS', branch: 'finally' });
    expect(Object.keys(result.record.tasks)).toEqual(['ok', 'boom', 'alert', 'brokenAlert', 'secondAlert', 'cleanup']);
  });

  it('success skips `errors` and runs `finally`; a failed `finally` task leaves the state to `tasks`', async () => {
    const r = recorder();
    const result = await host().run({
      source: `id: fine
namespace: company.team
tasks:
${sh('work', 'echo work')}
errors:
${sh('alert', 'echo alert')}
finally:
${sh('cleanup', 'echo cleanup; exit 1')}
${sh('lastly', 'echo lastly')}
`,
      observer: r.observer,
    });
    expect(r.logs).toEqual(['work: work', 'cleanup: cleanup', 'lastly: lastly']);
    expect(result.record.tasks.alert).toBeUndefined();
    expect(result.record.tasks.cleanup).toMatchObject({ status: 'FAILED', branch: 'finally' });
    // As in Kestra, the state comes from `tasks`: `finally` runs while the execution is RUNNING.
    expect(result.record.status).toBe('SUCCESS');
  });

  it('a cancelled execution starts neither `errors` nor `finally`', async () => {
    const controller = new AbortController();
    const r = recorder((task) => task === 'slow' && controller.abort());
    const result = await host().run({
      source: `id: cancelled
namespace: company.team
tasks:
${sh('slow', 'echo waiting; sleep 20')}
errors:
${sh('alert', 'echo alert')}
finally:
${sh('cleanup', 'echo cleanup')}
`,
      observer: r.observer,
      signal: controller.signal,
    });
    expect(result.record.status).toBe('CANCELLED');
    expect(r.logs).toEqual(['slow: waiting']);
    expect(result.record.tasks.alert).toBeUndefined();
    expect(result.record.tasks.cleanup).toBeUndefined();
  });

  it('leaves `errors` and `finally` to the new execution when a task asks for one (CREATE_NEW_EXECUTION)', async () => {
    const r = recorder();
    const result = await host().run({
      source: `id: again
namespace: company.team
tasks:
  - id: flaky
    type: io.podrun.shell.Commands
    retry: {type: constant, interval: PT0S, maxAttempts: 2, behavior: CREATE_NEW_EXECUTION}
    commands: ['exit 1']
errors:
${sh('alert', 'echo alert {{ execution.id }}')}
finally:
${sh('cleanup', 'echo cleanup')}
`,
      observer: r.observer,
    });
    expect(result.previousExecutions).toHaveLength(1);
    expect(result.record.status).toBe('FAILED');
    // Only the last execution ran them.
    expect(r.logs).toEqual([`alert: alert ${result.record.id}`, 'cleanup: cleanup']);
  });

  it('resumes in the middle of `errors`: the failed task and finished `errors` tasks are not run again', async () => {
    const h = host();
    const source = `id: resumable
namespace: company.team
tasks:
${sh('boom', 'echo boom; exit 1')}
errors:
${sh('first', 'echo first')}
${sh('second', 'echo second')}
${sh('third', 'echo third')}
finally:
${sh('cleanup', 'echo cleanup')}
`;
    await h.run({ source, executionId: 'errors-resume' });
    // Pretend the process died while `second` ran: `third` and `cleanup` never started.
    const record = await h.load('errors-resume');
    const runId = record.tasks.second!.taskRunId;
    record.tasks.second!.status = 'RUNNING';
    delete record.tasks.third;
    delete record.tasks.cleanup;
    record.status = 'RUNNING';
    await writeFile(join(dir, 'state', 'executions', 'errors-resume', 'state.json'), JSON.stringify(record));
    const r = recorder();
    const resumed = await h.resume('errors-resume', { observer: r.observer });
    expect(r.logs).toEqual(['second: second', 'third: third', 'cleanup: cleanup']);
    expect(resumed.record.tasks.second!.taskRunId).toBe(runId);
    expect(resumed.record.status).toBe('FAILED');
    // Resumed once more, everything is finished: nothing runs.
    const again = recorder();
    const last = await h.resume('errors-resume', { observer: again.observer });
    expect(again.logs).toEqual([]);
    expect(last.record.status).toBe('FAILED');
  });
});

describe('errors and finally of Parallel and ForEach', () => {
  it('a failed child runs the Parallel`s own `errors` and `finally`, then the flow`s', async () => {
    const r = recorder();
    const result = await host().run({
      source: `id: par
namespace: company.team
tasks:
  - id: both
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
    ${sh('good', 'echo good')}
    ${sh('bad', 'exit 2')}
    errors:
    ${sh('localAlert', 'echo local alert')}
    finally:
    ${sh('localCleanup', 'echo local cleanup')}
${sh('after', 'echo after')}
errors:
${sh('flowAlert', 'echo flow alert')}
`,
      observer: r.observer,
    });
    expect(result.record.status).toBe('FAILED');
    expect(result.record.tasks.both).toMatchObject({ status: 'FAILED', flowable: 'Parallel' });
    expect(result.record.tasks.both!.error?.message).toContain('1 of 2 task runs in both ended FAILED');
    expect(result.record.tasks.localAlert).toMatchObject({ status: 'SUCCESS', parent: 'both', branch: 'errors' });
    expect(result.record.tasks.localCleanup).toMatchObject({ status: 'SUCCESS', parent: 'both', branch: 'finally' });
    expect(r.logs.filter((l) => !l.startsWith('good'))).toEqual([
      'localAlert: local alert',
      'localCleanup: local cleanup',
      'flowAlert: flow alert',
    ]);
    expect(result.record.tasks.after).toBeUndefined();
  });

  it('a Parallel that allows failure ends WARNING after its `errors`, and the flow goes on without its own', async () => {
    const r = recorder();
    const result = await host().run({
      source: `id: allowed
namespace: company.team
tasks:
  - id: tolerant
    type: io.kestra.plugin.core.flow.Parallel
    allowFailure: true
    tasks:
    ${sh('bad', 'exit 2')}
    errors:
    ${sh('localAlert', 'echo local alert')}
${sh('after', 'echo after')}
errors:
${sh('flowAlert', 'echo flow alert')}
`,
      observer: r.observer,
    });
    expect(result.record.status).toBe('WARNING');
    expect(result.record.tasks.tolerant!.status).toBe('WARNING');
    expect(r.logs).toEqual(['localAlert: local alert', 'after: after']);
  });

  it('a ForEach runs its `errors` once for the ForEach, not per value; `parent` is the ForEach', async () => {
    const r = recorder();
    const result = await host().run({
      source: `id: each
namespace: company.team
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.ForEach
    values: [a, b, c]
    concurrencyLimit: 0
    tasks:
      - {id: t, type: io.podrun.shell.Commands, commands: ['[ {{ taskrun.value }} != b ]']}
    errors:
      - {id: alert, type: io.podrun.shell.Commands, commands: ['echo value={{ taskrun.value | default("none") }}']}
    finally:
      - {id: cleanup, type: io.podrun.shell.Commands, commands: ['echo done']}
`,
      observer: r.observer,
    });
    expect(result.record.status).toBe('FAILED');
    expect(result.record.tasks['t[b]']!.status).toBe('FAILED');
    expect(r.logs).toEqual(['alert: value=none', 'cleanup: done']);
    expect(result.record.tasks.alert).toMatchObject({ status: 'SUCCESS', parent: 'loop', branch: 'errors' });
    expect(result.record.tasks.alert!.value).toBeUndefined();
  });

  it('a ForEach inside a ForEach runs its `errors` once per outer value, keyed by it; retries work inside', async () => {
    const marks = await mkdtemp(join(dir, 'marks-'));
    const r = recorder();
    const result = await host().run({
      source: `id: nested
namespace: company.team
tasks:
  - id: outer
    type: io.kestra.plugin.core.flow.ForEach
    values: [x]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.flow.ForEach
        values: [a, b]
        tasks:
          - {id: t, type: io.podrun.shell.Commands, commands: ['exit 1']}
        errors:
          - id: alert
            type: io.podrun.shell.Commands
            retry: {type: constant, interval: PT0.01S, maxAttempts: 2}
            commands:
              # fails on its first attempt only
              - '[ -e ${marks}/once ] || { touch ${marks}/once; exit 5; }'
              - 'echo outer={{ parent.taskrun.value }}'
`,
      observer: r.observer,
    });
    expect(result.record.status).toBe('FAILED');
    expect(r.logs).toEqual(['alert[x]: outer=x']);
    expect(result.record.tasks['alert[x]']).toMatchObject({ status: 'SUCCESS', parent: 'inner[x]', branch: 'errors' });
    expect(result.record.tasks['alert[x]']!.attempts.map((a) => a.status)).toEqual(['FAILED', 'SUCCESS']);
    expect(result.record.tasks['inner[x]']!.status).toBe('FAILED');
    expect(result.record.tasks.outer!.status).toBe('FAILED');
  });
});

describe('validation of errors and finally', () => {
  it('checks their tasks like `tasks`, names the path, and keeps ids unique across every list', () => {
    let error: unknown;
    try {
      parseFlow(`id: bad
namespace: company.team
tasks:
  - id: one
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - {id: two, type: io.podrun.shell.Commands, commands: ['true']}
    errors:
      - {id: three, type: io.podrun.shell.Commands}
    finally: nope
errors:
  - {id: two, type: io.podrun.shell.Commands, commands: ['true']}
  - {id: four, type: io.podrun.shell.Command, commands: ['true']}
finally:
  - {id: five, type: io.podrun.shell.Commands, commands: 'true'}
`);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: ErrorCodes.FLOW_INVALID });
    const paths = (error as { issues: { path: string; message: string }[] }).issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'tasks[0].errors[0].commands',
        'tasks[0].finally',
        'errors[0].id',
        'errors[1].type',
        'finally[0].commands',
      ]),
    );
    const duplicate = (error as { issues: { path: string; message: string }[] }).issues.find(
      (i) => i.path === 'errors[0].id',
    );
    expect(duplicate?.message).toBe('duplicate task id "two" (also tasks[0].tasks[0])');
  });

  it('lists the tasks of `errors` and `finally` among the flow`s tasks', () => {
    const flow = parseFlow(`id: ok
namespace: company.team
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.ForEach
    values: [a]
    tasks:
      - {id: t, type: io.podrun.shell.Commands, commands: ['true']}
    finally:
      - {id: f, type: io.podrun.shell.Commands, commands: ['true']}
errors:
  - {id: e, type: io.podrun.shell.Commands, commands: ['true']}
finally: []
`);
    expect(flow.tasks.map((t) => t.id)).toEqual(['t', 'f', 'e']);
    expect(flow.errors?.map((t) => t.id)).toEqual(['e']);
    expect(flow.finally).toEqual([]);
  });
});
