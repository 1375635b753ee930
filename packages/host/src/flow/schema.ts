import { z } from 'zod';
import {
  PLUGIN_VERSION_EXPECTED,
  PLUGIN_VERSION_PATTERN,
  dynamic,
  durationText,
  retryPolicySchema,
  taskCacheSchema,
  workerGroupSchema,
} from '@podrun/core';

/** Task types by family; the names of one family are one type (aliases of each other). */
export const TASK_TYPES = {
  commands: ['io.kestra.plugin.scripts.shell.Commands', 'io.podrun.shell.Commands'],
  script: ['io.kestra.plugin.scripts.shell.Script', 'io.podrun.shell.Script'],
  pythonCommands: ['io.kestra.plugin.scripts.python.Commands'],
  pythonScript: ['io.kestra.plugin.scripts.python.Script'],
  nodeCommands: ['io.kestra.plugin.scripts.node.Commands'],
  nodeScript: ['io.kestra.plugin.scripts.node.Script'],
} as const;

/** Flowable task types (they run other tasks), by kind, with the reference's names. */
export const FLOWABLE_TYPES = {
  parallel: ['io.kestra.plugin.core.flow.Parallel', 'io.kestra.core.tasks.flows.Parallel'],
  forEach: ['io.kestra.plugin.core.flow.ForEach'],
} as const;

const COMMANDS_TYPES = [...TASK_TYPES.commands, ...TASK_TYPES.pythonCommands, ...TASK_TYPES.nodeCommands] as const;
const SCRIPT_TYPES = [...TASK_TYPES.script, ...TASK_TYPES.pythonScript, ...TASK_TYPES.nodeScript] as const;

/** Every task type name podrun runs (flowable ones included). */
export const KNOWN_TASK_TYPES: readonly string[] = [
  ...COMMANDS_TYPES,
  ...SCRIPT_TYPES,
  ...FLOWABLE_TYPES.parallel,
  ...FLOWABLE_TYPES.forEach,
];

/** The reference's default image for shell tasks (Kestra's Commands/Script use `ubuntu`). */
export const DEFAULT_SHELL_IMAGE = 'ubuntu';

/** A language of the reference's script plugins, as a task of its family runs it. */
export interface ScriptLanguage {
  /** `containerImage` when the task gives none (the reference plugin's default). */
  image: string;
  /** Environment the reference plugin adds (task `env` wins). */
  env: Record<string, string>;
  /**
   * How a `Script` task runs its `script`: written to this file in the working directory and run
   * with `command`. Absent for shell, whose script is itself the command.
   */
  scriptFile?: { name: string; command: string };
}

