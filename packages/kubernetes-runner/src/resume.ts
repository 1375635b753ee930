// Which existing pod of this task run to reattach to, and which to remove. A pod counts when it
// is not being deleted and is Pending, Running, or finished for this very attempt (a finished
// pod of an older attempt must not stand in for a retry). Preference: the pod recorded in the
// run state, then finished > Running > Pending, then the oldest, then by name.
import type { V1Pod } from '@kubernetes/client-node';
import type { TaskRunIdentity } from '@podrun/core';
import { PODRUN_LABEL_PREFIX } from '@podrun/pod-spec';
import { classify } from './classify.js';
import { MAIN, isTerminated } from './pod-status.js';

const ATTEMPT_LABEL = `${PODRUN_LABEL_PREFIX}taskrun-attempt`;

export interface ResumeChoice {
  winner: V1Pod | undefined;
  /** Pods to delete: every other active pod, and terminal ones (the caller checks `delete`). */
  losers: V1Pod[];
}

export interface ResumeOptions {
  /** uid recorded in the run state by an earlier runner. */
  stateUid?: string;
  /** Whether the task brings outputs back (a finished pod then needs its outputs at hand). */
  needsOutputs: boolean;
  /** Whether the outputs of the pod with this uid were already stored. */
  outputsStored: (uid: string) => boolean;
  /** Whether the transfer can still read outputs from this pod (its file sidecar runs). */
  outputsReadable: (pod: V1Pod) => boolean;
}

/** The main container ended with a result (any exit code), not because the pod broke. */
export function finishedWithResult(pod: V1Pod): boolean {
  if (!isTerminated(pod, MAIN)) return false;
  return !classify(pod, {
    requiredSidecars: new Set(),
    pullErrorSince: new Map(),
    imagePullGraceMs: Infinity,
    now: Date.now(),
  });
}

function rank(pod: V1Pod, identity: TaskRunIdentity, options: ResumeOptions): number {
  const phase = pod.status?.phase;
  const uid = pod.metadata?.uid ?? '';
  if (finishedWithResult(pod)) {
    if (pod.metadata?.labels?.[ATTEMPT_LABEL] !== String(identity.attempt)) return 0;
    if (options.needsOutputs && !options.outputsStored(uid) && !options.outputsReadable(pod)) return 0;
    return 3;
  }
  if (phase === 'Running') return 2;
  if (phase === 'Pending') return 1;
  return 0;
}

export function chooseResumable(pods: V1Pod[], identity: TaskRunIdentity, options: ResumeOptions): ResumeChoice {
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  const ranked = live
    .map((pod) => ({
      pod,
      rank: rank(pod, identity, options) + (options.stateUid && pod.metadata?.uid === options.stateUid ? 10 : 0),
    }))
    .filter((r) => r.rank > 0 && r.rank !== 10)
    .sort(
      (a, b) =>
        b.rank - a.rank ||
        new Date(a.pod.metadata?.creationTimestamp ?? 0).getTime() -
          new Date(b.pod.metadata?.creationTimestamp ?? 0).getTime() ||
        (a.pod.metadata?.name ?? '').localeCompare(b.pod.metadata?.name ?? ''),
    );
  const winner = ranked[0]?.pod;
  return { winner, losers: live.filter((p) => p !== winner) };
}
