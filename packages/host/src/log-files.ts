import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ExecutionObserver } from './observer.js';
import type { TaskRecord } from './state.js';

/**
 * The relative path segments that name a task run on disk: its task id, then one segment per
 * ForEach value above it. A value that is not a plain file name (a slash, dots only, JSON...) is
 * replaced by a stable stand-in, so no value can name a path outside the directory.
 */
export function runPathSegments(run: Pick<TaskRecord, 'id' | 'valuePath'>): string[] {
  return [run.id, ...(run.valuePath ?? []).map(valueSegment)];
}

function valueSegment(value: string): string {
  const plain = /^[A-Za-z0-9._@+=-]{1,100}$/.test(value) && !/^\.+$/.test(value);
  return plain ? value : `value-${createHash('sha256').update(value).digest('hex').slice(0, 12)}`;
}

/**
 * Wraps an observer so every task run's lines are also appended to
 * `<dir>/<task-id>.log` (`<dir>/<task-id>/<value>.log` inside a ForEach), whatever a UI shows.
 * Lines are written as they come (a resumed run appends); the returned `close` ends every file.
 */
export function withLogFiles(
  observer: ExecutionObserver,
  dir: string,
  runs: Record<string, TaskRecord>,
): { observer: ExecutionObserver; close(): Promise<void> } {
  const files = new Map<string, WriteStream>();
  const fileOf = (key: string): WriteStream => {
    let file = files.get(key);
    if (!file) {
      const run = runs[key];
      const segments = run ? runPathSegments(run) : [valueSegment(key)];
      const path = `${join(dir, ...segments)}.log`;
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      file = createWriteStream(path, { flags: 'a', mode: 0o600 });
      // A log file that cannot be written must not fail the task: the UI still has the lines.
      file.on('error', () => undefined);
      files.set(key, file);
    }
    return file;
  };
  const end = (file: WriteStream) => new Promise<void>((resolve) => file.end(resolve));
  const wrapped: ExecutionObserver = Object.create(observer) as ExecutionObserver;
  wrapped.taskLog = (key, line) => {
    const file = fileOf(key);
    const more = file.write(`${line.text}\n`);
    const shown = observer.taskLog?.(key, line);
    if (more || file.errored) return shown;
    const drained = new Promise<void>((resolve) => {
      file.once('drain', resolve);
      file.once('error', () => resolve());
    });
    return Promise.all([shown, drained]).then(() => undefined);
  };
  wrapped.taskFinished = (key, record) => {
    const file = files.get(key);
    if (file) {
      files.delete(key);
      void end(file);
    }
    observer.taskFinished?.(key, record);
  };
  return {
    observer: wrapped,
    close: async () => {
      await Promise.all([...files.values()].map(end));
      files.clear();
    },
  };
}

/** Where the log file of a task run is, relative to the execution's log directory. */
export function logFileOf(run: Pick<TaskRecord, 'id' | 'valuePath'>): string {
  return `${join(...runPathSegments(run))}.log`;
}
