import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, ErrorCodes } from '@podrun/core';
import type { ConfigIssue } from '@podrun/core';
import type { RunnerConfig, RunnerRegistry } from '../registry.js';
import { closestMatch, zodIssuesToConfigIssues } from '@podrun/core';
import { locateIssues } from './locate.js';
import {
  HANDLER_BRANCHES,
  KNOWN_TASK_TYPES,
  TASK_TYPES,
  flowShellSchema,
  flowableSchemaFor,
  isFlowable,
  taskSchemaFor,
} from './schema.js';
import type { Flow, FlowStep, FlowTask, FlowableTask, Handlers } from './schema.js';

/** Options of {@link parseFlow}. */
export interface ParseFlowOptions {
  /** File name shown in errors. */
  file?: string;
  /** When given, each `taskRunner` block is validated too (type known, version, properties). */
  registry?: RunnerRegistry;
}

/**
 * Parses and validates a flow in the reference's YAML format. Every problem is reported at once
 * in one ConfigError (code PODRUN_FLOW_INVALID), each with its path and source line.
 * `pluginDefaults` are applied to the tasks (and task runners) whose type they name.
 */
export function parseFlow(source: string, options: ParseFlowOptions = {}): Flow {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const fail = (issues: ConfigIssue[]) =>
    new ConfigError(locateIssues(issues, doc, lines), {
      code: ErrorCodes.FLOW_INVALID,
      component: 'flow',
      title: `invalid flow${options.file ? ` ${options.file}` : ''}`,
    });
  if (doc.errors.length) {
    throw fail(
      doc.errors.map((e) => ({ path: '(yaml)', message: e.message.split('\n')[0]!, line: e.linePos?.[0]?.line })),
    );
  }
  const raw = doc.toJS({ maxAliasCount: 100 }) as unknown;
  const shell = flowShellSchema.safeParse(raw);
  if (!shell.success) {
    throw fail(zodIssuesToConfigIssues(shell.error.issues, { schema: flowShellSchema, input: raw }));
  }
  const issues: ConfigIssue[] = [];
  const defaults = shell.data.pluginDefaults ?? [];
  const ids: { id: unknown; path: string }[] = [];
  const context = { defaults, issues, ids, registry: options.registry };
  const steps = parseSteps(shell.data.tasks, 'tasks', context);
  const handlers = parseHandlers(shell.data, '', context);
  // Task ids are unique in the whole flow, inside Parallel and ForEach and in `errors` and
  // `finally` too (outputs and state are addressed by id).
  const seen = new Map<unknown, string>();
  for (const { id, path } of ids) {
    const first = seen.get(id);
    if (first !== undefined)
      issues.push({ path: `${path}.id`, message: `duplicate task id "${String(id)}" (also ${first})` });
    else seen.set(id, path);
  }
  duplicates(
    (shell.data.inputs ?? []).map((i) => i.id),
    'inputs',
    'input',
    issues,
  );
  if (issues.length) throw fail(issues);
  const flow: Flow = {
    id: shell.data.id,
    namespace: shell.data.namespace,
    inputs: shell.data.inputs ?? [],
    steps,
    ...handlers,
    tasks: runnableTasks([...steps, ...(handlers.errors ?? []), ...(handlers.finally ?? [])]),
    pluginDefaults: defaults,
  };
  if (shell.data.description !== undefined) flow.description = shell.data.description;
  if (shell.data.labels) flow.labels = shell.data.labels;
  if (shell.data.variables) flow.variables = shell.data.variables;
  return flow;
}

interface StepsContext {
  defaults: PluginDefault[];
  issues: ConfigIssue[];
  ids: { id: unknown; path: string }[];
  registry: RunnerRegistry | undefined;
}

