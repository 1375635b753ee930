import { ConfigError } from './errors.js';

const MS = { W: 604_800_000, D: 86_400_000, H: 3_600_000, M: 60_000, S: 1_000 } as const;

/**
 * The duration grammar podrun accepts, as a JSON-Schema-compatible pattern (no flags, so editors
 * agree with the parser): `P[nW][nD][T[nH][nM][nS]]`, case-insensitive, a decimal fraction
 * (`.` or `,`) allowed on any number. Years and months are left out on purpose: they have no
 * fixed length.
 */
export const DURATION_PATTERN =
  '^[Pp](?=\\d|[Tt]\\d)(?:\\d+(?:[.,]\\d+)?[Ww])?(?:\\d+(?:[.,]\\d+)?[Dd])?' +
  '(?:[Tt](?=\\d)(?:\\d+(?:[.,]\\d+)?[Hh])?(?:\\d+(?:[.,]\\d+)?[Mm])?(?:\\d+(?:[.,]\\d+)?[Ss])?)?$';

const GRAMMAR = new RegExp(DURATION_PATTERN);
const COMPONENT = /(\d+(?:[.,]\d+)?)([WDHMS])/g;
const CALENDAR = /^P[\d.,YMWD]*[YM]/;
const HUMAN =
  /^(\d+(?:\.\d+)?)\s*(milliseconds?|millis|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w)$/i;

/** The base message of every duration problem; kept identical so users learn one wording. */
export const DURATION_EXPECTED = 'expected an ISO-8601 duration such as PT5S';

/**
 * Describes what is wrong with `text` as a duration, or returns undefined when it is valid.
 * The message never needs the path, so schemas and {@link parseDuration} share it.
 * @internal
 */
export function durationProblem(text: unknown): string | undefined {
  if (typeof text !== 'string') {
    const kind = text === null ? 'null' : Array.isArray(text) ? 'a list' : typeof text;
    const hint = typeof text === 'number' ? ` (write durations as strings, e.g. ${numberHint(text)})` : '';
    return `${DURATION_EXPECTED}, got ${typeof text === 'number' ? `the number ${text}` : kind}${hint}`;
  }
  const got = `got ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}`;
  const upper = text.trim().toUpperCase();
  if (GRAMMAR.test(text)) {
    const fractions = [...upper.matchAll(COMPONENT)].map((m) => /[.,]/.test(m[1]!));
    if (fractions.slice(0, -1).some(Boolean)) {
      return `${DURATION_EXPECTED}, ${got}: only the last component may have a fraction (e.g. PT1M30S, not PT1.5M30S)`;
    }
    return undefined;
  }
  if (upper.startsWith('-') || /\d-|-\d/.test(upper)) {
    return `${DURATION_EXPECTED}, ${got}: negative durations are not allowed`;
  }
  if (CALENDAR.test(upper)) {
    return `${DURATION_EXPECTED}, ${got}: years and months have no fixed length, use days instead (e.g. P30D)`;
  }
  const human = HUMAN.exec(text.trim());
  if (human) {
    return `${DURATION_EXPECTED}, ${got} (did you mean ${humanHint(Number(human[1]), human[2]!)}?)`;
  }
  if (text !== text.trim() && GRAMMAR.test(text.trim())) {
    return `${DURATION_EXPECTED}, ${got}: remove the surrounding spaces`;
  }
  return `${DURATION_EXPECTED}, ${got}`;
}

function numberHint(n: number): string {
  return Number.isFinite(n) && n >= 0 ? `PT${n}S for ${n} seconds` : 'PT5S';
}

function humanHint(value: number, unit: string): string {
  const u = unit.toLowerCase();
  const factor =
    u.startsWith('mil') || u === 'ms'
      ? 1
      : u.startsWith('s')
        ? MS.S
        : u.startsWith('m')
          ? MS.M
          : u.startsWith('h')
            ? MS.H
            : u.startsWith('d')
              ? MS.D
              : MS.W;
  return formatDuration(Math.round(value * factor));
}

/**
 * Parses an ISO-8601 duration (`PT5S`, `PT1H`, `P1DT2H`, `PT0.5S`, `P2W`) into milliseconds,
 * rounded to the nearest millisecond.
 *
 * Weeks and days are fixed lengths (7 × 24 h, 24 h); years and months are rejected because they
 * have none. Letters may be lower case; a fraction is allowed on the last component only.
 *
 * @param text - the duration as written
 * @param path - where the value came from, used in the error (default `duration`)
 * @throws ConfigError (code `PODRUN_CONFIG_INVALID`) saying what is wrong and what is expected
 */
export function parseDuration(text: string, path = 'duration'): number {
  const problem = durationProblem(text);
  if (problem !== undefined)
    throw new ConfigError([{ path, message: problem }], { component: 'core', title: 'invalid duration' });
  let ms = 0;
  for (const match of text.toUpperCase().matchAll(COMPONENT)) {
    const unit = match[2] as keyof typeof MS;
    // `M` before the `T` would be months, which the grammar already excluded.
    ms += Number(match[1]!.replace(',', '.')) * MS[unit];
  }
  return Math.round(ms);
}

/**
 * Formats milliseconds as the shortest canonical ISO-8601 duration: `5000` -> `PT5S`,
 * `93600000` -> `P1DT2H`, `500` -> `PT0.5S`, `0` -> `PT0S`. Days are used, never weeks, so
 * `parseDuration(formatDuration(ms)) === ms` for every whole, non-negative `ms`.
 *
 * @throws ConfigError when `ms` is negative, not finite or not a whole number
 */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new ConfigError(
      [{ path: 'duration', message: `expected a whole, non-negative number of milliseconds, got ${ms}` }],
      {
        component: 'core',
        title: 'invalid duration',
      },
    );
  }
  const days = Math.floor(ms / MS.D);
  let rest = ms - days * MS.D;
  const hours = Math.floor(rest / MS.H);
  rest -= hours * MS.H;
  const minutes = Math.floor(rest / MS.M);
  rest -= minutes * MS.M;
  const seconds = rest / MS.S;
  const date = days ? `${days}D` : '';
  const time = `${hours ? `${hours}H` : ''}${minutes ? `${minutes}M` : ''}${seconds ? `${seconds}S` : ''}`;
  if (!date && !time) return 'PT0S';
  return `P${date}${time ? `T${time}` : ''}`;
}
