// Process trees found through /proc, so that an exec session or a sandbox can be killed with every
// process it started, not just the one Node spawned.
import { readFileSync } from 'node:fs';

/** The pid and all its descendants (children first found breadth-first), as far as /proc shows them. */
export function descendants(pid: number): number[] {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift()!;
    let children: string;
    try {
      children = readTaskChildren(current);
    } catch {
      continue;
    }
    for (const child of children.split(/\s+/).filter(Boolean).map(Number)) {
      if (!found.includes(child)) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

function readTaskChildren(pid: number): string {
  // A multi-threaded parent records children per thread; the main thread is enough for what we spawn.
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
}

/** Sends `signal` to the pid and every descendant; missing processes are ignored. */
export function signalTree(pid: number, signal: NodeJS.Signals): void {
  // Stop the root first so it cannot spawn more children while the tree is walked.
  const all = [pid, ...descendants(pid)];
  for (const target of all) signalPid(target, signal);
}

/** Sends a signal, ignoring processes that have already gone. */
export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: already exited.
  }
}
