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
export interface SuiteCase<K, C> {
  name: string;
  needs?: keyof C;
  timeoutMs?: number;
  run(kit: K): Promise<void>;
}

/** What a suite adds to the shared frame. */
export interface SuiteFrame<S extends SuiteSetup, E extends SuiteBase, K, C> {
  /** `file transfer` or `log collector`: part of the title and the skip message. */
  kind: string;
  options: { name: string; setup: () => Promise<S>; skip?: string | false };
  /** Label key carrying the suite id on every pod the suite creates. */
  label: string;
  env(setup: S, base: SuiteBase): E;
  capabilities(env: E): C;
  cases: readonly SuiteCase<K, C>[];
  /** The kit a case gets; `track` registers what must be disposed after the case. */
  kit(env: E, track: <T extends Disposable>(item: T) => T): K;
  defaultTimeoutMs: number;
}

/** Declares a conformance suite from its frame in the calling test file. */
export function describeSuite<S extends SuiteSetup, E extends SuiteBase, K, C>(frame: SuiteFrame<S, E, K, C>): void {
  const { name } = frame.options;
  const reason = frame.options.skip || conformanceSkipReason();
  if (reason) console.log(`[podrun] [conformance] skipping ${frame.kind} conformance of ${name}: ${reason}`);
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

    for (const testCase of frame.cases) {
      it(
        testCase.name,
        async (ctx) => {
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
