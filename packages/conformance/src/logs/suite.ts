import type { LogCollector } from '@podrun/core';
import type { ConformanceCluster } from '../environment.js';
import { describeSuite, type GroupSelection } from '../suite-frame.js';
import { LOG_COLLECTOR_GROUPS, logCases, type LogCaseKit, type LogCollectorGroup } from './cases.js';
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
export interface LogCollectorConformanceOptions extends GroupSelection<LogCollectorGroup> {
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
  describeSuite({
    kind: 'log collector',
    options,
    label: LOG_SUITE_LABEL,
    env: (setup, base): LogEnv => ({ ...base, collector: setup.collector }),
    capabilities: (env) => env.collector.capabilities,
    groups: LOG_COLLECTOR_GROUPS,
    cases: logCases,
    kit: (env, track): LogCaseKit => ({
      env,
      pod: async (label, scripts) => {
        const pod = track(new LogPod(env, label, scripts));
        await pod.create();
        return pod;
      },
    }),
    defaultTimeoutMs: 120_000,
  });
}
