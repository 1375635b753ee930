import { randomBytes } from 'node:crypto';
import type { LogCollector } from '@podrun/core';
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import { conformanceSkipReason, type ConformanceCluster } from '../environment.js';
import { withFaults } from '../faults.js';
import { logCases, type LogCaseKit } from './cases.js';
import { LOG_SUITE_LABEL, LogPod, type LogEnv } from './run.js';

/** What a log-collector suite's `setup` returns. */
export interface LogCollectorSetup {
  /** The cluster to run on; stopped after the suite. */
  cluster: ConformanceCluster;
  /** The collector under test. */
  collector: LogCollector;
  /** Stops whatever else the setup started; runs before the cluster stops. */
  teardown?: () => Promise<void>;
}

/** Options of {@link describeLogCollectorConformance}. */
export interface LogCollectorConformanceOptions {
  /** Shown in the suite's title, e.g. `follow`. */
  name: string;
  /** Starts a fresh cluster and makes the collector; called once per suite. */
  setup: () => Promise<LogCollectorSetup>;
  /** A reason to skip the whole suite (printed), or false/undefined to run it. */
  skip?: string | false;
}

/**
 * Declares the log-collector conformance suite in the calling test file. Containers print known
 * lines; the suite checks order, no loss or duplicates across broken streams (injected at the
 * port), UTF-8 split across chunks, very long lines, several containers, resume from a cursor,
 * waitForLogs as a ceiling and the `::{...}::` protocol line. Capabilities declared false
 * (`live`, `splitsStreams`) skip their cases.
 *
 * @example
 * ```ts
 * describeLogCollectorConformance({ name: 'follow', setup: onConformanceCluster(() => ({ collector: createFollowLogCollector() })) });
 * ```
 */
export function describeLogCollectorConformance(options: LogCollectorConformanceOptions): void {
  const reason = options.skip || conformanceSkipReason();
  if (reason) console.log(`[podrun] [conformance] skipping log collector conformance of ${options.name}: ${reason}`);
  describe.skipIf(Boolean(reason))(`log collector conformance: ${options.name}`, () => {
    let setup: LogCollectorSetup | undefined;
    let env: LogEnv | undefined;
    const pods: LogPod[] = [];

    beforeAll(async () => {
      setup = await options.setup();
      const { kube, faults } = withFaults(setup.cluster.kube);
      const suiteId = `${options.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 40)}-${randomBytes(3).toString('hex')}`;
      env = {
        kube,
        faults,
        collector: setup.collector,
        namespace: setup.cluster.namespace,
        image: setup.cluster.image,
        selector: { namespace: setup.cluster.namespace, labelSelector: `${LOG_SUITE_LABEL}=${suiteId}` },
        suiteId,
      };
    }, 300_000);

    afterEach(async () => {
      env?.faults.reset();
      await Promise.all(pods.splice(0).map((pod) => pod.dispose()));
    }, 120_000);

    afterAll(async () => {
      await setup?.teardown?.();
      await setup?.cluster.stop();
    }, 120_000);

    for (const testCase of logCases) {
      it(
        testCase.name,
        async (ctx) => {
          if (!env) throw new Error('the suite setup failed');
          if (testCase.needs) ctx.skip(!env.collector.capabilities[testCase.needs], `${options.name} declares ${testCase.needs}: false`);
          const kit: LogCaseKit = {
            env,
            pod: async (label, scripts) => {
              const pod = new LogPod(env!, label, scripts);
              pods.push(pod);
              await pod.create();
              return pod;
            },
          };
          await testCase.run(kit);
        },
        testCase.timeoutMs ?? 120_000,
      );
    }
  });
}
