// The reference file transfer: the plainest correct implementation of the contract, so the suite
// itself can be tested. It holds every file in memory on the runner and moves one file per exec
// (`cat` in, `cat` out) into an init container and out of a sidecar. Not for production use:
// memory grows with file sizes.
import { Readable } from 'node:stream';
import { posix } from 'node:path';
import { createHash } from 'node:crypto';
import picomatch from 'picomatch';
import type { V1Pod } from '@kubernetes/client-node';
import {
  ErrorCodes,
  TransferError,
  UnsafePathError,
  relativePathProblem,
  type FileTransfer,
  type InputTree,
  type OutputSelection,
  type TaskFilesPlan,
  type TransferContext,
  type TransferReport,
} from '@podrun/core';
import { endedWithin, parseListing, runScript, waitRunning, withRetries } from './pod-files.js';

const VOLUME = 'memory-files';
const INIT = 'memory-in';
const SIDECAR = 'memory-out';

const INIT_SCRIPT =
  'mkdir -p "$2" "$3" && chmod a+rwx "$2" "$3" || exit 1\n[ "$4" = wait ] || exit 0\nwhile [ ! -f "$1/.memory-ready" ]; do sleep 0.2; done';
const SIDECAR_SCRIPT = 'trap \'exit 0\' TERM\nwhile [ ! -f "$1/.memory-ended" ]; do sleep 0.2; done';
const WRITE_SCRIPT =
  'mkdir -p "${1%/*}" && cat > "$1.part" && chmod "$2" "$1.part" && mv -f "$1.part" "$1" && sha256sum < "$1"';
const LIST_SCRIPT = [
  'cd -P "$1" || exit 1',
  'printf "W%s\\0" "$(pwd -P)"',
  'find . -type f -exec sh -c \'for f do printf "F%s\\0" "$f"; done\' sh {} +',
  'find . -type l -exec sh -c \'for l do if [ -f "$l" ]; then k=f; else k=o; fi; printf "L%s\\0%s%s\\0" "$l" "$k" "$(readlink -f "$l")"; done\' sh {} +',
].join('\n');
const STAT_SCRIPT = 'cd -P "$1" && stat -L -c "%a %s" "$2" && sha256sum < "$2"';
const READ_SCRIPT = 'cd -P "$1" && cat "$2"';
const MARK_SCRIPT = ': > "$1"';

function initSucceeded(pod: V1Pod): boolean {
  return pod.status?.initContainerStatuses?.find((s) => s.name === INIT)?.state?.terminated?.exitCode === 0;
}

interface Held {
  path: string;
  mode: number;
  bytes: Buffer;
}

async function readAll(stream: Readable, signal: AbortSignal): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    signal.throwIfAborted();
    parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(parts);
}

function checkPath(path: string): void {
  const problem = relativePathProblem(path);
  if (problem)
    throw new UnsafePathError(path, `input file name ${JSON.stringify(path)} ${problem}`, { component: 'memory' });
}

