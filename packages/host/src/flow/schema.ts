import { z } from 'zod';
import { dynamic, durationText, retryPolicySchema, taskCacheSchema, workerGroupSchema } from '@podrun/core';

/** Canonical task type names and the names accepted for them. */
export const TASK_TYPES = {
  commands: ['io.kestra.plugin.scripts.shell.Commands', 'io.podrun.shell.Commands'],
  script: ['io.kestra.plugin.scripts.shell.Script', 'io.podrun.shell.Script'],
} as const;

/** Every task type name podrun runs. */
export const KNOWN_TASK_TYPES: readonly string[] = [...TASK_TYPES.commands, ...TASK_TYPES.script];

/** The reference's default image for shell tasks (Kestra's Commands/Script use `ubuntu`). */
export const DEFAULT_SHELL_IMAGE = 'ubuntu';

/** Input types a flow may declare, in the reference's spelling. */
export const INPUT_TYPES = ['STRING', 'INT', 'FLOAT', 'BOOLEAN', 'JSON', 'FILE', 'SECRET'] as const;
/** Input types a flow may declare. */
export type InputType = (typeof INPUT_TYPES)[number];

const ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const id = (what: string) =>
  z
    .string({ error: `expected the ${what} id as a string` })
    .regex(ID, { error: `expected letters, digits, "_" or "-" (starting with a letter or digit)` });

/** A flow input declaration (`inputs[]`): id, type, description, required, defaults. */
export const inputSchema = z.strictObject({
  id: id('input'),
  type: z.enum(INPUT_TYPES, { error: `expected one of ${INPUT_TYPES.join(', ')}` }),
  description: z.string().optional(),
  displayName: z.string().optional(),
  required: z.boolean().optional(),
  defaults: z.unknown().optional(),
});

/**
 * A `taskRunner` block as a flow sees it: a `type` (and optional `version`); the selected runner
 * validates the rest of its properties.
 */
export const runnerSchema = z.looseObject({
  type: z.string({ error: 'expected the task runner type, e.g. io.podrun.kubernetes' }),
  version: z.string().optional(),
});

const namespaceFilesSchema = z.strictObject({
  enabled: z.boolean().default(true),
  include: z.array(z.string()).optional(),
  exclude: z.array(z.string()).optional(),
});

const stringMap = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));

const commonTaskShape = {
  id: id('task'),
  type: z.string(),
  description: z.string().optional(),
  disabled: z.boolean().optional(),
  beforeCommands: z.array(z.string()).optional(),
  interpreter: z.array(z.string()).min(1).optional(),
  env: stringMap.optional(),
  inputFiles: z.union([z.record(z.string(), z.string()), z.string()]).optional(),
  outputFiles: z.array(z.string()).optional(),
  namespaceFiles: namespaceFilesSchema.optional(),
  containerImage: z.string().optional(),
  taskRunner: runnerSchema.optional(),
  timeout: dynamic(durationText({ positive: true })).optional(),
  retry: retryPolicySchema.optional(),
  taskCache: taskCacheSchema.optional(),
  workerGroup: workerGroupSchema.optional(),
  allowFailure: z.boolean().optional(),
};

/** A Commands task (`io.kestra.plugin.scripts.shell.Commands` or its podrun alias) with its `commands`. */
export const commandsTaskSchema = z.strictObject({
  ...commonTaskShape,
  type: z.enum(TASK_TYPES.commands),
  commands: z
    .array(z.string(), { error: 'expected a list of shell commands' })
    .min(1, { error: 'expected at least one command' }),
});

/** A Script task (`io.kestra.plugin.scripts.shell.Script` or its podrun alias) with its `script`. */
export const scriptTaskSchema = z.strictObject({
  ...commonTaskShape,
  type: z.enum(TASK_TYPES.script),
  script: z.string({ error: 'expected the script as a string' }),
});

/** A task as validated (templates not rendered). */
export type FlowTask = z.infer<typeof commandsTaskSchema> | z.infer<typeof scriptTaskSchema>;
/** A flow input declaration. */
export type FlowInput = z.infer<typeof inputSchema>;

/** Task schemas by task type name. */
export function taskSchemaFor(type: string) {
  if ((TASK_TYPES.commands as readonly string[]).includes(type)) return commandsTaskSchema;
  if ((TASK_TYPES.script as readonly string[]).includes(type)) return scriptTaskSchema;
  return undefined;
}

const pluginDefaultSchema = z.strictObject({
  type: z.string(),
  forced: z.boolean().default(false),
  values: z.record(z.string(), z.unknown()),
});

/** Top level of a flow; tasks are checked one by one by their type afterwards. */
export const flowShellSchema = z.strictObject({
  id: id('flow'),
  namespace: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: 'expected a namespace such as company.team' }),
  description: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  variables: z.record(z.string(), z.unknown()).optional(),
  inputs: z.array(inputSchema).optional(),
  tasks: z.array(z.looseObject({ id: z.unknown(), type: z.unknown() })).min(1, { error: 'expected at least one task' }),
  pluginDefaults: z.array(pluginDefaultSchema).optional(),
});

/** A validated flow. */
export interface Flow {
  id: string;
  namespace: string;
  description?: string;
  labels?: Record<string, string>;
  variables?: Record<string, unknown>;
  inputs: FlowInput[];
  tasks: FlowTask[];
  pluginDefaults: z.infer<typeof pluginDefaultSchema>[];
}
