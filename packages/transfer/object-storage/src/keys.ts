import { createHash } from 'node:crypto';
import type { TaskRunIdentity } from '@podrun/core';

/** Object keys of one task run attempt. */
export interface RunKeys {
  inputs: string;
  outputs: string;
}

/**
 * Keys under `prefix`: one directory per task run attempt, named by a hash of the task run id (ids
 * may hold characters that need escaping in URLs) plus the attempt.
 */
export function runKeys(prefix: string | undefined, identity: Pick<TaskRunIdentity, 'taskRunId' | 'attempt'>): RunKeys {
  const base = prefix ? (prefix.endsWith('/') ? prefix : `${prefix}/`) : '';
  const id = createHash('sha256').update(identity.taskRunId).digest('hex').slice(0, 32);
  const dir = `${base}${id}/${identity.attempt}`;
  return { inputs: `${dir}/inputs.tar`, outputs: `${dir}/outputs.tar` };
}
