// Transport faults injected at the Kubernetes port, so the same cases run on the embedded cluster
// and on a real one: an exec whose connection drops mid-stream, log streams that end early, are
// cut into tiny chunks (splitting UTF-8 characters) or never end.
import { PassThrough, Transform, Writable, pipeline, type Readable } from 'node:stream';
import { ErrorCodes, ExecError, type ExecOptions, type KubePort, type PodLogOptions } from '@podrun/core';

/** Controls of the fault layer. Every fault is off until armed. */
export interface PortFaults {
  /** The first exec session to move `afterBytes` bytes (stdin or stdout) from now on drops there, like a cut connection. */
  cutNextExec(afterBytes: number): void;
  /** The next `count` log streams end cleanly after `afterBytes` bytes, like a cut connection. */
  cutLogStreams(afterBytes: number, count?: number): void;
  /** Log streams are delivered in chunks of at most `size` bytes (undefined: as received). */
  rechunkLogs(size: number | undefined): void;
  /** While `when()` holds, newly opened log streams deliver nothing and never end. */
  stallLogs(when: (() => boolean) | undefined): void;
  /** How often each fault fired, and how many log streams were opened. */
  readonly fired: { execCuts: number; logCuts: number; logStalls: number; logStreams: number };
  /** Disarms every fault. */
  reset(): void;
}

function droppedExec(): ExecError {
  return new ExecError('[podrun] [conformance] the exec connection dropped (injected fault)', {
    code: ErrorCodes.EXEC_NO_STATUS,
    component: 'conformance',
  });
}

/** A writable forwarding to `target` with back-pressure, counting bytes; stops forwarding once cut. */
function countingWritable(target: NodeJS.WritableStream, onBytes: (n: number) => boolean): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (!onBytes(chunk.length)) return callback();
      if (target.write(chunk)) callback();
      else target.once('drain', () => callback());
    },
    final(callback) {
      target.end();
      callback();
    },
  });
}

/** Wraps `port` with the fault layer; every other call goes straight through. */
export function withFaults(port: KubePort): { kube: KubePort; faults: PortFaults } {
  let execCut: number | undefined;
  let logCut: { afterBytes: number; count: number } | undefined;
  let chunkSize: number | undefined;
  let stallWhen: (() => boolean) | undefined;
  const fired = { execCuts: 0, logCuts: 0, logStalls: 0, logStreams: 0 };

  const faults: PortFaults = {
    cutNextExec: (afterBytes) => void (execCut = afterBytes),
    cutLogStreams: (afterBytes, count = 1) => void (logCut = { afterBytes, count }),
    rechunkLogs: (size) => void (chunkSize = size),
    stallLogs: (when) => void (stallWhen = when),
    fired,
    reset() {
      execCut = undefined;
      logCut = undefined;
      chunkSize = undefined;
      stallWhen = undefined;
    },
  };

  async function exec(
    namespace: string,
    name: string,
    container: string,
    command: string[],
    options: ExecOptions,
    signal?: AbortSignal,
  ) {
    const cut = execCut;
    if (cut === undefined) return port.exec(namespace, name, container, command, options, signal);
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    let bytes = 0;
    let tripped = false;
    const count = (n: number): boolean => {
      if (tripped) return false;
      bytes += n;
      if (bytes < cut || execCut !== cut) return true;
      execCut = undefined;
      tripped = true;
      fired.execCuts++;
      controller.abort(new Error('injected connection drop'));
      return false;
    };
    const wrapped: ExecOptions = { ...options };
    if (options.stdin) {
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          callback(null, count(chunk.length) ? chunk : undefined);
        },
      });
      pipeline(options.stdin, counter, () => undefined);
      wrapped.stdin = counter;
    }
    if (options.stdout) wrapped.stdout = countingWritable(options.stdout, count);
    try {
      return await port.exec(namespace, name, container, command, wrapped, controller.signal);
    } catch (error) {
      if (tripped && !signal?.aborted) throw droppedExec();
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async function podLogs(
    namespace: string,
    name: string,
    options: PodLogOptions,
    signal?: AbortSignal,
  ): Promise<Readable> {
    const upstream = await port.podLogs(namespace, name, options, signal);
    fired.logStreams++;
    if (stallWhen?.()) {
      fired.logStalls++;
      upstream.destroy();
      const stalled = new PassThrough();
      signal?.addEventListener('abort', () => stalled.destroy(signal.reason), { once: true });
      return stalled;
    }
    let budget: number | undefined;
    if (logCut && logCut.count > 0) {
      logCut.count--;
      budget = logCut.afterBytes;
    }
    const size = chunkSize;
    if (budget === undefined && size === undefined) return upstream;
    const out = new PassThrough();
    void (async () => {
      try {
        for await (const raw of upstream as AsyncIterable<Buffer>) {
          let chunk = raw;
          if (budget !== undefined && chunk.length >= budget) {
            chunk = chunk.subarray(0, budget);
            budget = 0;
          } else if (budget !== undefined) budget -= chunk.length;
          for (let i = 0; i < chunk.length; i += size ?? chunk.length) {
            if (out.destroyed) return;
            if (!out.write(chunk.subarray(i, i + (size ?? chunk.length)))) {
              await new Promise((resolve) => {
                out.once('drain', resolve);
                out.once('close', resolve);
              });
            }
          }
          if (budget === 0) {
            fired.logCuts++;
            upstream.destroy();
            break;
          }
        }
        out.end();
      } catch (error) {
        out.destroy(error as Error);
      }
    })();
    out.on('close', () => upstream.destroy());
    return out;
  }

  const kube = new Proxy(port, {
    get(target, prop) {
      if (prop === 'exec') return exec;
      if (prop === 'podLogs') return podLogs;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { kube, faults };
}
