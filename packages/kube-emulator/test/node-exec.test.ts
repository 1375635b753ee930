import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, processesWith, sh, startHarness } from './node-harness.js';
import type { Harness } from './node-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  h.createPod('box', {
    initContainers: [
      sh('prep', 'echo init-file > /shared/from-init; until [ -f /shared/go ]; do sleep 0.05; done', {
        volumeMounts: [{ name: 's', mountPath: '/shared' }],
      }),
    ],
    containers: [
      sh('main', 'echo private > /tmp/made-by-main; exec sleep 3600', {
        workingDir: '/srv/app',
        env: [{ name: 'FOO', value: 'bar' }],
      }),
    ],
    volumes: [{ name: 's', emptyDir: {} }],
  });
  await h.waitFor('box', (p) => (p.status as any)?.initContainerStatuses?.[0]?.state?.running !== undefined);
});
afterAll(async () => {
  await h.close();
});

describe('exec into an init container', () => {
  it('runs in the running init container, then lets the pod continue', async () => {
    const result = await h.exec('box', ['cat', '/shared/from-init'], { container: 'prep' });
    expect(result).toMatchObject({
      stdout: 'init-file\n',
      statuses: [{ metadata: {}, status: 'Success' }],
      closeCode: 1000,
    });
    // Let the init container finish from inside.
    await h.exec('box', ['touch', '/shared/go'], { container: 'prep' });
    await h.phase('box', 'Running');
  });
});

describe('exec (v5)', () => {
  it('streams stdin, honours the v5 stdin close and sends one Success status, then 1000', async () => {
    const result = await h.exec('box', ['sh', '-c', 'cat; echo done'], {
      stdin: ['hello ', 'world\n'],
      closeStdin: true,
    });
    expect(result.protocol).toBe('v5.channel.k8s.io');
    expect(result.firstFrame).toEqual([1]);
    expect(result.stdout).toBe('hello world\ndone\n');
    expect(result.statuses).toEqual([{ metadata: {}, status: 'Success' }]);
    expect(result.closeCode).toBe(1000);
  });

  it('holds a flood of stdin frames for a slow reader with one drain wait (no listener leak)', async () => {
    // A second drain listener on the process's stdin is already one too many. The lowered limit
    // applies to every emitter of this process for the test's duration, so the warnings are
    // captured here instead of printed: only drain listeners are this test's subject (the test
    // client's own sockets legitimately hold two end/close listeners).
    const warnings: Error[] = [];
    const emitWarning = process.emitWarning;
    process.emitWarning = ((warning: string | Error) =>
      void warnings.push(typeof warning === 'string' ? new Error(warning) : warning)) as typeof process.emitWarning;
    const defaultMax = EventEmitter.defaultMaxListeners;
    EventEmitter.defaultMaxListeners = 1;
    try {
      const chunk = Buffer.alloc(16 * 1024, 0x61);
      const result = await h.exec('box', ['sh', '-c', 'sleep 0.5; wc -c'], {
        container: 'main',
        stdin: Array.from({ length: 400 }, () => chunk),
        closeStdin: true,
      });
      expect(result.stdout.trim(), JSON.stringify([result.statuses, result.closeCode, result.stderr])).toBe(
        String(400 * chunk.length),
      );
    } finally {
      EventEmitter.defaultMaxListeners = defaultMax;
      process.emitWarning = emitWarning;
    }
    expect(warnings.map((w) => w.message).filter((m) => m.includes(' drain listeners '))).toEqual([]);
  });

  it('accepts stdin in text frames as kube-apiserver does', async () => {
    const result = await h.exec('box', ['sh', '-c', 'cat'], {
      stdin: ['from ', 'python\n'],
      textFrames: true,
      closeStdin: true,
    });
    expect(result.stdout).toBe('from python\n');
    expect(result.statuses).toEqual([{ metadata: {}, status: 'Success' }]);
  });

  it('reports a non-zero exit code exactly like the API server', async () => {
    const result = await h.exec('box', ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(result.stdout).toBe('out\n');
    expect(result.stderr).toBe('err\n');
    expect(result.statuses).toEqual([
      {
        metadata: {},
        status: 'Failure',
        message:
          'command terminated with non-zero exit code: error executing command [sh -c echo out; echo err >&2; exit 3], exit code 3',
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: '3' }] },
      },
    ]);
    expect(result.closeCode).toBe(1000);
  });

  it("runs with the container's env, working directory, PID namespace and private files", async () => {
    const result = await h.exec('box', [
      'sh',
      '-c',
      'echo $FOO; pwd; hostname; cat /tmp/made-by-main; tr "\\0" " " < /proc/1/cmdline',
    ]);
    expect(result.stdout).toBe('bar\n/srv/app\nbox\nprivate\nsleep 3600 ');
  });

  it('sends the first empty frame on stderr when stdout is not requested', async () => {
    const result = await h.exec('box', ['sh', '-c', 'echo hidden; echo visible >&2'], { stdout: false });
    expect(result.firstFrame).toEqual([2]);
    expect(result).toMatchObject({ stdout: '', stderr: 'visible\n' });
  });

  it('answers an unknown command with an InternalError status', async () => {
    const result = await h.exec('box', ['no-such-tool', '--version']);
    expect(result.statuses).toHaveLength(1);
    expect(result.statuses[0]).toMatchObject({ status: 'Failure', reason: 'InternalError', code: 500 });
    expect(String(result.statuses[0]!.message)).toContain('exec: "no-such-tool": executable file not found in $PATH');
  });

  it('streams large output completely (back-pressure, no loss)', async () => {
    const result = await h.exec('box', ['sh', '-c', 'head -c 8000000 /dev/zero | tr "\\0" a']);
    expect(result.stdout.length).toBe(8_000_000);
    expect(result.statuses).toEqual([{ metadata: {}, status: 'Success' }]);
  });

  it('gives a pty with tty=true', async () => {
    const result = await h.exec('box', ['sh', '-c', 'tty; [ -t 0 ] && echo interactive'], { tty: true, stdin: [] });
    expect(result.stdout).toMatch(/^\/dev\/pts\/\d+\r?\ninteractive\r?\n$/);
    expect(result.statuses).toEqual([{ metadata: {}, status: 'Success' }]);
  });

  it('applies resize frames to the pty', async () => {
    const result = await h.exec(
      'box',
      ['sh', '-c', 'until [ "$(stty size)" = "40 100" ]; do sleep 0.05; done; stty size'],
      {
        tty: true,
        stdin: [],
        onOpen: (ws) =>
          ws.send(Buffer.concat([Buffer.from([4]), Buffer.from(JSON.stringify({ Width: 100, Height: 40 }))])),
      },
    );
    expect(result.stdout.trim()).toBe('40 100');
  });

  it('kills the process when the client closes the socket first', async () => {
    await h.exec('box', ['sleep', '987.3'], { onOpen: (ws) => setImmediate(() => ws.close()) });
    await eventually(() => processesWith('sleep 987.3').length === 0);
  });
});

