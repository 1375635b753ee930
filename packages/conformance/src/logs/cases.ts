// The log collector cases. Containers print known lines; the collected lines must match exactly.
import { parseLogProtocolLine, type LogCollectorCapabilities, type LogCursor } from '@podrun/core';
import { expect } from '../vitest-api.js';
import { RecordingLogSink, type LogEnv, type LogPod } from './run.js';

/** The groups of the log-collector suite, in the order they run; pass names to `groups` or `skipGroups`. */
export const LOG_COLLECTOR_GROUPS = ['delivery', 'streams', 'resume', 'bounds', 'live'] as const;
/** A group of the log-collector suite. */
export type LogCollectorGroup = (typeof LOG_COLLECTOR_GROUPS)[number];

/** What a case gets. */
export interface LogCaseKit {
  env: LogEnv;
  /** A pod with one container per script (created; deleted after the case). */
  pod(label: string, scripts: Record<string, string>): Promise<LogPod>;
}

/** One log collector case. */
export interface LogCase {
  name: string;
  /** The group it belongs to (see LOG_COLLECTOR_GROUPS). */
  group: LogCollectorGroup;
  needs?: keyof LogCollectorCapabilities;
  timeoutMs?: number;
  run(kit: LogCaseKit): Promise<void>;
}

const numbered = (prefix: string, count: number, every = 0, pause = '0.05') =>
  `i=1; while [ $i -le ${count} ]; do echo "${prefix} $i"; ${every ? `[ $((i % ${every})) -ne 0 ] || sleep ${pause}; ` : ''}i=$((i+1)); done`;
const expected = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix} ${i + 1}`);

function timestampKey(ts: string): string {
  const m = /^(.*?T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}` : ts;
}

