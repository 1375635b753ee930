import { describe, expect, it } from 'vitest';
import { ConfigError, ErrorCodes } from '@podrun/core';
import { createRunnerRegistry, parseFlow, registerProcessRunner } from '@podrun/host';

const registry = createRunnerRegistry();
registerProcessRunner(registry);

function issuesOf(source: string) {
  try {
    parseFlow(source, { registry });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).code).toBe(ErrorCodes.FLOW_INVALID);
    return (e as ConfigError).issues;
  }
  throw new Error('expected the flow to be invalid');
}

describe('flows', () => {
  it('parses the reference format with inputs, runners and pluginDefaults', () => {
    const flow = parseFlow(
      `id: f
namespace: company.team
inputs:
  - id: file
    type: FILE
  - id: n
    type: INT
    defaults: 3
    required: false
pluginDefaults:
  - type: io.kestra.plugin.scripts.shell
    values:
      taskRunner:
        type: io.kestra.plugin.core.runner.Process
      env:
        FROM_DEFAULTS: "yes"
tasks:
  - id: a
    type: io.kestra.plugin.scripts.shell.Commands
    env:
      OWN: "1"
    commands: [echo a]
  - id: b
    type: io.podrun.shell.Script
    script: echo b
    retry:
      type: constant
      interval: PT1S
      maxAttempts: 2
`,
      { registry },
    );
    expect(flow.tasks.map((t) => t.id)).toEqual(['a', 'b']);
    expect(flow.tasks[0]!.taskRunner).toEqual({ type: 'io.kestra.plugin.core.runner.Process' });
    expect(flow.tasks[0]!.env).toEqual({ FROM_DEFAULTS: 'yes', OWN: '1' });
    expect(flow.tasks[1]!.retry).toMatchObject({
      type: 'constant',
      behavior: 'RETRY_FAILED_TASK',
      warningOnRetry: false,
    });
    expect(flow.inputs.map((i) => i.type)).toEqual(['FILE', 'INT']);
  });

  it('reports every problem with its path and line, with did-you-mean for unknown keys', () => {
    const issues = issuesOf(`id: f
namespace: company.team
tasks:
  - id: a
    type: io.kestra.plugin.scripts.shell.Commands
    comands:
      - echo a
  - id: b
    type: io.kestra.plugin.scripts.shell.Commandz
  - id: c
    type: io.kestra.plugin.scripts.shell.Commands
    commands: [echo c]
    timeout: 5 seconds
    taskRunner:
      type: io.podrun.proces
`);
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i]));
    expect(byPath['tasks[0].comands']).toMatchObject({ line: 6 });
    expect(byPath['tasks[0].comands']!.message).toContain('did you mean `commands`');
    expect(byPath['tasks[0].commands']).toMatchObject({ line: 4 });
    expect(byPath['tasks[1].type']).toMatchObject({ line: 9 });
    expect(byPath['tasks[1].type']!.message).toContain('did you mean `io.kestra.plugin.scripts.shell.Commands`');
    expect(byPath['tasks[2].timeout']).toMatchObject({ line: 13 });
    expect(byPath['tasks[2].taskRunner.type']).toMatchObject({ line: 15 });
  });

  it('reports top-level problems, YAML syntax errors and duplicate ids with lines', () => {
    expect(issuesOf('id: f\nnamespce: x\ntasks: []\n').map((i) => [i.path, i.line])).toEqual(
      expect.arrayContaining([
        ['namespce', 2],
        ['namespace', 1],
        ['tasks', 3],
      ]),
    );
    expect(issuesOf('id: f\nnamespace: x\ntasks:\n  - id: a\n    commands: [unclosed\n')[0]!.line).toBeGreaterThan(0);
    const dup = issuesOf(
      'id: f\nnamespace: x\ntasks:\n  - {id: a, type: io.podrun.shell.Script, script: x}\n  - {id: a, type: io.podrun.shell.Script, script: y}\n',
    );
    expect(dup).toEqual([expect.objectContaining({ path: 'tasks[1].id', line: 5 })]);
  });
});
