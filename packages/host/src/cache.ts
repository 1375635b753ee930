import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { InputTree } from '@podrun/core';
import type { TaskOutputs } from './state.js';
import type { LocalStorage } from './storage.js';

/** What identifies a cacheable task run: its rendered definition and its input contents. */
export interface CacheKeyParts {
  /** The rendered task (commands, env, image, output selection...) and its runner config. */
  definition: unknown;
  /** Its input and namespace files; their contents are hashed, not their URIs. */
  inputs: InputTree;
}

/**
 * sha256 over a canonical JSON of the rendered definition plus the sha256 of every input file's
 * content (streamed), sorted by path. Two runs with equal commands and equal file contents get
 * the same key even when the files came from different executions.
 */
export async function computeCacheKey(parts: CacheKeyParts): Promise<string> {
  const files: [string, string][] = [];
  for (const entry of [...parts.inputs.entries].sort((a, b) => a.path.localeCompare(b.path))) {
    const hash = createHash('sha256');
    for await (const chunk of await entry.open()) hash.update(chunk as Buffer);
    files.push([entry.path, hash.digest('hex')]);
  }
  return createHash('sha256')
    .update(canonicalJson({ definition: parts.definition, files }))
    .digest('hex');
}

/** JSON with object keys sorted, so equal values always serialise equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/** A cached result. */
export interface CacheEntry {
  key: string;
  createdAt: string;
  /** ISO time after which the entry is ignored; absent = no expiry. */
  expiresAt?: string;
  executionId: string;
  outputs: TaskOutputs;
}

/** Task cache kept as JSON files under `<dir>/cache/<namespace>/<flow>/<task>/<key>.json`. */
export interface TaskCache {
  get(scope: CacheScope, key: string, now?: Date): Promise<CacheEntry | undefined>;
  put(scope: CacheScope, entry: CacheEntry): Promise<void>;
}

/** Which task a cache entry belongs to. */
export interface CacheScope {
  namespace: string;
  flowId: string;
  taskId: string;
}

/** Creates the task cache; entries whose output files left the storage are treated as misses. */
export function createTaskCache(options: { dir: string; storage: LocalStorage }): TaskCache {
  const root = resolve(options.dir, 'cache');
  const fileOf = (scope: CacheScope, key: string) =>
    join(
      root,
      encodeURIComponent(scope.namespace),
      encodeURIComponent(scope.flowId),
      encodeURIComponent(scope.taskId),
      `${key}.json`,
    );
  return {
    async get(scope, key, now = new Date()) {
      let entry: CacheEntry;
      try {
        entry = JSON.parse(await readFile(fileOf(scope, key), 'utf8')) as CacheEntry;
      } catch {
        return undefined;
      }
      if (entry.expiresAt && Date.parse(entry.expiresAt) <= now.getTime()) return undefined;
      for (const uri of Object.values(entry.outputs.outputFiles)) {
        try {
          await options.storage.size(uri);
        } catch {
          return undefined;
        }
      }
      return entry;
    },
    async put(scope, entry) {
      const file = fileOf(scope, entry.key);
      await mkdir(join(file, '..'), { recursive: true, mode: 0o700 });
      const temp = `${file}.${randomUUID()}.tmp`;
      await writeFile(temp, JSON.stringify(entry, null, 2), { mode: 0o600 });
      await rename(temp, file);
    },
  };
}