/** The script languages podrun runs, with the reference plugins' defaults. */
export const SCRIPT_LANGUAGES = {
  shell: { image: DEFAULT_SHELL_IMAGE, env: {} },
  python: {
    image: 'ghcr.io/kestra-io/kestrapy:latest',
    env: { PYTHONUNBUFFERED: 'true', PIP_ROOT_USER_ACTION: 'ignore', PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    // The reference runs `python`; images with only `python3` (Debian's, Ubuntu's) work too.
    scriptFile: {
      name: '.podrun-script.py',
      command: '"$(command -v python || command -v python3 || echo python)" .podrun-script.py',
    },
  },
  node: {
    image: 'node',
    env: { PYTHONUNBUFFERED: 'true', PIP_ROOT_USER_ACTION: 'ignore' },
    scriptFile: { name: '.podrun-script.js', command: 'node .podrun-script.js' },
  },
} as const satisfies Record<string, ScriptLanguage>;

/** The language of a task type: shell, python or node. */
export function languageOf(type: string): keyof typeof SCRIPT_LANGUAGES {
  if ((TASK_TYPES.pythonCommands as readonly string[]).includes(type)) return 'python';
  if ((TASK_TYPES.pythonScript as readonly string[]).includes(type)) return 'python';
  if ((TASK_TYPES.nodeCommands as readonly string[]).includes(type)) return 'node';
  if ((TASK_TYPES.nodeScript as readonly string[]).includes(type)) return 'node';
  return 'shell';
}

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
  version: z.string().regex(PLUGIN_VERSION_PATTERN, { error: PLUGIN_VERSION_EXPECTED }).optional(),
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
  warningOnStdErr: z.boolean().optional(),
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

/** A Commands task (shell, python or node; podrun's shell alias too) with its `commands`. */
export const commandsTaskSchema = z.strictObject({
  ...commonTaskShape,
  type: z.enum(COMMANDS_TYPES),
  commands: z
    .array(z.string(), { error: 'expected a list of shell commands' })
    .min(1, { error: 'expected at least one command' }),
});

/** A Script task (shell, python or node; podrun's shell alias too) with its `script`. */
export const scriptTaskSchema = z.strictObject({
  ...commonTaskShape,
  type: z.enum(SCRIPT_TYPES),
  script: z.string({ error: 'expected the script as a string' }),
});

/** A task as validated (templates not rendered). */
export type FlowTask = z.infer<typeof commandsTaskSchema> | z.infer<typeof scriptTaskSchema>;

// Children are checked one by one by their own type afterwards, as top-level tasks are.
const childTasks = z
  .array(z.looseObject({ id: z.unknown(), type: z.unknown() }), { error: 'expected a list of tasks' })
  .min(1, { error: 'expected at least one task' });

// `errors` (run when a task failed) and `finally` (always run at the end), checked like `tasks`;
// an empty list is allowed, as in the reference.
const handlerTasks = z
  .array(z.looseObject({ id: z.unknown(), type: z.unknown() }), { error: 'expected a list of tasks' })
  .optional();
const handlerShape = { errors: handlerTasks, finally: handlerTasks };

const flowableShape = {
  id: id('task'),
  description: z.string().optional(),
  disabled: z.boolean().optional(),
  allowFailure: z.boolean().optional(),
  tasks: childTasks,
  ...handlerShape,
};

/** `io.kestra.plugin.core.flow.Parallel`: its `tasks` at once, at most `concurrent` (0 = all) at a time. */
export const parallelTaskSchema = z.strictObject({
  ...flowableShape,
  type: z.enum(FLOWABLE_TYPES.parallel),
  concurrent: z.number().int().min(0, { error: 'expected 0 (no limit) or more' }).default(0),
});

/**
 * `io.kestra.plugin.core.flow.ForEach`: its `tasks` in order, once per value of `values` (a list,
 * or a JSON array as a string, templates allowed), `concurrencyLimit` groups at a time (default 1,
 * 0 = all).
 */
export const forEachTaskSchema = z.strictObject({
  ...flowableShape,
  type: z.enum(FLOWABLE_TYPES.forEach),
  values: z.union(
    [z.string(), z.array(z.union([z.string(), z.number(), z.boolean(), z.record(z.string(), z.unknown())]))],
    { error: 'expected a list of values, or a JSON array as a string (e.g. \'["a", "b"]\' or "{{ inputs.list }}")' },
  ),
  concurrencyLimit: z.number().int().min(0, { error: 'expected 0 (no limit) or more' }).default(1),
});

/**
 * The lists that run after `tasks`, as Kestra runs them: `errors` once when a task of `tasks`
 * failed, then `finally` whatever happened; each list in order, a failed task not stopping it.
 */
export interface Handlers {
  errors?: FlowStep[];
  finally?: FlowStep[];
}
/** Which list of a flow or flowable a run belongs to, when it is not `tasks`. */
export type HandlerBranch = keyof Handlers;
/** The handler lists, in the order they run. */
export const HANDLER_BRANCHES: readonly HandlerBranch[] = ['errors', 'finally'];

/** A Parallel task as validated, its children parsed. */
export interface ParallelTask extends Omit<z.infer<typeof parallelTaskSchema>, 'tasks' | HandlerBranch>, Handlers {
  tasks: FlowStep[];
}
/** A ForEach task as validated, its children parsed. */
export interface ForEachTask extends Omit<z.infer<typeof forEachTaskSchema>, 'tasks' | HandlerBranch>, Handlers {
  tasks: FlowStep[];
}
/** A flowable task: one that runs other tasks. */
export type FlowableTask = ParallelTask | ForEachTask;
/** Any task of a flow as written: a runnable task or a flowable one holding its children. */
export type FlowStep = FlowTask | FlowableTask;

/** True when the step runs other tasks (Parallel, ForEach). */
export function isFlowable(step: FlowStep): step is FlowableTask {
  return 'tasks' in step;
}

/** True for a ForEach step. */
export function isForEach(step: FlowStep): step is ForEachTask {
  return (FLOWABLE_TYPES.forEach as readonly string[]).includes(step.type);
}
/** A flow input declaration. */
export type FlowInput = z.infer<typeof inputSchema>;

/** Task schemas by task type name (runnable tasks only). */
export function taskSchemaFor(type: string) {
  if ((COMMANDS_TYPES as readonly string[]).includes(type)) return commandsTaskSchema;
  if ((SCRIPT_TYPES as readonly string[]).includes(type)) return scriptTaskSchema;
  return undefined;
}

/** The schema of a flowable task type, or undefined. */
export function flowableSchemaFor(type: string) {
  if ((FLOWABLE_TYPES.parallel as readonly string[]).includes(type)) return parallelTaskSchema;
  if ((FLOWABLE_TYPES.forEach as readonly string[]).includes(type)) return forEachTaskSchema;
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
  ...handlerShape,
  pluginDefaults: z.array(pluginDefaultSchema).optional(),
});

/** A validated flow; `errors` and `finally` hold their tasks as written. */
export interface Flow extends Handlers {
  id: string;
  namespace: string;
  description?: string;
  labels?: Record<string, string>;
  variables?: Record<string, unknown>;
  inputs: FlowInput[];
  /** The top-level tasks as written; Parallel and ForEach hold their children. */
  steps: FlowStep[];
  /**
   * Every runnable task of the flow, those inside Parallel and ForEach and in `errors` and
   * `finally` lists included, in order.
   */
  tasks: FlowTask[];
  pluginDefaults: z.infer<typeof pluginDefaultSchema>[];
}
