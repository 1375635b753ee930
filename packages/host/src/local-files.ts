import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, opendir } from 'node:fs/promises';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import picomatch from 'picomatch';
import { UnsafePathError } from '@podrun/core';
import type { InputTree, OutputSelection, TaskStorage, TransferProgress } from '@podrun/core';

/** Rejects absolute paths, `..` segments and backslashes in a relative file name. */
export function assertRelativePath(path: string, component: string): string {
  const normalized = posix.normalize(path);
  if (
    path === '' ||
    path.includes('\\') ||
    posix.isAbsolute(path) ||
    normalized === '..' ||
    normalized.startsWith('../')
  ) {
    throw new UnsafePathError(
      path,
      `"${path}" is not a relative path inside the working directory; use a name such as data/in.txt`,
      {
        component,
      },
    );
  }
  return normalized;
}

/** Streams every input entry into `dir` (created as needed), reporting progress. */
export async function stageInputs(
  dir: string,
  inputs: InputTree,
  options: { signal: AbortSignal; onProgress?: (p: TransferProgress) => void; component: string },
): Promise<{ files: number; bytes: number }> {
  const totalBytes = inputs.entries.reduce((n, e) => n + e.size, 0);
  let bytes = 0;
  for (const entry of inputs.entries) {
    const target = join(dir, assertRelativePath(entry.path, options.component));
    await mkdir(dirname(target), { recursive: true });
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        options.onProgress?.({ phase: 'upload', bytes, totalBytes });
        done(null, chunk);
      },
    });
    await pipeline(await entry.open(), counter, createWriteStream(target), { signal: options.signal });
    if (entry.mode !== undefined) await chmod(target, entry.mode & 0o7777);
  }
  if (inputs.entries.length) options.onProgress?.({ phase: 'upload', bytes, totalBytes });
  return { files: inputs.entries.length, bytes };
}

/** Regular files under `root` as POSIX paths relative to it; symlinks are never followed. */
export async function listRegularFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let handle;
    try {
      handle = await opendir(dir);
    } catch {
      return;
    }
    for await (const entry of handle) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) out.push(relative(root, path).split(sep).join('/'));
    }
  };
  await walk(root);
  return out.sort();
}

/**
 * Stores the files a task selected: `globs` matched relative to the working directory (`*` does
 * not cross `/`, `**` does; dot files included) and every file under the output directory.
 * Only regular files are read, never through a symlink, never outside their directory.
 */
export async function collectOutputs(
  paths: { workingDir: string; outputDir: string },
  select: OutputSelection,
  storage: TaskStorage,
  options: { signal: AbortSignal; onProgress?: (p: TransferProgress) => void },
): Promise<Record<string, string>> {
  const outputFiles: Record<string, string> = {};
  const wanted: { name: string; path: string }[] = [];
  const outputDirRel = relative(paths.workingDir, paths.outputDir).split(sep).join('/');
  if (select.globs.length || select.syncWorkingDirectory) {
    const matches = picomatch(select.globs.length ? select.globs : ['**'], { dot: true });
    for (const name of await listRegularFiles(paths.workingDir)) {
      if (name.startsWith(`${outputDirRel}/`)) continue;
      if (select.syncWorkingDirectory || matches(name)) wanted.push({ name, path: join(paths.workingDir, name) });
    }
  }
  if (select.outputDir) {
    for (const name of await listRegularFiles(paths.outputDir))
      wanted.push({ name, path: join(paths.outputDir, name) });
  }
  const totalBytes = (await Promise.all(wanted.map(async (w) => (await lstat(w.path)).size))).reduce(
    (a, b) => a + b,
    0,
  );
  let bytes = 0;
  for (const file of wanted) {
    await assertInside(file.path, [paths.workingDir, paths.outputDir]);
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        options.onProgress?.({ phase: 'download', bytes, totalBytes });
        done(null, chunk);
      },
    });
    const source = createReadStream(file.path);
    const piped = source.pipe(counter);
    source.on('error', (e) => counter.destroy(e));
    outputFiles[file.name] = await storage.putOutput(file.name, piped);
    if (options.signal.aborted) break;
  }
  return outputFiles;
}

// A parent directory may have been swapped for a link after listing; re-check every segment.
async function assertInside(path: string, roots: string[]): Promise<void> {
  const root = roots.find((r) => resolve(path).startsWith(resolve(r) + sep));
  if (!root) throw new UnsafePathError(path, `"${path}" is outside the working directory`, { component: 'process' });
  let current = resolve(path);
  while (current !== resolve(root)) {
    const info = await lstat(current);
    if (info.isSymbolicLink()) {
      throw new UnsafePathError(
        relative(root, path),
        `"${relative(root, path)}" goes through a symbolic link; outputs are never read through links`,
        {
          component: 'process',
        },
      );
    }
    current = dirname(current);
  }
}
