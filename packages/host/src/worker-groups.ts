import { CancelledError, ErrorCodes, PodrunError, RETRY_POLICIES, backoffDelay, sleep } from '@podrun/core';
import type { ClusterTarget } from './registry.js';

/** A worker group as the host's configuration file declares it: which cluster context runs its tasks. */
export interface WorkerGroupTarget extends ClusterTarget {
  /** Kubeconfig context name (required for Kubernetes runners). */
  context?: string;
}

/** Tells whether a worker group's cluster can take tasks now (context exists, API answers). */
export type WorkerGroupProbe = (key: string, target: WorkerGroupTarget, signal: AbortSignal) => Promise<boolean>;

/** Options of {@link resolveWorkerGroup}. */
export interface ResolveWorkerGroupOptions {
  groups: Readonly<Record<string, WorkerGroupTarget>>;
  probe?: WorkerGroupProbe;
  signal: AbortSignal;
  /** Called once when the task starts waiting (fallback WAIT). */
  onWait?: (key: string) => void;
  /** Delay between probes while waiting, ms: starts at `min`, doubles up to `max`. */
  backoff?: { min: number; max: number };
}

/**
 * Finds the cluster of a task's worker group. When the group is unknown or its cluster does not
 * answer: FAIL throws (code PODRUN_KUBE_CONNECTION), CANCEL throws CancelledError, WAIT probes
 * again with a growing delay until the group is available or the run is cancelled.
 */
export async function resolveWorkerGroup(
  workerGroup: { key: string; fallback: 'FAIL' | 'WAIT' | 'CANCEL' },
  options: ResolveWorkerGroupOptions,
): Promise<WorkerGroupTarget> {
  const { key, fallback } = workerGroup;
  const available = async (): Promise<WorkerGroupTarget | undefined> => {
    const target = options.groups[key];
    if (!target) return undefined;
    if (!options.probe) return target;
    try {
      return (await options.probe(key, target, options.signal)) ? target : undefined;
    } catch {
      return undefined;
    }
  };
  let target = await available();
  if (target) return target;
  const why = options.groups[key]
    ? `its cluster (context ${options.groups[key]!.context ?? '(current)'}) is not reachable`
    : `it is not declared in the host configuration (workerGroups.${key})`;
  if (fallback === 'CANCEL') {
    throw new CancelledError(`worker group "${key}" is unavailable: ${why}; the task was cancelled (fallback CANCEL)`, {
      component: 'worker-groups',
      details: { workerGroup: key, fallback },
    });
  }
  if (fallback === 'FAIL') {
    throw new PodrunError(
      ErrorCodes.KUBE_CONNECTION,
      `worker group "${key}" is unavailable: ${why}; declare it in the host configuration or start its cluster (fallback FAIL)`,
      { component: 'worker-groups', details: { workerGroup: key, fallback } },
    );
  }
  options.onWait?.(key);
  const { min, max } = options.backoff ?? {
    min: RETRY_POLICIES.workerGroupWait.baseDelayMs,
    max: RETRY_POLICIES.workerGroupWait.maxDelayMs,
  };
  const policy = { ...RETRY_POLICIES.workerGroupWait, baseDelayMs: min, maxDelayMs: max };
  for (let waits = 1; !target; waits++) {
    await abortableDelay(backoffDelay(policy, waits), options.signal);
    target = await available();
  }
  return target;
}

/** Resolves after `ms`, or rejects with CancelledError as soon as `signal` aborts. */
export async function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, signal);
  } catch {
    throw new CancelledError('the run was cancelled while waiting', { component: 'host' });
  }
}