describe('exec (v4)', () => {
  it('has no stdin close: closing the socket ends the session', async () => {
    const result = await h.exec('box', ['sh', '-c', 'exit 7'], { protocols: ['v4.channel.k8s.io'] });
    expect(result.protocol).toBe('v4.channel.k8s.io');
    expect(result.statuses[0]).toMatchObject({
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '7' }] },
    });
    const echoed = await h.exec('box', ['sh', '-c', 'read line; echo "got $line"'], {
      protocols: ['v4.channel.k8s.io'],
      stdin: ['ping\n'],
    });
    expect(echoed.stdout).toBe('got ping\n');
  });
});

describe('exec faults and refusals', () => {
  it('cuts the WebSocket after N bytes for the next sessions, without a status frame', async () => {
    h.node.faults.cutExecAfterBytes(1000, 1);
    const cut = await h.exec('box', ['sh', '-c', 'head -c 100000 /dev/zero']);
    expect(cut.statuses).toEqual([]);
    expect(cut.closeCode).not.toBe(1000);
    expect(cut.stdout.length).toBeLessThanOrEqual(1000);
    const next = await h.exec('box', ['sh', '-c', 'head -c 100000 /dev/zero']);
    expect(next.stdout.length).toBe(100000);
    expect(next.statuses).toEqual([{ metadata: {}, status: 'Success' }]);
  });

  it('refuses exec into a completed container', async () => {
    h.createPod('finished', { containers: [sh('main', 'true')] });
    await h.phase('finished', 'Succeeded');
    expect(h.node.checkContainer('default', 'finished', 'main', 'exec')).toBe('container not found ("main")');
    const result = await h.exec('finished', ['true']);
    expect(result.statuses).toEqual([
      { metadata: {}, status: 'Failure', message: 'container not found ("main")', reason: 'BadRequest', code: 400 },
    ]);
    expect(result.closeCode).toBe(1000);
  });
});
