import type { FileTransfer } from '@podrun/core';
import type { ConformanceCluster } from '../environment.js';
import { describeSuite, type GroupSelection } from '../suite-frame.js';
import { FILE_TRANSFER_GROUPS, transferCases, type CaseKit, type FileTransferGroup } from './cases.js';
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
export interface FileTransferConformanceOptions extends GroupSelection<FileTransferGroup> {
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
 * declares false skip the matching cases (reported as skipped, with the reason). Cases come in
 * groups (`FILE_TRANSFER_GROUPS`): `groups` runs only some, `skipGroups` skips some with a reason.
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
  describeSuite({
    kind: 'file transfer',
    options,
    label: SUITE_LABEL,
    env: (setup, base): TransferEnv => ({
      ...base,
      transfer: setup.transfer,
      ...(setup.dropNextStream && { dropNextStream: setup.dropNextStream }),
      ...(setup.droppedStreams && { droppedStreams: setup.droppedStreams }),
    }),
    capabilities: (env) => env.transfer.capabilities,
    groups: FILE_TRANSFER_GROUPS,
    cases: transferCases,
    kit: (env, track): CaseKit => ({
      env,
      largeFileBytes: options.largeFileBytes ?? 100 * 1024 * 1024,
      run: (spec: RunSpec) => track(new TransferRun(env, spec)),
    }),
    defaultTimeoutMs: 180_000,
  });
}
