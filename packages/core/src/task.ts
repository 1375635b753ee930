import { z } from 'zod';
import { parseWithSchema } from './config/issues.js';
import { isTemplate } from './config/template.js';
import { ConfigError, ErrorCodes } from './errors.js';
import type { Task } from './model.js';
import { relativePathProblem } from './paths.js';

/*
 * Validation of the task model (after the host rendered it). The shape is the `Task` interface in
 * model.ts; this module only adds the checks and the errors.
 */

const pathKey = () =>
  z.string().superRefine((path, ctx) => {
    const problem = relativePathProblem(path);
    if (problem) ctx.addIssue({ code: 'custom', message: `file name ${JSON.stringify(path)} ${problem}` });
  });

const source = z.union(
  [
    z.strictObject({ content: z.union([z.string(), z.custom<Uint8Array>((v) => v instanceof Uint8Array)]) }),
    z.strictObject({ uri: z.string().min(1) }),
  ],
  { error: 'expected { content } (the file itself) or { uri } (a storage URI such as kestra:///...)' },
);

/** Why `glob` cannot select output files, or undefined when it can. */
export function outputGlobProblem(glob: string): string | undefined {
  if (glob.trim() === '') return 'is empty: name a file or a pattern such as *.csv or reports/**';
  if (isTemplate(glob)) return 'contains an unrendered template: the host renders outputFiles before the runner';
  if (/^(glob|regex):/.test(glob))
    return 'uses a `glob:`/`regex:` prefix, which podrun does not support: write a plain glob such as **/*.csv';
  const problem = relativePathProblem(glob.replace(/^\.\//, ''));
  if (problem) return problem;
  let depth = 0;
  for (const [open, close] of [
    ['{', '}'],
    ['[', ']'],
  ] as const) {
    depth = 0;
    for (const ch of glob.replace(/\\./g, '')) {
      if (ch === open) depth++;
      else if (ch === close && --depth < 0) break;
    }
    if (depth !== 0) return `has an unbalanced '${open}${close}'`;
  }
  return undefined;
}

const outputGlob = () =>
  z.string().superRefine((glob, ctx) => {
    const problem = outputGlobProblem(glob);
    if (problem) ctx.addIssue({ code: 'custom', message: `pattern ${JSON.stringify(glob)} ${problem}` });
  });

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** The task model's schema; its output is a {@link Task}. */
export const taskSchema = z.strictObject({
  commands: z
    .array(z.string(), { error: 'expected a list of commands' })
    .min(1, { error: 'needs at least one command' }),
  containerImage: z
    .string()
    .min(1)
    .regex(/^\S+$/, { error: 'expected an image reference without spaces, e.g. ubuntu:24.04' })
    .optional(),
  env: z
    .record(
      z.string().regex(ENV_NAME, {
        error: "expected an environment variable name (letters, digits, '_', '-', '.', not starting with a digit)",
      }),
      z.string(),
    )
    .optional(),
  inputFiles: z.record(pathKey(), source).optional(),
  outputFiles: z.array(outputGlob()).optional(),
  namespaceFiles: z.record(pathKey(), source).optional(),
  interpreter: z
    .array(z.string().min(1))
    .min(1, { error: 'needs at least the program, e.g. ["/bin/sh", "-c"]' })
    .optional(),
  timeoutMs: z.number().int().positive().optional(),
  enableOutputDirectory: z.boolean().optional(),
});

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const typesMatch: Same<z.output<typeof taskSchema>, Task> = true;
void typesMatch;

/**
 * Validates a rendered task: at least one command; input and namespace file names relative, without
 * `..` or absolute paths; outputFiles plain globs inside the working directory; env names valid.
 * Throws one ConfigError (code `PODRUN_TASK_INVALID`) listing every problem under `path`.
 */
export function parseTask(input: unknown, options: { path?: string } = {}): Task {
  return parseWithSchema(taskSchema, input, {
    path: options.path ?? 'task',
    stage: 'rendered',
    code: ErrorCodes.TASK_INVALID,
    title: `invalid task${options.path ? ` ${options.path}` : ''}`,
  }) as Task;
}

/**
 * Returns the task's container image, or throws a ConfigError (code `PODRUN_TASK_INVALID`) that
 * names the field and says what to do when a container-based runner gets a task without one.
 */
export function requireContainerImage(
  task: Pick<Task, 'containerImage'>,
  runnerType: string,
  options: { path?: string } = {},
): string {
  const image = task.containerImage?.trim();
  if (image) return image;
  const path = `${options.path ?? 'task'}.containerImage`;
  throw new ConfigError(
    [
      {
        path,
        message: `is required by the ${runnerType} task runner, which runs the commands in a container: set containerImage on the task, e.g. containerImage: ubuntu:24.04`,
      },
    ],
    { code: ErrorCodes.TASK_INVALID, component: 'config', title: 'the task has no container image' },
  );
}
