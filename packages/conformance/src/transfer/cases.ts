// The file-transfer cases. Each builds its own task run; contents are compared byte for byte
// (small files) or by sha256 and size (large, generated ones).
import { ErrorCodes, PodrunError, type TransferCapabilities } from '@podrun/core';
import { expect } from '../vitest-api.js';
import { RecordingSink, fileEntry, generatedDigest, generatedEntry, missingEntry, roundTripTree } from './fixtures.js';
import type { RunSpec, TransferEnv, TransferRun } from './run.js';

/** What a case gets: the suite's environment and a factory of task runs (disposed after the case). */
export interface CaseKit {
  env: TransferEnv;
  run(spec: RunSpec): TransferRun;
  /** Size of the large-file case (default 100 MB). */
  largeFileBytes: number;
}

/** The groups of the file-transfer suite, in the order they run; pass names to `groups` or `skipGroups`. */
export const FILE_TRANSFER_GROUPS = [
  'round-trip',
  'selection',
  'permissions',
  'safety',
  'faults',
  'lifecycle',
] as const;
/** A group of the file-transfer suite. */
export type FileTransferGroup = (typeof FILE_TRANSFER_GROUPS)[number];

/** One conformance case. */
export interface TransferCase {
  name: string;
  /** The group it belongs to (see FILE_TRANSFER_GROUPS). */
  group: FileTransferGroup;
  /** Skipped unless the strategy declares this capability. */
  needs?: keyof TransferCapabilities;
  timeoutMs?: number;
  run(kit: CaseKit): Promise<void>;
}

const MB = 1024 * 1024;

function codeOf(error: unknown): string | undefined {
  return error instanceof PodrunError ? error.code : undefined;
}

async function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

async function mainStarted(run: TransferRun): Promise<boolean> {
  const pod = await run.env.kube.getPod(run.env.namespace, run.podName!);
  const state = pod?.status?.containerStatuses?.find((s) => s.name === 'main')?.state;
  return Boolean(state?.running || state?.terminated);
}

