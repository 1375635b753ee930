// Nanosecond wall-clock timestamps for container logs: Date has only millisecond precision, so the
// wall clock is sampled once and advanced with the monotonic high-resolution timer.
const originNs = BigInt(Date.now()) * 1_000_000n;
const originHr = process.hrtime.bigint();

/** Nanoseconds since the epoch (never decreasing; two readings may be equal, as on a real node). */
export function nowNanos(): bigint {
  return originNs + (process.hrtime.bigint() - originHr);
}

/** RFC3339Nano with always nine fractional digits (`RFC3339NanoFixed`), e.g. `…T00:17:09.669794202Z`. */
export function formatNanos(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
}

/** Parses an RFC3339 / RFC3339Nano timestamp into epoch nanoseconds; undefined if malformed. */
export function parseNanos(text: string): bigint | undefined {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!match) return undefined;
  const seconds = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(seconds)) return undefined;
  const frac = BigInt((match[2] ?? '').padEnd(9, '0'));
  return BigInt(seconds) * 1_000_000n + frac;
}

/** Epoch nanoseconds of a Date. */
export function dateNanos(date: Date): bigint {
  return BigInt(date.getTime()) * 1_000_000n;
}

/** Kubernetes object timestamps: RFC3339 with second precision. */
export function kubeTime(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
