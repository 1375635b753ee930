import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configJsonSchemas } from '@podrun/core';
import {
  INPUT_TYPES,
  KNOWN_TASK_TYPES,
  TASK_TYPES,
  createRunnerRegistry,
  flowJsonSchema,
  parseFlow,
  registerKubernetesRunner,
} from '@podrun/host';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const examplesDir = fileURLToPath(new URL('../../../examples/', import.meta.url));
const schema = flowJsonSchema();
// ajv 6 (already in the tree through eslint) implements draft-07, the draft the file declares.
const validate = new Ajv({ allErrors: true }).compile(schema);

function check(yaml: string): string[] {
  if (validate(parse(yaml))) return [];
  return (validate.errors ?? []).map((e) => `${e.dataPath} ${e.keyword}`);
}

const flow = (task: string) => `id: f\nnamespace: company.team\ntasks:\n${task}`;

describe('flow JSON Schema', () => {
  it('schemas/flow.schema.json is up to date (run `npm run schemas -w @podrun/host`)', () => {
    const committed = readFileSync(`${packageDir}schemas/flow.schema.json`, 'utf8');
    expect(committed).toBe(`${JSON.stringify(schema, null, 2)}\n`);
  });

  it.each(['new-shell.yml', 'new-shell-with-file.yml'])(
    'accepts the reference example %s (as does parseFlow)',
    (name) => {
      const source = readFileSync(`${examplesDir}${name}`, 'utf8');
      expect(check(source)).toEqual([]);
      const registry = createRunnerRegistry();
      registerKubernetesRunner(registry);
      expect(parseFlow(source, { registry }).tasks).toHaveLength(1);
    },
  );

  it('embeds core’s dynamic Kubernetes runner schema for the Kubernetes runner types', () => {
    const { $id: _id, $schema: _schema, ...core } = configJsonSchemas()['kubernetes-runner.schema.json']!;
    const definitions = schema.definitions as Record<string, Record<string, any>>;
    expect(definitions.kubernetesRunner).toEqual(core);
    expect(definitions.taskRunner!.if.properties.type.enum).toContain(
      'io.kestra.plugin.ee.kubernetes.runner.Kubernetes',
    );
    expect(schema.required).toEqual(['id', 'namespace', 'tasks']);
    expect((schema.properties as any).tasks.items).toEqual({ $ref: '#/definitions/task' });
    const items = (schema.definitions as any).task.oneOf as any[];
    expect(items.flatMap((t) => t.properties.type.enum).sort()).toEqual([...KNOWN_TASK_TYPES].sort());
    expect(items.map((t) => t.required)).toEqual([
      expect.arrayContaining(['id', 'type', 'commands']),
      expect.arrayContaining(['id', 'type', 'script']),
      expect.arrayContaining(['id', 'type', 'tasks']),
      expect.arrayContaining(['id', 'type', 'values', 'tasks']),
    ]);
    expect((schema.properties as any).inputs.items.properties.type.enum).toEqual([...INPUT_TYPES]);
  });

  it('checks runner properties, templates included, and leaves other runners to their plugin', () => {
    const runner = (block: string) =>
      flow(`  - id: t\n    type: ${TASK_TYPES.script[0]}\n    script: echo hi\n    taskRunner:\n${block}`);
    expect(
      check(
        runner(
          '      type: io.podrun.kubernetes\n      namespace: "{{ inputs.ns }}"\n      waitForLogs: PT10S\n      delete: "{{ flow.id != \'x\' }}"',
        ),
      ),
    ).toEqual([]);
    expect(check(runner('      type: io.podrun.kubernetes\n      namspace: jobs'))).toContain(
      '.tasks[0].taskRunner additionalProperties',
    );
    expect(check(runner('      type: io.podrun.kubernetes\n      waitForLogs: 5 seconds')).length).toBeGreaterThan(0);
    expect(check(runner('      type: io.podrun.process\n      anything: goes'))).toEqual([]);
    expect(check(runner('      version: latest')).length).toBeGreaterThan(0);
  });

  it('describes Parallel and ForEach with tasks of any type inside, nested too', () => {
    const nested = `  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: [a, b]
    concurrencyLimit: 0
    tasks:
      - id: both
        type: io.kestra.plugin.core.flow.Parallel
        concurrent: 2
        tasks:
          - id: t
            type: io.podrun.shell.Commands
            commands: ["echo {{ parent.taskrun.value }}"]
`;
    expect(check(flow(nested))).toEqual([]);
    expect(check(flow(nested.replace('concurrent: 2', 'concurrent: -1'))).length).toBeGreaterThan(0);
    expect(check(flow(nested.replace('commands: [', 'command: ['))).length).toBeGreaterThan(0);
    expect(check(flow(nested.replace('    values: [a, b]\n', ''))).length).toBeGreaterThan(0);
  });

  it('rejects what parseFlow rejects: unknown task types and keys, missing commands, bad ids', () => {
    expect(
      check(flow('  - id: t\n    type: io.kestra.plugin.scripts.shell.Comands\n    commands: [ls]')).length,
    ).toBeGreaterThan(0);
    expect(check(flow('  - id: t\n    type: io.podrun.shell.Commands\n    command: [ls]')).length).toBeGreaterThan(0);
    expect(
      check(flow('  - id: t\n    type: io.podrun.shell.Commands\n    commands: [ls]\n    imag: x')).length,
    ).toBeGreaterThan(0);
    expect(check('id: f\nnamespace: company.team\ntasks: []')).toContain('.tasks minItems');
    expect(
      check(
        'id: "bad id"\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.podrun.shell.Script\n    script: x',
      ),
    ).toContain('.id pattern');
  });
});
