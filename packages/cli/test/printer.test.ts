import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createPrinter, summary } from '../src/printer.js';
import type { OutStream } from '../src/io.js';
import type { ExecutionRecord, TaskRecord } from '@podrun/host';

function stream(isTTY: boolean): OutStream & { text(): string } {
  let text = '';
  const s = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  }) as OutStream & { text(): string };
  s.isTTY = isTTY;
  s.text = () => text;
  return s;
}

describe('printer', () => {
  it('draws a progress bar on a terminal and keeps task lines intact', () => {
    const out = stream(true);
    const p = createPrinter({ logs: out, messages: out });
    p.taskProgress!('copy', { phase: 'upload', bytes: 512, totalBytes: 1024 });
    p.taskLog!('copy', { container: 'main', timestamp: 't', text: 'hello' });
    p.taskProgress!('copy', { phase: 'upload', bytes: 1024, totalBytes: 1024 });
    const text = out.text();
    expect(text).toContain('[copy] upload   [############............] 512 B / 1.0 KiB');
    expect(text).toContain('\r\x1b[2K[copy] hello\n');
    expect(text.endsWith('[########################] 1.0 KiB / 1.0 KiB\n')).toBe(true);
  });

  it('prints one plain line per finished transfer when not a terminal', () => {
    const out = stream(false);
    const p = createPrinter({ logs: out, messages: out });
    for (const bytes of [100, 200, 300]) p.taskProgress!('copy', { phase: 'download', bytes, totalBytes: 300 });
    p.runnerLog!('copy', 'info', '[podrun] [kubernetes-runner] pod created');
    expect(out.text()).toBe('[copy] downloaded 300 B\n[copy] pod created\n');
  });

  it('summarises tasks inside Parallel and ForEach instead of printing their lines, and shows a failure', () => {
    const out = stream(false);
    const p = createPrinter({ logs: out, messages: out, summaryIntervalMs: 60_000 });
    const line = (text: string) => ({ container: 'main', timestamp: 't', text });
    for (const key of ['t[a]', 't[b]', 't[c]']) p.taskQueued!(key);
    p.taskStarted!('t[a]', 1, false);
    p.taskStarted!('t[b]', 1, false);
    p.taskLog!('t[a]', line('hidden a'));
    p.taskLog!('t[b]', line('why b fails'));
    p.runnerLog!('t[a]', 'info', '[podrun] [kubernetes-runner] pod created');
    const run = (status: 'SUCCESS' | 'FAILED'): TaskRecord => ({
      id: 't',
      status,
      taskRunId: 'r',
      attempt: 1,
      attempts: [],
      runState: {},
      ...(status === 'FAILED' ? { error: { code: 'PODRUN_TASK_FAILED', message: 'exit 1' } } : {}),
    });
    p.taskFinished!('t[a]', run('SUCCESS'));
    p.taskFinished!('t[b]', run('FAILED'));
    p.taskFinished!('each', { ...run('FAILED'), id: 'each', flowable: 'ForEach' });
    p.taskLog!('after', line('top-level lines still print'));
    expect(out.text()).toBe(
      [
        '[t[b]] FAILED: exit 1',
        '[t[b]]   why b fails',
        '[each] FAILED: 1/3 done, 0 running, 1 failed, 1 queued',
        '[after] top-level lines still print',
        '',
      ].join('\n'),
    );
  });

  it('redraws one summary line in place on a terminal; --all-logs prints every line', () => {
    const out = stream(true);
    const p = createPrinter({ logs: out, messages: out });
    p.taskQueued!('t[a]');
    p.taskStarted!('t[a]', 1, false);
    expect(out.text()).toContain('\r\x1b[2K0/1 done, 0 running, 0 failed, 1 queued');
    p.executionFinished!({ tasks: {} } as never);
    expect(out.text().endsWith('\r\x1b[2K')).toBe(true);
    const all = stream(false);
    const q = createPrinter({ logs: all, messages: all, allLogs: true });
    q.taskQueued!('t[a]');
    q.taskLog!('t[a]', { container: 'main', timestamp: 't', text: 'shown' });
    expect(all.text()).toBe('[t[a]] shown\n');
  });

  it('lists only the runs that did not succeed of a large fan-out in the summary', () => {
    const run = (id: string, status: 'SUCCESS' | 'FAILED', extra: Partial<TaskRecord> = {}): TaskRecord => ({
      id,
      status,
      taskRunId: 'r',
      attempt: 1,
      attempts: [],
      runState: {},
      ...extra,
    });
    const tasks: Record<string, TaskRecord> = { each: run('each', 'FAILED', { flowable: 'ForEach' }) };
    for (let k = 0; k < 25; k++) tasks[`t[v${k}]`] = run('t', k === 3 ? 'FAILED' : 'SUCCESS', { parent: 'each' });
    const text = summary(
      { id: 'x', namespace: 'n', flowId: 'f', status: 'FAILED', startedAt: 't', tasks } as ExecutionRecord,
      {},
      [],
    );
    expect(text).toContain('  t[v3]: FAILED');
    expect(text).not.toContain('t[v4]');
    expect(text).toContain('  each: 24 more task runs SUCCESS');
  });
});
