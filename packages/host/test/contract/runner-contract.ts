// The TaskRunner contract, as one suite every runner passes (Process always, Kubernetes on the
// embedded cluster). Only the contract is used here: a Task, a RunContext, an AbortSignal.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, DeadlineExceededError, ErrorCodes, isPodrunError, UnsafePathError } from '@podrun/core';
import type { LogLine, RunContext, Task, TaskRunIdentity } from '@podrun/core';
import { createLocalStorage, createRunContext, createTemplateRenderer, newId } from '@podrun/host';
import type { HostTaskRunner, LocalStorage } from '@podrun/host';

/** What a runner under test brings. */
export interface ContractSubject {
  runner: HostTaskRunner;
  /** Image for tasks (ignored by the Process runner). */
  image: string;
  close?: () => Promise<void>;
}

export interface ContractOptions {
  name: string;
  setup: () => Promise<ContractSubject>;
  /** A reason to skip the whole suite (printed), e.g. a runner not available here. */
  skip?: string;
}

interface Harness {
  context: RunContext;
  lines: LogLine[];
  identity: TaskRunIdentity;
}

export function describeTaskRunnerContract(options: ContractOptions): void {
  describe.skipIf(Boolean(options.skip))(`TaskRunner contract: ${options.name}`, { timeout: 120_000 }, () => {
    let subject: ContractSubject;
    let dir: string;
    let storage: LocalStorage;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'podrun-contract-'));
      storage = createLocalStorage({ root: join(dir, 'storage') });
      subject = await options.setup();
    });
    afterAll(async () => {
      await subject?.close?.();
      await rm(dir, { recursive: true, force: true });
    });

    const harness = (): Harness => {
      const lines: LogLine[] = [];
      const state = new Map<string, unknown>();
      const identity: TaskRunIdentity = {
        namespace: 'company.team',
        flowId: 'contract',
        taskId: 'task',
        executionId: newId(),
        taskRunId: newId(),
        attempt: 1,
      };
      const context = createRunContext({
        identity,
        logger: { debug() {}, info() {}, warn() {}, error() {} },
        taskLogs: { line: (l) => void lines.push(l) },
        storage,
        state: {
          get: async <T>(k: string) => state.get(k) as T | undefined,
          set: async (k, v) => void state.set(k, v),
        },
        renderer: createTemplateRenderer(),
        vars: {},
      });
      return { context, lines, identity };
    };
    const task = (t: Omit<Task, 'containerImage'>): Task => ({ containerImage: subject.image, ...t });
    const run = (h: Harness, t: Task, signal = new AbortController().signal) =>
      subject.runner.run(t, h.context, signal);
    const text = (h: Harness) => h.lines.map((l) => l.text);

    it('streams each output line once, in order, whitespace kept, and exits 0', async () => {
      const h = harness();
      const result = await run(
        h,
        task({
          commands: ['echo "Hello World"', 'printf "  indented\\ttab  \\n"', 'for i in 1 2 3; do echo line-$i; done'],
        }),
      );
      expect(result.exitCode).toBe(0);
      expect(text(h)).toEqual(['Hello World', '  indented\ttab  ', 'line-1', 'line-2', 'line-3']);
      for (const line of h.lines) expect(line.timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    });

    it('returns a non-zero exit code as a result, not an exception', async () => {
      const h = harness();
      const result = await run(h, task({ commands: ['echo before', 'exit 3'] }));
      expect(result.exitCode).toBe(3);
      expect(text(h)).toContain('before');
    });

    it('sets WORKING_DIR, OUTPUT_DIR and the task env, and runs in the working directory', async () => {
      const h = harness();
      const result = await run(
        h,
        task({
          commands: [
            'echo "wd=$WORKING_DIR"',
            'echo "od=$OUTPUT_DIR"',
            'echo "greeting=$GREETING"',
            'echo "pwd=$(pwd)"',
          ],
          env: { GREETING: 'hi there' },
        }),
      );
      expect(result.exitCode).toBe(0);
      const out = Object.fromEntries(text(h).map((l) => l.split('=') as [string, string]));
      expect(out.greeting).toBe('hi there');
      expect(out.wd).toBeTruthy();
      expect(out.od!.startsWith(out.wd!)).toBe(true);
      expect(out.pwd).toBe(out.wd);
      const paths = subject.runner.workingPaths?.(h.identity);
      if (paths) expect(out).toMatchObject({ wd: paths.workingDir, od: paths.outputDir });
    });

    it('stages inline and stored input files and brings selected outputs back byte-identical', async () => {
      const h = harness();
      const binary = randomBytes(300_000);
      const uri = await storage.put(['company.team', 'contract', 'inputs', 'data.bin'], Readable.from([binary]));
      const result = await run(
        h,
        task({
          commands: [
            'cp data.bin out.bin',
            'cp "nested dir/note.txt" "out note.txt"',
            'mkdir -p reports/deep && echo "{}" > reports/deep/r.json',
            'echo ignored > skip.log',
          ],
          inputFiles: { 'data.bin': { uri }, 'nested dir/note.txt': { content: 'ünïcode note\n' } },
          outputFiles: ['out.bin', 'out note.txt', '**/*.json'],
        }),
      );
      expect(result.exitCode).toBe(0);
      expect(Object.keys(result.outputFiles).sort()).toEqual(['out note.txt', 'out.bin', 'reports/deep/r.json']);
      expect(await sha(storage, result.outputFiles['out.bin']!)).toBe(
        createHash('sha256').update(binary).digest('hex'),
      );
      expect(await read(storage, result.outputFiles['out note.txt']!)).toBe('ünïcode note\n');
    });

    it('collects every file written to OUTPUT_DIR, named relative to it', async () => {
      const h = harness();
      const result = await run(
        h,
        task({
          commands: ['mkdir -p "$OUTPUT_DIR/sub"', 'echo a > "$OUTPUT_DIR/a.txt"', 'echo b > "$OUTPUT_DIR/sub/b.txt"'],
        }),
      );
      expect(result.exitCode).toBe(0);
      expect(Object.keys(result.outputFiles).sort()).toEqual(['a.txt', 'sub/b.txt']);
      expect(await read(storage, result.outputFiles['sub/b.txt']!)).toBe('b\n');
    });

    it('turns ::{"outputs":...}:: lines into vars and metrics, not log lines', async () => {
      const h = harness();
      const result = await run(
        h,
        task({
          commands: [
            `echo '::{"outputs":{"answer":42,"name":"a  b"}}::'`,
            `echo '::{"metrics":[{"name":"rows","type":"counter","value":7}]}::'`,
            'echo plain',
          ],
        }),
      );
      expect(result.vars).toEqual({ answer: 42, name: 'a  b' });
      expect(result.metrics).toEqual([expect.objectContaining({ name: 'rows', type: 'counter', value: 7 })]);
      expect(text(h)).toEqual(['plain']);
    });

    it('fails before running when a stored input file is missing', async () => {
      const h = harness();
      const error = await run(
        h,
        task({ commands: ['echo never'], inputFiles: { 'x.txt': { uri: 'podrun:///company.team/none/missing.txt' } } }),
      ).catch((e: unknown) => e);
      expect(isPodrunError(error, ErrorCodes.INPUT_MISSING)).toBe(true);
      expect(text(h)).not.toContain('never');
    });

    it('never returns a host file through a symlinked output', async () => {
      const h = harness();
      const result = await run(
        h,
        task({
          commands: ['ln -s /etc/hostname leak.txt', 'ln -s /etc "$OUTPUT_DIR/etc"'],
          outputFiles: ['leak.txt', '**'],
        }),
      ).catch((e: unknown) => e);
      if (result instanceof Error) {
        expect(result).toBeInstanceOf(UnsafePathError);
      } else {
        const names = Object.keys((result as { outputFiles: Record<string, string> }).outputFiles);
        expect(names.filter((n) => n.includes('leak') || n.startsWith('etc'))).toEqual([]);
      }
    });

    it('is cancelled through its signal: rejects with CancelledError and stops the commands', async () => {
      const h = harness();
      const controller = new AbortController();
      const running = run(h, task({ commands: ['echo started', 'sleep 60', 'echo finished'] }), controller.signal);
      await until(() => text(h).includes('started'));
      controller.abort();
      await expect(running).rejects.toBeInstanceOf(CancelledError);
      expect(text(h)).not.toContain('finished');
    });

    it('enforces the task timeout with DeadlineExceededError', async () => {
      const h = harness();
      const error = await run(h, task({ commands: ['sleep 60'], timeoutMs: 1500 })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DeadlineExceededError);
    });
  });
}

async function until(condition: () => boolean): Promise<void> {
  // Condition polling on a test-local array: the runner offers no event for "a line arrived".
  while (!condition()) await new Promise((r) => setImmediate(r));
}

async function read(storage: LocalStorage, uri: string): Promise<string> {
  const { content } = await storage.open(uri);
  const chunks: Buffer[] = [];
  for await (const c of content) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function sha(storage: LocalStorage, uri: string): Promise<string> {
  const { content } = await storage.open(uri);
  const hash = createHash('sha256');
  for await (const c of content) hash.update(c as Buffer);
  return hash.digest('hex');
}
