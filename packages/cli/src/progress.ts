import type { LogLine } from '@podrun/core';
import type { TaskRecord } from '@podrun/host';
import type { OutStream } from './io.js';

/** Options of {@link createFanoutView}. */
export interface FanoutViewOptions {
  /** Where the summary goes (stderr). */
  out: OutStream;
  /** Off a terminal: one plain summary line at most this often while something changes; default 5000. */
  plainIntervalMs?: number;
  /** On a terminal: the line is redrawn at most this often; default 100. */
  redrawMs?: number;
}

/** The live summary of the task runs inside Parallel and ForEach. */
export interface FanoutView {
  /** True for a run inside a Parallel or ForEach (it was queued). */
  has(key: string): boolean;
  queued(key: string): void;
  started(key: string): void;
  /** Keeps the run's last lines, to show them if it fails. */
  line(key: string, line: LogLine): void;
  /** Counts the run; returns its last lines when it failed. */
  finished(key: string, record: TaskRecord): string[];
  /** Erases the terminal line before other output. */
  clear(): void;
  /** Draws the terminal line again after other output. */
  redraw(): void;
  /** The summary as text, e.g. `37/200 done, 50 running, 2 failed, 111 queued`. */
  text(): string;
  stop(): void;
}

const TAIL = 5;

/**
 * Counts of the runs inside Parallel and ForEach — done, running, failed, queued — redrawn in
 * place on a terminal, or printed as a plain line at an interval (and when it changed) otherwise,
 * instead of hundreds of interleaved log streams.
 */
export function createFanoutView(options: FanoutViewOptions): FanoutView {
  const { out } = options;
  const tty = Boolean(out.isTTY);
  const waiting = new Set<string>();
  const running = new Set<string>();
  const known = new Set<string>();
  const tails = new Map<string, string[]>();
  let done = 0;
  let failed = 0;
  let drawn = false;
  let lastDraw = 0;
  let timer: NodeJS.Timeout | undefined;
  let changed = false;

  const text = () => {
    const total = done + failed + running.size + waiting.size;
    return `${done}/${total} done, ${running.size} running, ${failed} failed, ${waiting.size} queued`;
  };
  const draw = () => {
    changed = false;
    lastDraw = Date.now();
    if (tty) {
      out.write(`\r\x1b[2K${text()}`);
      drawn = true;
    } else {
      out.write(`podrun: tasks: ${text()}\n`);
    }
  };
  const update = () => {
    changed = true;
    const every = tty ? (options.redrawMs ?? 100) : (options.plainIntervalMs ?? 5000);
    const wait = lastDraw + every - Date.now();
    if (wait <= 0 && (tty || lastDraw > 0)) return draw();
    // The first plain line waits a full interval: short fan-outs print only their final line.
    if (!tty && lastDraw === 0) lastDraw = Date.now();
    if (!timer) {
      timer = setTimeout(
        () => {
          timer = undefined;
          if (changed) draw();
        },
        Math.max(wait, 0) || every,
      );
      timer.unref();
    }
  };

  return {
    has: (key) => known.has(key),
    queued(key) {
      known.add(key);
      waiting.add(key);
      update();
    },
    started(key) {
      waiting.delete(key);
      running.add(key);
      update();
    },
    line(key, line) {
      let tail = tails.get(key);
      if (!tail) tails.set(key, (tail = []));
      tail.push(line.text);
      if (tail.length > TAIL) tail.shift();
    },
    finished(key, record) {
      running.delete(key);
      waiting.delete(key);
      const tail = tails.get(key) ?? [];
      tails.delete(key);
      const bad = record.status === 'FAILED' || record.status === 'CANCELLED';
      if (bad) failed++;
      else done++;
      update();
      return bad ? tail : [];
    },
    clear() {
      if (drawn) {
        out.write('\r\x1b[2K');
        drawn = false;
        changed = true;
      }
    },
    redraw() {
      if (tty && known.size && !drawn) draw();
    },
    text,
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (drawn) {
        out.write('\r\x1b[2K');
        drawn = false;
      }
    },
  };
}
