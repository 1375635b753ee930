import type { Writable } from 'node:stream';

/** A writable terminal-ish stream: `isTTY` and `columns` when it is a terminal. */
export type OutStream = Writable & { isTTY?: boolean; columns?: number };

/**
 * Everything the CLI takes from its process, read once at startup by {@link run} and passed
 * down, so commands are testable and nothing reads the environment at import time.
 */
export interface CliIo {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  stdout: OutStream;
  stderr: OutStream;
  /** Aborted on SIGINT/SIGTERM: the run cancels its tasks and cleans up. */
  signal: AbortSignal;
}

/** Exit codes of `podrun`. */
export const ExitCode = {
  OK: 0,
  /** A task or the execution failed; `doctor` found a problem. */
  FAILED: 1,
  /** Invalid flow, inputs, configuration or command line. */
  INVALID: 2,
  /** Cancelled (worker group fallback CANCEL, or interrupted). */
  CANCELLED: 3,
} as const;
