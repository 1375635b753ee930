import { ErrorCodes, ExecError, KubeApiError, TransferError, UnsafePathError, isPodrunError } from '@podrun/core';
import { ScriptExit } from './scripts.js';

/** Whether another attempt may succeed where this one failed (a dropped stream, a corrupt read). */
export function retriable(error: unknown): boolean {
  if (error instanceof UnsafePathError) return false;
  if (error instanceof KubeApiError) return ![400, 401, 403, 404, 422].includes(error.status ?? 0);
  if (error instanceof ExecError) return true;
  if (error instanceof TransferError) return error.details.retriable !== false;
  return !isPodrunError(error);
}

/** The error for a script that ended with a non-zero exit code. */
export function scriptFailure(what: string, exitCode: number, stderr: string, path?: string): TransferError {
  const hint = stderr ? `: ${stderr.split('\n').slice(-5).join(' | ')}` : '';
  switch (exitCode) {
    case ScriptExit.WORKDIR_IS_LINK:
      return new UnsafePathError(
        path ?? '',
        `the working directory was replaced by a symbolic link; podrun never follows it out of the pod's own volume`,
        { component: 'exec-tar' },
      );
    case ScriptExit.MANIFEST_MISMATCH:
      return new TransferError(`${what}: the files in the pod do not match what was sent (sha256)${hint}`, {
        component: 'exec-tar',
        code: ErrorCodes.TRANSFER_VERIFY,
      });
    case ScriptExit.NO_DIRECTORY:
      return new TransferError(`${what}: the directory is missing in the pod${hint}; is the files volume mounted?`, {
        component: 'exec-tar',
        details: { exitCode },
      });
    case ScriptExit.TAR_FAILED:
      return new TransferError(
        `${what}: tar or dd in the pod failed (exit ${exitCode})${hint}; check that the files volume has room and is writable`,
        { component: 'exec-tar', details: { exitCode } },
      );
    case ScriptExit.HASH_FAILED:
      return new TransferError(
        `${what}: computing sha256 in the pod failed (exit ${exitCode})${hint}; check that the file sidecar image has sha256sum and the files volume has room`,
        { component: 'exec-tar', details: { exitCode } },
      );
    case ScriptExit.PIECE_HASH_FAILED:
      // Pieces are hashed from the page cache right after they land: a failure is not the stream's.
      return new TransferError(
        `${what}: the pod could not hash a large input's pieces (exit ${exitCode})${hint}; the file sidecar image needs sha256sum (busybox has it), and the files volume room for the hashes`,
        { component: 'exec-tar', details: { exitCode, retriable: false } },
      );
    case 126:
    case 127:
      return new TransferError(
        `${what}: the file sidecar image lacks a shell or a tool (exit ${exitCode})${hint}; use an image with sh, tar, find, xargs, sha256sum (e.g. busybox)`,
        { component: 'exec-tar', details: { exitCode, retriable: false } },
      );
    default:
      return new TransferError(`${what} failed in the pod with exit code ${exitCode}${hint}`, {
        component: 'exec-tar',
        details: { exitCode },
      });
  }
}
