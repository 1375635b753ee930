// Recognises a pod that cannot run the task any more, from its status alone. Pure: the watch
// feeds it every state it sees. A non-zero exit code of `main` is a result, never a failure here.
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { PodFailureReason } from '@podrun/core';
import { MAIN, condition, isTerminated } from './pod-status.js';

/** Why the pod failed, and what to say about it. */
export interface PodFailure {
  reason: PodFailureReason;
  message: string;
  /** The container concerned, when there is one (its logs are worth showing). */
  container?: string;
}

/** What classification needs besides the pod. */
export interface ClassifyOptions {
  /** Containers whose early termination breaks the run (the transfer's sidecars). */
  requiredSidecars: ReadonlySet<string>;
  /** When each container was first seen failing to pull its image (ms since epoch). */
  pullErrorSince: ReadonlyMap<string, number>;
  /** Grace period for image pull errors, in milliseconds. */
  imagePullGraceMs: number;
  now: number;
  /**
   * Unschedulable is a state to wait through (capacity frees up, an autoscaler adds a node)
   * unless this is set (the `failOnUnschedulable` option) or {@link noScaleUp} is known.
   */
  failOnUnschedulable?: boolean;
  /** The cluster-autoscaler's NotTriggerScaleUp message for this pod: no new node can help. */
  noScaleUp?: string;
}

/** Waiting reasons of a failed image pull that may still resolve (registry hiccup, new node). */
export const PULL_RETRYING = new Set(['ErrImagePull', 'ImagePullBackOff', 'RegistryUnavailable']);
/** Waiting reasons of a pull that can never succeed. */
const PULL_HOPELESS = new Set(['InvalidImageName', 'ErrImageNeverPull']);

function waitingFailure(status: V1ContainerStatus, options: ClassifyOptions): PodFailure | undefined {
  const waiting = status.state?.waiting;
  if (!waiting?.reason) return undefined;
  const detail = `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
  if (PULL_HOPELESS.has(waiting.reason)) {
    return {
      reason: 'ImagePullFailed',
      container: status.name,
      message: `the image of container ${status.name} cannot be pulled (${detail}); check the image name and pullPolicy`,
    };
  }
  if (PULL_RETRYING.has(waiting.reason)) {
    const since = options.pullErrorSince.get(status.name) ?? options.now;
    if (options.now - since < options.imagePullGraceMs) return undefined;
    return {
      reason: 'ImagePullFailed',
      container: status.name,
      message: `the image of container ${status.name} could not be pulled (${detail}); check the image name, the registry and its credentials (imagePullSecrets), or raise imagePullGracePeriod for a flaky registry`,
    };
  }
  if (waiting.reason === 'CreateContainerConfigError') {
    return {
      reason: 'CreateContainerConfigError',
      container: status.name,
      message: `container ${status.name} cannot be configured (${detail}); check the secrets and config maps it refers to`,
    };
  }
  if (
    waiting.reason === 'CreateContainerError' ||
    waiting.reason === 'RunContainerError' ||
    waiting.reason === 'StartError'
  ) {
    return {
      reason: 'CreateContainerError',
      container: status.name,
      message: `container ${status.name} cannot be created (${detail}); check its command, mounts and security context`,
    };
  }
  return undefined;
}

/** The containers currently failing to pull their image (for the grace-period bookkeeping). */
export function pullErrors(pod: V1Pod): string[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
    .filter((s) => PULL_RETRYING.has(s.state?.waiting?.reason ?? ''))
    .map((s) => s.name);
}

/** The pod's failure, or undefined while it may still run the task. */
export function classify(pod: V1Pod, options: ClassifyOptions): PodFailure | undefined {
  const status = pod.status ?? {};
  if (status.reason === 'Evicted') {
    return { reason: 'Evicted', message: `the pod was evicted${status.message ? `: ${status.message}` : ''}` };
  }
  const disruption = condition(pod, 'DisruptionTarget');
  if (disruption?.status === 'True' && status.phase === 'Failed') {
    return {
      reason: 'Evicted',
      message: `the pod was disrupted (${disruption.reason ?? ''}${disruption.message ? `: ${disruption.message}` : ''})`,
    };
  }
  if (status.reason === 'DeadlineExceeded') {
    return {
      reason: 'DeadlineExceeded',
      message: `the pod ran past its activeDeadlineSeconds${status.message ? ` (${status.message})` : ''}; raise waitUntilCompletion or the task timeout`,
    };
  }
  const scheduled = condition(pod, 'PodScheduled');
  if (
    scheduled?.status === 'False' &&
    scheduled.reason === 'Unschedulable' &&
    (options.failOnUnschedulable || options.noScaleUp !== undefined)
  ) {
    const autoscaler = options.noScaleUp !== undefined ? ` (cluster-autoscaler: ${options.noScaleUp})` : '';
    return {
      reason: 'Unschedulable',
      message: `the pod cannot be scheduled: ${scheduled.message ?? 'no node fits'}${autoscaler}; check resources, nodeSelector and taints`,
    };
  }
  for (const init of status.initContainerStatuses ?? []) {
    const terminated = init.state?.terminated;
    if (terminated && terminated.exitCode !== 0) {
      return {
        reason: 'InitContainerFailed',
        container: init.name,
        message: `init container ${init.name} failed (${terminated.reason ?? 'Error'}, exit code ${terminated.exitCode}${terminated.message ? `: ${terminated.message}` : ''})`,
      };
    }
    const waiting = waitingFailure(init, options);
    if (waiting) return waiting;
  }
  const mainDone = isTerminated(pod, MAIN);
  for (const c of status.containerStatuses ?? []) {
    const terminated = c.state?.terminated;
    if (c.name === MAIN && terminated) {
      if (terminated.reason === 'OOMKilled') {
        return {
          reason: 'OOMKilled',
          container: MAIN,
          message: `container ${MAIN} was killed for using more memory than its limit (OOMKilled, exit code ${terminated.exitCode}); raise resources.limit.memory`,
        };
      }
      if (terminated.reason === 'StartError' || terminated.reason === 'ContainerCannotRun') {
        return {
          reason: 'CreateContainerError',
          container: MAIN,
          message: `container ${MAIN} could not start (${terminated.reason}${terminated.message ? `: ${terminated.message}` : ''}); check the image's command`,
        };
      }
      continue;
    }
    if (terminated && options.requiredSidecars.has(c.name) && !mainDone) {
      return {
        reason: 'ContainerFailed',
        container: c.name,
        message: `container ${c.name} stopped before the task ended (${terminated.reason ?? 'exit'}, exit code ${terminated.exitCode})`,
      };
    }
    const waiting = waitingFailure(c, options);
    if (waiting) return waiting;
  }
  if (status.phase === 'Failed' && !mainDone) {
    return {
      reason: 'Unknown',
      message: `the pod failed before the task ended${status.reason ? ` (${status.reason}${status.message ? `: ${status.message}` : ''})` : ''}`,
    };
  }
  return undefined;
}
