import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '@podrun/core';
import { generatePodName } from '@podrun/pod-spec';
import { build, identity, issuesOf } from './support/fixtures.js';
import { expectDnsLabel } from './support/valid-pod.js';

describe('pod names', () => {
  it('is <flow>-<task>-<suffix>', () => {
    expect(generatePodName(identity, { suffix: 'k3x9p2aa' })).toBe('new-shell-shell-k3x9p2aa');
  });

  it('uses 8 random lowercase letters and digits by default', () => {
    const names = Array.from({ length: 20 }, () => generatePodName(identity));
    for (const name of names) {
      expect(name).toMatch(/^new-shell-shell-[a-z0-9]{8}$/);
      expectDnsLabel(name);
    }
    expect(new Set(names).size).toBe(names.length);
  });

  it('lowercases and turns disallowed characters into single dashes', () => {
    expect(generatePodName({ flowId: 'My_Flow.v2', taskId: '--Extract  Data!' }, { suffix: 'a1' })).toBe(
      'my-flow-v2-extract-data-a1',
    );
    expect(generatePodName({ flowId: 'flöw', taskId: '漢字' }, { suffix: 'a1' })).toBe('fl-w-a1');
    expect(generatePodName({ flowId: '___', taskId: '***' }, { suffix: 'a1' })).toBe('podrun-a1');
  });

  it('shortens long flow and task ids fairly to a DNS-1123 label of <= 63', () => {
    const long = { flowId: 'f'.repeat(100), taskId: 't'.repeat(100) };
    const name = generatePodName(long, { suffix: 'abcd1234' });
    expectDnsLabel(name);
    expect(name).toHaveLength(63);
    const [f, t] = name.split('-');
    expect(f!.length).toBeGreaterThanOrEqual(26);
    expect(t!.length).toBeGreaterThanOrEqual(26);
  });

  it('gives the room a short part leaves to the other part', () => {
    const name = generatePodName({ flowId: 'etl', taskId: 'x'.repeat(100) }, { suffix: 'abcd1234' });
    expect(name).toBe(`etl-${'x'.repeat(50)}-abcd1234`);
    expectDnsLabel(name);
  });

  it('never ends a shortened part with a dash', () => {
    const name = generatePodName(
      { flowId: 'a'.repeat(25) + '-' + 'b'.repeat(40), taskId: 'c'.repeat(40) },
      { suffix: 'z' },
    );
    expectDnsLabel(name);
    expect(name).not.toMatch(/--/);
  });

  it('rejects a suffix that would make an invalid name', () => {
    expect(issuesOf(() => generatePodName(identity, { suffix: 'UPPER' }), ErrorCodes.POD_SPEC_INVALID)).toEqual([
      'nameSuffix',
    ]);
    expect(issuesOf(() => build({ nameSuffix: 'a-b' }), ErrorCodes.POD_SPEC_INVALID)).toEqual(['nameSuffix']);
  });

  it('names built pods the same way', () => {
    const pod = build({ identity: { ...identity, flowId: 'Daily ETL', taskId: 'load' }, nameSuffix: undefined });
    expect(pod.metadata!.name).toMatch(/^daily-etl-load-[a-z0-9]{8}$/);
  });
});
