import picomatch from 'picomatch';
import { ConfigError, ErrorCodes, parseDuration } from '@podrun/core';
import type { InputFileSource, Task } from '@podrun/core';
import { SCRIPT_LANGUAGES, languageOf } from './flow/schema.js';
import type { FlowTask, ScriptLanguage } from './flow/schema.js';
import { listRegularFiles } from './local-files.js';
import { formatStorageUri, isStorageUri } from './storage.js';
import type { TemplateRenderer, TemplateVars } from './templates.js';

/** Where namespace files come from: a local directory per flow namespace. */
export type NamespaceFilesSource = (namespace: string) => string | undefined;

/**
 * Renders a script task (shell, python or node; Commands or Script) into the runner's Task:
 * `beforeCommands` then `commands` (or the `script`: shell's is the command itself, python's and
 * node's is written to a file in the working directory and run, as the reference's plugins do),
 * env (the plugin's own defaults, then the task's), input files (a storage URI value becomes a file
 * reference, anything else inline content), output files, image (the plugin's default: `ubuntu`,
 * `ghcr.io/kestra-io/kestrapy:latest`, `node`), interpreter and timeout.
 */
export async function renderShellTask(
  task: FlowTask,
  path: string,
  renderer: TemplateRenderer,
  vars: TemplateVars,
  namespaceFiles?: { namespace: string; dir: string | undefined },
): Promise<Task> {
  const render = (value: string) => renderer.render(value, vars);
  const language: ScriptLanguage = SCRIPT_LANGUAGES[languageOf(task.type)];
  const scriptFile = 'script' in task && language.scriptFile ? language.scriptFile : undefined;
  const body =
    'commands' in task ? task.commands.map(render) : scriptFile ? [scriptFile.command] : [render(task.script)];
  const out: Task = {
    commands: [...(task.beforeCommands ?? []).map(render), ...body],
    containerImage: render(task.containerImage ?? language.image),
  };
  if (task.interpreter) out.interpreter = task.interpreter.map(render);
  const env = {
    ...language.env,
    ...Object.fromEntries(Object.entries(task.env ?? {}).map(([k, v]) => [k, render(v)])),
  };
  if (Object.keys(env).length > 0) out.env = env;
  if (task.inputFiles !== undefined) out.inputFiles = renderInputFiles(task.inputFiles, path, render);
  if (scriptFile && 'script' in task)
    out.inputFiles = { ...out.inputFiles, [scriptFile.name]: { content: render(task.script) } };
  if (task.outputFiles) out.outputFiles = task.outputFiles.map(render);
  if (task.timeout) out.timeoutMs = parseDuration(render(task.timeout), `${path}.timeout`);
  if (task.namespaceFiles?.enabled && namespaceFiles) {
    out.namespaceFiles = await selectNamespaceFiles(namespaceFiles.namespace, namespaceFiles.dir, task.namespaceFiles);
  }
  return out;
}

function renderInputFiles(
  value: Record<string, string> | string,
  path: string,
  render: (v: string) => string,
): Record<string, InputFileSource> {
  let map: Record<string, unknown>;
  if (typeof value === 'string') {
    // The reference accepts a JSON object (often produced by an expression) as well as a map.
    const text = render(value);
    try {
      map = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new ConfigError(
        [
          {
            path: `${path}.inputFiles`,
            message: 'expected a map of file name to content, or a JSON object rendering to one',
          },
        ],
        {
          code: ErrorCodes.TASK_INVALID,
          component: 'host',
        },
      );
    }
  } else {
    map = value;
  }
  const out: Record<string, InputFileSource> = {};
  for (const [name, raw] of Object.entries(map)) {
    if (raw === null || raw === undefined) {
      throw new ConfigError(
        [{ path: `${path}.inputFiles["${name}"]`, message: 'has no value; give the file content or a storage URI' }],
        {
          code: ErrorCodes.INPUT_MISSING,
          component: 'host',
        },
      );
    }
    const rendered = typeof raw === 'string' ? render(raw) : JSON.stringify(raw);
    out[render(name)] = isStorageUri(rendered.trim()) ? { uri: rendered.trim() } : { content: rendered };
  }
  return out;
}

async function selectNamespaceFiles(
  namespace: string,
  dir: string | undefined,
  options: { include?: string[] | undefined; exclude?: string[] | undefined },
): Promise<Record<string, InputFileSource>> {
  if (!dir) return {};
  const include = picomatch(options.include?.length ? options.include : ['**'], { dot: true });
  const exclude = options.exclude?.length ? picomatch(options.exclude, { dot: true }) : () => false;
  const out: Record<string, InputFileSource> = {};
  for (const name of await listRegularFiles(dir)) {
    if (include(name) && !exclude(name))
      out[name] = { uri: formatStorageUri([namespace, '_files', ...name.split('/')]) };
  }
  return out;
}
