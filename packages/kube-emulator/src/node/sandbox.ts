// One container = one sandbox: `unshare` gives it private mount, PID, UTS and IPC namespaces; a
// generated setup script (PID 1 of the new namespace) builds an overlay of the host root with a
// private upper directory seeded from the node's template (which hides the host's private and
// writable paths), mounts /proc, a minimal /dev and the pod's volumes, then chroots and execs the
// command so it stays PID 1.
//
// File descriptors of the unshare process: 1 container stdout, 2 diagnostics (setup errors and
// unshare's own messages), 3 control lines from the script, 4 container stderr (becomes fd 2 of
// the container just before the exec).
import { chmodSync, lstatSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { createContainerCgroup } from './cgroup.js';
import type { ContainerCgroup } from './cgroup.js';
import { launcherScript, shellQuote, startErrorMessage } from './launcher.js';
import { processLauncher, type LaunchedProcess, type ProcessExit } from './process-launcher.js';
import { signalPid, signalTree } from './process-tree.js';
import { containerDevices, findTool } from './sandbox-template.js';
import { capabilitiesOutside, defaultCapabilities } from './identity.js';
import type { ContainerIdentity } from './identity.js';

/** A bind mount into the container. */
export interface SandboxMount {
  source: string;
  target: string;
  readOnly: boolean;
  /** The source is a file (e.g. /etc/hosts, a subPath file), not a directory. */
  file?: boolean;
}

/** Everything needed to start one container instance. */
export interface SandboxSpec {
  /** Instance directory (upper/, work/, merged/ and the setup script live here). */
  dir: string;
  hostname: string;
  mounts: SandboxMount[];
  env: [string, string][];
  command: string[];
  workingDir: string;
  memoryLimitBytes?: number;
  /** `resources.limits.cpu` in cores, enforced as a CFS quota. */
  cpuLimitCores?: number;
  /** The node's sandbox template (see sandbox-template.ts). */
  template: string;
  /** The image's unpacked root filesystem; undefined runs the host's root filesystem (the catalogue fallback). */
  rootfs?: string;
  /** Who the command runs as, with which capabilities; undefined: root with the default capability set. */
  identity?: ContainerIdentity;
  /** The pod's network namespace file (see network.ts); the host network when undefined. */
  netnsPath?: string;
  /** `stdin: true` in the container spec: its stdin is a pipe the node holds open for attach. */
  stdin?: boolean;
}

/** How the start went. */
export type StartResult =
  | { kind: 'started'; initPid: number }
  | { kind: 'start-error'; message: string }
  | { kind: 'setup-error'; message: string };

/** A running (or finished) sandbox. */
export interface Sandbox {
  /** The container's stdin, when its spec asks for one (`stdin: true`). */
  readonly stdin: Writable | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Settles once the command runs, or failed to. */
  readonly started: Promise<StartResult>;
  /** Settles once every process of the sandbox is gone and its output pipes are closed. */
  readonly exited: Promise<{ exitCode: number; oomKilled: boolean }>;
  /** Host PID of the container's PID 1 (undefined before it is known). */
  initPid(): number | undefined;
  /** The container's root (the overlay mount point) as seen from its mount namespace. */
  readonly root: string;
  /** Joins `0` to this file to share the container's memory limit (exec sessions). */
  readonly cgroupProcs: string[];
  /** Signals the container's PID 1 (SIGKILL ends the whole PID namespace). */
  signal(signal: NodeJS.Signals): void;
  /** Removes the instance directory and cgroup (call after `exited`). */
  release(): Promise<void>;
}

/**
 * Runs inside the container root: creates each target (`d:/path` directory, `f:/path` file) and
 * prints its symlink-free path, using shell builtins where possible (process starts are the cost).
 */
const resolveScript = [
  'for spec; do',
  '  kind=${spec%%:*}; p=${spec#?:}',
  '  if [ "$kind" = d ]; then',
  '    [ -d "$p" ] || mkdir -p -- "$p" || exit 1',
  '    cd -P -- "$p" || exit 1',
  '    printf "%s\\n" "$PWD"',
  '  else',
  '    dir=${p%/*}; base=${p##*/}',
  '    [ -d "${dir:-/}" ] || mkdir -p -- "$dir" || exit 1',
  '    cd -P -- "${dir:-/}" || exit 1',
  '    if [ -L "$base" ]; then readlink -f -- "$base"',
  '    else',
  '      [ -e "$base" ] || : > "$base" || exit 1',
  '      printf "%s/%s\\n" "${PWD%/}" "$base"',
  '    fi',
  '  fi',
  '  cd /',
  'done',
].join('\n');

/**
 * The host command that runs `argv` (a path inside the container) in a container root as its
 * user. capsh does it in this order: chroot into `root` (and cd /), drop from the bounding set
 * every capability the container does not get, clear the inheritable set, then switch group,
 * supplementary groups and user (a non-root user keeps no effective capability). The chroot comes
 * before the drop so that the container need not keep SYS_CHROOT (see defaultCapabilities).
 * Exec sessions use it too.
 */
export function enterAs(identity: ContainerIdentity | undefined, root: string, argv: string[]): string[] {
  const dropped = capabilitiesOutside(identity?.capabilities ?? defaultCapabilities);
  return [
    'capsh',
    `--chroot=${root}`,
    ...(dropped.length > 0 ? [`--drop=${dropped.join(',')}`] : []),
    '--inh=',
    `--gid=${identity?.gid ?? 0}`,
    `--groups=${(identity?.groups ?? []).join(',')}`,
    `--uid=${identity?.uid ?? 0}`,
    `--shell=${argv[0]!}`,
    '--',
    ...argv.slice(1),
  ];
}

/** Splits mounts so that a target nested in an earlier one is resolved after that one is mounted. */
function mountBatches(mounts: SandboxMount[]): SandboxMount[][] {
  const batches: SandboxMount[][] = [];
  let current: SandboxMount[] = [];
  for (const mount of mounts) {
    const nested = current.some((m) => mount.target.startsWith(`${m.target.replace(/\/+$/, '')}/`));
    if (nested) {
      batches.push(current);
      current = [];
    }
    current.push(mount);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Shell functions that check, with builtins only, that every mount made since
 * `podrun_record_mounts` ran is under `$M` (the container's root). Volume targets are resolved
 * inside the container's root, then mounted by path, and `mount` follows symbolic links: a
 * container of the same pod that swaps a directory of a shared volume for a link between the two
 * would send a nested volume onto a host path of this namespace, where the next host tool the
 * setup runs (mount, capsh) could be the container's; so could a target path the image's own
 * shell printed with `..` in it. So each bind is checked before anything else runs, and the setup
 * stops at a mount that left the root.
 */
export const mountGuardScript = `podrun_nl='
'
podrun_record_mounts() {
  podrun_known=$podrun_nl
  while read -r podrun_id podrun_rest; do podrun_known=$podrun_known$podrun_id$podrun_nl; done < /proc/self/mountinfo
}
podrun_mounts_inside() {
  while read -r podrun_id podrun_parent podrun_dev podrun_root podrun_point podrun_rest; do
    case $podrun_known in *"$podrun_nl$podrun_id$podrun_nl"*) continue ;; esac
    case $podrun_point in "$M"/*) ;; *)
      echo "a volume mount left the container's root (it landed on $podrun_point): a path in the container's root that it was mounted through changed, or the image's shell printed a path outside it; the setup stopped there" >&2
      exit 1 ;;
    esac
  done < /proc/self/mountinfo
}`;

/**
 * A path as an fstab field: space, tab, newline and backslash in octal, as `mount -a` reads them.
 */
function fstabPath(path: string): string {
  return path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/**
 * The setup script. Every process it starts costs about a millisecond of CPU (a dynamically linked
 * util-linux tool loading its libraries), and a pod has several containers, so mounts go through
 * a few `mount -a -T <fstab>` calls rather than one `mount` each: the root (overlay, /proc, /dev),
 * then /dev/shm, /sys and /dev/pts (a restricted host may refuse the last two, as before not an
 * error), then per batch of volumes their binds (`bind,ro` is bound and remounted read-only by
 * mount itself). The runtime's own mounts come first so that a volume under one of them lands on
 * top of it.
 */
function setupScript(spec: SandboxSpec, cgroup: ContainerCgroup | undefined): string {
  const q = shellQuote;
  const merged = join(spec.dir, 'merged');
  const lines = [
    'set -eu',
    `M=${q(merged)}`,
    `FM=${q(fstabPath(merged))}`,
    `F=${q(join(spec.dir, 'fstab'))}`,
    // The mount sandboxUnsupportedReason checked, not another one found first on the PATH.
    `MOUNT=${q(findTool('mount') ?? 'mount')}`,
    "nl='\n'",
    // /proc here is still the host's, so /proc/self names this shell by its host PID.
    'read -r podrun_pid podrun_rest < /proc/self/stat',
    'printf "pid %s\\n" "$podrun_pid" >&3',
  ];
  for (const procs of cgroup?.procsFiles ?? []) lines.push(`echo 0 > ${q(procs)}`);
  // unshare made every mount private already: nothing below propagates to the host. The host's
  // filesystem (catalogue fallback) gets the template's masks over its private paths.
  if (spec.rootfs === undefined)
    lines.push(`cp -a ${q(join(spec.template, 'masks'))}/. ${q(join(spec.dir, 'upper'))}/`);
  lines.push(
    `echo ${q(spec.hostname)} > /proc/sys/kernel/hostname`,
    '"$MOUNT" -a -T "$F.root"',
    `cp -a ${q(join(spec.template, 'dev'))}/. "$M/dev/"`,
    // Not optional: the device nodes, and /proc's masked and read-only paths (see fixedFstabs).
    '"$MOUNT" -a -T "$F.guard"',
    '"$MOUNT" -a -T "$F.system" 2>/dev/null || true',
    // /dev/shm is not optional (its tmpfs is mode 1777, the template's directory under it is not):
    // without it, mounting it alone fails the setup with mount's own message.
    '[ -k "$M/dev/shm" ] || "$MOUNT" -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$M/dev/shm"',
    // Targets are resolved inside the container's own view (a symlink there must not lead a
    // mount onto a host path) and created first, like the runtime does; one chroot per batch.
    // The image's own /bin/sh does it, so it runs as the container's root would: with the
    // default capabilities only (with all of them it could leave the chroot or mount anything).
    'resolve_targets() {',
    `  ${enterAs(undefined, merged, ['/bin/sh', '-c', resolveScript, 'sh']).map(q).join(' ')} "$@"`,
    '}',
    mountGuardScript,
    'podrun_record_mounts',
    'flush() {',
    '  if [ -s "$F.binds" ]; then',
    '    "$MOUNT" -a -T "$F.binds"',
    '    podrun_mounts_inside',
    '  fi',
    '  : > "$F.binds"',
    '}',
    // A resolved target becomes an fstab line, unless it holds a character fstab would need
    // escaped (the shell has no cheap way to) or was mounted on before (`mount -a` would skip
    // it as mounted already): that one is bound on its own, after what is pending, so mounts
    // stack in their order. argv: source target fstab-escaped-source ro|''.
    'seen=$nl',
    'bind() {',
    '  case $2 in',
    '    *[[:space:]\\\\]*) ;;',
    '    *) case $seen in',
    '         *"$nl$2$nl"*) ;;',
    '         *) seen=$seen$2$nl',
    '            printf "%s %s none bind,nodev%s 0 0\\n" "$3" "$FM$2" "${4:+,ro}" >> "$F.binds"',
    '            return ;;',
    '       esac ;;',
    '  esac',
    '  flush',
    '  "$MOUNT" --bind "$1" "$M$2"',
    // Checked before the next host tool runs: the path came from the image's shell.
    '  podrun_mounts_inside',
    '  "$MOUNT" -o "remount,bind,nodev${4:+,ro}" "$M$2"',
    '}',
    ': > "$F.binds"',
  );
  for (const batch of mountBatches(spec.mounts)) {
    lines.push(`targets=$(resolve_targets ${batch.map((m) => q(`${m.file ? 'f' : 'd'}:${m.target}`)).join(' ')})`);
    lines.push('i=0', 'while IFS= read -r t; do', '  i=$((i + 1))', '  case $i in');
    batch.forEach((mount, index) => {
      lines.push(
        `    ${index + 1}) bind ${q(mount.source)} "$t" ${q(fstabPath(mount.source))} ${mount.readOnly ? 'ro' : "''"} ;;`,
      );
    });
    lines.push(
      '  esac',
      'done <<PODRUN_TARGETS',
      '$targets',
      'PODRUN_TARGETS',
      `[ "$i" -eq ${batch.length} ]`,
      'flush',
    );
  }
  const env = spec.env.map(([key, value]) => q(`${key}=${value}`)).join(' ');
  const id = spec.identity;
  // The runtime creates the working directory (as root, inside the container's view) before the
  // user switch, so a non-root command can start in a directory its image lacks. The root, the
  // default, is there already: no chroot for it.
  if (!/^\/+$/.test(spec.workingDir)) lines.push(`resolve_targets ${q(`d:${spec.workingDir}`)} >/dev/null`);
  if (id?.readOnlyRootFilesystem) lines.push('"$MOUNT" -o remount,ro,nodev "$M"');
  // The runtime's default capabilities bound what the command can ever have; a non-root user
  // keeps none of them effective (setuid clears them), as under runc.
  lines.push(
    'exec 2>&4 4>&-',
    `exec ${enterAs(id, merged, ['/usr/bin/env', '-i']).map(q).join(' ')} ${env} /bin/sh -c ${q(launcherScript)} sh ${q(spec.workingDir)} direct ${spec.command.map(q).join(' ')}`,
  );
  return `${lines.join('\n')}\n`;
}

// The kubelet's default masked and read-only paths (procMount Default, as it passes them to the
// runtime). Masked directories get an empty read-only tmpfs, masked files /dev/null, as runc does.
const maskedPaths = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
const readOnlyPaths = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/**
 * The fstab lines that guard the kubelet's paths under `prefix` in the container root `m`
 * (fstab-escaped): the masks, then the read-only paths. Only paths this kernel has: a container's /proc and /sys show the host's
 * kernel, and a mount on a missing path would fail the setup.
 */
function guardLines(m: string, prefix: '/proc' | '/sys'): string[] {
  const lines: string[] = [];
  for (const path of maskedPaths.filter((p) => p.startsWith(`${prefix}/`))) {
    const kind = kindOf(path);
    if (kind === 'directory') lines.push(`tmpfs ${m}${path} tmpfs ro,nosuid,nodev,noexec 0 0`);
    else if (kind === 'file') lines.push(`/dev/null ${m}${path} none bind 0 0`);
  }
  for (const path of readOnlyPaths.filter((p) => p.startsWith(`${prefix}/`))) {
    if (kindOf(path)) lines.push(`${m}${path} ${m}${path} none bind,ro,nosuid,nodev,noexec 0 0`);
  }
  return lines;
}

// The kernel does not change while the emulator runs: each path is looked at once.
const kinds = new Map<string, 'directory' | 'file' | undefined>();
function kindOf(path: string): 'directory' | 'file' | undefined {
  if (!kinds.has(path)) {
    try {
      kinds.set(path, statSync(path).isDirectory() ? 'directory' : 'file');
    } catch {
      kinds.set(path, undefined);
    }
  }
  return kinds.get(path);
}

/**
 * The fixed fstabs of the setup script: the container's root; the guards (mounted before anything
 * the container controls); then /dev/shm, /sys and /dev/pts. There is no device cgroup here, so
 * what keeps a container (which holds MKNOD, as under runc) from making a node of a host disk is
 * `nodev` on every filesystem it can write: its root, /dev (the device nodes it needs are bound
 * from the host's /dev) and its volumes. /proc/sys is read-only, as on a real node, because
 * writing kernel settings (kernel.core_pattern runs a program as the host's root) would reach the
 * host.
 */
function fixedFstabs(spec: SandboxSpec): { root: string; guard: string; system: string } {
  const m = fstabPath(join(spec.dir, 'merged'));
  const overlay = fstabPath(
    `lowerdir=${spec.rootfs ?? '/'},upperdir=${join(spec.dir, 'upper')},workdir=${join(spec.dir, 'work')}`,
  );
  return {
    root: [
      `overlay ${m} overlay nodev,${overlay} 0 0`,
      `proc ${m}/proc proc nosuid,nodev,noexec 0 0`,
      `tmpfs ${m}/dev tmpfs mode=755,nosuid,nodev,size=65536k 0 0`,
      '',
    ].join('\n'),
    guard: [
      ...containerDevices.map((name) => `/dev/${name} ${m}/dev/${name} none bind 0 0`),
      ...guardLines(m, '/proc'),
      '',
    ].join('\n'),
    system: [
      `tmpfs ${m}/dev/shm tmpfs mode=1777,nosuid,nodev 0 0`,
      `sysfs ${m}/sys sysfs ro,nosuid,nodev,noexec 0 0`,
      ...guardLines(m, '/sys'),
      `devpts ${m}/dev/pts devpts newinstance,ptmxmode=0666,mode=620 0 0`,
      '',
    ].join('\n'),
  };
}

/** Starts a container instance. Never rejects: failures surface through `started`. */
export async function startSandbox(spec: SandboxSpec): Promise<Sandbox> {
  mkdirSync(spec.dir, { recursive: true, mode: 0o700 });
  // The upper directory's mode becomes the container root's: 0755 as in an image, so non-root
  // users can traverse it (the instance directory above stays private to the host's root).
  // (chmod: the process umask must not narrow it.)
  for (const sub of ['upper', 'work', 'merged']) mkdirSync(join(spec.dir, sub), { mode: 0o700 });
  chmodSync(join(spec.dir, 'upper'), 0o755);
  const cgroup = createContainerCgroup(`podrun-${spec.dir.split('/').slice(-2).join('-')}`, {
    ...(spec.memoryLimitBytes !== undefined ? { memoryBytes: spec.memoryLimitBytes } : {}),
    ...(spec.cpuLimitCores !== undefined ? { cpuCores: spec.cpuLimitCores } : {}),
  });
  // The mount points the root fstab needs, made in the upper directory where the image has no
  // directory there (none, or a file or link, which the new directory hides: a mount must not
  // follow an image's link onto a host path); the host's root, the fallback, has them all.
  for (const point of ['proc', 'sys', 'dev']) {
    if (spec.rootfs === undefined || isDirectory(join(spec.rootfs, point))) continue;
    mkdirSync(join(spec.dir, 'upper', point));
    chmodSync(join(spec.dir, 'upper', point), 0o755);
  }
  const fstabs = fixedFstabs(spec);
  writeFileSync(join(spec.dir, 'fstab.root'), fstabs.root, { mode: 0o600 });
  writeFileSync(join(spec.dir, 'fstab.guard'), fstabs.guard, { mode: 0o600 });
  writeFileSync(join(spec.dir, 'fstab.system'), fstabs.system, { mode: 0o600 });
  const scriptPath = join(spec.dir, 'setup.sh');
  writeFileSync(scriptPath, setupScript(spec, cgroup), { mode: 0o700 });
  const unshare = [
    ...(spec.netnsPath ? [findTool('nsenter') ?? 'nsenter', `--net=${spec.netnsPath}`, '--'] : []),
    findTool('unshare') ?? 'unshare',
    '--mount',
    '--pid',
    '--uts',
    '--ipc',
    '--fork',
    '--kill-child',
    '/bin/sh',
    scriptPath,
  ];
  // If the emulator dies, setpriv's parent-death signal kills unshare, whose --kill-child then ends
  // the container's PID namespace: no container outlives the process that ran it (its parent is
  // the process launcher, which leaves with the emulator).
  const setpriv = findTool('setpriv');
  const argv = setpriv ? [setpriv, '--pdeathsig', 'SIGKILL', ...unshare] : unshare;
  let child: LaunchedProcess | undefined;
  let diag = '';
  try {
    child = await processLauncher().launch(argv[0]!, argv.slice(1), {
      stdio: [spec.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
      cwd: '/',
    });
  } catch (error) {
    diag = (error as Error).message;
  }
  const nothing = (): Readable => Readable.from([]);
  const stdout = (child?.stdio[1] as Readable | null) ?? nothing();
  const diagnostics = (child?.stdio[2] as Readable | null) ?? nothing();
  const control = (child?.stdio[3] as Readable | null) ?? nothing();
  const stderr = (child?.stdio[4] as Readable | null) ?? nothing();

  let pid: number | undefined;
  diagnostics.setEncoding('utf8');
  diagnostics.on('data', (text: string) => {
    if (diag.length < 8192) diag += text;
  });

  let settleStart: (result: StartResult) => void = () => undefined;
  const started = new Promise<StartResult>((resolveStart) => {
    settleStart = resolveStart;
  });
  let controlText = '';
  control.setEncoding('utf8');
  control.on('data', (text: string) => {
    controlText += text;
    let newline: number;
    while ((newline = controlText.indexOf('\n')) >= 0) {
      const line = controlText.slice(0, newline);
      controlText = controlText.slice(newline + 1);
      if (line.startsWith('pid ')) pid = Number(line.slice(4));
      else if (line === 'started' && pid !== undefined) {
        // The script has exec'd by now; its copy of the container env (secrets) can go.
        rmSync(scriptPath, { force: true });
        settleStart({ kind: 'started', initPid: pid });
      } else if (line.startsWith('fail '))
        settleStart({ kind: 'start-error', message: startErrorMessage(line.slice(5), spec) });
    }
  });

  const exitStatus: Promise<ProcessExit> = child ? child.closed : Promise.resolve({ code: 1, signal: null });
  const exited = exitStatus.then(({ code, signal }) => {
    settleStart({ kind: 'setup-error', message: setupFailure(diag) });
    let exitCode = code ?? 1;
    if (signal) exitCode = 128 + (signalNumbers[signal] ?? 9);
    // unshare cannot re-raise SIGKILL on itself; it says so and exits 1 instead.
    else if (code === 1 && diag.includes('sigprocmask unblock failed')) exitCode = 137;
    return { exitCode, oomKilled: (cgroup?.oomKills() ?? 0) > 0 };
  });

  const stdin = spec.stdin ? ((child?.stdio[0] as Writable | null) ?? undefined) : undefined;
  stdin?.on('error', () => undefined);
  return {
    stdin,
    stdout,
    stderr,
    started,
    exited,
    initPid: () => pid,
    root: join(spec.dir, 'merged'),
    cgroupProcs: cgroup?.procsFiles ?? [],
    signal(sig) {
      if (pid !== undefined) signalPid(pid, sig);
      else if (child !== undefined) signalTree(child.pid, sig);
    },
    async release() {
      cgroup?.remove();
      await rm(spec.dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

function isDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

function setupFailure(diag: string): string {
  const text = diag.replace(/unshare: sigprocmask unblock failed.*\n?/g, '').trim();
  return `failed to create container sandbox: ${text || 'the setup script exited before starting the command'}`;
}

const signalNumbers: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};
