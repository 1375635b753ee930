// One exec session over the remotecommand WebSocket protocol (channel.k8s.io v1-v5): the command
// runs inside the container's namespaces and root (nsenter), with its env and working directory.
// Frames: [channel][payload]; 0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize, 255 close (v5).
import { readlinkSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { processLauncher, type LaunchedProcess } from './process-launcher.js';
import type { WebSocket } from 'ws';
import type { ExecRequest } from '../contracts.js';
import type { RunningInstance } from './container-runner.js';
import { enterAs } from './sandbox.js';
import { launcherScript, shellQuote, startFailureDetail } from './launcher.js';
import { descendants, signalTree } from './process-tree.js';

/** Output buffered in the socket above which the process's output is paused. */
const highWaterMark = 1024 * 1024;

/** The channel-3 Status of a finished exec, in the v4/v5 JSON shape. */
export function execStatus(exitCode: number, command: string[]): Record<string, unknown> {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** The InternalError Status the API server sends when the exec itself failed. */
export function internalErrorStatus(message: string): Record<string, unknown> {
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${message}`,
    reason: 'InternalError',
    details: { causes: [{ message }] },
    code: 500,
  };
}

/** Sends one Status on channel 3 (JSON on v4/v5, the bare message on older protocols) and closes with 1000. */
export function finishWithStatus(socket: WebSocket, protocol: string, status: Record<string, unknown>): void {
  if (socket.readyState !== socket.OPEN) return;
  const structured = protocol.startsWith('v4.') || protocol.startsWith('v5.');
  const payload = structured
    ? JSON.stringify(status)
    : status.status === 'Success'
      ? undefined
      : String(status.message);
  if (payload !== undefined) socket.send(Buffer.concat([Buffer.from([3]), Buffer.from(payload)]));
  socket.close(1000);
}

/** Runs the session to completion. `cutAfterBytes` is the exec-cut fault for this session. */
export function runExec(
  request: ExecRequest,
  socket: WebSocket,
  instance: RunningInstance,
  cutAfterBytes: number | undefined,
): void {
  if (socket.readyState !== socket.OPEN) return;
  const initPid = instance.sandbox.initPid();
  if (initPid === undefined) {
    finishWithStatus(socket, request.protocol, internalErrorStatus(`container not found ("${request.container}")`));
    return;
  }
  const tty = request.tty;
  const env =
    instance.env.some(([key]) => key === 'TERM') || !tty
      ? instance.env
      : [...instance.env, ['TERM', 'xterm'] as [string, string]];
  // Enter the container's namespaces but not its root: the host's capsh then switches
  // to the container's user, groups and capabilities exactly as its own start did.
  const nsenter = [
    'nsenter',
    '-t',
    String(initPid),
    '-m',
    '-p',
    '-u',
    '-i',
    // The pod's network namespace (the host's for hostNetwork pods, which makes it a no-op).
    '-n',
    '--',
    ...enterAs(instance.identity, instance.sandbox.root, [
      '/usr/bin/env',
      '-i',
      ...env.map(([key, value]) => `${key}=${value}`),
      '/bin/sh',
      '-c',
      launcherScript,
      'sh',
      instance.workingDir,
      tty ? request.command.map(shellQuote).join(' ') : 'direct',
      ...request.command,
    ]),
  ];
  // Joining the container's cgroups first keeps exec'd processes under its limits.
  const procs = instance.sandbox.cgroupProcs;
  const argv =
    procs.length > 0
      ? [
          '/bin/sh',
          '-c',
          'while [ "$1" != -- ]; do echo 0 > "$1" 2>/dev/null; shift; done; shift; exec "$@"',
          'sh',
          ...procs,
          '--',
          ...nsenter,
        ]
      : nsenter;
  const wantStderr = request.stderr && !tty;
  const v5 = request.protocol.startsWith('v5.');
  let child: LaunchedProcess | undefined;
  let done = false;
  let cut = false;
  let sent = 0;
  let failure: string | undefined;
  const paused = new Set<Readable>();

  // Client frames wait here while the process starts and while its stdin is full: a paused
  // WebSocket still delivers the frames it already parsed, and a stdin close must not overtake
  // the data before it.
  const queue: Buffer[] = [];
  let stdin: Writable | null = null;
  let awaitingDrain = false;
  const handle = (data: Buffer): void => {
    const channel = data[0];
    if (channel === 0) {
      if (stdin && !stdin.writableEnded && !stdin.write(data.subarray(1))) {
        // Back-pressure towards the client: stop reading frames until the process catches up.
        awaitingDrain = true;
        socket.pause();
        stdin.once('drain', () => {
          awaitingDrain = false;
          socket.resume();
          pump();
        });
      }
    } else if (channel === 255 && v5) {
      if (data.length !== 2) {
        socket.terminate();
        return;
      }
      if (data[1] === 0) stdin?.end();
    } else if (channel === 4 && tty) {
      resize(child!.pid, initPid, data.subarray(1).toString('utf8'));
    }
  };
  const pump = (): void => {
    while (child && !awaitingDrain && queue.length > 0) handle(queue.shift()!);
  };
  const onFrame = (data: Buffer): void => {
    // kube-apiserver reads every message into bytes, text frames included (the Python client sends stdin as text).
    if (data.length === 0) return;
    queue.push(data);
    pump();
  };
  socket.on('message', onFrame);
  const killSession = (): void => {
    if (!done && child) signalTree(child.pid, 'SIGKILL');
  };
  socket.on('close', killSession);
  socket.on('error', killSession);

  const resumeIfDrained = (): void => {
    if (socket.bufferedAmount >= highWaterMark / 2) return;
    for (const stream of paused) stream.resume();
    paused.clear();
  };
  const forward = (stream: Readable | null, channel: number): void => {
    stream?.on('data', (chunk: Buffer) => {
      if (cut || socket.readyState !== socket.OPEN) return;
      if (cutAfterBytes !== undefined && sent + chunk.length > cutAfterBytes) {
        const allowed = chunk.subarray(0, Math.max(0, cutAfterBytes - sent));
        if (allowed.length > 0) socket.send(Buffer.concat([Buffer.from([channel]), allowed]));
        cut = true;
        // The fault: the connection dies mid-stream, with no status frame and no close handshake.
        socket.terminate();
        signalTree(child!.pid, 'SIGKILL');
        return;
      }
      sent += chunk.length;
      socket.send(Buffer.concat([Buffer.from([channel]), chunk]), resumeIfDrained);
      if (socket.bufferedAmount > highWaterMark) {
        stream.pause();
        paused.add(stream);
      }
    });
  };

  const begin = (launched: LaunchedProcess): void => {
    child = launched;
    // The client left while the process started.
    if (socket.readyState !== socket.OPEN) {
      signalTree(launched.pid, 'SIGKILL');
      return;
    }
    const control = launched.stdio[3] as Readable;
    control.setEncoding('utf8');
    control.on('data', (text: string) => {
      const match = /^fail (\w+)/m.exec(text);
      if (match) {
        const detail = startFailureDetail(match[1]!, request.command[0] ?? '', instance.workingDir);
        failure = `error executing command in container: failed to exec in container: failed to start exec "${instance.containerID.slice(9)}": OCI runtime exec failed: exec failed: unable to start container process: ${detail}: unknown`;
      }
    });

    const first = request.stdout ? 1 : wantStderr ? 2 : 3;
    socket.send(Buffer.from([first]));
    forward(launched.stdio[1] as Readable | null, 1);
    forward(wantStderr ? (launched.stdio[2] as Readable | null) : null, 2);

    stdin = launched.stdio[0] as Writable | null;
    stdin?.on('error', () => undefined);
    pump();
    if (!awaitingDrain) socket.resume();

    void launched.closed.then(({ code, signal }) => {
      done = true;
      if (cut) return;
      // A stdin that will never drain now: read the client again, so the close handshake completes.
      queue.length = 0;
      if (awaitingDrain) {
        awaitingDrain = false;
        socket.resume();
      }
      const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 1);
      const status = failure ? internalErrorStatus(failure) : execStatus(exitCode, request.command);
      finishWithStatus(socket, request.protocol, status);
    });
  };

  // Nothing reads stdin until the process runs: hold the client back meanwhile.
  socket.pause();
  processLauncher()
    .launch(argv[0]!, argv.slice(1), {
      stdio: [
        request.stdin ? 'pipe' : 'ignore',
        request.stdout ? 'pipe' : 'ignore',
        wantStderr ? 'pipe' : 'ignore',
        'pipe',
      ],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      cwd: '/',
    })
    .then(begin, (error: Error) => {
      done = true;
      socket.resume();
      finishWithStatus(
        socket,
        request.protocol,
        internalErrorStatus(`error executing command in container: ${error.message}`),
      );
    });
}

/** Applies a terminal size to the session's pty (created by script(1) inside the container). */
function resize(sessionPid: number, initPid: number, json: string, attempt = 0): void {
  let size: { width?: number; height?: number };
  try {
    const parsed = JSON.parse(json) as Record<string, unknown>;
    const pick = (name: string): number | undefined => {
      const key = Object.keys(parsed).find((k) => k.toLowerCase() === name);
      return key ? Number(parsed[key]) : undefined;
    };
    size = { width: pick('width'), height: pick('height') };
  } catch {
    return;
  }
  if (!size.width || !size.height) return;
  // Seen from the host, the link carries the container root's host path in front of /dev/pts/N.
  const pty = descendants(sessionPid)
    .map((pid) => {
      try {
        return /\/dev\/pts\/\d+$/.exec(readlinkSync(`/proc/${pid}/fd/0`))?.[0];
      } catch {
        return undefined;
      }
    })
    .find((link) => link !== undefined);
  if (!pty) {
    // The pty appears a moment after the session starts; a bounded number of retries covers that.
    if (attempt < 20) setTimeout(() => resize(sessionPid, initPid, json, attempt + 1), 50).unref();
    return;
  }
  void processLauncher()
    .launch(
      'nsenter',
      [
        '-t',
        String(initPid),
        '-m',
        '-r',
        '-w',
        '--',
        'stty',
        '-F',
        pty,
        'rows',
        String(size.height),
        'cols',
        String(size.width),
      ],
      { stdio: ['ignore', 'ignore', 'ignore'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, cwd: '/' },
    )
    .catch(() => undefined);
}
