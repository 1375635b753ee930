/**
 * @podrun/kube: the cluster connection built from the reference runner's Connection, and the
 * small typed Kubernetes port (`KubePort`) every other podrun package uses.
 *
 * ```ts
 * const kubeConfig = createKubeConfig(config, process.env);
 * const kube = createKubePort({ kubeConfig });
 * const pod = await kube.createPod(kube.defaultNamespace, podSpec);
 * ```
 *
 * @packageDocumentation
 */
export { createKubeConfig, DEFAULT_MASTER_URL, toPodrunKubeConfig } from './connection/create.js';
export { PodrunKubeConfig } from './connection/kubeconfig.js';
export type { PodrunKubeConfigInit } from './connection/kubeconfig.js';
export { SERVICE_ACCOUNT_ROOT } from './connection/discover.js';
export type {
  ConnectionOptions,
  KubeEnvironment,
  KubeconfigSelection,
  KubeConfigSource,
  TokenProviderResult,
} from './connection/options.js';
export type { TokenSource } from './connection/auth.js';
export { createKubePort } from './port/port.js';
export type { KubePortOptions, PodrunKubePort } from './port/port.js';
export type { InformerStats, WatchTuning } from './port/informer.js';
export type { ExecTuning } from './port/exec.js';
export { CREATE_REQUEST_ANNOTATION } from './port/pods.js';
export { DEFAULT_RETRY_POLICY } from './http/retry.js';
export type { RetryPolicy } from './http/retry.js';
