import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { UnsafePathError } from '@podrun/core';
import { linkOrCopy, runPathSegments, type ExecutionRecord, type LocalStorage } from '@podrun/host';

/** Task run key (`id`, or `id[value]` inside a ForEach) -> output name -> local path (relative to the current directory when inside it). */
export type SavedOutputs = Record<string, Record<string, string>>;

/**
 * Puts every task's output files from storage at `<dir>/<execution-id>/<task-id>/<name>` (a run
 * inside a ForEach: `<task-id>/<value>/<name>`), keeping relative names, never outside that
 * directory: hard-linked when on the same file system (no second copy of a large output), copied
 * otherwise.
 */
export async function saveOutputs(
  record: ExecutionRecord,
  storage: LocalStorage,
  dir: string,
  cwd: string,
): Promise<SavedOutputs> {
  const saved: SavedOutputs = {};
  const used = new Set<string>();
  for (const [key, task] of Object.entries(record.tasks)) {
    const files = task.outputs?.outputFiles ?? {};
    if (!Object.keys(files).length) continue;
    const base = uniqueDir(resolve(cwd, dir, record.id, ...runPathSegments(task)), used);
    saved[key] = {};
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
      saved[key]![name] = rel.startsWith('..') ? target : join('.', rel);
    }
  }
  return saved;
}

function uniqueDir(base: string, used: Set<string>): string {
  let dir = base;
  for (let n = 2; used.has(dir); n++) dir = `${base}~${n}`;
  used.add(dir);
  return dir;
}