export const logCases: LogCase[] = [
  {
    group: 'delivery',
    name: 'delivers every line once, in order, with whitespace and timestamps kept',
    async run({ pod }) {
      const p = await pod('order', { main: `${numbered('line', 3000)}\nprintf '  lead\\ttab  \\n'\necho\necho end` });
      const { sink, cursor } = await p.collect('main');
      expect(sink.texts()).toEqual([...expected('line', 3000), '  lead\ttab  ', '', 'end']);
      const keys = sink.lines.map((l) => timestampKey(l.timestamp));
      expect(
        keys.every((k, i) => i === 0 || k >= keys[i - 1]!),
        'timestamps go backwards',
      ).toBe(true);
      expect(sink.lines.every((l) => l.container === 'main')).toBe(true);
      expect(cursor?.timestamp).toBe(sink.lines.at(-1)?.timestamp);
    },
  },
  {
    group: 'bounds',
    name: 'ends soon after the container ends: waitForLogs is a ceiling, never a wait',
    async run({ pod }) {
      const p = await pod('ends', { main: 'echo a\necho b' });
      // A collector that slept for waitForLogs would outlive the test's timeout by far.
      const { sink } = await p.collect('main', { waitForLogsMs: 30 * 60_000 });
      expect(sink.texts()).toEqual(['a', 'b']);
    },
  },
  {
    group: 'streams',
    name: 'no line is lost or duplicated when streams break',
    async run({ env, pod }) {
      // Each cut stream still moves past one second of output, so re-reads from a cursor with
      // second-precision sinceTime (as real API servers pass it on) always make progress.
      env.faults.cutLogStreams(64 * 1024, 3);
      const p = await pod('reconnect', { main: numbered('n', 4000, 200, '0.3') });
      const { sink } = await p.collect('main');
      // Either a stream was cut, or the collector read over many short streams (poll) anyway.
      expect(
        env.faults.fired.logCuts > 0 || env.faults.fired.logStreams > 3,
        'the log was read in one unbroken stream',
      ).toBe(true);
      expect(sink.texts()).toEqual(expected('n', 4000));
    },
  },
  {
    group: 'streams',
    name: 'no line is lost or repeated when streams break among interleaved stdout and stderr with equal and out-of-order stamps',
    async run({ env, pod }) {
      // A node stamps stdout and stderr apart (the embedded cluster of the suite stamps stderr
      // late and on a coarse clock), so a reconnect lands among equal and out-of-order stamps.
      env.faults.cutLogStreams(48 * 1024, 4);
      const script = `i=1; while [ $i -le 1500 ]; do echo "o $i"; echo "e $i" >&2; [ $((i % 100)) -ne 0 ] || sleep 0.3; i=$((i+1)); done`;
      const p = await pod('interleaved', { main: script });
      const { sink } = await p.collect('main');
      expect(
        env.faults.fired.logCuts > 0 || env.faults.fired.logStreams > 3,
        'the log was read in one unbroken stream',
      ).toBe(true);
      const texts = sink.texts();
      expect(texts.filter((t) => t.startsWith('o '))).toEqual(expected('o', 1500));
      expect(texts.filter((t) => t.startsWith('e '))).toEqual(expected('e', 1500));
      expect(texts).toHaveLength(3000);
    },
  },
  {
    group: 'delivery',
    name: 'UTF-8 characters split across chunks stay intact',
    async run({ env, pod }) {
      env.faults.rechunkLogs(1);
      const lines = ['héllo wörld', '漢字テスト', 'emoji 😀🎉 done', '€', 'mixed ascii ✓ ñ'];
      const p = await pod('utf8', { main: lines.map((l) => `echo '${l}'`).join('\n') });
      const { sink } = await p.collect('main');
      expect(sink.texts()).toEqual(lines);
    },
  },
  {
    group: 'delivery',
    name: 'very long lines arrive whole',
    async run({ pod }) {
      const p = await pod('long', { main: "echo before\nhead -c 1048576 /dev/zero | tr '\\0' x\necho\necho after" });
      const { sink } = await p.collect('main');
      expect(sink.lines.map((l) => l.text.length)).toEqual([6, 1048576, 5]);
      expect(sink.lines[1]?.text).toBe('x'.repeat(1048576));
    },
  },
  {
    group: 'delivery',
    name: 'several containers are collected separately',
    async run({ pod }) {
      const names = ['first', 'second', 'third'];
      const p = await pod('multi', Object.fromEntries(names.map((n) => [n, numbered(n, 300, 50, '0.02')])));
      const results = await Promise.all(names.map((n) => p.collect(n)));
      results.forEach(({ sink }, i) => {
        expect(sink.texts()).toEqual(expected(names[i]!, 300));
        expect(sink.lines.every((l) => l.container === names[i])).toBe(true);
      });
    },
  },
  {
    group: 'resume',
    name: 'resumes from a cursor without replaying a line',
    async run({ pod }) {
      const p = await pod('cursor', { main: numbered('c', 200) });
      const cursors: LogCursor[] = [];
      const first = await p.collect('main', { onCursor: (c) => cursors.push({ ...c }) });
      expect(first.sink.texts()).toEqual(expected('c', 200));
      expect(cursors).toHaveLength(200);
      const resumed = await p.collect('main', { cursor: cursors[79]! });
      expect(resumed.sink.texts()).toEqual(expected('c', 200).slice(80));
      const done = await p.collect('main', { cursor: first.cursor! });
      expect(done.sink.texts()).toEqual([]);
    },
  },
  {
    group: 'bounds',
    name: 'when no more lines come after the container ended, waitForLogs bounds the wait',
    async run({ env, pod }) {
      const p = await pod('ceiling', { main: 'echo one\nsleep 1\necho two' });
      const target = p.target('main');
      const sink = new RecordingLogSink();
      // Once the container has ended and every line arrived, a stream delivers nothing more and
      // never ends: only the waitForLogs ceiling can finish the collection.
      env.faults.stallLogs(() => target.isTerminated() && sink.lines.length === 2);
      const waitForLogsMs = 1500;
      const started = Date.now();
      await p.collect('main', { waitForLogsMs, sink });
      const elapsed = Date.now() - started;
      expect(sink.texts()).toEqual(['one', 'two']);
      expect(env.faults.fired.logStalls, 'no read after the end met the stall').toBeGreaterThan(0);
      // Bounded: the ceiling plus the container's second of work and a wide margin for slow machines.
      expect(elapsed).toBeLessThan(waitForLogsMs + 1000 + 20_000);
    },
  },
  {
    group: 'bounds',
    name: 'stops promptly when aborted',
    async run({ pod }) {
      const p = await pod('abort', { main: 'echo start\nexec sleep 600' });
      const controller = new AbortController();
      await p.target('main').started(AbortSignal.timeout(120_000));
      const collecting = p.collect('main', { signal: controller.signal }).then(
        () => 'settled',
        () => 'settled',
      );
      controller.abort(new Error('conformance: abort'));
      // The container runs for ten minutes: settling at all means the abort stopped the collector.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still collecting'), 30_000)));
      const outcome = await Promise.race([collecting, late]);
      clearTimeout(timer);
      expect(outcome, 'the collector kept going after its signal aborted').toBe('settled');
    },
  },
  {
    group: 'delivery',
    name: 'the ::{...}:: outputs protocol line arrives verbatim',
    async run({ pod }) {
      const line = '::{"outputs":{"answer":42,"text":"a  b"}}::';
      const p = await pod('protocol', { main: `echo '${line}'\necho after` });
      const { sink } = await p.collect('main');
      expect(sink.texts()).toEqual([line, 'after']);
      expect(parseLogProtocolLine(sink.lines[0]!.text)?.outputs).toEqual({ answer: 42, text: 'a  b' });
    },
  },
  {
    group: 'live',
    name: 'lines arrive while the container still runs',
    needs: 'live',
    async run({ pod }) {
      const p = await pod('live', { main: 'echo first\nexec sleep 600' });
      const controller = new AbortController();
      const target = p.target('main');
      let whileRunning: boolean | undefined;
      const sink = new RecordingLogSink();
      sink.onLine = (l) => {
        if (l.text !== 'first') return;
        whileRunning = !target.isTerminated();
        controller.abort(new Error('conformance: seen'));
      };
      await p.collect('main', { signal: controller.signal, sink }).catch(() => undefined);
      expect(whileRunning).toBe(true);
    },
  },
  {
    group: 'live',
    name: 'stdout and stderr are told apart',
    needs: 'splitsStreams',
    async run({ pod }) {
      const p = await pod('streams', { main: 'echo out\necho err >&2' });
      const { sink } = await p.collect('main');
      expect(sink.lines.find((l) => l.text === 'out')?.stream).toBe('stdout');
      expect(sink.lines.find((l) => l.text === 'err')?.stream).toBe('stderr');
    },
  },
];
