// RFC3339(Nano) timestamps as the kubelet prefixes them to log lines. Compared numerically, not as
// strings: a server may send fewer than 9 fractional digits or an offset instead of `Z`.

/** Seconds since the epoch and nanoseconds within the second. */
interface Instant {
  seconds: number;
  nanos: number;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

function parseInstant(timestamp: string): Instant | undefined {
  const match = RFC3339.exec(timestamp);
  if (!match) return undefined;
  const millis = Date.parse(`${match[1]}${match[3]!.toUpperCase()}`);
  if (Number.isNaN(millis)) return undefined;
  return { seconds: millis / 1000, nanos: Number((match[2] ?? '').padEnd(9, '0')) };
}

/** True when `timestamp` is an RFC3339 timestamp podrun can order. */
export function isTimestamp(timestamp: string): boolean {
  return parseInstant(timestamp) !== undefined;
}

/**
 * Orders two RFC3339 timestamps: negative when `a` is earlier, 0 when equal, positive when later.
 * Unparseable values sort first so they never hide a real line.
 */
export function compareTimestamps(a: string, b: string): number {
  const x = parseInstant(a);
  const y = parseInstant(b);
  if (!x || !y) return x ? 1 : y ? -1 : 0;
  return x.seconds - y.seconds || x.nanos - y.nanos;
}

/** The whole epoch second a timestamp falls in (the precision `sinceTime` reaches the kubelet with). */
export function epochSecondOf(timestamp: string): number | undefined {
  const instant = parseInstant(timestamp);
  return instant ? Math.floor(instant.seconds) : undefined;
}

/**
 * The `sinceTime` to ask for when resuming after `timestamp`. Kubernetes parses sinceTime with
 * second precision on some versions, so podrun asks from the start of that second and drops the
 * overlap with the cursor; asking from `timestamp + 1ns` (as the reference does) loses lines on
 * those servers and lines that share a timestamp.
 */
export function sinceTimeFor(timestamp: string): string | undefined {
  const instant = parseInstant(timestamp);
  if (!instant) return undefined;
  return new Date(Math.floor(instant.seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
