// The node's process launcher, both ways it can run: through its helper process (the default)
// and spawning directly. Real processes, real pipes; the helper hands each pipe back over its IPC
// channel, so these check that bytes, ends, exit codes and errors arrive as from a direct spawn.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createProcessLauncher, type LaunchOptions } from '../src/node/process-launcher.js';

const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
const pipes = (count: number): LaunchOptions => ({ stdio: Array(count).fill('pipe'), env, cwd: '/' });

/** What a pipe carries until its end (an empty pipe may have ended before anyone asked). */
function read(socket: Socket | null): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    if (socket!.readableEnded) return resolve(text);
    socket!.setEncoding('utf8');
    socket!.on('data', (chunk: string) => (text += chunk));
    socket!.on('end', () => resolve(text));
    socket!.on('error', reject);
  });
}

/** Resolves once `pid` is gone (a condition, checked as the event loop turns). */
async function gone(pid: number): Promise<void> {
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe.each([
  ['through the helper process', false],
  ['spawning directly', true],
])('the process launcher, %s', (_name, direct) => {
  const launcher = createProcessLauncher({ direct });

  it('passes stdin, stdout and stderr and reports the exit code', async () => {
    const child = await launcher.launch('/bin/sh', ['-c', 'read x; echo "got $x"; echo oops >&2; exit 3'], pipes(3));
    const [out, err] = [read(child.stdio[1]!), read(child.stdio[2]!)];
    child.stdio[0]!.end('hello\n');
    expect(await child.closed).toEqual({ code: 3, signal: null });
    expect(await out).toBe('got hello\n');
    expect(await err).toBe('oops\n');
  });

  it('carries fds beyond stderr, and leaves ignored ones closed', async () => {
    const child = await launcher.launch('/bin/sh', ['-c', 'echo three >&3; echo four >&4; echo none'], {
      stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
      env,
      cwd: '/',
    });
    expect(child.stdio.slice(0, 3)).toEqual([null, null, null]);
    expect(await Promise.all([read(child.stdio[3]!), read(child.stdio[4]!)])).toEqual(['three\n', 'four\n']);
    expect(await child.closed).toEqual({ code: 0, signal: null });
  });

  it('moves 32 MiB each way with back-pressure', async () => {
    const child = await launcher.launch('/bin/sh', ['-c', 'cat; echo done >&2'], pipes(3));
    let received = 0;
    child.stdio[1]!.on('data', (chunk: Buffer) => (received += chunk.length));
    const err = read(child.stdio[2]!);
    const block = Buffer.alloc(1024 * 1024, 7);
    const stdin = child.stdio[0]!;
    for (let i = 0; i < 32; i++) {
      if (!stdin.write(block)) await new Promise((resolve) => stdin.once('drain', resolve));
    }
    stdin.end();
    expect(await child.closed).toEqual({ code: 0, signal: null });
    expect(received).toBe(32 * 1024 * 1024);
    expect(await err).toBe('done\n');
  });

  it('reports the signal that ended a process', async () => {
    const child = await launcher.launch('/bin/sleep', ['30'], { stdio: ['ignore', 'pipe', 'ignore'], env, cwd: '/' });
    process.kill(child.pid, 'SIGTERM');
    expect(await child.closed).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('rejects a command that cannot start, with its errno code', async () => {
    await expect(launcher.launch('/nonexistent/podrun-tool', [], pipes(3))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('hands each of 60 processes started at once its own pipes', async () => {
    const children = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        launcher.launch(
          '/bin/sh',
          ['-c', `echo out-${i}; echo err-${i} >&2; [ $((${i} % 3)) -ne 0 ] || echo ctl-${i} >&3`],
          pipes(4),
        ),
      ),
    );
    const results = await Promise.all(
      children.map(async (child) => [
        await read(child.stdio[1]!),
        await read(child.stdio[2]!),
        await read(child.stdio[3]!),
        (await child.closed).code,
      ]),
    );
    results.forEach((result, i) =>
      expect(result).toEqual([`out-${i}\n`, `err-${i}\n`, i % 3 === 0 ? `ctl-${i}\n` : '', 0]),
    );
  });
});

describe('the process launcher helper', () => {
  const launcher = createProcessLauncher();

  it('keeps output that nobody read before the process ended', async () => {
    // It hands a pipe over before anyone listens: the bytes and the end wait for the reader.
    // (A direct spawn is different: Node drains unread pipes once the child has exited.)
    const child = await launcher.launch('/bin/sh', ['-c', 'printf early'], pipes(2));
    await gone(child.pid);
    expect(await read(child.stdio[1]!)).toBe('early');
    expect(await child.closed).toEqual({ code: 0, signal: null });
  });

  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));

  it.skipIf(!setpriv)('leaves with the emulator, and the sandboxes it started leave with it', async () => {
    // A process that starts a launcher, launches what the node launches (setpriv with a parent-death
    // signal, as sandboxes are), prints its pid, and is then killed with SIGKILL as a crash would.
    const module = fileURLToPath(new URL('../dist/node/process-launcher.js', import.meta.url));
    const script = `
      const { createProcessLauncher } = await import(${JSON.stringify(module)});
      const child = await createProcessLauncher().launch(${JSON.stringify(setpriv)}, ['--pdeathsig', 'SIGKILL', 'sleep', '60'],
        { stdio: ['ignore', 'ignore', 'ignore'], env: { PATH: '/usr/bin:/bin' }, cwd: '/' });
      console.log(child.pid);
      setInterval(() => {}, 1000);
    `;
    const emulator = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pid = Number(
      await new Promise<string>((resolve) => emulator.stdout.once('data', (d: Buffer) => resolve(String(d)))),
    );
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 0); // running
    emulator.kill('SIGKILL');
    await gone(pid);
  });
});
