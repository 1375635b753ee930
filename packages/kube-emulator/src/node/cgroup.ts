// Container limits through the kernel's cgroups, nested under the emulator's own cgroup, as the
// kubelet and runc set them: memory (v2 `memory.max`, v1 `memory.limit_in_bytes`; the kernel
// OOM-kills inside it and the oom_kill counter tells the node to report OOMKilled) and CPU (v2
// `cpu.max`, v1 `cpu.cfs_quota_us`: the limit in millicores times the 100 ms CFS period).
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One container's cgroups (one directory on v2, one per controller on v1). */
export interface ContainerCgroup {
  /** Files a process writes `0` to in order to join (each of them). */
  readonly procsFiles: string[];
  /** How many processes the kernel OOM-killed in it so far. */
  oomKills(): number;
  /** Removes the (empty) cgroups; ignores failures. */
  remove(): void;
}

/** The limits to apply; an absent one is not limited. */
export interface ContainerLimits {
  memoryBytes?: number;
  /** CPU cores (a limit of `500m` is 0.5). */
  cpuCores?: number;
}

type Controller = 'memory' | 'cpu';

/** The kubelet's CFS period and its smallest quota (runc refuses less than 1 ms). */
const cfsPeriodUs = 100_000;
const minQuotaUs = 1_000;

const detected = new Map<Controller, { version: 1 | 2; dir: string } | null>();

/** Where a controller's child cgroups go, or null when this machine cannot give them. */
function rootOf(controller: Controller): { version: 1 | 2; dir: string } | null {
  if (detected.has(controller)) return detected.get(controller)!;
  let root: { version: 1 | 2; dir: string } | null = null;
  try {
    const lines = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .map((l) => l.split(':'));
    const v1 = lines.find((p) => p[1]?.split(',').includes(controller));
    const mount = `/sys/fs/cgroup/${controller}`;
    if (v1 && existsSync(join(mount, 'cgroup.procs'))) {
      root = { version: 1, dir: join(mount, v1[2] ?? '/') };
    } else {
      const v2 = lines.find((p) => p[0] === '0' && p[1] === '');
      const controllers = readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8');
      if (v2 && controllers.split(/\s+/).includes(controller)) {
        const dir = join('/sys/fs/cgroup', v2[2] ?? '/');
        // Children of a cgroup get a controller only if the parent delegates it; that fails when
        // the parent itself holds processes (the "no internal processes" rule).
        writeFileSync(join(dir, 'cgroup.subtree_control'), `+${controller}`);
        root = { version: 2, dir };
      }
    }
  } catch {
    root = null;
  }
  detected.set(controller, root);
  return root;
}

function removeDir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Still populated for a moment after the last exit, or already gone.
  }
}

/** The files one limit is written to, with their values. */
function limitFiles(controller: Controller, version: 1 | 2, dir: string, limits: ContainerLimits): [string, string][] {
  if (controller === 'memory') {
    const limit = String(Math.max(4096, Math.floor(limits.memoryBytes!)));
    if (version === 1) {
      // Without a swap limit the kernel would swap instead of OOM-killing (when swap exists).
      const swap = join(dir, 'memory.memsw.limit_in_bytes');
      return [
        [join(dir, 'memory.limit_in_bytes'), limit],
        ...(existsSync(swap) ? [[swap, limit] as [string, string]] : []),
      ];
    }
    const swap = join(dir, 'memory.swap.max');
    return [[join(dir, 'memory.max'), limit], ...(existsSync(swap) ? [[swap, '0'] as [string, string]] : [])];
  }
  const quota = String(Math.max(minQuotaUs, Math.round(limits.cpuCores! * cfsPeriodUs)));
  if (version === 1)
    return [
      [join(dir, 'cpu.cfs_period_us'), String(cfsPeriodUs)],
      [join(dir, 'cpu.cfs_quota_us'), quota],
    ];
  return [[join(dir, 'cpu.max'), `${quota} ${cfsPeriodUs}`]];
}

/**
 * Creates the cgroups that enforce `limits`, or undefined when nothing is limited or the
 * kernel/permissions do not allow it (then the container runs unlimited, and a limit it asked for
 * is not enforced).
 */
export function createContainerCgroup(name: string, limits: ContainerLimits): ContainerCgroup | undefined {
  const wanted: Controller[] = [];
  if (limits.memoryBytes !== undefined) wanted.push('memory');
  if (limits.cpuCores !== undefined) wanted.push('cpu');
  const dirs = new Map<string, 1 | 2>();
  let memoryDir: { dir: string; version: 1 | 2 } | undefined;
  try {
    for (const controller of wanted) {
      const root = rootOf(controller);
      if (!root) continue;
      const dir = join(root.dir, name);
      if (!dirs.has(dir)) {
        mkdirSync(dir);
        dirs.set(dir, root.version);
      }
      for (const [file, value] of limitFiles(controller, root.version, dir, limits)) writeFileSync(file, value);
      if (controller === 'memory') memoryDir = { dir, version: root.version };
    }
  } catch {
    for (const dir of dirs.keys()) removeDir(dir);
    return undefined;
  }
  if (dirs.size === 0) return undefined;
  const counterFile =
    memoryDir && join(memoryDir.dir, memoryDir.version === 1 ? 'memory.oom_control' : 'memory.events');
  return {
    procsFiles: [...dirs.keys()].map((dir) => join(dir, 'cgroup.procs')),
    oomKills() {
      if (!counterFile) return 0;
      try {
        const match = /^oom_kill (\d+)$/m.exec(readFileSync(counterFile, 'utf8'));
        return match ? Number(match[1]) : 0;
      } catch {
        return 0;
      }
    },
    remove() {
      for (const dir of dirs.keys()) removeDir(dir);
    },
  };
}

function limitSupported(limits: ContainerLimits): boolean {
  const probe = createContainerCgroup(`podrun-probe-${process.pid}`, limits);
  probe?.remove();
  return probe !== undefined;
}

/** Whether container memory limits are enforced on this machine (a memory cgroup can be created). */
export function memoryLimitsSupported(): boolean {
  return limitSupported({ memoryBytes: 64 * 1024 * 1024 });
}

/** Whether container CPU limits are enforced on this machine (a CPU cgroup can be created). */
export function cpuLimitsSupported(): boolean {
  return limitSupported({ cpuCores: 1 });
}
