import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { PodSelector, TransferContext } from '@podrun/core';

/** Init container that creates the directories and waits for the inputs. */
export const INIT_CONTAINER = 'init-files';
/** Sidecar that stays up until the outputs have been read. */
export const SIDECAR_CONTAINER = 'out-files';
/** The shared files volume, mounted at the paths' root in every container. */
export const FILES_VOLUME = 'kestra-files';
/** Directory (relative to the root) for podrun's transfer control files. */
export const CONTROL_DIR = '.podrun-transfer';

export function selectorOf(ctx: Pick<TransferContext, 'namespace' | 'podSelector'>): PodSelector {
  return ctx.podSelector ?? { namespace: ctx.namespace };
}

export function initStatus(pod: V1Pod): V1ContainerStatus | undefined {
  return pod.status?.initContainerStatuses?.find((s) => s.name === INIT_CONTAINER);
}

export function sidecarStatus(pod: V1Pod): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((s) => s.name === SIDECAR_CONTAINER);
}

/** The init container ran to success: it only does so after a verified upload wrote the marker. */
export function initSucceeded(pod: V1Pod): boolean {
  return initStatus(pod)?.state?.terminated?.exitCode === 0;
}

/** The pod has a running init container to upload into, or will never have one. */
export function initSettled(pod: V1Pod): boolean {
  const state = initStatus(pod)?.state;
  const phase = pod.status?.phase;
  return Boolean(
    state?.running ||
      state?.terminated ||
      phase === 'Failed' ||
      phase === 'Succeeded' ||
      pod.metadata?.deletionTimestamp,
  );
}

/** Short description of a container state for error messages. */
export function describeState(status: V1ContainerStatus | undefined): string {
  const state = status?.state;
  if (!state) return 'not started';
  if (state.running) return 'running';
  if (state.terminated) return `terminated (${state.terminated.reason ?? 'exit'} ${state.terminated.exitCode})`;
  return `waiting (${state.waiting?.reason ?? 'unknown'})`;
}
