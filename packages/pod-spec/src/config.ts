import type { PodContribution, PodPaths, Task, TaskRunIdentity } from '@podrun/core';

/** One side of the reference's `Kubernetes-Resources` (`request` or `limit`). */
export interface ResourceAmounts {
  /** CPU quantity, e.g. `500m` or `2`. */
  cpu?: string | number;
  /** Memory quantity, e.g. `256Mi`. */
  memory?: string | number;
}

/** The reference's `resources` property: `request` and `limit`, each with `cpu` and `memory`. */
export interface ResourcesConfig {
  /** Becomes `resources.requests` of the main container. */
  request?: ResourceAmounts;
  /** Becomes `resources.limits` of the main container. */
  limit?: ResourceAmounts;
}

/**
 * The part of the Kubernetes runner configuration the pod builder honours, with the reference's
 * property names and durations already parsed to milliseconds. Declared structurally so the parsed
 * `KubernetesRunnerConfig` of `@podrun/core` is accepted as it is.
 */
export interface PodSpecConfig {
  /** Namespace the pod is created in (`metadata.namespace`). */
  namespace: string;
  /** User labels added to the pod. */
  labels?: Record<string, string>;
  /** Also label the pod `kestra.io/*` as the reference does. */
  referenceLabels?: boolean;
  /** `spec.nodeSelector`. */
  nodeSelector?: Record<string, string>;
  /** Pull policy of the main container, in the reference's spelling. */
  pullPolicy: 'ALWAYS' | 'IF_NOT_PRESENT' | 'NEVER';
  /** Requests and limits of the main container. */
  resources?: ResourcesConfig;
  /** `spec.serviceAccountName`. */
  serviceAccountName?: string;
  /** Overlay merged into `spec` (see the README's merge rules). */
  podSpec?: object;
  /** Overlay merged into the main container. */
  containerSpec?: object;
  /** Overlay merged into every container the file transfer contributes. */
  fileSideCarSpec?: object;
  /** The file sidecar: image for transfer containers without one, their resources and defaults. */
  fileSidecar: {
    image: string;
    /** Kubernetes `ResourceRequirements` (`requests`/`limits`), or `request`/`limit` as in `resources`. */
    resources?: object;
    /** Defaults for the transfer containers: their own values win. */
    defaultSpec?: object;
  };
  /** Milliseconds the runner waits for completion; base of `activeDeadlineSeconds`. */
  waitUntilCompletion: number;
  /** Milliseconds the runner waits for the pod to run; part of the deadline margin (default 10 min). */
  waitUntilRunning?: number;
}

/** Everything {@link buildPod} needs. Nothing here is mutated. */
export interface BuildPodInput {
  /** The rendered task. */
  task: Task;
  /** The runner configuration (see {@link PodSpecConfig}). */
  config: PodSpecConfig;
  /** Who the task run is; becomes labels, annotations and the pod name. */
  identity: TaskRunIdentity;
  /** Where files live in the pod (WORKING_DIR, OUTPUT_DIR). */
  paths: PodPaths;
  /** What the file-transfer strategy adds; `{}` when it adds nothing. */
  contribution: PodContribution;
  /** Pod name suffix (lowercase letters and digits). Random 8 characters when absent. */
  nameSuffix?: string;
  /** The strategy's name, used in error messages (e.g. `exec-tar`). */
  transferName?: string;
  /** Path of the runner configuration in error messages; default `taskRunner`. */
  configPath?: string;
  /** Path of the task in error messages; default `task`. */
  taskPath?: string;
}
