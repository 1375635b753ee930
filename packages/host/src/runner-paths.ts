import type { TaskRunIdentity, TaskRunner } from '@podrun/core';

/** Where a task's files are while it runs, as its commands see them. */
export interface WorkingPaths {
  /** `{{ workingDir }}` and WORKING_DIR. */
  workingDir: string;
  /** `{{ outputDir }}` and OUTPUT_DIR. */
  outputDir: string;
}

/**
 * A TaskRunner that can tell the host its paths before the run, so `{{ workingDir }}` and
 * `{{ outputDir }}` render to what the commands will see (the reference's `additionalVars`).
 */
export interface HostTaskRunner extends TaskRunner {
  /** Deterministic per task run and attempt, so a resumed run renders the same commands. */
  workingPaths?(identity: TaskRunIdentity): WorkingPaths;
}
