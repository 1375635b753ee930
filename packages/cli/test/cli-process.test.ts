// The CLI as a subprocess, on flows that use the local Process runner (no cluster needed).
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from './support/cli.js';

let dir: string;
let home: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podrun-cli-'));
  home = await mkdtemp(join(tmpdir(), 'podrun-home-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(home, { recursive: true, force: true });
});

const env = () => ({ HOME: home, KUBECONFIG: '' });
const flow = async (name: string, text: string) => {
  await writeFile(join(dir, name), text);
  return name;
};
const header = (id: string) =>
  `id: ${id}\nnamespace: company.team\npluginDefaults:\n  - type: io.kestra.plugin.scripts.shell\n    values:\n      taskRunner:\n        type: io.kestra.plugin.core.runner.Process\n`;

describe('podrun run (Process runner)', { timeout: 120_000 }, () => {
  it('runs a flow: logs prefixed by task, summary, outputs saved under podrun-outputs/<execution>/<task>/', async () => {
    const file = await flow(
      'ok.yml',
      `${header('ok')}inputs:\n  - {id: data, type: FILE}\n  - {id: who, type: STRING}\ntasks:\n  - id: copy\n    type: io.kestra.plugin.scripts.shell.Commands\n    inputFiles: {data.txt: "{{ inputs.data }}"}\n    outputFiles: [out.txt, "nested/**"]\n    commands:\n      - echo "Hello {{ inputs.who }}"\n      - cp data.txt out.txt && mkdir -p nested/deep && echo n > nested/deep/n.txt\n`,
    );
    await writeFile(join(dir, 'data.txt'), 'file content\n');
    const result = await runCli(['run', file, '--input', 'data=@data.txt', '-i', 'who=World'], {
      cwd: dir,
      env: env(),
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('[copy] Hello World');
    const id = /Execution (\w+) SUCCESS/.exec(result.stdout)![1]!;
    expect(await readFile(join(dir, 'podrun-outputs', id, 'copy', 'out.txt'), 'utf8')).toBe('file content\n');
    expect(await readFile(join(dir, 'podrun-outputs', id, 'copy', 'nested', 'deep', 'n.txt'), 'utf8')).toBe('n\n');
    expect(result.stdout).toContain(`out.txt -> ${join('podrun-outputs', id, 'copy', 'out.txt')}`);
    expect(result.stderr).not.toContain('embedded cluster');
    // Neither the input nor the output was copied: the storage holds second names of the same files.
    expect((await stat(join(dir, 'data.txt'))).nlink).toBe(2);
    expect((await stat(join(dir, 'podrun-outputs', id, 'copy', 'out.txt'))).nlink).toBe(2);
  });

  it('logs: every line of every run from the log files, or of the runs asked for', async () => {
    const file = await flow(
      'fan.yml',
      `${header('fan')}tasks:\n  - id: each\n    type: io.kestra.plugin.core.flow.ForEach\n    values: [a, b, c]\n    concurrencyLimit: 0\n    tasks:\n      - id: say\n        type: io.kestra.plugin.scripts.shell.Commands\n        commands: ['echo "one {{ taskrun.value }}"', 'echo "two {{ taskrun.value }}"']\n  - id: after\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands: ['echo done']\n  - id: quiet\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands: ['true']\n`,
    );
    const ran = await runCli(['run', file], { cwd: dir, env: env() });
    expect(ran.code).toBe(0);
    const id = /Execution (\w+) SUCCESS/.exec(ran.stdout)![1]!;

    const all = await runCli(['logs', id], { cwd: dir, env: env() });
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split('\n');
    for (const v of ['a', 'b', 'c'])
      expect(lines.filter((l) => l.startsWith(`[say[${v}]] `))).toEqual([
        `[say[${v}]] one ${v}`,
        `[say[${v}]] two ${v}`,
      ]);
    expect(lines).toContain('[after] done');
    expect(lines).toHaveLength(7);

    const one = await runCli(['logs', id, 'say[b]'], { cwd: dir, env: env() });
    expect(one.stdout).toBe('one b\ntwo b\n');
    // A run that printed nothing has no log file: nothing to print, not an error.
    expect(await runCli(['logs', id, 'quiet'], { cwd: dir, env: env() })).toMatchObject({ code: 0, stdout: '' });
    const byTask = await runCli(['logs', id, 'say'], { cwd: dir, env: env() });
    expect(byTask.stdout.trim().split('\n')).toHaveLength(6);

    const unknown = await runCli(['logs', id, 'nope'], { cwd: dir, env: env() });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('nope: no task run of execution');
    expect(unknown.stderr).toContain('say[a]');
    const missing = await runCli(['logs', 'no-such-execution'], { cwd: dir, env: env() });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('no execution "no-such-execution"');
  });

  it('--json prints one machine-readable document on stdout (logs on stderr)', async () => {
    const file = await flow(
      'json.yml',
      `${header('json')}tasks:\n  - id: t\n    type: io.podrun.shell.Script\n    script: |\n      echo visible\n      echo '::{"outputs":{"n":1}}::'\n`,
    );
    const result = await runCli(['run', file, '--json', '--output-dir', 'outs'], { cwd: dir, env: env() });
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({
      status: 'SUCCESS',
      flowId: 'json',
      tasks: [{ id: 't', status: 'SUCCESS', exitCode: 0, vars: { n: 1 } }],
    });
    expect(result.stderr).toContain('[t] visible');
  });

  it('exits non-zero with the reason when a task fails', async () => {
    const file = await flow(
      'fail.yml',
      `${header('fail')}tasks:\n  - {id: bad, type: io.podrun.shell.Script, script: "echo oops; exit 7"}\n`,
    );
    const result = await runCli(['run', file], { cwd: dir, env: env() });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/Execution \w+ FAILED/);
    expect(result.stdout).toContain('exited with code 7');
    const json = await runCli(['run', file, '--json'], { cwd: dir, env: env() });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).tasks[0]).toMatchObject({ exitCode: 7, error: { code: 'PODRUN_TASK_FAILED' } });
  });

  it('validate: every problem with its path and line; run refuses an invalid flow with exit 2', async () => {
    const file = await flow(
      'bad.yml',
      'id: bad\nnamespace: company.team\ntasks:\n  - id: a\n    type: io.kestra.plugin.scripts.shell.Commands\n    comands: [echo]\n    timeout: soon\n',
    );
    const result = await runCli(['validate', file], { cwd: dir, env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('bad.yml:6: tasks[0].comands: unknown property; did you mean `commands`?');
    expect(result.stderr).toContain('bad.yml:7: tasks[0].timeout:');
    expect(result.stderr).toContain('bad.yml:4: tasks[0].commands:');
    const ok = await runCli(
      [
        'validate',
        await flow('fine.yml', `${header('fine')}tasks:\n  - {id: t, type: io.podrun.shell.Script, script: x}\n`),
      ],
      { cwd: dir, env: env() },
    );
    expect(ok.code).toBe(0);
    const run = await runCli(['run', file], { cwd: dir, env: env() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('PODRUN_FLOW_INVALID');
  });

  it('retries a failing task and reports the attempts', async () => {
    const marker = join(dir, 'retry.marker');
    const file = await flow(
      'retry.yml',
      `${header('retry')}tasks:\n  - id: flaky\n    type: io.podrun.shell.Commands\n    retry: {type: exponential, interval: PT0.1S, maxInterval: PT1S, maxAttempts: 3}\n    commands: ['echo x >> ${marker}', 'test $(wc -l < ${marker}) -ge 3']\n`,
    );
    const result = await runCli(['run', file], { cwd: dir, env: env() });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('[flaky] attempt 1 failed');
    expect(result.stderr).toContain('[flaky] attempt 3');
    expect(result.stdout).toContain('flaky: SUCCESS, exit 0, 3 attempts');
  });

  it('reuses cached outputs on a rerun with the same inputs (the task does not run again)', async () => {
    const marker = join(dir, 'cache.marker');
    const file = await flow(
      'cache.yml',
      `${header('cache')}inputs: [{id: v, type: STRING}]\ntasks:\n  - id: work\n    type: io.podrun.shell.Commands\n    taskCache: {enabled: true, ttl: PT1H}\n    outputFiles: [o.txt]\n    commands: ['echo ran >> ${marker}', 'echo "{{ inputs.v }}" > o.txt']\n`,
    );
    const first = await runCli(['run', file, '-i', 'v=1'], { cwd: dir, env: env() });
    const second = await runCli(['run', file, '-i', 'v=1', '--json'], { cwd: dir, env: env() });
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('[work] cache hit');
    expect(JSON.parse(second.stdout).tasks[0]).toMatchObject({ cached: true, status: 'SUCCESS' });
    expect((await readFile(marker, 'utf8')).trim().split('\n')).toHaveLength(1);
    const id = JSON.parse(second.stdout).executionId;
    expect(await readFile(join(dir, 'podrun-outputs', id, 'work', 'o.txt'), 'utf8')).toBe('1\n');
  });

  it('worker group fallbacks FAIL and CANCEL when the group is unknown or unreachable', async () => {
    await writeFile(join(dir, 'podrun.config.yml'), 'workerGroups:\n  down:\n    context: nowhere\n');
    const wg = (fallback: string) =>
      flow(
        `wg-${fallback}.yml`,
        `${header(`wg${fallback.toLowerCase()}`)}tasks:\n  - {id: t, type: io.podrun.shell.Script, script: "echo ran", workerGroup: {key: down, fallback: ${fallback}}}\n`,
      );
    const failed = await runCli(['run', await wg('FAIL')], { cwd: dir, env: env() });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('worker group "down" is unavailable');
    const cancelled = await runCli(['run', await wg('CANCEL')], { cwd: dir, env: env() });
    expect(cancelled.code).toBe(3);
    expect(cancelled.stdout).toContain('CANCELLED');
    expect(cancelled.stdout + cancelled.stderr).not.toContain('[t] ran');
    await rm(join(dir, 'podrun.config.yml'));
  });

  it('errors and finally: run after a failed task, shown in the summary and --json; a resume after SIGKILL mid-errors finishes them', async () => {
    const task = (id: string, ...commands: string[]) =>
      `  - id: ${id}\n    type: io.kestra.plugin.scripts.shell.Commands\n    commands: ${JSON.stringify(commands)}\n`;
    const mark = join(dir, 'hold-mark');
    const release = join(dir, 'hold-release');
    // `hold` waits (at most ~10 s) for the release file on its first run; a rerun passes through.
    const hold = `[ -e ${mark} ] && echo "second run" || { touch ${mark}; echo holding; n=0; until [ -e ${release} ]; do n=$((n+1)); [ $n -gt 400 ] && exit 9; sleep 0.025; done; }`;
    const file = await flow(
      'errors.yml',
      `${header('errs')}tasks:\n${task('boom', 'echo boom', 'exit 3')}${task('never', 'echo never')}errors:\n${task('alert', 'echo alert')}${task('hold', hold)}finally:\n${task('cleanup', 'echo cleanup')}`,
    );
    const first = startCli(['run', file, '--execution-id', 'errs-1'], { cwd: dir, env: env() });
    await first.waitFor('[hold] holding');
    first.child.kill('SIGKILL');
    await first.done;
    expect(first.stdout()).toContain('[alert] alert');
    await writeFile(release, '');

    const resumed = await runCli(['resume', 'errs-1'], { cwd: dir, env: env() });
    expect(resumed.code).toBe(1);
    expect(resumed.stdout).toContain('[hold] second run');
    expect(resumed.stdout).toContain('[cleanup] cleanup');
    // Neither the failed task nor the finished `errors` task ran again; `never` never ran.
    expect(resumed.stdout).not.toContain('[boom]');
    expect(resumed.stdout).not.toContain('[alert]');
    expect(resumed.stdout).not.toContain('never');
    expect(resumed.stdout).toMatch(/Execution errs-1 FAILED/);
    expect(resumed.stdout).toContain('alert (errors): SUCCESS');
    expect(resumed.stdout).toContain('cleanup (finally): SUCCESS');

    const json = await runCli(['run', file, '--json'], { cwd: dir, env: env() });
    expect(json.code).toBe(1);
    const document = JSON.parse(json.stdout) as { status: string; tasks: Record<string, unknown>[] };
    expect(document.status).toBe('FAILED');
    expect(document.tasks.map((t) => [t.key, t.status, t.branch])).toEqual([
      ['boom', 'FAILED', undefined],
      ['alert', 'SUCCESS', 'errors'],
      ['hold', 'SUCCESS', 'errors'],
      ['cleanup', 'SUCCESS', 'finally'],
    ]);
  });
});
