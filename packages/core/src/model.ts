import type { Readable } from 'node:stream';

/**
 * Who a task run is. Identity labels on the pod are derived from it, and resume finds the pod of
 * a task run by it. `attempt` starts at 1 and grows with each retry.
 */
export interface TaskRunIdentity {
  /** Flow namespace, e.g. `company.team`. */
  namespace: string;
  flowId: string;
  taskId: string;
  executionId: string;
  /** Unique per task run; stable across a crash and resume of the runner process. */
  taskRunId: string;
  attempt: number;
}

/**
 * Where an input file's bytes come from: inline content, or a storage URI the host resolves.
 */
export type InputFileSource = { content: string | Uint8Array } | { uri: string };

/**
 * The task as a runner receives it, after the host rendered templates. Paths are relative to the
 * working directory, POSIX style.
 */
export interface Task {
  /** Shell commands; the runner joins them into one script run by `sh -c` (or the interpreter). */
  commands: string[];
  /** Container image; required by container-based runners (see `requireContainerImage`). */
  containerImage?: string;
  env?: Record<string, string>;
  /** Files placed in the working directory before the commands run. */
  inputFiles?: Record<string, InputFileSource>;
  /** Names or glob patterns (relative to the working directory) of files to bring back. */
  outputFiles?: string[];
  /** Namespace files, already resolved by the host to relative path -> source. */
  namespaceFiles?: Record<string, InputFileSource>;
  /** Interpreter the joined commands are passed to; default `['/bin/sh', '-c']`. */
  interpreter?: string[];
  /** Task timeout in milliseconds; wins over the runner's waitUntilCompletion. */
  timeoutMs?: number;
  /** Whether files written to OUTPUT_DIR are collected (default true). */
  enableOutputDirectory?: boolean;
}

/** One file to stage into the working directory, opened lazily and streamed. */
export interface InputEntry {
  /** Relative POSIX path inside the working directory; never absolute, never containing `..`. */
  path: string;
  /** Size in bytes. */
  size: number;
  /** Unix permission bits, when known. */
  mode?: number;
  /** Lowercase hex sha256, when known up front (strategies compute it while streaming otherwise). */
  sha256?: string;
  /** Opens the content; called once per transfer attempt. */
  open(): Readable | Promise<Readable>;
}

/** All files a task needs in its working directory. */
export interface InputTree {
  entries: InputEntry[];
}

/** What to bring back after the main container ends. */
export interface OutputSelection {
  /** Names and glob patterns relative to the working directory (`*` does not cross `/`, `**` does). */
  globs: string[];
  /** Collect every file under OUTPUT_DIR. */
  outputDir: boolean;
  /** Bring the whole working directory back (syncWorkingDirectory). */
  syncWorkingDirectory: boolean;
}

/** A file coming out of the pod. */
export interface OutputEntry {
  /**
   * Name under which the file is reported: relative to the working directory for globs and
   * syncWorkingDirectory, relative to OUTPUT_DIR for output-directory files.
   */
  name: string;
  /** Where the file was found. */
  origin: 'workingDir' | 'outputDir';
  size: number;
  mode?: number;
  /** Lowercase hex sha256 as computed in the pod, when the strategy verifies. */
  sha256?: string;
}

/** Receives output files as streams; resolves once the bytes are stored. */
export interface OutputSink {
  write(entry: OutputEntry, content: Readable): Promise<void>;
}

/** A log line exactly as the container wrote it. */
export interface LogLine {
  container: string;
  /** The server's RFC3339Nano timestamp for the line, kept as sent. */
  timestamp: string;
  /** The line without its trailing newline; whitespace kept. */
  text: string;
  /** `stdout` or `stderr` when the source can tell, otherwise undefined. */
  stream?: 'stdout' | 'stderr';
}

/** Receives log lines in order; may return a promise to apply back-pressure. */
export interface LogSink {
  line(line: LogLine): void | Promise<void>;
}

/** Minimal logger the host gives runners and strategies. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A logger that drops everything; the default where none is given. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
