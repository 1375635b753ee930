// Built once per node, copied into every container's overlay upper directory (one `cp -a`
// instead of dozens of mounts per container, because process starts dominate sandbox cost):
// - masks/: opaque directories (trusted.overlay.opaque) at every host path a container must not
//   see, so those paths are empty in the container and writes there stay in its upper dir.
//   The kernel itself marks them opaque: a directory made over a whiteout in an overlay is.
// - dev/: the minimal /dev each container's /dev tmpfs receives: links, directories, and empty
//   files on which the sandbox binds the host's device nodes (its /dev is nodev: see sandbox.ts).
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { shellQuote } from './launcher.js';

/** Host paths a container must never see: other pods' state and the host's private or writable data. */
const defaultMasks = [
  '/tmp',
  '/var/tmp',
  '/root',
  '/home',
  '/work',
  '/run',
  '/mnt',
  '/media',
  '/srv',
  '/opt',
  '/var/log',
  '/var/mail',
  '/var/spool',
  '/var/backups',
];

const systemDirs = [
  '/',
  '/usr',
  '/etc',
  '/bin',
  '/sbin',
  '/lib',
  '/lib64',
  '/lib32',
  '/var',
  '/proc',
  '/sys',
  '/dev',
  '/boot',
];

/** The device nodes of a container's /dev (runc's default set), bound from the host's /dev. */
export const containerDevices: readonly string[] = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];

/** The first of the usual sbin/bin directories that has `tool`. */
export function findTool(tool: string): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (existsSync(join(dir, tool))) return join(dir, tool);
  }
  return undefined;
}

/** Masked paths with their modes: defaults plus `extra` (and the emulator's own dirs), nested ones dropped. */
export function maskList(extra: string[]): [string, number][] {
  const candidates = [...defaultMasks];
  for (const path of [...extra, tmpdir(), homedir(), process.cwd()]) {
    const absolute = resolve(path);
    if (systemDirs.some((dir) => dir === absolute || dir.startsWith(`${absolute}/`))) continue;
    candidates.push(absolute);
  }
  candidates.sort();
  const out: [string, number][] = [];
  for (const path of candidates) {
    if (out.some(([kept]) => path === kept || path.startsWith(`${kept}/`))) continue;
    try {
      // The empty replacement keeps the original's mode, so /tmp stays world-writable and sticky.
      const stat = lstatSync(path);
      if (stat.isDirectory()) out.push([path, stat.mode & 0o7777]);
    } catch {
      // Absent on this host: nothing to hide.
    }
  }
  return out;
}

/** Creates the template under `dir`; resolves with an error message if it cannot. */
export async function buildSandboxTemplate(dir: string, extraMasks: string[]): Promise<string | undefined> {
  await rm(dir, { recursive: true, force: true });
  const masks = maskList(extraMasks);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // masks/ and dev/ carry the mode a container's root and /dev get from `cp -a dir/.` (0755, as
  // in an image), so no chmod is needed per container; the template directory stays private.
  for (const sub of ['lower', 'masks', 'work', 'merged', 'dev']) mkdirSync(join(dir, sub), { mode: 0o700 });
  for (const sub of ['masks', 'dev']) chmodSync(join(dir, sub), 0o755);
  for (const [path] of masks) mkdirSync(join(dir, 'lower', path), { recursive: true });
  const q = shellQuote;
  const merged = join(dir, 'merged');
  const dev = join(dir, 'dev');
  const script = [
    'set -eu',
    `mount -t overlay overlay -o ${q(`lowerdir=${join(dir, 'lower')},upperdir=${join(dir, 'masks')},workdir=${join(dir, 'work')}`)} ${q(merged)}`,
    ...masks.map(([path, mode]) => `rmdir ${q(merged + path)} && mkdir -m ${mode.toString(8)} ${q(merged + path)}`),
    ...containerDevices.map((name) => `: > ${q(join(dev, name))}`),
    `mkdir ${q(join(dev, 'pts'))} ${q(join(dev, 'shm'))} ${q(join(dev, 'mqueue'))}`,
    `ln -s pts/ptmx ${q(join(dev, 'ptmx'))} && ln -s /proc/self/fd ${q(join(dev, 'fd'))}`,
    `ln -s /proc/self/fd/0 ${q(join(dev, 'stdin'))} && ln -s /proc/self/fd/1 ${q(join(dev, 'stdout'))} && ln -s /proc/self/fd/2 ${q(join(dev, 'stderr'))}`,
  ].join('\n');
  const problem = await run(findTool('unshare') ?? 'unshare', ['--mount', '/bin/sh', '-c', script]);
  if (problem) return `failed to prepare the container sandbox template: ${problem}`;
  // Parents of masked paths (e.g. /var for /var/tmp) were copied up with an overlay "origin"
  // pointing into the throwaway lower dir; recreate them as plain directories.
  const parents = new Set(masks.flatMap(([path]) => ancestors(path)));
  for (const parent of [...parents].sort()) {
    const current = join(dir, 'masks', parent);
    const old = `${current}.podrun-old`;
    renameSync(current, old);
    mkdirSync(current, { mode: lstatSync(parent).mode & 0o7777 });
    for (const entry of readdirSync(old)) renameSync(join(old, entry), join(current, entry));
    rmdirSync(old);
  }
  await rm(join(dir, 'lower'), { recursive: true, force: true });
  return undefined;
}

