import { ErrorCodes } from '@podrun/core';
import type { PodContribution, Task } from '@podrun/core';
import type { IssueList } from './issues.js';
import { at, show } from './issues.js';
import { isPlainObject } from './merge.js';

/** What the task's commands run with when it names no interpreter. */
export const DEFAULT_INTERPRETER: readonly string[] = ['/bin/sh', '-c'];

const TASK = ErrorCodes.TASK_INVALID;

function stringList(value: unknown, path: string, issues: IssueList, allowEmptyItems: boolean): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    issues.add(path, 'must be a non-empty list of strings', TASK);
    return undefined;
  }
  let ok = true;
  value.forEach((item, i) => {
    if (typeof item !== 'string' || (!allowEmptyItems && item === '')) {
      issues.add(at(path, i), allowEmptyItems ? 'must be a string' : 'must be a non-empty string', TASK);
      ok = false;
    }
  });
  return ok ? (value as string[]) : undefined;
}

/**
 * The main container's command: the interpreter, then the commands joined with newlines as ONE
 * argument, so nothing in them is ever re-parsed or re-quoted by podrun; then the transfer's
 * wrapper, which receives that list and must pass it on as argv.
 */
export function mainCommandOf(
  task: Task,
  contribution: PodContribution,
  taskPath: string,
  issues: IssueList,
): string[] | undefined {
  const commands = stringList(task.commands, `${taskPath}.commands`, issues, true);
  const interpreter =
    task.interpreter === undefined
      ? [...DEFAULT_INTERPRETER]
      : stringList(task.interpreter, `${taskPath}.interpreter`, issues, false);
  if (!commands || !interpreter) return undefined;
  const command = [...interpreter, commands.join('\n')];
  if (!contribution.wrapMainCommand) return command;
  const wrapped: unknown = contribution.wrapMainCommand([...command]);
  if (!Array.isArray(wrapped) || wrapped.length === 0 || wrapped.some((part) => typeof part !== 'string')) {
    issues.add('contribution.wrapMainCommand', 'must return a non-empty list of strings', ErrorCodes.POD_SPEC_INVALID);
    return undefined;
  }
  return wrapped as string[];
}

/** The task's image, which this runner requires. */
export function containerImageOf(task: Task, taskPath: string, issues: IssueList): string | undefined {
  const image = task.containerImage;
  if (typeof image !== 'string' || image.trim() === '') {
    issues.add(
      `${taskPath}.containerImage`,
      'is required: the Kubernetes runner runs the commands in a container of this image (e.g. containerImage: ubuntu:24.04)',
      TASK,
    );
    return undefined;
  }
  return image;
}

/** The task's env as V1EnvVar entries, in its own order; names podrun or the transfer set are refused. */
export function taskEnvOf(
  task: Task,
  reservedEnv: ReadonlyMap<string, string>,
  taskPath: string,
  issues: IssueList,
): { name: string; value: string }[] {
  if (task.env === undefined || task.env === null) return [];
  if (!isPlainObject(task.env)) {
    issues.add(`${taskPath}.env`, 'must be a map of names to values', TASK);
    return [];
  }
  const out: { name: string; value: string }[] = [];
  for (const [name, value] of Object.entries(task.env as Record<string, unknown>)) {
    const owner = reservedEnv.get(name);
    if (name === '' || name.includes('='))
      issues.add(`${taskPath}.env.${name}`, 'is not a valid environment variable name', TASK);
    else if (owner) issues.add(`${taskPath}.env.${name}`, `is set by ${owner}; choose another name`, TASK);
    else if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      issues.add(
        `${taskPath}.env.${name}`,
        `must be a string, got ${Array.isArray(value) ? 'a list' : typeof value}`,
        TASK,
      );
    } else out.push({ name, value: String(value) });
  }
  return out;
}

/** Rejects a non-positive or non-finite task timeout. */
export function timeoutOf(task: Task, taskPath: string, issues: IssueList): number | undefined {
  const t = task.timeoutMs;
  if (t === undefined) return undefined;
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0) {
    issues.add(`${taskPath}.timeoutMs`, `must be a positive number of milliseconds, got ${show(t)}`, TASK);
    return undefined;
  }
  return t;
}
