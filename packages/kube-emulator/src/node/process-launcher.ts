// Starts the node's processes (container sandboxes, exec sessions, `ip` batches) from a small
// helper process instead of the emulator's own.
//
// Why: on Linux libuv forks the calling process for every spawn, and fork() copies the page
// tables of the whole emulator (150 MB resident idle, more with many pods), on its event loop:
// 3-8 ms per spawn, and in a CPU profile of 40 tasks with files at once, 2.2 s of the emulator's
// 4.5 s of busy event loop. The helper is a bare Node process (~40 MB), so its forks are cheap
// and run beside the emulator, not inside its event loop. The children's stdio are socketpairs
// (what libuv makes for 'pipe'); the helper passes each one back over its IPC channel, so the
// bytes flow between child and emulator directly and never through the helper.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

/** What a launched process's fds are: a pipe handed to the caller, or /dev/null. */
export type StdioKind = 'pipe' | 'ignore';

/** How to start one process. */
export interface LaunchOptions {
  /** One entry per fd from 0. */
  stdio: StdioKind[];
  env: Record<string, string>;
  cwd: string;
}

/** How a process ended: its exit code, or the signal that ended it. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A started process. */
export interface LaunchedProcess {
  pid: number;
  /** Per fd: the emulator's end of the pipe, or null for 'ignore'. */
  stdio: (Socket | null)[];
  /** Settles when the process has exited and its output pipes have closed (Node's 'close'). */
  closed: Promise<ProcessExit>;
}

/** Starts processes; rejects (with the errno `code`, e.g. ENOENT) when one cannot start. */
export interface ProcessLauncher {
  launch(file: string, args: string[], options: LaunchOptions): Promise<LaunchedProcess>;
}

// The helper's whole program, run with `node -e`: it works the same from the sources, the build
// and a bundle, with no file of its own to locate. It leaves with the emulator (its IPC channel
// closes when the emulator dies), and setpriv's parent-death signal then ends the sandboxes it
// started, as when the emulator started them itself.
const HELPER = `
const { spawn } = require('node:child_process');
process.on('disconnect', () => process.exit(0));
process.on('message', (m) => {
  let child;
  try {
    child = spawn(m.file, m.args, { stdio: m.stdio, env: m.env, cwd: m.cwd });
  } catch (error) {
    process.send({ t: 'error', id: m.id, code: error.code, message: error.message });
    return;
  }
  // A pipe starts reading when Node wraps it; a read here would take the bytes from the emulator.
  for (const stream of child.stdio) if (stream && stream.readable) stream._handle?.readStop();
  child.once('error', (error) => {
    if (!child.pid) process.send({ t: 'error', id: m.id, code: error.code, message: error.message });
  });
  child.once('spawn', () => {
    m.stdio.forEach((kind, fd) => {
      if (kind === 'pipe') process.send({ t: 'fd', id: m.id, fd }, child.stdio[fd]);
    });
    process.send({ t: 'spawned', id: m.id, pid: child.pid });
  });
  child.once('exit', (code, signal) => process.send({ t: 'exit', id: m.id, code, signal }));
});
`;

type HelperMessage =
  | { t: 'error'; id: number; code?: string; message: string }
  | { t: 'fd'; id: number; fd: number }
  | { t: 'spawned'; id: number; pid: number }
  | { t: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null };

interface Pending {
  stdio: (Socket | null)[];
  resolve: (pid: number) => void;
  reject: (error: Error) => void;
  exited: (exit: ProcessExit) => void;
  launched: boolean;
}

/** The helper's report of a failed spawn as the Error Node would have raised (with `code`). */
function launchError(code: string | undefined, message: string): Error {
  return Object.assign(new Error(message), code ? { code } : {});
}

/** Settles with the exit once every readable pipe has closed too, as Node's 'close' does. */
function closedAfter(
  exit: Promise<ProcessExit>,
  stdio: (Socket | null)[],
  writableFds: Set<number>,
): Promise<ProcessExit> {
  const outputs = stdio
    .filter((socket, fd): socket is Socket => socket !== null && !writableFds.has(fd))
    .map((socket) =>
      socket.closed ? Promise.resolve() : new Promise<void>((done) => socket.once('close', () => done())),
    );
  return Promise.all([exit, ...outputs]).then(([result]) => result);
}