// Each task is checked against its own type's schema; Parallel and ForEach children the same way.
function parseSteps(raw: unknown[], listPath: string, context: StepsContext): FlowStep[] {
  const steps: FlowStep[] = [];
  raw.forEach((rawTask, index) => {
    const path = `${listPath}[${index}]`;
    context.ids.push({ id: (rawTask as { id?: unknown }).id, path });
    const task = applyDefaults(rawTask as Record<string, unknown>, context.defaults);
    const type = typeof task.type === 'string' ? task.type : '';
    const flowable = flowableSchemaFor(type);
    if (flowable) {
      const parsed = flowable.safeParse(task);
      // Children are checked even when the flowable's own properties are wrong: every problem at once.
      const children = Array.isArray(task.tasks) ? parseSteps(task.tasks, `${path}.tasks`, context) : [];
      const handlers = parseHandlers(task, `${path}.`, context);
      if (!parsed.success) {
        context.issues.push(...zodIssuesToConfigIssues(parsed.error.issues, { path, schema: flowable, input: task }));
        return;
      }
      steps.push({ ...parsed.data, tasks: children, ...handlers } as FlowableTask);
      return;
    }
    const schema = taskSchemaFor(type);
    if (!schema) {
      const suggestion = closestMatch(type, KNOWN_TASK_TYPES);
      context.issues.push({
        path: `${path}.type`,
        message: `unknown task type ${JSON.stringify(task.type)}${suggestion ? `; did you mean \`${suggestion}\`?` : ''} (podrun runs ${KNOWN_TASK_TYPES.join(', ')})`,
      });
      return;
    }
    const parsed = schema.safeParse(task);
    const runner = task.taskRunner as RunnerConfig | undefined;
    if (runner && typeof runner === 'object' && typeof runner.type === 'string' && context.registry) {
      context.issues.push(...context.registry.validate(runner, `${path}.taskRunner`));
    }
    if (!parsed.success) {
      context.issues.push(...zodIssuesToConfigIssues(parsed.error.issues, { path, schema, input: task }));
      return;
    }
    steps.push(parsed.data);
  });
  return steps;
}

// `errors` and `finally` of a flow or flowable (prefix `` or `tasks[0].`), checked like `tasks`.
function parseHandlers(raw: Record<string, unknown>, prefix: string, context: StepsContext): Handlers {
  const handlers: Handlers = {};
  for (const branch of HANDLER_BRANCHES) {
    const list = raw[branch];
    if (Array.isArray(list)) handlers[branch] = parseSteps(list, `${prefix}${branch}`, context);
  }
  return handlers;
}

function runnableTasks(steps: FlowStep[]): FlowTask[] {
  return steps.flatMap((step) =>
    isFlowable(step) ? runnableTasks([...step.tasks, ...(step.errors ?? []), ...(step.finally ?? [])]) : [step],
  );
}

/** Reads and parses a flow file. */
export async function loadFlowFile(
  file: string,
  options: Omit<ParseFlowOptions, 'file'> = {},
): Promise<{ flow: Flow; source: string }> {
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      [{ path: '(file)', message: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }],
      {
        code: ErrorCodes.FLOW_INVALID,
        component: 'flow',
        title: 'flow file not readable',
      },
    );
  }
  return { flow: parseFlow(source, { ...options, file }), source };
}

function duplicates(ids: unknown[], list: string, what: string, issues: ConfigIssue[]): void {
  const seen = new Map<unknown, number>();
  ids.forEach((id, index) => {
    if (seen.has(id))
      issues.push({
        path: `${list}[${index}].id`,
        message: `duplicate ${what} id "${String(id)}" (also ${list}[${seen.get(id)}])`,
      });
    else seen.set(id, index);
  });
}

type PluginDefault = { type: string; forced: boolean; values: Record<string, unknown> };

// A default applies when its type equals the task's type or is a dotted prefix of it (as in the
// reference). Defaults whose type names a task runner apply to `taskRunner` blocks of that type.
function applyDefaults(task: Record<string, unknown>, defaults: PluginDefault[]): Record<string, unknown> {
  let out = task;
  const matches = (type: unknown, d: PluginDefault) =>
    typeof type === 'string' && namesOf(type).some((name) => name === d.type || name.startsWith(`${d.type}.`));
  for (const d of defaults) {
    if (matches(out.type, d)) out = d.forced ? deepMerge(out, d.values) : deepMerge(d.values, out);
  }
  const runner = out.taskRunner as Record<string, unknown> | undefined;
  if (runner && typeof runner === 'object') {
    let merged = runner;
    for (const d of defaults) {
      if (matches(merged.type, d)) merged = d.forced ? deepMerge(merged, d.values) : deepMerge(d.values, merged);
    }
    out = { ...out, taskRunner: merged };
  }
  return out;
}

// A task type and its aliases are one type: a default for the reference's name applies to tasks
// written with podrun's name and the other way round.
function namesOf(type: string): readonly string[] {
  return Object.values(TASK_TYPES).find((names) => (names as readonly string[]).includes(type)) ?? [type];
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlain(b) && isPlain(v) ? deepMerge(b, v) : v;
  }
  return out;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}
