// The part both conformance suites share: skip in live mode without a cluster, one cluster and
// fault layer per suite, a label that selects only this suite's pods, disposal after each case,
// and capability-gated cases. Each suite adds only its environment and its case kit.
import { randomBytes } from 'node:crypto';
import type { KubePort, PodSelector } from '@podrun/core';
import { afterAll, afterEach, beforeAll, describe, it } from './vitest-api.js';
import { conformanceSkipReason, type ConformanceCluster } from './environment.js';
import { withFaults, type PortFaults } from './faults.js';

/** What every suite's `setup` returns besides the thing under test. */
export interface SuiteSetup {
  cluster: ConformanceCluster;
  teardown?: () => Promise<void>;
}

/** The environment fields every suite has. */
export interface SuiteBase {
  kube: KubePort;
  faults: PortFaults;
  namespace: string;
  image: string;
  selector: PodSelector;
  suiteId: string;
}

/** Something a case created that the suite removes after the case. */
export interface Disposable {
  dispose(): Promise<void>;
}

/** One case of a suite, skipped unless the capability it `needs` is declared. */
export interface SuiteCase<K, C, G extends string = string> {
  name: string;
  /** The group it belongs to: a suite can be run or skipped by group. */
  group: G;
  needs?: keyof C;
  timeoutMs?: number;
  run(kit: K): Promise<void>;
}

/** How a third-party strategy picks groups: run only some, or skip some with a reason. */
export interface GroupSelection<G extends string> {
  /** Run only these groups (default: all). */
  groups?: readonly G[];
  /** Skip these groups; each reason is printed and shown on the skipped cases. */
  skipGroups?: Partial<Record<G, string>>;
}

/**
 * Which groups a selection skips, with the reason for each; throws on a group name the suite does
 * not have (a typo must not silently run nothing).
 */
export function planGroups<G extends string>(
  suite: string,
  groups: readonly G[],
  selection: GroupSelection<G>,
): Map<G, string> {
  const named = [...(selection.groups ?? []), ...(Object.keys(selection.skipGroups ?? {}) as G[])];
  const unknown = named.filter((g) => !groups.includes(g));
  if (unknown.length > 0) {
    throw new Error(`${suite}: unknown group(s) ${unknown.join(', ')}; the groups are ${groups.join(', ')}`);
  }
  const skipped = new Map<G, string>();
  for (const group of groups) {
    const reason =
      selection.skipGroups?.[group] ??
      (selection.groups && !selection.groups.includes(group) ? 'not selected (groups option)' : undefined);
    if (reason) skipped.set(group, reason);
  }
  return skipped;
}

/** What a suite adds to the shared frame. */
export interface SuiteFrame<S extends SuiteSetup, E extends SuiteBase, K, C, G extends string = string> {
  /** `file transfer` or `log collector`: part of the title and the skip message. */
  kind: string;
  options: { name: string; setup: () => Promise<S>; skip?: string | false } & GroupSelection<G>;
  /** Every group, in the order they run. */
  groups: readonly G[];
  /** Label key carrying the suite id on every pod the suite creates. */
  label: string;
  env(setup: S, base: SuiteBase): E;
  capabilities(env: E): C;
  cases: readonly SuiteCase<K, C, G>[];
  /** The kit a case gets; `track` registers what must be disposed after the case. */
  kit(env: E, track: <T extends Disposable>(item: T) => T): K;
  defaultTimeoutMs: number;
}

/** Declares a conformance suite from its frame in the calling test file. */
export function describeSuite<S extends SuiteSetup, E extends SuiteBase, K, C, G extends string>(
  frame: SuiteFrame<S, E, K, C, G>,
): void {
  const { name } = frame.options;
  const reason = frame.options.skip || conformanceSkipReason();
  if (reason) console.log(`[podrun] [conformance] skipping ${frame.kind} conformance of ${name}: ${reason}`);
  const skippedGroups = planGroups(`${frame.kind} conformance of ${name}`, frame.groups, frame.options);
  const groupSkip = (group: G): string | undefined => skippedGroups.get(group);
  for (const [group, why] of skippedGroups) {
    if (frame.options.skipGroups?.[group])
      console.log(`[podrun] [conformance] ${name}: skipping the ${group} group of ${frame.kind} conformance: ${why}`);
  }
  describe.skipIf(Boolean(reason))(`${frame.kind} conformance: ${name}`, () => {
    let setup: S | undefined;
    let env: E | undefined;
    const created: Disposable[] = [];
    const track = <T extends Disposable>(item: T): T => {
      created.push(item);
      return item;
    };

    beforeAll(async () => {
      setup = await frame.options.setup();
      const { kube, faults } = withFaults(setup.cluster.kube);
      const suiteId = `${name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .slice(0, 40)}-${randomBytes(3).toString('hex')}`;
      const { namespace, image } = setup.cluster;
      const selector = { namespace, labelSelector: `${frame.label}=${suiteId}` };
      env = frame.env(setup, { kube, faults, namespace, image, selector, suiteId });
    }, 300_000);

    afterEach(async () => {
      env?.faults.reset();
      await Promise.all(created.splice(0).map((item) => item.dispose()));
    }, 120_000);

    afterAll(async () => {
      await setup?.teardown?.();
      await setup?.cluster.stop();
    }, 120_000);

    for (const group of frame.groups) {
      describe(group, () => {
        for (const testCase of frame.cases.filter((c) => c.group === group)) {
          it(
            testCase.name,
            async (ctx) => {
              const skipped = groupSkip(group);
              if (skipped) ctx.skip(true, `group ${group} skipped: ${skipped}`);
              if (!env) throw new Error('the suite setup failed');
              if (testCase.needs)
                ctx.skip(!frame.capabilities(env)[testCase.needs], `${name} declares ${String(testCase.needs)}: false`);
              await testCase.run(frame.kit(env, track));
            },
            testCase.timeoutMs ?? frame.defaultTimeoutMs,
          );
        }
      });
    }
  });
}
