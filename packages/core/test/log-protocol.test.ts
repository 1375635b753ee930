import { describe, expect, it } from 'vitest';
import { createLogProtocolAccumulator, parseLogProtocolLine } from '@podrun/core';

describe('log protocol', () => {
  it('parses outputs, metrics and logs', () => {
    const line =
      '::{"outputs":{"rows":42,"name":"x"},"metrics":[{"name":"rows","type":"counter","value":42,"tags":{"table":"t","n":1}},{"name":"took","type":"timer","value":1.5}],"logs":[{"level":"warn","message":"careful"}]}::';
    expect(parseLogProtocolLine(line)).toEqual({
      outputs: { rows: 42, name: 'x' },
      metrics: [
        { name: 'rows', type: 'counter', value: 42, tags: { table: 't', n: '1' } },
        { name: 'took', type: 'timer', value: 1.5 },
      ],
      logs: [{ level: 'WARN', message: 'careful' }],
      warnings: [],
    });
  });

  it('keeps whitespace inside the JSON strings', () => {
    const parsed = parseLogProtocolLine('::{"outputs":{"table":"a  b\\tc\\n  d", "padded": "  x  "}}::');
    expect(parsed?.outputs).toEqual({ table: 'a  b\tc\n  d', padded: '  x  ' });
  });

  it('tolerates surrounding whitespace and a carriage return, as the reference trimmed lines', () => {
    expect(parseLogProtocolLine('  ::{"outputs":{"a":1}}::\r')?.outputs).toEqual({ a: 1 });
  });

  it('leaves other lines alone, including invalid JSON between the markers', () => {
    for (const text of [
      'hello',
      '::{not json}::',
      '::[1,2]::',
      'x ::{"outputs":{}}::',
      '::{"outputs":{}}:: x',
      '::{"a":1}',
      '{"outputs":{}}',
      '::"x"::',
    ]) {
      expect(parseLogProtocolLine(text)).toBeUndefined();
    }
  });

  it('drops malformed parts with a warning and keeps the rest', () => {
    const parsed = parseLogProtocolLine(
      '::{"outputs":[1],"metrics":[{"name":"ok","type":"counter","value":1},{"name":"bad","type":"gauge","value":1},{"type":"counter","value":1},{"name":"nan","type":"timer","value":"1"}],"logs":[{"level":"LOUD","message":"m"},{"message":"default info"}]}::',
    );
    expect(parsed?.outputs).toEqual({});
    expect(parsed?.metrics).toEqual([{ name: 'ok', type: 'counter', value: 1 }]);
    expect(parsed?.logs).toEqual([{ level: 'INFO', message: 'default info' }]);
    expect(parsed?.warnings).toHaveLength(5);
  });

  it('accumulates vars (later keys win) and metrics across lines', () => {
    const acc = createLogProtocolAccumulator();
    expect(acc.accept('plain line')).toBeUndefined();
    acc.accept('::{"outputs":{"a":1,"b":{"x":1}}}::');
    acc.accept('::{"outputs":{"b":{"y":2},"c":3},"metrics":[{"name":"m","type":"counter","value":2}]}::');
    acc.accept('::{"metrics":[{"name":"m","type":"counter","value":3}]}::');
    expect(acc.vars).toEqual({ a: 1, b: { y: 2 }, c: 3 });
    expect(acc.metrics.map((m) => m.value)).toEqual([2, 3]);
  });

  it('restores what was collected before a crash', () => {
    const acc = createLogProtocolAccumulator({ vars: { a: 1 }, metrics: [{ name: 'm', type: 'counter', value: 1 }] });
    acc.accept('::{"outputs":{"b":2}}::');
    expect(acc.vars).toEqual({ a: 1, b: 2 });
    expect(acc.metrics).toHaveLength(1);
  });

  it('stores a __proto__ output as data instead of changing the prototype', () => {
    const acc = createLogProtocolAccumulator();
    acc.accept('::{"outputs":{"__proto__":{"polluted":true}}}::');
    expect(Object.getPrototypeOf(acc.vars)).toBe(Object.prototype);
    expect((acc.vars as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(acc.vars)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
