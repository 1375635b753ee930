import { createHash } from 'node:crypto';
import type { TaskRunIdentity } from './model.js';
import type { PodPaths } from './strategies.js';

/** Mount root of the shared files volume, as in the reference. */
export const POD_ROOT = '/kestra';
/** WORKING_DIR inside the pod, as in the reference. */
export const POD_WORKING_DIR = '/kestra/working-dir';

/**
 * The reference's locations for a task run: root `/kestra`, working dir `/kestra/working-dir`,
 * output dir `/kestra/working-dir/<id>`. The reference picks a random id; podrun derives it from
 * the task run id, so a runner that reattaches after a crash computes the same OUTPUT_DIR as the
 * pod it finds, and two task runs never share one.
 */
export function defaultPodPaths(identity: Pick<TaskRunIdentity, 'taskRunId'>): PodPaths {
  const id = createHash('sha256').update(identity.taskRunId).digest('hex').slice(0, 20);
  return { root: POD_ROOT, workingDir: POD_WORKING_DIR, outputDir: `${POD_WORKING_DIR}/out-${id}` };
}

/**
 * Why `path` is not a safe relative POSIX path inside a directory, or undefined when it is.
 * Rejected: empty, absolute (`/x`, `C:\x`), `..`, `.` or empty segments, backslashes and NUL.
 */
export function relativePathProblem(path: string): string | undefined {
  if (path.length === 0) return 'is empty: name the file relative to the working directory, e.g. data/in.csv';
  if (path.includes('\0')) return 'contains a NUL character';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) {
    return `is absolute: name it relative to the working directory (e.g. ${path.replace(/^([A-Za-z]:)?[\\/]+/, '') || 'data.txt'})`;
  }
  if (path.includes('\\')) return "contains a backslash: use '/' between directories";
  const segments = path.split('/');
  if (segments.includes('..')) return "contains '..': files must stay inside the working directory";
  if (segments.some((s) => s === '' || s === '.')) return "has an empty or '.' segment: write it without '//' or './'";
  if (path.length > 4096) return 'is longer than 4096 characters';
  return undefined;
}
