// A runner process for the resume test: runs one task with file-backed state, logs and storage,
// so the test can SIGKILL it mid-task and start another one on the same files.
// Input (env PODRUN_CHILD, JSON): { kubeconfigPath, identity, task, config, dir, dieAfterLine? }.
// With `dieAfterLine`, the process SIGKILLs itself right after the runner made the cursor of that
// line durable: a crash at a deterministic point mid-task. (A crash in the microseconds between
// the host storing a line and the runner's cursor write repeats that one line; see the README.)
// Prints `LINE <text>` per task log line and `RESULT <json>` or `ERROR <code>` at the end.
import {
  appendFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseRunnerConfig, type InputEntry, type RunContext, type Task, type TaskRunIdentity } from '@podrun/core';
import { createKubeConfig, createKubePort } from '@podrun/kube';
import { createKubernetesRunner } from '@podrun/kubernetes-runner';

const input = JSON.parse(process.env.PODRUN_CHILD ?? '{}') as {
  kubeconfigPath: string;
  identity: TaskRunIdentity;
  task: Task;
  config: Record<string, unknown>;
  dir: string;
  dieAfterLine?: string;
};
let lastLine: string | undefined;
mkdirSync(input.dir, { recursive: true });
const stateFile = join(input.dir, 'state.json');
const logFile = join(input.dir, 'lines.jsonl');
const readState = (): Record<string, unknown> =>
  existsSync(stateFile) ? JSON.parse(readFileSync(stateFile, 'utf8')) : {};

const ctx: RunContext = {
  identity: input.identity,
  logger: { debug() {}, info() {}, warn() {}, error() {} },
  taskLogs: {
    line: (line) => {
      appendFileSync(logFile, `${JSON.stringify(line)}\n`);
      lastLine = line.text;
      process.stdout.write(`LINE ${line.text}\n`);
    },
  },
  state: {
    get: async <T>(key: string) => readState()[key] as T | undefined,
    // Atomic, like a real host's store: a kill never leaves a torn file.
    set: async (key, value) => {
      writeFileSync(`${stateFile}.tmp`, JSON.stringify({ ...readState(), [key]: value }));
      renameSync(`${stateFile}.tmp`, stateFile);
      if (key === 'kubernetes.logCursor.main' && input.dieAfterLine !== undefined && lastLine === input.dieAfterLine) {
        process.kill(process.pid, 'SIGKILL');
      }
    },
  },
  storage: {
    open: async () => {
      throw new Error('not used');
    },
    putOutput: async (name, content) => {
      const path = join(input.dir, `output-${encodeURIComponent(name)}`);
      await pipeline(content, createWriteStream(path));
      return `file://${path}`;
    },
  },
  render: (t) => t,
  resolveInputs: async (task) => ({
    entries: Object.entries(task.inputFiles ?? {}).map(([path, source]): InputEntry => {
      const bytes = Buffer.from('content' in source ? source.content : '');
      return { path, size: bytes.length, open: () => Readable.from([bytes]) };
    }),
  }),
};

const kube = createKubePort({ kubeConfig: createKubeConfig(undefined, {}, { kubeconfigPath: input.kubeconfigPath }) });
const runner = createKubernetesRunner({
  kube,
  config: parseRunnerConfig({
    namespace: 'default',
    pullPolicy: 'IF_NOT_PRESENT',
    waitForLogs: 'PT2S',
    ...input.config,
  }),
});
try {
  const result = await runner.run(input.task, ctx, new AbortController().signal);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
} catch (error) {
  process.stdout.write(`ERROR ${(error as { code?: string }).code ?? String(error)}\n`);
} finally {
  await kube.close();
}
