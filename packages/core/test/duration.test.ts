import { describe, expect, it } from 'vitest';
import { ConfigError, ErrorCodes, formatDuration, parseDuration } from '@podrun/core';

describe('ISO-8601 durations', () => {
  it.each([
    ['PT5S', 5_000],
    ['PT1H', 3_600_000],
    ['PT10M', 600_000],
    ['P1DT2H', 93_600_000],
    ['PT0.5S', 500],
    ['PT0,25S', 250],
    ['P2W', 1_209_600_000],
    ['P1W2D', 777_600_000],
    ['PT1M30S', 90_000],
    ['PT1.5M', 90_000],
    ['pt5s', 5_000],
    ['PT0S', 0],
    ['P1D', 86_400_000],
    ['PT0.001S', 1],
  ])('parses %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    '',
    'P',
    'PT',
    '5 seconds',
    '5s',
    'PT5',
    'P1M',
    'P1Y',
    '-PT5S',
    'PT-5S',
    'PT1.5M30S',
    ' PT5S',
    'T5S',
    'P1H',
    'PT5S5M',
  ])('rejects %j with a ConfigError', (text) => {
    let error: unknown;
    try {
      parseDuration(text, 'taskRunner.waitForLogs');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe(ErrorCodes.CONFIG_INVALID);
    expect((error as ConfigError).issues[0]!.path).toBe('taskRunner.waitForLogs');
  });

  it('explains why a duration is wrong and what to write instead', () => {
    const message = (text: string) => {
      try {
        parseDuration(text);
      } catch (e) {
        return (e as ConfigError).issues[0]!.message;
      }
      return '';
    };
    expect(message('5 seconds')).toBe(
      'expected an ISO-8601 duration such as PT5S, got "5 seconds" (did you mean PT5S?)',
    );
    expect(message('90m')).toContain('did you mean PT1H30M?');
    expect(message('P1M')).toContain('years and months have no fixed length');
    expect(message('-PT5S')).toContain('negative');
    expect(message('PT1.5M30S')).toContain('only the last component may have a fraction');
  });

  it.each([
    [0, 'PT0S'],
    [500, 'PT0.5S'],
    [5_000, 'PT5S'],
    [90_000, 'PT1M30S'],
    [3_600_000, 'PT1H'],
    [93_600_000, 'P1DT2H'],
    [1_209_600_000, 'P14D'],
    [86_400_001, 'P1DT0.001S'],
  ])('formats %i ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips every whole millisecond value it formats', () => {
    for (const ms of [0, 1, 7, 999, 1_000, 59_999, 61_001, 3_599_999, 86_399_999, 90_061_001, 2 ** 40]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });

  it('refuses to format negative, fractional or infinite milliseconds', () => {
    for (const ms of [-1, 0.5, Number.POSITIVE_INFINITY, Number.NaN]) {
      expect(() => formatDuration(ms)).toThrow(ConfigError);
    }
  });
});
