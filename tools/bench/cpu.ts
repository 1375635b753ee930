// CPU seconds of the processes a transfer involves, so a benchmark can say where its time goes:
// the client (podrun's runner, or kubectl) and the cluster process together with the pod processes
// it started and reaped (tar, dd, sha256sum inside the pod, all on this same machine).
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** CPU seconds of `pid` (or `self`): its own (utime + stime), its reaped children's (cutime + cstime). */
function cpuTimes(pid: number | 'self'): { own: number; reaped: number } {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  // Fields after the command name, which is in parentheses and may itself hold ") ".
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  return { own: (fields[11]! + fields[12]!) / ticksPerSecond, reaped: (fields[13]! + fields[14]!) / ticksPerSecond };
}

/**
 * utime + stime + cutime + cstime of `pid` (itself and its reaped children) and of its live
 * descendants, in seconds: the emulator's pods are reaped by its process launcher, a live child.
 */
export function processTreeCpuSeconds(pid: number): number {
  let own = 0;
  try {
    const times = cpuTimes(pid);
    own = times.own + times.reaped;
  } catch {
    return 0; // gone meanwhile: its parent counts it once reaped
  }
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    // no children file: count the process alone
  }
  return own + children.reduce((sum, child) => sum + processTreeCpuSeconds(child), 0);
}

/** CPU seconds of this process's children that have ended (cutime + cstime): a finished command's. */
export function endedChildrenCpuSeconds(): number {
  return cpuTimes('self').reaped;
}

/** This process's own CPU seconds so far. */
export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * Runs a command under GNU time: its wall seconds and CPU seconds (user + system, children
 * included). Without /usr/bin/time the CPU is undefined and the wall time measured here.
 */
export async function timedWithCpu(
  file: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv },
  hasGnuTime: boolean,
): Promise<{ seconds: number; cpuSeconds?: number }> {
  const started = performance.now();
  const stderr = await new Promise<string>((resolve, reject) =>
    execFile(
      hasGnuTime ? '/usr/bin/time' : file,
      hasGnuTime ? ['-f', 'podrun-cpu %U %S', file, ...args] : args,
      { ...options, maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, err) => (error ? reject(Object.assign(error, { stderr: err })) : resolve(err)),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const match = /podrun-cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
  return match ? { seconds, cpuSeconds: Number(match[1]) + Number(match[2]) } : { seconds };
}
