// A KubePort whose exec runs the command as a local process, so the in-pod scripts, the tar
// streams and the verification run for real (under the host's GNU tools or under BusyBox) without
// a cluster. Only what exec-tar uses is implemented. Faults: cut stdout after N bytes (the
// session then ends without a status frame, like a dropped WebSocket) or flip one byte.
import { spawn } from 'node:child_process';
import { mkdirSync, symlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { ErrorCodes, ExecError, type ExecOptions, type ExecResult, type KubePort } from '@podrun/core';

export interface LocalPortFaults {
  /** Cut the next exec sessions' stdout after this many bytes (one entry per session). */
  cutStdoutAfter: number[];
  /** Flip a byte of stdout at this offset in the next session. */
  corruptStdoutAt: number[];
}

const APPLETS = [
  'sh',
  'tar',
  'find',
  'xargs',
  'sha256sum',
  'stat',
  'dd',
  'kill',
  'wc',
  'readlink',
  'cmp',
  'printf',
  'cat',
  'head',
  'mkdir',
  'chmod',
  'rm',
  'sleep',
  'pwd',
];

/** A PATH directory where every tool the scripts use is BusyBox, or undefined if BusyBox is absent. */
export function busyboxPath(dir: string): string | undefined {
  const busybox = ['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(p));
  if (!busybox) return undefined;
  mkdirSync(dir, { recursive: true });
  for (const applet of APPLETS) if (!existsSync(join(dir, applet))) symlinkSync(busybox, join(dir, applet));
  return dir;
}

export function localPort(options: { path?: string } = {}): KubePort & { faults: LocalPortFaults; execs: string[][] } {
  const faults: LocalPortFaults = { cutStdoutAfter: [], corruptStdoutAt: [] };
  const execs: string[][] = [];
  const pod: V1Pod = {
    metadata: { name: 'local', namespace: 'default' },
    spec: {
      containers: [{ name: 'main' }, { name: 'out-files' }],
      initContainers: [{ name: 'init-files', command: ['wait'] }],
    },
    status: {
      phase: 'Pending',
      initContainerStatuses: [
        { name: 'init-files', ready: false, restartCount: 0, image: 'busybox', imageID: '', state: { running: {} } },
      ],
      containerStatuses: [
        { name: 'out-files', ready: true, restartCount: 0, image: 'busybox', imageID: '', state: { running: {} } },
      ],
    },
  };
  const unsupported = (): never => {
    throw new Error('not supported by the local port');
  };
  const exec = (
    _ns: string,
    _name: string,
    container: string,
    command: string[],
    io: ExecOptions,
    signal?: AbortSignal,
  ): Promise<ExecResult> =>
    new Promise<ExecResult>((resolve, reject) => {
      execs.push([container, ...command.slice(3)]);
      const cut = faults.cutStdoutAfter.shift();
      const corrupt = faults.corruptStdoutAt.shift();
      const env = options.path ? { PATH: options.path } : process.env;
      const child = spawn(command[0]!, command.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let sent = 0;
      let dropped = false;
      const drop = (): void => {
        if (dropped) return;
        dropped = true;
        child.kill('SIGKILL');
        io.stdin?.unpipe(child.stdin);
        reject(new ExecError('exec ended without a status frame', { code: ErrorCodes.EXEC_NO_STATUS }));
      };
      signal?.addEventListener('abort', () => {
        child.kill('SIGKILL');
        reject(signal.reason);
      });
      child.stdin.on('error', () => {});
      // As exec before v5.channel.k8s.io: the end of stdin never reaches the command.
      if (io.stdin) io.stdin.pipe(child.stdin, { end: false });
      else child.stdin.end();
      child.stdout.on('data', (chunk: Buffer) => {
        if (dropped) return;
        let data = chunk;
        if (corrupt !== undefined && corrupt >= sent && corrupt < sent + data.length) {
          data = Buffer.from(data);
          data[corrupt - sent] = (data[corrupt - sent] ?? 0) ^ 0xff;
        }
        if (cut !== undefined && sent + data.length > cut) {
          io.stdout?.write(data.subarray(0, cut - sent));
          sent = cut;
          return drop();
        }
        sent += data.length;
        if (io.stdout && !io.stdout.write(data)) {
          child.stdout.pause();
          io.stdout.once('drain', () => child.stdout.resume());
        }
      });
      child.stderr.on('data', (chunk: Buffer) => io.stderr?.write(chunk));
      child.on('close', (code) => {
        if (dropped) return;
        io.stdout?.end();
        resolve({ exitCode: code ?? 137 });
      });
    });
  return {
    defaultNamespace: 'default',
    faults,
    execs,
    exec,
    waitForPod: async () => pod,
    getPod: async () => pod,
    watchPod: () => () => {},
    createPod: unsupported,
    listPods: unsupported,
    cachedPods: unsupported,
    deletePod: unsupported,
    patchPodMetadata: unsupported,
    podLogs: unsupported,
    listPodEvents: unsupported,
    createPersistentVolumeClaim: unsupported,
    getPersistentVolumeClaim: unsupported,
    deletePersistentVolumeClaim: unsupported,
    canI: unsupported,
    serverVersion: unsupported,
    close: async () => {},
  };
}
