/*
 * Parsed (rendered) configuration types: what runners and strategies receive. Names are the
 * reference's; durations are milliseconds; defaults are filled in. The schemas in
 * kubernetes-runner.ts, strategies.ts and definitions.ts are checked against these at compile time.
 */

/** podrun's own type name for the Kubernetes runner. */
export const KUBERNETES_RUNNER_TYPE = 'io.podrun.kubernetes';
/** The reference runner's type name, accepted so flows written for it run unchanged. */
export const KESTRA_KUBERNETES_RUNNER_TYPE = 'io.kestra.plugin.ee.kubernetes.runner.Kubernetes';
/** Either accepted `type` of the Kubernetes runner. */
export type KubernetesRunnerType = typeof KUBERNETES_RUNNER_TYPE | typeof KESTRA_KUBERNETES_RUNNER_TYPE;

/** The reference's default API server when `config` is given without `masterUrl`. */
export const DEFAULT_MASTER_URL = 'https://kubernetes.default.svc';

/** Image pull policy, in the reference's spelling (pod-spec maps it to `Always`, ...). */
export type PullPolicy = 'ALWAYS' | 'IF_NOT_PRESENT' | 'NEVER';

/** Runs a task whose output is an OAuth token, refreshed when it expires or the API answers 401. */
export interface OAuthTokenProvider {
  /** The task that produces the token, as written in a flow (at least its `type`). */
  task: { type: string } & Record<string, unknown>;
  /** Which output of that task holds the token, e.g. `{{ outputs.token.value }}`. */
  output: string;
  /** How long a fetched token is reused, in milliseconds (default PT5M). */
  cache: number;
}

/**
 * How to reach the cluster (the reference's Connection). Given at all, it is the whole
 * connection and `masterUrl` defaults to {@link DEFAULT_MASTER_URL}; omitted, podrun follows the
 * kubectl conventions (KUBECONFIG, ~/.kube/config, in-cluster service account).
 */
export interface Connection {
  /** API version, default `v1`. */
  apiVersion: string;
  /** CA certificate, PEM or base64 PEM. */
  caCertData?: string;
  /** CA certificate file path. */
  caCertFile?: string;
  /** Client certificate, PEM or base64 PEM. */
  clientCertData?: string;
  /** Client certificate file path. */
  clientCertFile?: string;
  /** Client key algorithm, default `RSA`. */
  clientKeyAlgo: string;
  /** Client key, PEM or base64 PEM (secret). */
  clientKeyData?: string;
  /** Client key file path. */
  clientKeyFile?: string;
  /** Passphrase of an encrypted client key (secret). */
  clientKeyPassphrase?: string;
  /** Verify the certificate chain but not the host name. */
  disableHostnameVerification?: boolean;
  /** PKCS#12 key store file. */
  keyStoreFile?: string;
  /** Key store passphrase (secret). */
  keyStorePassphrase?: string;
  /** API server URL, default {@link DEFAULT_MASTER_URL}. */
  masterUrl: string;
  /** Default namespace of the connection. */
  namespace?: string;
  /** Bearer token (secret). */
  oauthToken?: string;
  /** Token from a task, refreshed on expiry and on 401. */
  oauthTokenProvider?: OAuthTokenProvider;
  /** Basic-auth password (secret). */
  password?: string;
  /** Skip TLS verification entirely (testing only). */
  trustCerts?: boolean;
  /** PKCS#12 trust store file. */
  trustStoreFile?: string;
  /** Trust store passphrase (secret). */
  trustStorePassphrase?: string;
  /** Basic-auth user name. */
  username?: string;
}

/** CPU and memory of one side of a resource block, as Kubernetes quantities. */
export interface KubernetesResource {
  cpu?: string;
  memory?: string;
}

/** Requests and limits (the reference's Kubernetes-Resources). */
export interface KubernetesResources {
  request?: KubernetesResource;
  limit?: KubernetesResource;
}

/** The file sidecar container used by the exec-tar transfer. */
export interface FileSidecar {
  /** Image of the init and sidecar containers that move files, default `busybox`. */
  image: string;
  /** Resources of those containers. */
  resources?: KubernetesResources;
  /** Extra container spec merged into those containers. */
  defaultSpec?: Record<string, unknown>;
}

/** The reference's transfer: exec + tar into an init container and a sidecar. */
export interface ExecTarTransferConfig {
  type: 'exec-tar';
}

/** Files through a PersistentVolumeClaim, moved by a helper pod. */
export interface PvcTransferConfig {
  type: 'pvc';
  /** Storage class of the claim podrun creates; the cluster default when unset. */
  storageClassName?: string;
  /** Size of the claim podrun creates, default `1Gi`. */
  size: string;
  /** Use this existing claim instead of creating one. */
  existingClaim?: string;
  /** Directory inside the claim; default: one per task run. */
  subPath?: string;
  /** Image of the helper that moves files; default: the file sidecar image. */
  helperImage?: string;
  /** Use a hostPath volume instead of a claim (single-node clusters and tests). */
  hostPath?: string;
}

