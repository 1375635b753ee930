// Memory limits through the kernel's memory cgroup (v2 `memory.max` or v1 `memory.limit_in_bytes`),
// nested under the emulator's own cgroup. The kernel OOM-kills inside it; the oom_kill counter
// tells the node to report OOMKilled.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One container's memory cgroup. */
export interface MemoryCgroup {
  /** File a process writes `0` to in order to join. */
  readonly procsFile: string;
  /** How many processes the kernel OOM-killed in it so far. */
  oomKills(): number;
  /** Removes the (empty) cgroup; ignores failures. */
  remove(): void;
}

interface CgroupRoot {
  version: 1 | 2;
  dir: string;
}

let detected: CgroupRoot | null | undefined;

function detect(): CgroupRoot | null {
  if (detected !== undefined) return detected;
  detected = null;
  try {
    const lines = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
    const v1 = lines.map((l) => l.split(':')).find((p) => p[1]?.split(',').includes('memory'));
    if (v1 && existsSync('/sys/fs/cgroup/memory/cgroup.procs')) {
      detected = { version: 1, dir: join('/sys/fs/cgroup/memory', v1[2] ?? '/') };
    } else {
      const v2 = lines.map((l) => l.split(':')).find((p) => p[0] === '0' && p[1] === '');
      const controllers = readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8');
      if (v2 && controllers.split(/\s+/).includes('memory')) {
        const dir = join('/sys/fs/cgroup', v2[2] ?? '/');
        // Children of a cgroup get the memory controller only if the parent delegates it; that
        // fails when the parent itself holds processes (the "no internal processes" rule).
        writeFileSync(join(dir, 'cgroup.subtree_control'), '+memory');
        detected = { version: 2, dir };
      }
    }
  } catch {
    detected = null;
  }
  return detected;
}

/** Creates a memory cgroup limited to `limitBytes`, or undefined where the kernel/permissions do not allow it. */
export function createMemoryCgroup(name: string, limitBytes: number): MemoryCgroup | undefined {
  const root = detect();
  if (!root) return undefined;
  const dir = join(root.dir, name);
  const limit = String(Math.max(4096, Math.floor(limitBytes)));
  try {
    mkdirSync(dir);
    if (root.version === 1) {
      writeFileSync(join(dir, 'memory.limit_in_bytes'), limit);
      // Without a swap limit the kernel would swap instead of OOM-killing (when swap exists).
      if (existsSync(join(dir, 'memory.memsw.limit_in_bytes')))
        writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), limit);
    } else {
      writeFileSync(join(dir, 'memory.max'), limit);
      if (existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0');
    }
  } catch {
    try {
      rmdirSync(dir);
    } catch {
      // Never created.
    }
    return undefined;
  }
  const counterFile = join(dir, root.version === 1 ? 'memory.oom_control' : 'memory.events');
  return {
    procsFile: join(dir, 'cgroup.procs'),
    oomKills() {
      try {
        const match = /^oom_kill (\d+)$/m.exec(readFileSync(counterFile, 'utf8'));
        return match ? Number(match[1]) : 0;
      } catch {
        return 0;
      }
    },
    remove() {
      try {
        rmdirSync(dir);
      } catch {
        // Still populated for a moment after the last exit, or already gone.
      }
    },
  };
}

/** Whether container memory limits are enforced on this machine (a memory cgroup can be created). */
export function memoryLimitsSupported(): boolean {
  const probe = createMemoryCgroup(`podrun-probe-${process.pid}`, 64 * 1024 * 1024);
  probe?.remove();
  return probe !== undefined;
}
