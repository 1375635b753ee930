// The shared-mount mode: the claim's files are visible on the runner's host (the same NFS export,
// or the node's directory on a single-node cluster), so the runner writes inputs and reads outputs
// directly, with no pod and no exec. Nothing outside the run's directory is ever touched: no
// existing link is followed when writing, and outputs that are links leading out are refused.
import { createHash } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  ErrorCodes,
  TransferError,
  UnsafePathError,
  relativePathProblem,
  type InputTree,
  type OutputSelection,
  type OutputSink,
  type PodPaths,
  type TransferReport,
} from '@podrun/core';
import { selectOutputs, type Listing } from '@podrun/transfer-kit';
import { READY_MARKER } from './layout.js';

const COMPONENT = 'pvc';

/** The run directory on this host: the template with {namespace} and {claim} filled in, plus the run's sub path. */
export function hostRunDir(template: string, namespace: string, claimName: string, runDir: string): string {
  return join(template.replaceAll('{namespace}', namespace).replaceAll('{claim}', claimName), runDir);
}

async function refuseLinks(root: string, path: string): Promise<void> {
  let current = root;
  for (const part of path.split('/')) {
    current = join(current, part);
    const info = await lstat(current).catch(() => undefined);
    if (!info) return;
    if (info.isSymbolicLink()) {
      throw new UnsafePathError(
        path,
        `[podrun] [${COMPONENT}] ${JSON.stringify(path)} would be written through a symbolic link in the claim; podrun never follows links when staging`,
        {
          component: COMPONENT,
        },
      );
    }
  }
}

/** True when a previous attempt already staged and verified the inputs (resume, retries). */
export async function inputsReady(dir: string): Promise<boolean> {
  return (await stat(join(dir, READY_MARKER)).catch(() => undefined))?.isFile() ?? false;
}

/**
 * Writes the inputs into `<dir>/<working dir>`: each file streamed to a temporary name, hashed and
 * size-checked, then renamed; the ready marker is written last, so an aborted staging never
 * looks complete.
 */
export async function stageInputs(
  claimRoot: string,
  dir: string,
  paths: PodPaths,
  inputs: InputTree,
  signal: AbortSignal,
  onBytes: (n: number) => void,
): Promise<TransferReport> {
  const stat0 = await stat(claimRoot).catch(() => undefined);
  if (!stat0?.isDirectory()) {
    throw new TransferError(
      `the claim's files are not visible at ${claimRoot} on this machine; hostPath must name where the claim is mounted here (it may use {namespace} and {claim})`,
      { component: COMPONENT, code: ErrorCodes.CONFIG_INVALID },
    );
  }
  const wd = join(dir, posix.relative(paths.root, paths.workingDir));
  const od = join(dir, posix.relative(paths.root, paths.outputDir));
  await refuseLinks(claimRoot, relative(claimRoot, wd).split(sep).join('/'));
  await mkdir(wd, { recursive: true });
  await mkdir(od, { recursive: true });
  // Writable for any user of the task pod; the setgid bit of an fsGroup volume is kept.
  for (const made of [wd, od]) await chmod(made, ((await stat(made)).mode & 0o7000) | 0o777);
  let bytes = 0;
  for (const entry of inputs.entries) {
    const problem = relativePathProblem(entry.path);
    if (problem)
      throw new UnsafePathError(entry.path, `input file name ${JSON.stringify(entry.path)} ${problem}`, {
        component: COMPONENT,
      });
    await refuseLinks(wd, entry.path);
    const target = join(wd, entry.path);
    await mkdir(join(target, '..'), { recursive: true });
    const part = `${target}.podrun-part`;
    const hash = createHash('sha256');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        hash.update(chunk);
        onBytes(chunk.length);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(await entry.open(), count, createWriteStream(part, { flags: 'w', mode: 0o600 }), { signal });
    } catch (error) {
      await rm(part, { force: true });
      throw error;
    }
    const sha256 = hash.digest('hex');
    if (size !== entry.size || (entry.sha256 && entry.sha256.toLowerCase() !== sha256)) {
      await rm(part, { force: true });
      throw new TransferError(
        `input file ${JSON.stringify(entry.path)} changed while it was staged (size or sha256 differ); make sure inputs are not modified during a run`,
        {
          component: COMPONENT,
          code: ErrorCodes.TRANSFER_VERIFY,
        },
      );
    }
    await chmod(part, (entry.mode ?? 0o644) & 0o7777);
    await rename(part, target);
    bytes += size;
  }
  signal.throwIfAborted();
  await writeFile(join(dir, READY_MARKER), '');
  return { files: inputs.entries.length, bytes, verified: true, attempts: 1 };
}

async function listTree(wd: string): Promise<Listing> {
  const real = await realpath(wd);
  const listing: Listing = { workingDir: real, files: [], links: [] };
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(real, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) listing.files.push(path);
      else if (entry.isSymbolicLink()) {
        const target = await realpath(join(real, path)).catch(() => '');
        const isFile = target ? ((await stat(target).catch(() => undefined))?.isFile() ?? false) : false;
        listing.links.push({ path, target, isFile });
      }
    }
  };
  await walk('');
  return listing;
}

/** Streams the selected outputs from the run directory into the sink (links refused as exec-tar does). */
export async function readOutputs(
  dir: string,
  paths: PodPaths,
  select: OutputSelection,
  sink: OutputSink,
  signal: AbortSignal,
  onBytes: (n: number) => void,
): Promise<TransferReport> {
  const wd = join(dir, posix.relative(paths.root, paths.workingDir));
  if ((await lstat(wd).catch(() => undefined))?.isSymbolicLink()) {
    throw new UnsafePathError(
      '',
      `[podrun] [${COMPONENT}] the working directory was replaced by a symbolic link; podrun never follows it`,
      { component: COMPONENT },
    );
  }
  const listing = await listTree(wd);
  const report: TransferReport = { files: 0, bytes: 0, verified: true, attempts: 1 };
  for (const file of selectOutputs(listing, select, paths)) {
    signal.throwIfAborted();
    const link = listing.links.find((l) => l.path === file.path);
    const source = link ? link.target : join(listing.workingDir, file.path);
    const info = await stat(source);
    const content = new PassThrough();
    const writing = sink.write(
      { name: file.name, origin: file.origin, size: info.size, mode: info.mode & 0o7777 },
      content,
    );
    writing.catch((error: unknown) => content.destroy(error instanceof Error ? error : new Error(String(error))));
    let size = 0;
    try {
      // O_NOFOLLOW: a regular file that was swapped for a link since the listing is refused.
      const flags = link ? constants.O_RDONLY : constants.O_RDONLY | constants.O_NOFOLLOW;
      const handle = await open(source, flags);
      await pipeline(
        handle.createReadStream(),
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            size += chunk.length;
            onBytes(chunk.length);
            callback(null, chunk);
          },
        }),
        content,
        { signal, end: false },
      );
      if (size !== info.size)
        throw new TransferError(`output ${JSON.stringify(file.path)} changed while it was read`, {
          component: COMPONENT,
          code: ErrorCodes.TRANSFER_VERIFY,
        });
      content.end();
    } catch (error) {
      content.destroy(error as Error);
      throw error;
    }
    await writing;
    report.files++;
    report.bytes += size;
  }
  return report;
}

/** Removes the run directory (existing claims keep one per run). */
export async function removeRunDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
