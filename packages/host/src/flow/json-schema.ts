import { z } from 'zod';
import { configJsonSchemas } from '@podrun/core';
import {
  commandsTaskSchema,
  flowShellSchema,
  forEachTaskSchema,
  parallelTaskSchema,
  runnerSchema,
  scriptTaskSchema,
} from './schema.js';

/** Where the published flow schema lives; editors fetch it from here. */
export const FLOW_JSON_SCHEMA_ID = 'https://unpkg.com/@podrun/host/schemas/flow.schema.json';

// The top-level schema checks tasks loosely (so each is reported against its own type); for
// editors the tasks are described by their type instead.
// Parallel and ForEach hold tasks of any type, themselves included; so do `errors` and `finally`.
const taskLists = () => ({
  tasks: z.array(taskDocumentSchema).min(1),
  errors: z.array(taskDocumentSchema).optional(),
  finally: z.array(taskDocumentSchema).optional(),
});
const taskDocumentSchema: z.ZodType = z
  .lazy(() =>
    z.discriminatedUnion('type', [
      commandsTaskSchema,
      scriptTaskSchema,
      parallelTaskSchema.extend(taskLists()),
      forEachTaskSchema.extend(taskLists()),
    ]),
  )
  .meta({ id: 'task' });
const flowDocumentSchema = flowShellSchema.extend(taskLists());

/**
 * The JSON Schema (draft-07) of a whole flow file, as users write it: `id`, `namespace`,
 * `inputs`, `tasks` by type (Commands, Script), `pluginDefaults`... A `taskRunner` whose `type`
 * names the Kubernetes runner is checked against `@podrun/core`'s dynamic runner schema (templates
 * allowed), embedded under `definitions` so the file is self-contained; other runner types only
 * need a `type`. `npm run schemas -w @podrun/host` writes it to `schemas/flow.schema.json`.
 *
 * Limitation: properties supplied by `pluginDefaults` are not known to the schema, so a task
 * that relies on a default for a required property (`commands`, `script`) is flagged by editors.
 */
export function flowJsonSchema(): Record<string, unknown> {
  const { $id: _id, $schema: _schema, ...kubernetesRunner } = configJsonSchemas()['kubernetes-runner.schema.json']!;
  const kubernetesTypes = (kubernetesRunner.properties as { type: { enum: string[] } }).type.enum;
  const generated = z.toJSONSchema(flowDocumentSchema, {
    io: 'input',
    target: 'draft-07',
    unrepresentable: 'any',
    override: (ctx) => {
      if (ctx.zodSchema !== runnerSchema) return;
      for (const key of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[key];
      ctx.jsonSchema.$ref = '#/definitions/taskRunner';
    },
  });
  const { $schema, ...rest } = generated;
  return {
    $id: FLOW_JSON_SCHEMA_ID,
    $schema,
    title: 'podrun flow',
    description:
      'A workflow file run by podrun (the reference YAML format): inputs, tasks in order, task runners, plugin defaults.',
    ...rest,
    definitions: {
      ...(rest.definitions as Record<string, unknown> | undefined),
      taskRunner: {
        description: 'The task runner: `type` selects it; the Kubernetes runner is described property by property.',
        type: 'object',
        properties: {
          type: {
            type: 'string',
            description: 'The runner type, e.g. io.podrun.kubernetes, io.podrun.process or a registered plugin type.',
          },
          version: { type: 'string', description: 'The plugin version: exact, a semver range or `latest`.' },
        },
        required: ['type'],
        if: { properties: { type: { enum: kubernetesTypes } }, required: ['type'] },
        then: { $ref: '#/definitions/kubernetesRunner' },
      },
      kubernetesRunner,
    },
  };
}
