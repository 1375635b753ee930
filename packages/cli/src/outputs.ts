import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { UnsafePathError } from '@podrun/core';
import { linkOrCopy, type ExecutionRecord, type LocalStorage } from '@podrun/host';

/** Task id -> output name -> local path (relative to the current directory when inside it). */
export type SavedOutputs = Record<string, Record<string, string>>;

/**
 * Puts every task's output files from storage at `<dir>/<execution-id>/<task-id>/<name>`, keeping
 * relative names, never outside that directory: hard-linked when on the same file system (no
 * second copy of a large output), copied otherwise.
 */
export async function saveOutputs(
  record: ExecutionRecord,
  storage: LocalStorage,
  dir: string,
  cwd: string,
): Promise<SavedOutputs> {
  const saved: SavedOutputs = {};
  for (const task of Object.values(record.tasks)) {
    const files = task.outputs?.outputFiles ?? {};
    if (!Object.keys(files).length) continue;
    const base = resolve(cwd, dir, record.id, task.id);
    saved[task.id] = {};
    for (const [name, uri] of Object.entries(files)) {
      const target = resolve(base, name);
      if (!target.startsWith(base + sep))
        throw new UnsafePathError(name, `output "${name}" would be written outside ${base}`, { component: 'cli' });
      await mkdir(dirname(target), { recursive: true });
      const temp = `${target}.part`;
      try {
        await storage.size(uri);
        await rm(temp, { force: true });
        await linkOrCopy(storage.pathOf(uri), temp);
        await rename(temp, target);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
      const rel = relative(cwd, target);
      saved[task.id]![name] = rel.startsWith('..') ? target : join('.', rel);
    }
  }
  return saved;
}