function digest(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Files under the working directory that the selection asks for, with their origin. */
function select(
  listing: ReturnType<typeof parseListing>,
  selection: OutputSelection,
  paths: TransferContext['paths'],
  realWorkingDir: string,
): { path: string; name: string; origin: 'workingDir' | 'outputDir' }[] {
  const outputRel = posix.relative(paths.workingDir, paths.outputDir);
  const glob = picomatch(selection.globs.length ? selection.globs : ['\0never'], { dot: true });
  const classify = (path: string) => {
    if (selection.outputDir && path.startsWith(`${outputRel}/`))
      return { path, name: path.slice(outputRel.length + 1), origin: 'outputDir' as const };
    if (selection.syncWorkingDirectory || glob(path)) return { path, name: path, origin: 'workingDir' as const };
    return undefined;
  };
  const chosen = listing.files.map(classify).filter((f) => f !== undefined);
  for (const link of listing.links) {
    const file = classify(link.path);
    if (!file) continue;
    if (!link.target.startsWith(`${realWorkingDir}/`)) {
      throw new UnsafePathError(
        link.path,
        `output ${JSON.stringify(link.path)} is a link leading out of the working directory`,
        { component: 'memory' },
      );
    }
    if (link.isFile) chosen.push(file);
  }
  return chosen;
}

/**
 * Creates the reference in-memory file transfer (name `memory`). It passes the conformance suite
 * and serves as its oracle; use `exec-tar`, `pvc` or `object-storage` for real work.
 */
export function createMemoryFileTransfer(): FileTransfer {
  const held = new Map<string, Held[]>();
  const keyOf = (ctx: Pick<TransferContext, 'identity'>) => `${ctx.identity.taskRunId}#${ctx.identity.attempt}`;

  async function hold(ctx: Pick<TransferContext, 'identity'>, inputs: InputTree, signal: AbortSignal): Promise<Held[]> {
    const files: Held[] = [];
    for (const entry of inputs.entries) {
      checkPath(entry.path);
      const bytes = await readAll(await entry.open(), signal);
      files.push({ path: entry.path, mode: (entry.mode ?? 0o644) & 0o7777, bytes });
    }
    held.set(keyOf(ctx), files);
    return files;
  }

  return {
    name: 'memory',
    capabilities: { needsExec: true, preservesModes: true, recoversDroppedStream: true, syncWorkingDirectory: true },

    contribute(plan: TaskFilesPlan) {
      if (!plan.hasInputs && !plan.hasOutputs) return {};
      const { root, workingDir, outputDir } = plan.paths;
      const mount = { name: VOLUME, mountPath: root };
      return {
        volumes: [{ name: VOLUME, emptyDir: {} }],
        initContainers: [
          {
            name: INIT,
            command: ['sh', '-c', INIT_SCRIPT, INIT, root, workingDir, outputDir, plan.hasInputs ? 'wait' : 'nowait'],
            volumeMounts: [mount],
          },
        ],
        sidecars: plan.hasOutputs
          ? [{ name: SIDECAR, command: ['sh', '-c', SIDECAR_SCRIPT, SIDECAR, root], volumeMounts: [mount] }]
          : [],
        mainVolumeMounts: [mount],
      };
    },

    async prepare(ctx, inputs, signal) {
      await hold(ctx, inputs, signal);
    },

    async uploadInputs(ctx, inputs, signal): Promise<TransferReport> {
      const files = held.get(keyOf(ctx)) ?? (await hold(ctx, inputs, signal));
      await waitRunning(ctx, INIT, signal);
      let attempts = 1;
      let bytes = 0;
      for (const file of files) {
        const target = posix.join(ctx.paths.workingDir, file.path);
        const result = await withRetries(signal, () =>
          runScript(ctx, INIT, WRITE_SCRIPT, [target, file.mode.toString(8)], signal, Readable.from([file.bytes])),
        );
        if (result.value.toString().split(/\s/)[0] !== digest(file.bytes)) {
          throw new TransferError(`input ${JSON.stringify(file.path)} arrived damaged`, {
            component: 'memory',
            code: ErrorCodes.TRANSFER_VERIFY,
          });
        }
        attempts = Math.max(attempts, result.attempts);
        bytes += file.bytes.length;
      }
      try {
        await withRetries(signal, () => runScript(ctx, INIT, MARK_SCRIPT, [`${ctx.paths.root}/.memory-ready`], signal));
      } catch (error) {
        const pod = await endedWithin(ctx, INIT, 5000, signal);
        if (!pod || !initSucceeded(pod)) throw error;
      }
      return { files: files.length, bytes, verified: true, attempts };
    },

    inputsStaged(_ctx, pod: V1Pod) {
      return initSucceeded(pod);
    },

    async downloadOutputs(ctx, selection, sink, signal): Promise<TransferReport> {
      const report: TransferReport = { files: 0, bytes: 0, verified: true, attempts: 1 };
      if (!selection.globs.length && !selection.outputDir && !selection.syncWorkingDirectory) return report;
      await waitRunning(ctx, SIDECAR, signal);
      const wd = ctx.paths.workingDir;
      const listed = await withRetries(signal, () => runScript(ctx, SIDECAR, LIST_SCRIPT, [wd], signal));
      const listing = parseListing(listed.value);
      for (const file of select(listing, selection, ctx.paths, listing.workingDir)) {
        const { value, attempts } = await withRetries(signal, async () => {
          const [stat, hash] = (await runScript(ctx, SIDECAR, STAT_SCRIPT, [wd, file.path], signal))
            .toString()
            .trim()
            .split('\n');
          const [mode, size] = (stat ?? '').split(' ');
          const bytes = await runScript(ctx, SIDECAR, READ_SCRIPT, [wd, file.path], signal);
          const sha256 = digest(bytes);
          if (bytes.length !== Number(size) || sha256 !== hash?.split(/\s/)[0]) {
            throw new TransferError(`output ${JSON.stringify(file.path)} changed or arrived damaged`, {
              component: 'memory',
              code: ErrorCodes.TRANSFER_VERIFY,
            });
          }
          return { bytes, mode: parseInt(mode ?? '644', 8), sha256 };
        });
        signal.throwIfAborted();
        await sink.write(
          { name: file.name, origin: file.origin, size: value.bytes.length, mode: value.mode, sha256: value.sha256 },
          Readable.from([value.bytes]),
        );
        report.files++;
        report.bytes += value.bytes.length;
        report.attempts = Math.max(report.attempts, attempts);
      }
      return report;
    },

    async release(ctx) {
      held.delete(keyOf(ctx));
      const pod = await ctx.kube.getPod(ctx.namespace, ctx.podName).catch(() => undefined);
      const sidecar = pod?.status?.containerStatuses?.find((s) => s.name === SIDECAR);
      if (!sidecar?.state?.running || pod?.metadata?.deletionTimestamp) return;
      const signal = AbortSignal.timeout(30_000);
      await withRetries(signal, () =>
        runScript(ctx, SIDECAR, MARK_SCRIPT, [`${ctx.paths.root}/.memory-ended`], signal),
      ).catch(() => undefined);
    },
  };
}