function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let parent = dirname(path); parent !== '/'; parent = dirname(parent)) out.push(parent);
  return out;
}

function run(command: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
      cwd: '/',
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      stderr += text;
    });
    child.on('error', (error) => resolveRun(error.message));
    child.on('close', (code) => resolveRun(code === 0 ? undefined : stderr.trim() || `exit code ${code}`));
  });
}

/** Why sandboxes cannot be made on this machine, or undefined when they can. */
export function sandboxUnsupportedReason(stateDir: string): string | undefined {
  if (process.platform !== 'linux')
    return `the podrun emulator runs containers only on Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) {
    return 'the podrun emulator needs root to create container sandboxes (mount namespaces with an overlay of the host root); run it as root';
  }
  const missing = ['unshare', 'nsenter', 'mount', 'capsh', 'env', 'cp'].filter((tool) => !findTool(tool));
  if (missing.length > 0)
    return `the podrun emulator needs ${missing.join(', ')} (util-linux, libcap2-bin, coreutils) on the PATH`;
  const mountProblem = mountUnsupportedReason(findTool('mount')!);
  if (mountProblem) return mountProblem;
  try {
    if (!/\boverlay\b/.test(readFileSync('/proc/filesystems', 'utf8'))) {
      return 'the kernel has no overlay filesystem (modprobe overlay), which the podrun emulator needs for container roots';
    }
  } catch {
    return 'cannot read /proc/filesystems to check for overlay support';
  }
  if (/[,:\\\s]/.test(resolve(stateDir))) {
    return `the emulator's state directory "${stateDir}" must not contain commas, colons, backslashes or spaces (overlay mount options)`;
  }
  return undefined;
}

/**
 * Why `mount` cannot set up sandboxes, or undefined: they mount through `mount -a -T <fstab>`
 * with `bind,ro` entries, which util-linux binds and remounts read-only since 2.27 (older ones, and
 * BusyBox, would leave a read-only volume writable or not read the fstab).
 */
export function mountUnsupportedReason(mount: string): string | undefined {
  let version = '';
  try {
    version = execFileSync(mount, ['--version'], { encoding: 'utf8', timeout: 10_000, stdio: 'pipe' }).split('\n')[0]!;
  } catch (error) {
    version = (error as Error).message.split('\n')[0]!;
  }
  const [major, minor] = (/util-linux (\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
  if (major !== undefined && minor !== undefined && (major > 2 || (major === 2 && minor >= 27))) return undefined;
  return `the podrun emulator needs mount from util-linux 2.27 or later (${mount} says: ${version.trim() || 'nothing'}); install util-linux`;
}

/** The node's sandbox template: built on first use, once, and removed with the node. */
export interface SandboxTemplateCache {
  /** The template directory, or why sandboxes cannot be made on this machine. */
  get(): Promise<{ template: string } | { problem: string }>;
  /** Waits for a build under way, then removes the template. */
  remove(): Promise<void>;
}

/** A lazily built template under `<stateDir>/sandbox-template`. */
export function createSandboxTemplateCache(stateDir: string): SandboxTemplateCache {
  const dir = join(stateDir, 'sandbox-template');
  let built: Promise<{ template: string } | { problem: string }> | undefined;
  return {
    get() {
      built ??= (async () => {
        const problem = sandboxUnsupportedReason(stateDir);
        if (problem) return { problem };
        const failed = await buildSandboxTemplate(dir, [stateDir]);
        return failed ? { problem: failed } : { template: dir };
      })();
      return built;
    },
    async remove() {
      await built;
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}
