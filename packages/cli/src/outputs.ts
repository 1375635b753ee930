import { createHash } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { UnsafePathError } from '@podrun/core';
import { linkOrCopy, type ExecutionRecord, type LocalStorage } from '@podrun/host';

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
    const base = uniqueDir(resolve(cwd, dir, record.id, task.id, ...(task.valuePath ?? []).map(segment)), used);
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

// A ForEach value names a directory when it is a plain file name; any other value (a slash, a
// dot-only name, JSON) is replaced by a readable stand-in, never a path that could leave the directory.
function segment(value: string): string {
  const plain = /^[A-Za-z0-9._@+=-]{1,100}$/.test(value) && !/^\.+$/.test(value);
  return plain ? value : `value-${createHash('sha256').update(value).digest('hex').slice(0, 12)}`;
}

function uniqueDir(base: string, used: Set<string>): string {
  let dir = base;
  for (let n = 2; used.has(dir); n++) dir = `${base}~${n}`;
  used.add(dir);
  return dir;
}
