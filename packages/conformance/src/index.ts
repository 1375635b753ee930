/**
 * @podrun/conformance: the one test suite every file-transfer strategy and log collector passes,
 * published so integrators can run it against their own strategies.
 *
 * ```ts
 * // test/conformance.test.ts of a strategy package
 * describeFileTransferConformance({ name: 'mine', setup: onConformanceCluster(() => ({ transfer: createMine() })) });
 * ```
 *
 * @packageDocumentation
 */
export {
  startConformanceCluster,
  onConformanceCluster,
  isLiveConformance,
  conformanceSkipReason,
  LIVE_MODE_VARIABLE,
  LIVE_KUBECONFIG_VARIABLE,
  TEST_IMAGES_VARIABLE,
  KUBERNETES_VERSION_VARIABLE,
  testImageArchives,
} from './environment.js';
export type { ConformanceCluster } from './environment.js';
export { withFaults } from './faults.js';
export type { PortFaults } from './faults.js';
export { describeFileTransferConformance } from './transfer/suite.js';
export type { FileTransferSetup, FileTransferConformanceOptions } from './transfer/suite.js';
export { FILE_TRANSFER_GROUPS } from './transfer/cases.js';
export type { FileTransferGroup } from './transfer/cases.js';
export { planGroups } from './suite-frame.js';
export type { GroupSelection } from './suite-frame.js';
export { createMemoryFileTransfer } from './reference/memory-transfer.js';
export { describeLogCollectorConformance } from './logs/suite.js';
export type { LogCollectorSetup, LogCollectorConformanceOptions } from './logs/suite.js';
export { LOG_COLLECTOR_GROUPS } from './logs/cases.js';
export type { LogCollectorGroup } from './logs/cases.js';
export { createMemoryLogCollector } from './reference/memory-logs.js';
export { TransferRun, SUITE_LABEL } from './transfer/run.js';
export type { TransferEnv, RunSpec } from './transfer/run.js';
export { RecordingSink, fileEntry, generatedEntry, generatedDigest, missingEntry } from './transfer/fixtures.js';
export type { ReceivedFile } from './transfer/fixtures.js';
