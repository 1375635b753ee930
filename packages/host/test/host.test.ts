import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '@podrun/core';
import { processHost } from './support/process-host.js';
import type { ExecutionObserver, HostOptions } from '@podrun/host';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podrun-host-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const host = (extra: Partial<HostOptions> = {}) => processHost(dir, extra);

function recorder() {
  const logs: string[] = [];
  const events: string[] = [];
  const observer: ExecutionObserver = {
    taskLog: (task, line) => void logs.push(`${task}: ${line.text}`),
    taskRetrying: (task, attempt) => void events.push(`retry ${task} ${attempt}`),
    taskCached: (task) => void events.push(`cached ${task}`),
    workerGroupWaiting: (task, key) => void events.push(`wait ${task} ${key}`),
  };
  return { logs, events, observer };
}

async function read(h: ReturnType<typeof host>, uri: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of (await h.storage.open(uri)).content) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('host: flows on the Process runner', () => {
  it('passes FILE inputs, vars and output files between tasks', async () => {
    const data = join(dir, 'data.txt');
    await writeFile(data, 'payload\n');
    const h = host();
    const r = recorder();
    const result = await h.run({
      source: `id: pass
namespace: company.team
inputs:
  - id: file
    type: FILE
  - id: who
    type: STRING
    defaults: world
tasks:
  - id: produce
    type: io.kestra.plugin.scripts.shell.Commands
    inputFiles:
      data.txt: "{{ inputs.file }}"
    outputFiles: [out.txt]
    commands:
      - cp {{ workingDir }}/data.txt {{ workingDir }}/out.txt
      - echo '::{"outputs":{"greeting":"hello {{ inputs.who }}"}}::'
  - id: consume
    type: io.kestra.plugin.scripts.shell.Commands
    inputFiles:
      in.txt: "{{ outputs.produce.outputFiles['out.txt'] }}"
    commands:
      - echo "{{ outputs.produce.vars.greeting | upper }} from {{ flow.id }}"
      - cat in.txt
`,
      inputs: { file: data },
      cwd: dir,
      observer: r.observer,
    });
    expect(result.record.status).toBe('SUCCESS');
    expect(r.logs).toEqual(['consume: HELLO WORLD from pass', 'consume: payload']);
    const produced = result.record.tasks.produce!.outputs!;
    expect(produced.vars).toEqual({ greeting: 'hello world' });
    expect(await read(h, produced.outputFiles['out.txt']!)).toBe('payload\n');
    expect(String(result.record.inputs.file)).toMatch(
      /^podrun:\/\/\/company\.team\/pass\/.+\/inputs\/file\/data\.txt$/,
    );
  });

  it('retries a failed task with a new attempt, and warns when warningOnRetry', async () => {
    const marker = join(dir, 'retry-marker');
    const r = recorder();
    const result = await host().run({
      source: `id: retry
namespace: company.team
tasks:
  - id: flaky
    type: io.kestra.plugin.scripts.shell.Commands
    retry: {type: constant, interval: PT0.05S, maxAttempts: 3, warningOnRetry: true}
    commands:
      - echo x >> ${marker}
      - test $(wc -l < ${marker}) -ge 2
`,
      observer: r.observer,
    });
    expect(result.record.status).toBe('WARNING');
    expect(result.record.tasks.flaky!.attempts.map((a) => a.status)).toEqual(['FAILED', 'WARNING']);
    expect(result.record.tasks.flaky!.attempt).toBe(2);
    expect(r.events).toEqual(['retry flaky 1']);
  });

  it('fails with the reason when attempts run out; allowFailure turns it into a warning', async () => {
    const failing = await host().run({
      source:
        'id: fail\nnamespace: company.team\ntasks:\n  - {id: bad, type: io.podrun.shell.Script, script: "exit 4", retry: {type: constant, interval: PT0S, maxAttempts: 2}}\n  - {id: never, type: io.podrun.shell.Script, script: "echo no"}\n',
    });
    expect(failing.record.status).toBe('FAILED');
    expect(failing.record.error).toMatchObject({
      code: ErrorCodes.TASK_FAILED,
      details: { exitCode: 4, taskId: 'bad' },
    });
    expect(failing.record.tasks.bad!.attempts).toHaveLength(2);
    expect(failing.record.tasks.never).toBeUndefined();
    const allowed = await host().run({
      source:
        'id: fail2\nnamespace: company.team\ntasks:\n  - {id: bad, type: io.podrun.shell.Script, script: "exit 4", allowFailure: true}\n  - {id: next, type: io.podrun.shell.Script, script: "echo yes"}\n',
    });
    expect(allowed.record.status).toBe('WARNING');
    expect(allowed.record.tasks.next!.status).toBe('SUCCESS');
  });

  it('creates a new execution when the retry behavior says so', async () => {
    const marker = join(dir, 'newexec-marker');
    const result = await host().run({
      source: `id: newexec
namespace: company.team
tasks:
  - id: flaky
    type: io.podrun.shell.Commands
    retry: {type: constant, interval: PT0S, maxAttempts: 3, behavior: CREATE_NEW_EXECUTION}
    commands: ['echo x >> ${marker}', 'test $(wc -l < ${marker}) -ge 2']
`,
    });
    expect(result.record.status).toBe('SUCCESS');
    expect(result.previousExecutions).toHaveLength(1);
    expect(result.record.retryOf).toBe(result.previousExecutions[0]);
    expect(result.record.executionAttempt).toBe(2);
  });

  it('reuses cached outputs for the same rendered task and input contents, without running it', async () => {
    const marker = join(dir, 'cache-marker');
    const source = `id: cached
namespace: company.team
inputs: [{id: v, type: STRING}]
tasks:
  - id: work
    type: io.podrun.shell.Commands
    taskCache: {enabled: true, ttl: PT1H}
    outputFiles: [o.txt]
    inputFiles: {in.txt: "{{ inputs.v }}"}
    commands: ['echo run >> ${marker}', 'cp in.txt o.txt', 'echo "::{\\"outputs\\":{\\"v\\":\\"$(cat in.txt)\\"}}::"']
`;
    const h = host();
    const r = recorder();
    const first = await h.run({ source, inputs: { v: 'same' }, observer: r.observer });
    const second = await h.run({ source, inputs: { v: 'same' }, observer: r.observer });
    const third = await h.run({ source, inputs: { v: 'other' }, observer: r.observer });
    expect((await readFile(marker, 'utf8')).trim().split('\n')).toHaveLength(2);
    expect(r.events).toEqual(['cached work']);
    expect(second.record.tasks.work!.cached).toBe(true);
    expect(second.record.tasks.work!.outputs).toEqual(first.record.tasks.work!.outputs);
    expect(third.record.tasks.work!.outputs!.vars).toEqual({ v: 'other' });
  });

  it('resumes an execution: finished tasks are kept, the interrupted one runs with the same identity', async () => {
    const h = host();
    const source =
      'id: resumable\nnamespace: company.team\ntasks:\n  - {id: one, type: io.podrun.shell.Script, script: "echo one"}\n  - {id: two, type: io.podrun.shell.Script, script: "echo two"}\n';
    const first = await h.run({ source, executionId: 'resume-me' });
    // Pretend the process died while `two` ran.
    const record = await h.load('resume-me');
    const runId = record.tasks.two!.taskRunId;
    record.tasks.two!.status = 'RUNNING';
    record.tasks.two!.runState = { pod: 'kept' };
    record.status = 'RUNNING';
    await writeFile(join(dir, 'state', 'executions', 'resume-me', 'state.json'), JSON.stringify(record));
    const r = recorder();
    const resumed = await h.resume('resume-me', { observer: r.observer });
    expect(first.record.status).toBe('SUCCESS');
    expect(resumed.resumed).toBe(true);
    expect(resumed.record.status).toBe('SUCCESS');
    expect(r.logs).toEqual(['two: two']);
    expect(resumed.record.tasks.two!.taskRunId).toBe(runId);
    expect(resumed.record.tasks.two!.runState).toEqual({ pod: 'kept' });
    // run --execution-id of an existing execution resumes it as well.
    const again = await h.run({ source, executionId: 'resume-me' });
    expect(again.resumed).toBe(true);
  });

  it('applies worker group fallbacks: FAIL, CANCEL, WAIT', async () => {
    let up = false;
    const h = host({ workerGroups: { gpu: { context: 'gpu' } }, workerGroupProbe: async () => up });
    const flow = (key: string, fallback: string) =>
      `id: wg\nnamespace: company.team\ntasks:\n  - {id: t, type: io.podrun.shell.Script, script: "echo ok", workerGroup: {key: ${key}, fallback: ${fallback}}}\n`;
    const failed = await h.run({ source: flow('gpu', 'FAIL') });
    expect(failed.record.status).toBe('FAILED');
    expect(failed.record.error?.code).toBe(ErrorCodes.KUBE_CONNECTION);
    const unknown = await h.run({ source: flow('nope', 'FAIL') });
    expect(unknown.record.error?.details).toMatchObject({ workerGroup: 'nope' });
    const cancelled = await h.run({ source: flow('gpu', 'CANCEL') });
    expect(cancelled.record.status).toBe('CANCELLED');
    const r = recorder();
    const waiting = h.run({
      source: flow('gpu', 'WAIT'),
      observer: { ...r.observer, workerGroupWaiting: () => void (up = true) },
    });
    expect((await waiting).record.status).toBe('SUCCESS');
  });

  it('rejects bad inputs and undefined template variables with clear codes', async () => {
    const h = host();
    await expect(
      h.run({
        source:
          'id: i\nnamespace: n\ninputs: [{id: n, type: INT}]\ntasks:\n  - {id: t, type: io.podrun.shell.Script, script: x}\n',
        inputs: { n: 'abc' },
      }),
    ).rejects.toMatchObject({ code: ErrorCodes.FLOW_INVALID });
    await expect(
      h.run({
        source:
          'id: i\nnamespace: n\ninputs: [{id: n, type: INT}]\ntasks:\n  - {id: t, type: io.podrun.shell.Script, script: x}\n',
      }),
    ).rejects.toMatchObject({ code: ErrorCodes.INPUT_MISSING });
    const result = await h.run({
      source:
        'id: i\nnamespace: n\ntasks:\n  - {id: t, type: io.podrun.shell.Script, script: "echo {{ inputs.nope }}"}\n',
    });
    expect(result.record.error?.code).toBe(ErrorCodes.TEMPLATE);
  });
});
