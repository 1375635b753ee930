import type { TaskMetric } from './runner.js';

/*
 * The log protocol of the reference: a task prints `::{json}::` on a line of its own to set
 * outputs, emit metrics or log at a level. Example (Kestra's Python library prints this shape):
 *   ::{"outputs":{"rows":42},"metrics":[{"name":"rows","type":"counter","value":42}]}::
 */

const LINE = /^::(\{.*\})::$/s;

/** A log level a protocol line may ask for (the reference's SLF4J levels). */
export type LogProtocolLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** A message the task asked to log at a level. */
export interface LogProtocolLog {
  level: LogProtocolLevel;
  message: string;
}

/** What one protocol line carried. Parts of the wrong shape are dropped and named in `warnings`. */
export interface LogProtocolMessage {
  /** Outputs to merge into the task's vars. */
  outputs: Record<string, unknown>;
  /** Metrics; a timer's `value` is in seconds, as the reference's libraries send it. */
  metrics: TaskMetric[];
  /** Messages to log at their level instead of the raw line. */
  logs: LogProtocolLog[];
  /** Secret-free descriptions of the parts that were dropped, for a warning log. */
  warnings: string[];
}

const LEVELS = new Set<LogProtocolLevel>(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']);

/** Records why a part was dropped; returns undefined so callers can `return drop(...)`. */
function drop(warnings: string[], why: string): undefined {
  warnings.push(why);
  return undefined;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function parseMetric(raw: unknown, index: number, warnings: string[]): TaskMetric | undefined {
  if (!isRecord(raw)) return drop(warnings, `metrics[${index}] is not an object`);
  const { name, type, value, tags } = raw;
  if (typeof name !== 'string' || name === '') return drop(warnings, `metrics[${index}] has no name`);
  if (type !== 'counter' && type !== 'timer') return drop(warnings, `metric ${name}: type must be counter or timer`);
  if (typeof value !== 'number' || !Number.isFinite(value))
    return drop(warnings, `metric ${name}: value must be a number`);
  const metric: TaskMetric = { name, type, value };
  if (isRecord(tags)) metric.tags = Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, String(v)]));
  else if (tags !== undefined && tags !== null) warnings.push(`metric ${name}: tags must be an object, ignored`);
  return metric;
}

function parseLog(raw: unknown, index: number, warnings: string[]): LogProtocolLog | undefined {
  if (!isRecord(raw)) return drop(warnings, `logs[${index}] is not an object`);
  const level = typeof raw.level === 'string' ? raw.level.toUpperCase() : 'INFO';
  if (!LEVELS.has(level as LogProtocolLevel))
    return drop(warnings, `logs[${index}]: unknown level, expected one of ${[...LEVELS].join(', ')}`);
  if (typeof raw.message !== 'string') return drop(warnings, `logs[${index}] has no message`);
  return { level: level as LogProtocolLevel, message: raw.message };
}

function list<T>(
  value: unknown,
  key: string,
  warnings: string[],
  parse: (raw: unknown, i: number, w: string[]) => T | undefined,
): T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    warnings.push(`${key} must be a list, ignored`);
    return [];
  }
  return value.map((raw, i) => parse(raw, i, warnings)).filter((v): v is T => v !== undefined);
}

/**
 * Parses a log-protocol line (`::{...}::`, surrounding whitespace ignored) into its outputs,
 * metrics and logs. Returns undefined for any other line, including `::{...}::` whose JSON is
 * invalid: such a line is an ordinary log line. The JSON is parsed as written, so whitespace
 * inside its strings is kept (the reference collapsed it before parsing).
 */
export function parseLogProtocolLine(text: string): LogProtocolMessage | undefined {
  const match = LINE.exec(text.trim());
  if (!match) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(match[1]!);
  } catch {
    return undefined;
  }
  if (!isRecord(data)) return undefined;
  const warnings: string[] = [];
  let outputs: Record<string, unknown> = {};
  if (isRecord(data.outputs)) outputs = data.outputs;
  else if (data.outputs !== undefined && data.outputs !== null) warnings.push('outputs must be an object, ignored');
  return {
    outputs,
    metrics: list(data.metrics, 'metrics', warnings, parseMetric),
    logs: list(data.logs, 'logs', warnings, parseLog),
    warnings,
  };
}

/** Collects what the protocol lines of one task run carried. */
export interface LogProtocolAccumulator {
  /**
   * Feeds one log line. Returns the parsed message when it was a protocol line (log its `logs`
   * and `warnings`, not the raw line), or undefined for an ordinary line.
   */
  accept(text: string): LogProtocolMessage | undefined;
  /** Outputs merged so far; a later line's key replaces an earlier one (shallow, like the reference). */
  readonly vars: Record<string, unknown>;
  /** Metrics in the order they were emitted. */
  readonly metrics: readonly TaskMetric[];
}

/**
 * Creates an accumulator for one task run. `initial` restores what was collected before a
 * crash, so a reattached runner does not lose vars it will not see again.
 */
export function createLogProtocolAccumulator(
  initial: { vars?: Record<string, unknown>; metrics?: readonly TaskMetric[] } = {},
): LogProtocolAccumulator {
  const vars: Record<string, unknown> = {};
  const metrics: TaskMetric[] = [...(initial.metrics ?? [])];
  const merge = (source: Record<string, unknown>) => {
    // defineProperty, so a `__proto__` output is stored as data instead of changing the prototype.
    for (const [key, value] of Object.entries(source)) {
      Object.defineProperty(vars, key, { value, enumerable: true, writable: true, configurable: true });
    }
  };
  merge(initial.vars ?? {});
  return {
    vars,
    metrics,
    accept(text) {
      const message = parseLogProtocolLine(text);
      if (message) {
        merge(message.outputs);
        metrics.push(...message.metrics);
      }
      return message;
    },
  };
}
