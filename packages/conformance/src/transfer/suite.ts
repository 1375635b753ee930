import { randomBytes } from 'node:crypto';
import type { FileTransfer } from '@podrun/core';
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import { conformanceSkipReason, type ConformanceCluster } from '../environment.js';
import { withFaults } from '../faults.js';
import { transferCases, type CaseKit } from './cases.js';
import { SUITE_LABEL, TransferRun, type RunSpec, type TransferEnv } from './run.js';

/** What a file-transfer suite's `setup` returns. */
export interface FileTransferSetup {
  /** The cluster to run on (see `startConformanceCluster`); stopped after the suite. */
  cluster: ConformanceCluster;
  /** The strategy under test. */
  transfer: FileTransfer;
  /**
   * For strategies that move bytes outside exec (object storage): drop the next transfer stream
   * after `afterBytes` bytes. Strategies using exec get this from the suite's fault layer.
   */
  dropNextStream?: (afterBytes: number) => void;
  /** How many streams `dropNextStream` dropped so far. */
  droppedStreams?: () => number;
  /** Stops whatever else the setup started (servers, temp dirs); runs before the cluster stops. */
  teardown?: () => Promise<void>;
}

/** Options of {@link describeFileTransferConformance}. */
export interface FileTransferConformanceOptions {
  /** Shown in the suite's title, e.g. `exec-tar`. */
  name: string;
  /** Starts a fresh cluster and makes the strategy; called once per suite. */
  setup: () => Promise<FileTransferSetup>;
  /** A reason to skip the whole suite (printed), or false/undefined to run it. */
  skip?: string | false;
  /** Size of the large-file case, default 100 MB (run once per strategy). */
  largeFileBytes?: number;
}

/**
 * Declares the file-transfer conformance suite in the calling test file. Every case runs a real
 * task on the cluster: the pod is built with @podrun/pod-spec from the strategy's contribution,
 * its main container runs shell commands, and the suite drives prepare / uploadInputs /
 * downloadOutputs / release as the Kubernetes runner does. Capability flags the strategy
 * declares false skip the matching cases (reported as skipped, with the reason).
 *
 * @example
 * ```ts
 * describeFileTransferConformance({
 *   name: 'exec-tar',
 *   setup: onConformanceCluster(() => ({ transfer: createExecTarTransfer() })),
 * });
 * ```
 */
export function describeFileTransferConformance(options: FileTransferConformanceOptions): void {
  const reason = options.skip || conformanceSkipReason();
  if (reason) console.log(`[podrun] [conformance] skipping file transfer conformance of ${options.name}: ${reason}`);
  describe.skipIf(Boolean(reason))(`file transfer conformance: ${options.name}`, () => {
    let setup: FileTransferSetup | undefined;
    let env: TransferEnv | undefined;
    const runs: TransferRun[] = [];

    beforeAll(async () => {
      setup = await options.setup();
      const { kube, faults } = withFaults(setup.cluster.kube);
      const suiteId = `${options.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 40)}-${randomBytes(3).toString('hex')}`;
      env = {
        kube,
        faults,
        transfer: setup.transfer,
        namespace: setup.cluster.namespace,
        image: setup.cluster.image,
        selector: { namespace: setup.cluster.namespace, labelSelector: `${SUITE_LABEL}=${suiteId}` },
        suiteId,
        ...(setup.dropNextStream && { dropNextStream: setup.dropNextStream }),
        ...(setup.droppedStreams && { droppedStreams: setup.droppedStreams }),
      };
    }, 300_000);

    afterEach(async () => {
      env?.faults.reset();
      await Promise.all(runs.splice(0).map((run) => run.dispose()));
    }, 120_000);

    afterAll(async () => {
      await setup?.teardown?.();
      await setup?.cluster.stop();
    }, 120_000);

    for (const testCase of transferCases) {
      it(
        testCase.name,
        async (ctx) => {
          if (!env) throw new Error('the suite setup failed');
          if (testCase.needs) ctx.skip(!env.transfer.capabilities[testCase.needs], `${options.name} declares ${testCase.needs}: false`);
          const kit: CaseKit = {
            env,
            largeFileBytes: options.largeFileBytes ?? 100 * 1024 * 1024,
            run: (spec: RunSpec) => {
              const run = new TransferRun(env!, spec);
              runs.push(run);
              return run;
            },
          };
          await testCase.run(kit);
        },
        testCase.timeoutMs ?? 180_000,
      );
    }
  });
}
