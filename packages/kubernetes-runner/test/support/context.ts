// An in-memory run context for tests: storage, state and task logs kept in maps and arrays,
// inputs resolved from inline content or from stored outputs.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { InputEntry, LogLine, RunContext, Task, TaskRunIdentity } from '@podrun/core';
import { ErrorCodes, PodrunError } from '@podrun/core';

export interface TestContext extends RunContext {
  lines: LogLine[];
  /** What the runner said through `logger.info`, in order. */
  notices: string[];
  /** Resolves once a notice containing `text` was logged. */
  waitForNotice(text: string): Promise<void>;
  stateData: Map<string, unknown>;
  stored: Map<string, { path: string; size: number; sha256: string }>;
  /** Lines of one container's text, in order. */
  texts(container?: string): string[];
  /** Resolves once a line with exactly this text was logged. */
  waitForLine(text: string): Promise<void>;
  /** The pod the runner recorded in its state. */
  podName(): string | undefined;
}

let seq = 0;

export function identityFor(label: string, attempt = 1): TaskRunIdentity {
  const id = `${label}-${process.pid}-${++seq}-${Date.now().toString(36)}`;
  return {
    namespace: 'company.team',
    flowId: 'flow',
    taskId: label.slice(0, 30),
    executionId: `exec-${id}`,
    taskRunId: `run-${id}`,
    attempt,
  };
}

/** A run context storing outputs as files under `dir` (streamed, hashed on the way). */
export function testContext(
  identity: TaskRunIdentity,
  dir: string,
  options: { stateData?: Map<string, unknown> } = {},
): TestContext {
  mkdirSync(dir, { recursive: true });
  const lines: LogLine[] = [];
  const stateData = options.stateData ?? new Map<string, unknown>();
  const stored = new Map<string, { path: string; size: number; sha256: string }>();
  let n = 0;
  const waiters: { text: string; resolve: () => void }[] = [];
  const notices: string[] = [];
  const noticeWaiters: { text: string; resolve: () => void }[] = [];
  const ctx: TestContext = {
    identity,
    lines,
    notices,
    waitForNotice: (text) =>
      notices.some((n) => n.includes(text))
        ? Promise.resolve()
        : new Promise<void>((resolve) => noticeWaiters.push({ text, resolve })),
    stateData,
    stored,
    texts: (container = 'main') => lines.filter((l) => l.container === container).map((l) => l.text),
    logger: {
      debug() {},
      info(message: string) {
        notices.push(message);
        for (const w of noticeWaiters.filter((x) => message.includes(x.text))) w.resolve();
      },
      warn() {},
      error() {},
    },
    taskLogs: {
      line: (line) => {
        lines.push(line);
        for (const w of waiters.filter((x) => x.text === line.text)) w.resolve();
      },
    },
    waitForLine: (text) =>
      lines.some((l) => l.text === text)
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ text, resolve })),
    podName: () => (stateData.get('kubernetes.pod') as { name?: string } | undefined)?.name,
    state: {
      get: async <T>(key: string) => structuredClone(stateData.get(key)) as T | undefined,
      set: async (key, value) => void stateData.set(key, structuredClone(value)),
    },
    storage: {
      open: async (uri) => {
        const file = [...stored.values()].find((f) => `test://${f.path}` === uri);
        if (!file) throw new PodrunError(ErrorCodes.STORAGE, `no such file ${uri}`);
        return { content: createReadStream(file.path), size: file.size };
      },
      putOutput: async (name, content) => {
        const path = join(dir, `out-${++n}`);
        const hash = createHash('sha256');
        let size = 0;
        await pipeline(
          content,
          async function* (source: AsyncIterable<Buffer>) {
            for await (const chunk of source) {
              hash.update(chunk);
              size += chunk.length;
              yield chunk;
            }
          },
          createWriteStream(path),
        );
        stored.set(name, { path, size, sha256: hash.digest('hex') });
        return `test://${path}`;
      },
    },
    render: (template) => template,
    resolveInputs: async (task: Task) => {
      const entries: InputEntry[] = [];
      for (const [path, source] of Object.entries({ ...task.namespaceFiles, ...task.inputFiles })) {
        if ('content' in source) {
          const bytes = Buffer.from(source.content);
          entries.push({ path, size: bytes.length, open: () => Readable.from([bytes]) });
        } else {
          const file = source.uri.replace(/^file:\/\//, '');
          entries.push({ path, size: statSync(file).size, open: () => createReadStream(file) });
        }
      }
      return { entries };
    },
  };
  return ctx;
}
