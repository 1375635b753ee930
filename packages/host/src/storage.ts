import { createReadStream } from 'node:fs';
import { constants } from 'node:fs';
import { copyFile, link, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { ErrorCodes, PodrunError, UnsafePathError } from '@podrun/core';
import type { TaskRunIdentity, TaskStorage } from '@podrun/core';
import { createBlockFileWriter } from './file-writer.js';

/**
 * Bytes per read of a stored file. Every read of a stream is a new Buffer in fresh memory the
 * kernel must fault in and zero; Node's 64 KiB default made reading a 200 MB input cost 0.25-0.35 s
 * of CPU here, 1 MiB reads less than half of that. Transfers split reads into their own frames.
 */
const READ_CHUNK = 1024 * 1024;

/** URI schemes accepted for stored files; `podrun` is written, `kestra` is read as an alias. */
const SCHEMES = ['podrun:', 'kestra:'];

/** True when `value` is a storage URI (`podrun:///...` or `kestra:///...`). */
export function isStorageUri(value: string): boolean {
  return SCHEMES.some((s) => value.startsWith(`${s}//`));
}

/**
 * Splits a storage URI into its path segments (decoded). Rejects anything that would leave the
 * storage root (`..`, empty or absolute segments).
 */
export function parseStorageUri(uri: string): string[] {
  const scheme = SCHEMES.find((s) => uri.startsWith(`${s}//`));
  if (!scheme) throw storageError(`"${uri}" is not a storage URI; use podrun:///<namespace>/<flow>/...`, uri);
  // `podrun:///a/b` (empty authority) and `podrun://a/b` both name a/b.
  const rest = uri.slice(scheme.length + 2).replace(/^\/+/, '');
  const segments = rest.split('/').map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw storageError(`"${uri}" has a malformed percent-encoding`, uri);
    }
  });
  if (
    segments.length === 0 ||
    segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('/') || s.includes('\\'))
  ) {
    throw storageError(`"${uri}" is not a valid storage path (empty, "." or ".." segments)`, uri);
  }
  return segments;
}

/** Builds a `podrun:///` URI from path segments, percent-encoding each. */
export function formatStorageUri(segments: string[]): string {
  return `podrun:///${segments.map((s) => encodeURIComponent(s)).join('/')}`;
}

/** Local file storage: every stored file is a file under `root`, addressed by a URI. */
export interface LocalStorage {
  readonly root: string;
  /** Streams `content` into the file named by `segments`; resolves with its URI. Atomic (temp + rename). */
  put(segments: string[], content: Readable): Promise<string>;
  /** Opens a stored file; code PODRUN_STORAGE when it does not exist. */
  open(uri: string): Promise<{ content: Readable; size: number }>;
  /** Size of a stored file; code PODRUN_STORAGE when it does not exist. */
  size(uri: string): Promise<number>;
  /** Local path of a stored file (inside root). */
  pathOf(uri: string): string;
  /** The storage a task run writes its outputs to: `<ns>/<flow>/<execution>/<task>/<taskRun>/<name>`. */
  forTaskRun(identity: TaskRunIdentity): TaskStorage;
  /**
   * Stores a FILE input of an execution: `<ns>/<flow>/<execution>/inputs/<input>/<fileName>`.
   * A local file (`{ path }`) is hard-linked when it is on the storage's file system, so a large
   * input is never copied; it is copied otherwise.
   */
  putInput(
    ids: { namespace: string; flowId: string; executionId: string },
    inputId: string,
    fileName: string,
    content: Readable | { path: string },
  ): Promise<string>;
}

/** Options of {@link createLocalStorage}. */
export interface LocalStorageOptions {
  root: string;
  /**
   * Directory holding a namespace's files; `podrun:///<namespace>/_files/<path>` reads from it
   * (read-only), as the reference keeps namespace files in its storage.
   */
  namespaceFiles?: (namespace: string) => string | undefined;
}

/** Creates a local storage rooted at `root` (created on first write). */
export function createLocalStorage(options: LocalStorageOptions): LocalStorage {
  const root = resolve(options.root);
  const pathOf = (uri: string): string => {
    const segments = parseStorageUri(uri);
    const filesDir =
      segments[1] === '_files' && segments.length > 2 ? options.namespaceFiles?.(segments[0]!) : undefined;
    const base = filesDir ? resolve(filesDir) : root;
    const path = join(base, ...(filesDir ? segments.slice(2) : segments));
    if (!path.startsWith(base + sep)) throw storageError(`"${uri}" points outside the storage`, uri);
    return path;
  };
  const put = async (segments: string[], content: Readable | { path: string }): Promise<string> => {
    const uri = formatStorageUri(segments);
    const target = pathOf(uri);
    // Files may be private: only the user running podrun may read its storage.
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    const temp = `${target}.${randomUUID()}.part`;
    try {
      if ('path' in content && typeof content.path === 'string' && !('pipe' in content)) {
        await linkOrCopy(content.path, temp);
      } else {
        await pipeline(content as Readable, createBlockFileWriter(temp, 0o600));
      }
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return uri;
  };
  const size = async (uri: string): Promise<number> => {
    try {
      const info = await stat(pathOf(uri));
      if (!info.isFile()) throw new Error('not a file');
      return info.size;
    } catch (error) {
      if (error instanceof PodrunError) throw error;
      throw storageError(`${uri} does not exist in the storage at ${root}; check the URI or store the file first`, uri);
    }
  };
  const open = async (uri: string) => {
    const bytes = await size(uri);
    return { content: createReadStream(pathOf(uri), { highWaterMark: READ_CHUNK }), size: bytes };
  };
  return {
    root,
    put,
    open,
    size,
    pathOf,
    forTaskRun(identity) {
      const base = [identity.namespace, identity.flowId, identity.executionId, identity.taskId, identity.taskRunId];
      return {
        open,
        putOutput: async (name, content) => put([...base, ...outputSegments(name)], content),
      };
    },
    putInput(ids, inputId, fileName, content) {
      return put([ids.namespace, ids.flowId, ids.executionId, 'inputs', inputId, fileName], content);
    },
  };
}

/**
 * Puts the file at `from` at `to` without reading it when possible: a hard link on the same file
 * system (the two names then share the bytes, as the input is not written afterwards), else a
 * copy the kernel does (a reflink where the file system has them).
 */
export async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP') throw error;
    await copyFile(from, to, constants.COPYFILE_FICLONE);
  }
}

function outputSegments(name: string): string[] {
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.length === 0 || segments.includes('..')) {
    throw new UnsafePathError(name, `output name "${name}" is not a relative path inside the task's directory`, {
      component: 'storage',
    });
  }
  return segments;
}

function storageError(message: string, uri: string): PodrunError {
  return new PodrunError(ErrorCodes.STORAGE, message, { component: 'storage', details: { uri } });
}
