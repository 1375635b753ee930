import { ConfigError, ErrorCodes, PodrunError } from '@podrun/core';
import { ExitCode } from './io.js';
import type { CliIo } from './io.js';

const INVALID = new Set<string>([
  ErrorCodes.CONFIG_INVALID,
  ErrorCodes.FLOW_INVALID,
  ErrorCodes.TASK_INVALID,
  ErrorCodes.INPUT_MISSING,
  ErrorCodes.TEMPLATE,
  ErrorCodes.PLUGIN_UNKNOWN,
  ErrorCodes.PLUGIN_VERSION,
]);

/** The exit code for an error. */
export function exitCodeFor(error: unknown): number {
  return error instanceof PodrunError ? exitCodeForCode(error.code) : ExitCode.FAILED;
}

/** The exit code for an error code (as kept in execution state). */
export function exitCodeForCode(code: string | undefined): number {
  if (code === ErrorCodes.CANCELLED) return ExitCode.CANCELLED;
  if (code && INVALID.has(code)) return ExitCode.INVALID;
  return ExitCode.FAILED;
}

/** Prints an error the way users read it (message, then code) and returns its exit code. */
export function reportError(error: unknown, io: CliIo): number {
  if (error instanceof ConfigError || error instanceof PodrunError) {
    io.stderr.write(`${error.message}\n(${error.code})\n`);
  } else {
    io.stderr.write(
      `[podrun] unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  return exitCodeFor(error);
}
