import type { InputTree, OutputSelection, PodPaths, Task, TaskFilesPlan, TaskRunIdentity } from '@podrun/core';

/** What the task moves in and out, so the transfer contributes only what is needed. */
export interface FilesPlan extends TaskFilesPlan {
  select: OutputSelection;
}

/**
 * Decides which files travel. Inputs: any input or namespace file. Outputs: `outputFiles`,
 * `syncWorkingDirectory`, and OUTPUT_DIR. OUTPUT_DIR costs a sidecar and an exec, so when the
 * task does not say (`enableOutputDirectory` unset) it is collected only if the task could write
 * there: its commands or env mention OUTPUT_DIR / the output path, or it ships files (scripts)
 * that might. `enableOutputDirectory: true` always collects it, `false` never.
 */
export function filesPlan(
  task: Task,
  inputs: InputTree,
  paths: PodPaths,
  identity: TaskRunIdentity,
  syncWorkingDirectory: boolean,
): FilesPlan {
  const globs = task.outputFiles ?? [];
  const hasInputs = inputs.entries.length > 0;
  const text = [...task.commands, ...Object.values(task.env ?? {})].join('\n');
  const mentionsOutputDir = /OUTPUT_DIR|outputDir/.test(text) || text.includes(paths.outputDir);
  const outputDir =
    task.enableOutputDirectory === true ||
    (task.enableOutputDirectory === undefined && (mentionsOutputDir || hasInputs));
  const select: OutputSelection = { globs, outputDir, syncWorkingDirectory };
  return {
    hasInputs,
    hasOutputs: globs.length > 0 || outputDir || syncWorkingDirectory,
    paths,
    identity,
    select,
  };
}