/** Spawns from this process: the fallback when the helper cannot run. */
function launchDirect(file: string, args: string[], options: LaunchOptions): Promise<LaunchedProcess> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(file, args, { stdio: options.stdio, env: options.env, cwd: options.cwd });
    child.once('error', (error) => {
      if (child.pid === undefined) reject(error);
    });
    child.once('spawn', () => {
      const closed = new Promise<ProcessExit>((done) => child.once('close', (code, signal) => done({ code, signal })));
      resolve({ pid: child.pid!, stdio: child.stdio.map((s) => (s as Socket | null) ?? null), closed });
    });
  });
}

/**
 * A launcher: by default backed by one helper process (restarted if it ever dies), with
 * `direct` spawning from this process.
 */
export function createProcessLauncher(options: { direct?: boolean } = {}): ProcessLauncher {
  if (options.direct) return { launch: launchDirect };
  let helper: ChildProcess | undefined;
  let nextId = 1;
  const pending = new Map<number, Pending>();

  const start = (): ChildProcess => {
    const child = spawn(process.execPath, ['-e', HELPER], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
      cwd: '/',
    });
    child.on('message', (message: HelperMessage, handle?: Socket) => onMessage(message, handle));
    child.on('exit', () => {
      if (helper === child) helper = undefined;
      for (const [id, entry] of pending) {
        pending.delete(id);
        if (entry.launched) entry.exited({ code: null, signal: 'SIGKILL' });
        else {
          for (const socket of entry.stdio) socket?.destroy();
          entry.reject(new Error('the emulator process launcher exited'));
        }
      }
    });
    child.on('error', () => undefined);
    // Idle, the helper keeps nothing alive; `ref` while requests are under way.
    child.unref();
    child.channel?.unref();
    return child;
  };

  const idle = (): void => {
    if (pending.size === 0) helper?.channel?.unref();
  };

  const onMessage = (message: HelperMessage, handle?: Socket): void => {
    const entry = pending.get(message.id);
    if (!entry) {
      handle?.destroy();
      return;
    }
    switch (message.t) {
      case 'fd':
        entry.stdio[message.fd] = handle ?? null;
        break;
      case 'spawned':
        entry.launched = true;
        entry.resolve(message.pid);
        break;
      case 'error':
        pending.delete(message.id);
        for (const socket of entry.stdio) socket?.destroy();
        entry.reject(launchError(message.code, message.message));
        idle();
        break;
      case 'exit':
        pending.delete(message.id);
        entry.exited({ code: message.code, signal: message.signal });
        idle();
        break;
    }
  };

  return {
    launch(file, args, options) {
      helper ??= start();
      const id = nextId++;
      helper.channel?.ref();
      return new Promise<LaunchedProcess>((resolve, reject) => {
        let exited: (exit: ProcessExit) => void = () => undefined;
        const exit = new Promise<ProcessExit>((done) => {
          exited = done;
        });
        const stdio: (Socket | null)[] = options.stdio.map(() => null);
        const writable = new Set(options.stdio.length > 0 && options.stdio[0] === 'pipe' ? [0] : []);
        pending.set(id, {
          stdio,
          launched: false,
          exited: (result) => exited(result),
          reject,
          resolve: (pid) => resolve({ pid, stdio, closed: closedAfter(exit, stdio, writable) }),
        });
        helper!.send({ id, file, args, stdio: options.stdio, env: options.env, cwd: options.cwd });
      });
    },
  };
}

let shared: ProcessLauncher | undefined;

/**
 * The process-wide launcher every node of this process shares. PODRUN_EMULATOR_DIRECT_SPAWN=1
 * spawns from the emulator itself instead (to compare, or where a helper process cannot run).
 */
export function processLauncher(): ProcessLauncher {
  shared ??= createProcessLauncher({ direct: process.env.PODRUN_EMULATOR_DIRECT_SPAWN === '1' });
  return shared;
}
