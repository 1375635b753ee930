import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { UnsafePathError } from '@podrun/core';
import type { ExecutionRecord, LocalStorage } from '@podrun/host';

/** Task id -> output name -> local path (relative to the current directory when inside it). */
export type SavedOutputs = Record<string, Record<string, string>>;

/**
 * Copies every task's output files from storage to `<dir>/<execution-id>/<task-id>/<name>`,
 * keeping relative names, streamed, never outside that directory.
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
        await pipeline((await storage.open(uri)).content, createWriteStream(temp));
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
