// Case groups: every case belongs to a published group, and a selection runs some groups or
// skips some with its reason; an unknown group name is an error, not a silent no-op.
import { describe, expect, it } from 'vitest';
import { FILE_TRANSFER_GROUPS, LOG_COLLECTOR_GROUPS, planGroups } from '@podrun/conformance';
import { transferCases } from '../src/transfer/cases.js';
import { logCases } from '../src/logs/cases.js';

describe('conformance groups', () => {
  it('puts every case in a published group, and every group has cases', () => {
    for (const [groups, cases] of [
      [FILE_TRANSFER_GROUPS, transferCases],
      [LOG_COLLECTOR_GROUPS, logCases],
    ] as const) {
      for (const c of cases) expect(groups).toContain(c.group);
      for (const g of groups) expect(cases.some((c) => c.group === g)).toBe(true);
    }
  });
  it('skips the groups a selection leaves out or skips, with the reason', () => {
    const plan = planGroups('suite', FILE_TRANSFER_GROUPS, {
      groups: ['round-trip', 'faults'],
      skipGroups: { faults: 'my store cannot cut a stream' },
    });
    expect(plan.get('faults')).toBe('my store cannot cut a stream');
    expect(plan.get('selection')).toBe('not selected (groups option)');
    expect(plan.has('round-trip')).toBe(false);
    expect(planGroups('suite', LOG_COLLECTOR_GROUPS, {}).size).toBe(0);
  });
  it('refuses a group the suite does not have', () => {
    expect(() =>
      planGroups('file transfer conformance of x', FILE_TRANSFER_GROUPS, { groups: ['roundtrip' as never] }),
    ).toThrow(/unknown group\(s\) roundtrip; the groups are round-trip, selection/);
  });
});
