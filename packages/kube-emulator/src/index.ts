/**
 * @podrun/kube-emulator: an embedded Kubernetes API server that really runs pods as sandboxed
 * local processes. Start one with {@link startCluster}.
 *
 * @packageDocumentation
 */
export { startCluster } from './cluster.js';
export type { ClusterOptions, EmbeddedCluster } from './cluster.js';
export type { ClusterFaults, FailNextOptions } from './apiserver/faults.js';
export type { ApiMetrics, RequestFilter, RequestLabels } from './apiserver/metrics.js';
export type { StaticToken, BasicAuthUser } from './apiserver/auth.js';
export { buildKubeconfig } from './kubeconfig.js';
export type { KubeconfigCredentials, KubeconfigIdentity } from './kubeconfig.js';
export { createObjectStore } from './apiserver/store.js';
export type { ApiObjectStore, ObjectStoreOptions, RecordedEvent, HistoryResult } from './apiserver/store.js';
export { StoreConflictError, claimDirectory } from './contracts.js';
export type {
  KubeObject,
  WatchEventType,
  StoreEvent,
  ObjectStore,
  LogRequest,
  ExecRequest,
  NodeFaults,
  LogClockSettings,
  Node,
  NodeOptions,
  ImageStore,
  ImageSource,
  StoredImage,
  OciImageConfig,
} from './contracts.js';
export { writeOciArchive } from './node/oci-archive.js';
export type { OciArchiveSpec } from './node/oci-archive.js';
export { runCli } from './cli.js';
