import { Readable } from 'node:stream';
import { ErrorCodes, PodrunError } from '@podrun/core';
import type {
  InputEntry,
  InputFileSource,
  InputTree,
  LogSink,
  Logger,
  RunContext,
  RunState,
  Task,
  TaskRunIdentity,
  TransferProgress,
} from '@podrun/core';
import type { LocalStorage } from './storage.js';
import type { TemplateRenderer, TemplateVars } from './templates.js';
import { assertRelativePath } from './local-files.js';

/** Everything {@link createRunContext} assembles into a RunContext. */
export interface RunContextOptions {
  identity: TaskRunIdentity;
  logger: Logger;
  taskLogs: LogSink;
  storage: LocalStorage;
  state: RunState;
  renderer: TemplateRenderer;
  /** The run's template variables (inputs, outputs, execution, flow...). */
  vars: TemplateVars;
  onProgress?: (progress: TransferProgress) => void;
}

/** Builds the RunContext a runner receives from the host. */
export function createRunContext(options: RunContextOptions): RunContext {
  const context: RunContext = {
    identity: options.identity,
    logger: options.logger,
    taskLogs: options.taskLogs,
    storage: options.storage.forTaskRun(options.identity),
    state: options.state,
    render: (template, extraVars) => options.renderer.render(template, { ...options.vars, ...extraVars }),
    resolveInputs: (task) => resolveInputs(task, options.storage),
  };
  if (options.onProgress) context.onProgress = options.onProgress;
  return context;
}

/**
 * Turns a task's inputFiles and namespaceFiles into a lazily opened tree. Storage URIs are
 * checked now (a missing file fails before any pod exists) and streamed later.
 */
export async function resolveInputs(task: Task, storage: LocalStorage): Promise<InputTree> {
  const entries = new Map<string, InputEntry>();
  // Namespace files first: a task's own inputFiles win on a clash, as in the reference.
  for (const [path, source] of [
    ...Object.entries(task.namespaceFiles ?? {}),
    ...Object.entries(task.inputFiles ?? {}),
  ]) {
    const name = assertRelativePath(path, 'host');
    entries.set(name, await entryFor(name, source, storage));
  }
  return { entries: [...entries.values()] };
}

async function entryFor(path: string, source: InputFileSource, storage: LocalStorage): Promise<InputEntry> {
  if ('uri' in source) {
    let size: number;
    try {
      size = await storage.size(source.uri);
    } catch (error) {
      throw new PodrunError(
        ErrorCodes.INPUT_MISSING,
        `input file "${path}" refers to ${source.uri}, which does not exist; pass the file as an input or fix the URI`,
        { component: 'host', cause: error, details: { path, uri: source.uri } },
      );
    }
    return { path, size, open: async () => (await storage.open(source.uri)).content };
  }
  const bytes = typeof source.content === 'string' ? Buffer.from(source.content, 'utf8') : Buffer.from(source.content);
  return { path, size: bytes.length, open: () => Readable.from([bytes]) };
}