/** Static credentials for S3-compatible storage (secrets). */
export interface ObjectStorageCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Files through S3-compatible object storage and pre-signed URLs; no pods/exec needed. */
export interface ObjectStorageTransferConfig {
  type: 'object-storage';
  bucket: string;
  /** Key prefix for this runner's objects. */
  prefix?: string;
  /** Endpoint URL of an S3-compatible service; AWS when unset. */
  endpoint?: string;
  region?: string;
  /** Path-style addressing (most S3-compatible services need it). */
  forcePathStyle?: boolean;
  /** Static credentials; the AWS default chain when unset. */
  credentials?: ObjectStorageCredentials;
  /** Lifetime of pre-signed URLs in milliseconds, default PT1H, at most P7D. */
  urlExpiry: number;
  /** Image of the containers that fetch and push files; needs `wget` or `curl`. */
  image?: string;
}

/** Which file transfer strategy moves inputs and outputs; default `exec-tar` (the reference's). */
export type FileTransferConfig = ExecTarTransferConfig | PvcTransferConfig | ObjectStorageTransferConfig;

/** One follow stream per container (the reference's behaviour). */
export interface FollowLogCollectorConfig {
  type: 'follow';
}

/** Periodic reads from a cursor, for clusters or proxies that cut long streams. */
export interface PollLogCollectorConfig {
  type: 'poll';
  /** Time between reads in milliseconds, default PT2S. */
  interval: number;
}

/** Which log collector reads container logs; default `follow`. */
export type LogCollectorConfig = FollowLogCollectorConfig | PollLogCollectorConfig;

/** The Kubernetes task runner's configuration after rendering and parsing. */
export interface KubernetesRunnerConfig {
  type: KubernetesRunnerType;
  config?: Connection;
  containerSpec?: Record<string, unknown>;
  delete: boolean;
  fileSideCarSpec?: Record<string, unknown>;
  fileSidecar: FileSidecar;
  labels?: Record<string, string>;
  namespace: string;
  nodeSelector?: Record<string, string>;
  podSpec?: Record<string, unknown>;
  pullPolicy: PullPolicy;
  resources?: KubernetesResources;
  resume: boolean;
  serviceAccountName?: string;
  syncWorkingDirectory: boolean;
  version?: string;
  /** Milliseconds. */
  waitForLogs: number;
  /** Milliseconds. */
  waitUntilCompletion: number;
  /** Milliseconds. */
  waitUntilRunning: number;
  /** Milliseconds (podrun's addition). */
  imagePullGracePeriod: number;
  /** Fail at once on Unschedulable instead of waiting through it (podrun's addition). */
  failOnUnschedulable: boolean;
  /** Also label pods `kestra.io/*` as the reference does (podrun's addition). */
  referenceLabels: boolean;
  fileTransfer: FileTransferConfig;
  logCollector: LogCollectorConfig;
}

/** What a retry does on failure. */
export type RetryBehavior = 'RETRY_FAILED_TASK' | 'CREATE_NEW_EXECUTION';

/** Fields every retry policy has. Durations in milliseconds. */
export interface RetryPolicyBase {
  /** Attempts in total, at least 1. */
  maxAttempts?: number;
  /** Stop retrying once this much time has passed since the first attempt. */
  maxDuration?: number;
  /** Default `RETRY_FAILED_TASK`. */
  behavior: RetryBehavior;
  /** Mark a task that needed retries as WARNING, default false. */
  warningOnRetry: boolean;
}

/** Retry after a fixed interval. */
export interface ConstantRetryPolicy extends RetryPolicyBase {
  type: 'constant';
  interval: number;
}

/** Retry after a random interval between the bounds. */
export interface RandomRetryPolicy extends RetryPolicyBase {
  type: 'random';
  minInterval: number;
  maxInterval: number;
}

/** Retry after an interval growing by `delayFactor` up to `maxInterval`. */
export interface ExponentialRetryPolicy extends RetryPolicyBase {
  type: 'exponential';
  interval: number;
  maxInterval: number;
  /** Growth per attempt; unset means the host's default (2). */
  delayFactor?: number;
}

/** A task's retry policy (the reference's Constant, Random and Exponential). */
export type RetryPolicy = ConstantRetryPolicy | RandomRetryPolicy | ExponentialRetryPolicy;

/** Task output caching. */
export interface TaskCache {
  enabled: boolean;
  /** How long a cached result stays valid, in milliseconds; forever when unset. */
  ttl?: number;
}

/** What happens when no worker of the group is available. */
export type WorkerGroupFallback = 'FAIL' | 'WAIT' | 'CANCEL';

/** Runs the task on a group of workers. */
export interface WorkerGroup {
  key: string;
  /** Unset: the host's default. */
  fallback?: WorkerGroupFallback;
}
