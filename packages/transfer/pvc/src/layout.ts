// Where a task run's files live: which claim, which directory inside it, and the marker that
// tells the task pod its inputs are complete.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { TaskRunIdentity } from '@podrun/core';

/** Volume name of the claim in the task pod. */
export const CLAIM_VOLUME = 'podrun-claim';
/** Marker (relative to the run directory = the pod's files root) written once inputs are complete. */
export const READY_MARKER = 'ready';
/** Label on claims and helper pods podrun creates. */
export const MANAGED_LABEL = 'transfer.podrun.io/pvc';

/** The claim and directory of one task run attempt. */
export interface RunLayout {
  claimName: string;
  /** True when podrun creates (and deletes) the claim. */
  ownClaim: boolean;
  /** Directory inside the claim mounted at the pod's files root (`/kestra`). */
  runDir: string;
  /** Short id for names (helper pods). */
  runId: string;
}

/** Layout for a task run: the existing claim with a per-run directory, or a claim of its own. */
export function layoutOf(
  options: { existingClaim?: string; subPath?: string },
  identity: Pick<TaskRunIdentity, 'taskRunId' | 'attempt'>,
): RunLayout {
  const runId = `${createHash('sha256').update(identity.taskRunId).digest('hex').slice(0, 16)}-${identity.attempt}`;
  const runDir = posix.join(options.subPath ?? 'podrun', runId);
  return options.existingClaim
    ? { claimName: options.existingClaim, ownClaim: false, runDir, runId }
    : { claimName: `podrun-${runId}`, ownClaim: true, runDir, runId };
}
