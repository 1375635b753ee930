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
  // Freeze the tree before signalling it: a stopped process cannot fork, so no child started
  // during the walk is missed, and no parent dies before its children are found (an orphan is
  // re-parented out of the tree's reach). Walked until a pass finds nothing new, since a stop
  // takes effect a moment after it is sent.
  const frozen = new Set<number>();
  const freeze = (target: number): void => {
    if (frozen.has(target)) return;
    frozen.add(target);
    signalPid(target, 'SIGSTOP');
  };
  freeze(pid);
  for (let pass = 0; pass < 20; pass++) {
    const before = frozen.size;
    descendants(pid).forEach(freeze);
    if (frozen.size === before && pass > 0) break;
  }
  for (const target of frozen) signalPid(target, signal);
  // Any other signal is acted on once the process runs again.
  if (signal !== 'SIGKILL') for (const target of frozen) signalPid(target, 'SIGCONT');
}

/** Sends a signal, ignoring processes that have already gone. */
export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: already exited.
  }
}