export const transferCases: TransferCase[] = [
  {
    group: 'round-trip',
    name: 'round trip of a nested tree is byte-for-byte (empty, binary, spaces, quotes, unicode)',
    async run({ run }) {
      const tree = roundTripTree();
      const task = run({
        label: 'round-trip',
        inputs: [...tree].map(([path, content]) => fileEntry(`src/${path}`, content)),
        script: 'cp -R src out\n[ ! -e pwned ] || { echo "a file name was run as a command" >&2; exit 3; }',
        select: { globs: ['out/**'] },
      });
      await task.runToEnd();
      const sink = new RecordingSink();
      const report = await task.download(sink);
      expect(sink.names()).toEqual([...tree.keys()].map((p) => `out/${p}`).sort());
      for (const [path, content] of tree) {
        const file = sink.get(`out/${path}`)!;
        expect(file.bytes?.equals(content), `out/${path} differs`).toBe(true);
        if (file.entry.sha256) expect(file.entry.sha256).toBe(file.sha256);
      }
      expect(report.files).toBe(tree.size);
    },
  },
  {
    group: 'round-trip',
    name: 'a 100 MB file goes in and comes back intact (streamed)',
    timeoutMs: 600_000,
    async run({ run, largeFileBytes }) {
      const digest = await generatedDigest('large', largeFileBytes);
      const task = run({
        label: 'large',
        inputs: [generatedEntry('big.bin', 'large', largeFileBytes)],
        script: 'mkdir -p out && cp big.bin out/big.bin',
        select: { globs: ['out/big.bin'] },
      });
      await task.runToEnd(AbortSignal.timeout(600_000));
      const sink = new RecordingSink(0);
      await task.download(sink, AbortSignal.timeout(600_000));
      const file = sink.get('out/big.bin');
      expect(file?.size).toBe(largeFileBytes);
      expect(file?.sha256).toBe(digest);
    },
  },
  {
    group: 'selection',
    name: 'globs select outputs: *.csv stays in one directory, **/*.json crosses them',
    async run({ run }) {
      const task = run({
        label: 'globs',
        script: [
          'mkdir -p sub/deep',
          'for f in a.csv b.csv .dot.csv sub/c.csv x.json sub/z.json sub/deep/y.json note.txt csv.txt; do echo "$f" > "$f"; done',
        ].join('\n'),
        select: { globs: ['*.csv', '**/*.json'] },
      });
      await task.runToEnd();
      const sink = new RecordingSink();
      await task.download(sink);
      expect(sink.names()).toEqual(['.dot.csv', 'a.csv', 'b.csv', 'sub/deep/y.json', 'sub/z.json', 'x.json']);
      expect(sink.get('sub/deep/y.json')?.bytes?.toString()).toBe('sub/deep/y.json\n');
    },
  },
  {
    group: 'selection',
    name: 'files written to OUTPUT_DIR come back named relative to it',
    async run({ run }) {
      const task = run({
        label: 'output-dir',
        script:
          'mkdir -p "$OUTPUT_DIR/nested"\necho result > "$OUTPUT_DIR/result.txt"\necho r2 > "$OUTPUT_DIR/nested/r 2.txt"\necho no > outside.txt',
        select: { outputDir: true },
      });
      await task.runToEnd();
      const sink = new RecordingSink();
      await task.download(sink);
      expect(sink.names('outputDir')).toEqual(['nested/r 2.txt', 'result.txt']);
      expect(sink.names('workingDir')).toEqual([]);
      expect(sink.get('result.txt', 'outputDir')?.bytes?.toString()).toBe('result\n');
    },
  },
  {
    group: 'selection',
    name: 'syncWorkingDirectory brings the whole working directory back',
    needs: 'syncWorkingDirectory',
    async run({ run }) {
      const task = run({
        label: 'sync',
        inputs: [fileEntry('in.txt', 'input\n')],
        script: 'echo new > new.txt\nmkdir -p d/e\necho x > d/e/x.txt',
        select: { syncWorkingDirectory: true },
      });
      await task.runToEnd();
      const sink = new RecordingSink();
      await task.download(sink);
      expect(sink.names()).toEqual(['d/e/x.txt', 'in.txt', 'new.txt']);
      expect(sink.get('in.txt')?.bytes?.toString()).toBe('input\n');
    },
  },
  {
    group: 'permissions',
    name: 'file modes are preserved both ways',
    needs: 'preservesModes',
    async run({ run }) {
      const task = run({
        label: 'modes',
        inputs: [fileEntry('run.sh', '#!/bin/sh\necho ran > ran.txt\n', 0o755)],
        script:
          './run.sh\nmkdir -p out\nprintf x > out/tool.sh && chmod 750 out/tool.sh\nprintf y > out/ro.txt && chmod 640 out/ro.txt',
        select: { globs: ['out/*', 'ran.txt'] },
      });
      await task.runToEnd();
      const sink = new RecordingSink();
      await task.download(sink);
      expect(sink.get('ran.txt')?.bytes?.toString()).toBe('ran\n');
      expect((sink.get('out/tool.sh')?.entry.mode ?? 0) & 0o777).toBe(0o750);
      expect((sink.get('out/ro.txt')?.entry.mode ?? 0) & 0o777).toBe(0o640);
    },
  },
  {
    group: 'permissions',
    name: 'the task and the file containers run as different non-root users sharing through fsGroup',
    async run({ run }) {
      const task = run({
        label: 'users',
        inputs: [fileEntry('in.txt', 'input\n')],
        // The task writes a group-only-readable output, as a umask of 027 or a chmod does.
        script: 'id -u > out-uid.txt\ncat in.txt > copy.txt\nprintf secret > private.txt && chmod 640 private.txt',
        select: { globs: ['out-uid.txt', 'copy.txt', 'private.txt'] },
        securityContext: {
          pod: { fsGroup: 2000, runAsNonRoot: true },
          task: { runAsUser: 1000, runAsGroup: 1000 },
          files: { runAsUser: 1001, runAsGroup: 1001 },
        },
      });
      await task.runToEnd();
      const sink = new RecordingSink();
      await task.download(sink);
      expect(sink.get('out-uid.txt')?.bytes?.toString()).toBe('1000\n');
      expect(sink.get('copy.txt')?.bytes?.toString()).toBe('input\n');
      expect(sink.get('private.txt')?.bytes?.toString()).toBe('secret');
    },
  },
  {
    group: 'safety',
    name: 'a missing input fails with INPUT_MISSING before the pod is created',
    async run({ run }) {
      const task = run({
        label: 'missing',
        inputs: [fileEntry('ok.txt', 'ok'), missingEntry('gone.txt')],
        script: 'true',
      });
      const result = await settle(task.prepare(AbortSignal.timeout(60_000)));
      expect(result.ok, 'prepare() must reject an input that cannot be opened, before the pod exists').toBe(false);
      expect(codeOf(!result.ok && result.error)).toBe(ErrorCodes.INPUT_MISSING);
    },
  },
  {
    group: 'safety',
    name: 'an input path escaping the working directory is refused',
    async run({ run }) {
      const task = run({
        label: 'unsafe-input',
        inputs: [fileEntry('ok.txt', 'ok'), fileEntry('../escape.txt', 'x')],
        script: 'true',
      });
      const result = await settle(task.stage(AbortSignal.timeout(120_000)));
      expect(result.ok).toBe(false);
      expect(codeOf(!result.ok && result.error)).toBe(ErrorCodes.UNSAFE_PATH);
    },
  },
  {
    group: 'faults',
    name: 'an upload aborted mid-transfer never counts as complete, and a retry succeeds',
    timeoutMs: 300_000,
    async run({ run }) {
      const size = 24 * MB;
      const controller = new AbortController();
      const task = run({
        label: 'abort-up',
        inputs: [
          generatedEntry(
            'big.bin',
            'abort-up',
            size,
            (n) => n >= 4 * MB && controller.abort(new Error('conformance: aborted mid-upload')),
          ),
        ],
        script: 'sha256sum big.bin > seen.txt',
        select: { globs: ['seen.txt'] },
      });
      const aborted = await settle(task.stage(controller.signal));
      expect(aborted.ok, 'an aborted upload must reject').toBe(false);
      if (task.podName) expect(await mainStarted(task), 'the task must not start on partial inputs').toBe(false);
      await task.runToEnd(AbortSignal.timeout(240_000));
      const sink = new RecordingSink();
      await task.download(sink);
      expect(sink.get('seen.txt')?.bytes?.toString().split(/\s+/)[0]).toBe(await generatedDigest('abort-up', size));
    },
  },
  {
    group: 'faults',
    name: 'a download aborted mid-transfer never hands a partial file over as complete, and a retry succeeds',
    timeoutMs: 300_000,
    async run({ run }) {
      const size = 24 * 1000 * 1000;
      const task = run({
        label: 'abort-down',
        script:
          'mkdir -p out\nhead -c 24000000 /dev/urandom > out/big.bin\necho small > out/small.txt\nsha256sum out/big.bin > big.sha',
        select: { globs: ['out/**', 'big.sha'] },
      });
      await task.runToEnd();
      const controller = new AbortController();
      const partial = new RecordingSink(0);
      partial.onBytes = (n) => void (n >= 4 * MB && controller.abort(new Error('conformance: aborted mid-download')));
      const aborted = await settle(task.download(partial, controller.signal));
      expect(aborted.ok, 'an aborted download must reject').toBe(false);
      for (const file of partial.files.values()) {
        if (file.complete) expect(file.size, `${file.entry.name} was handed over incomplete`).toBe(file.entry.size);
      }
      const sink = new RecordingSink(4096);
      await task.download(sink, AbortSignal.timeout(240_000));
      const big = sink.get('out/big.bin');
      expect(big?.size).toBe(size);
      expect(sink.get('big.sha')?.bytes?.toString().split(/\s+/)[0]).toBe(big?.sha256);
      expect(sink.names()).toEqual(['big.sha', 'out/big.bin', 'out/small.txt']);
    },
  },
  {
    group: 'faults',
    name: 'one dropped stream in each direction is recovered',
    needs: 'recoversDroppedStream',
    timeoutMs: 300_000,
    async run({ run, env }) {
      const arm = (): void => (env.dropNextStream ? env.dropNextStream(MB) : env.faults.cutNextExec(MB));
      const fired = (): number => (env.droppedStreams ? env.droppedStreams() : env.faults.fired.execCuts);
      const size = 8 * MB;
      const task = run({
        label: 'dropped',
        inputs: [generatedEntry('big.bin', 'dropped', size)],
        script: 'mkdir -p out && cp big.bin out/big.bin',
        select: { globs: ['out/big.bin'] },
      });
      const before = fired();
      arm();
      await task.runToEnd(AbortSignal.timeout(240_000));
      expect(
        fired(),
        'the upload stream was not dropped: does the setup inject faults where this strategy moves bytes?',
      ).toBe(before + 1);
      arm();
      const sink = new RecordingSink(0);
      await task.download(sink, AbortSignal.timeout(240_000));
      expect(fired(), 'the download stream was not dropped').toBe(before + 2);
      expect(sink.get('out/big.bin')?.sha256).toBe(await generatedDigest('dropped', size));
    },
  },
  {
    group: 'safety',
    name: 'links leading out of the working directory are refused, never followed',
    async run({ run }) {
      const task = run({
        label: 'links',
        script:
          'mkdir -p out\necho ok > out/ok.txt\nln -s /etc/hostname out/leak.txt\nln -s ../../../../../../etc out/up',
        select: { globs: ['out/**'] },
      });
      await task.runToEnd();
      const sink = new RecordingSink();
      const result = await settle(task.download(sink));
      expect(result.ok, 'a link to /etc/hostname must not be brought back').toBe(false);
      expect(codeOf(!result.ok && result.error)).toBe(ErrorCodes.UNSAFE_PATH);
      expect(sink.get('out/leak.txt')).toBeUndefined();
    },
  },
  {
    group: 'lifecycle',
    name: 'release lets the pod finish and is idempotent',
    async run({ run, env }) {
      const task = run({ label: 'release', script: 'echo done > done.txt', select: { globs: ['done.txt'] } });
      await task.runToEnd();
      await task.download(new RecordingSink());
      await task.release();
      await task.release();
      const pod = await env.kube.waitForPod(
        env.selector,
        task.podName!,
        (p) => ['Succeeded', 'Failed'].includes(p.status?.phase ?? ''),
        AbortSignal.timeout(60_000),
      );
      expect(pod.status?.phase).toBe('Succeeded');
      await env.kube.deletePod(env.namespace, task.podName!, { gracePeriodSeconds: 0 });
      await task.release();
    },
  },
  {
    group: 'lifecycle',
    name: 'a task without files runs and finishes',
    async run({ run, env }) {
      const task = run({ label: 'no-files', script: 'echo hello' });
      await task.runToEnd();
      await task.release();
      const pod = await env.kube.waitForPod(
        env.selector,
        task.podName!,
        (p) => ['Succeeded', 'Failed'].includes(p.status?.phase ?? ''),
        AbortSignal.timeout(60_000),
      );
      expect(pod.status?.phase).toBe('Succeeded');
    },
  },
];
