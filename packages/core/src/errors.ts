/**
 * Stable error codes. Tests and integrators match on these, never on message text.
 * Codes are never renamed once released; new ones may be added.
 */
export const ErrorCodes = {
  CONFIG_INVALID: 'PODRUN_CONFIG_INVALID',
  TASK_INVALID: 'PODRUN_TASK_INVALID',
  /** The task's commands exited with a non-zero code (a result the host records, not a thrown error). */
  TASK_FAILED: 'PODRUN_TASK_FAILED',
  INPUT_MISSING: 'PODRUN_INPUT_MISSING',
  KUBE_CONNECTION: 'PODRUN_KUBE_CONNECTION',
  KUBE_AUTH: 'PODRUN_KUBE_AUTH',
  KUBE_API: 'PODRUN_KUBE_API',
  KUBE_NOT_FOUND: 'PODRUN_KUBE_NOT_FOUND',
  KUBE_FORBIDDEN: 'PODRUN_KUBE_FORBIDDEN',
  EXEC_FAILED: 'PODRUN_EXEC_FAILED',
  EXEC_NO_STATUS: 'PODRUN_EXEC_NO_STATUS',
  POD_FAILED: 'PODRUN_POD_FAILED',
  POD_DELETED: 'PODRUN_POD_DELETED',
  POD_SPEC_INVALID: 'PODRUN_POD_SPEC_INVALID',
  DEADLINE_EXCEEDED: 'PODRUN_DEADLINE_EXCEEDED',
  CANCELLED: 'PODRUN_CANCELLED',
  TRANSFER_FAILED: 'PODRUN_TRANSFER_FAILED',
  TRANSFER_VERIFY: 'PODRUN_TRANSFER_VERIFY',
  UNSAFE_PATH: 'PODRUN_UNSAFE_PATH',
  LOGS_FAILED: 'PODRUN_LOGS_FAILED',
  PLUGIN_VERSION: 'PODRUN_PLUGIN_VERSION',
  PLUGIN_UNKNOWN: 'PODRUN_PLUGIN_UNKNOWN',
  FLOW_INVALID: 'PODRUN_FLOW_INVALID',
  STORAGE: 'PODRUN_STORAGE',
  TEMPLATE: 'PODRUN_TEMPLATE',
  /** `secret('NAME')` names a secret no configured source has. */
  SECRET_NOT_FOUND: 'PODRUN_SECRET_NOT_FOUND',
  EMULATOR: 'PODRUN_EMULATOR',
} as const;

/** One of the stable {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Options common to every podrun error. */
export interface PodrunErrorOptions {
  /** The underlying error, kept for debugging; its message must not contain secrets. */
  cause?: unknown;
  /** Which part of podrun raised it, shown as `[podrun] [component]` (e.g. `exec-tar`). */
  component?: string;
  /** Structured, secret-free details for machine consumers (JSON output, logs). */
  details?: Record<string, unknown>;
}

// Each error carries the names of its classes under a registry symbol, so `instanceof` holds across
// copies of @podrun/core: a bundled CLI and a strategy package installed beside it each load their own.
const ERROR_CLASSES = Symbol.for('podrun.error.classes');

/**
 * The root of every error podrun raises on purpose. `code` is stable; `message` says what failed,
 * why, and what to do, prefixed `[podrun] [component]`.
 *
 * `instanceof PodrunError` (and its subclasses) also recognises errors raised by another copy of
 * `@podrun/core`, such as the one inside the bundled `podrun` command.
 */
export class PodrunError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    const classes = (value as { [ERROR_CLASSES]?: unknown } | null | undefined)?.[ERROR_CLASSES];
    return Array.isArray(classes) && classes.includes(this.name);
  }

  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** The component that raised the error, e.g. `kubernetes-runner`. */
  readonly component: string | undefined;
  /** Secret-free structured details. */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: PodrunErrorOptions = {}) {
    const prefix = options.component ? `[podrun] [${options.component}] ` : '[podrun] ';
    super(message.startsWith('[podrun]') ? message : prefix + message, { cause: options.cause });
    this.name = new.target.name;
    const classes: string[] = [];
    for (let c: unknown = new.target; c && c !== Error; c = Object.getPrototypeOf(c)) {
      classes.push((c as { name: string }).name);
    }
    Object.defineProperty(this, ERROR_CLASSES, { value: classes });
    this.code = code;
    this.component = options.component;
    this.details = options.details ?? {};
  }

  /** A JSON-friendly view (for `--json` output); never includes the cause's stack. */
  toJSON(): { name: string; code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/** One problem found in configuration or a flow, located by its path. */
export interface ConfigIssue {
  /** Dotted path, e.g. `taskRunner.waitForLogs` or `tasks[0].commands`. */
  path: string;
  /** What is wrong and what is expected. */
  message: string;
  /** 1-based line in the source file when known (flows). */
  line?: number;
}

/** Invalid configuration: lists every problem with its path in one error. */
export class ConfigError extends PodrunError {
  /** Every problem found, in document order. */
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[], options: PodrunErrorOptions & { title?: string; code?: ErrorCode } = {}) {
    const title = options.title ?? 'invalid configuration';
    const lines = issues.map((i) => `  - ${i.path}${i.line ? ` (line ${i.line})` : ''}: ${i.message}`);
    super(options.code ?? ErrorCodes.CONFIG_INVALID, `${title}:\n${lines.join('\n')}`, options);
    this.issues = issues;
  }
}

/** The Kubernetes API answered with an error, or could not be reached. */
export class KubeApiError extends PodrunError {
  /** HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** Kubernetes Status reason (e.g. `NotFound`, `Conflict`, `Expired`), when known. */
  readonly reason: string | undefined;
  constructor(
    message: string,
    options: PodrunErrorOptions & { status?: number; reason?: string; code?: ErrorCode } = {},
  ) {
    const code =
      options.code ??
      (options.status === 404
        ? ErrorCodes.KUBE_NOT_FOUND
        : options.status === 403
          ? ErrorCodes.KUBE_FORBIDDEN
          : options.status === 401
            ? ErrorCodes.KUBE_AUTH
            : ErrorCodes.KUBE_API);
    super(code, message, options);
    this.status = options.status;
    this.reason = options.reason;
  }
}

/** An exec session failed, or ended without the status frame that proves completion. */
export class ExecError extends PodrunError {
  /** Exit code of the command when the status frame carried one. */
  readonly exitCode: number | undefined;
  constructor(message: string, options: PodrunErrorOptions & { exitCode?: number; code?: ErrorCode } = {}) {
    super(options.code ?? ErrorCodes.EXEC_FAILED, message, options);
    this.exitCode = options.exitCode;
  }
}

/** Why a pod could not run the task. */
export type PodFailureReason =
  | 'ImagePullFailed'
  | 'Unschedulable'
  | 'CreateContainerConfigError'
  | 'CreateContainerError'
  | 'InitContainerFailed'
  | 'Evicted'
  | 'OOMKilled'
  | 'DeadlineExceeded'
  | 'PodDeleted'
  | 'ContainerFailed'
  | 'Unknown';

/** The pod failed; `reason` classifies it and `events` holds the pod's Warning events. */
export class PodFailedError extends PodrunError {
  /** Classified failure reason. */
  readonly reason: PodFailureReason;
  /** The pod's Warning events as `reason: message` lines. */
  readonly events: string[];
  constructor(
    reason: PodFailureReason,
    message: string,
    options: PodrunErrorOptions & { events?: string[]; code?: ErrorCode } = {},
  ) {
    const events = options.events ?? [];
    const withEvents = events.length
      ? `${message}\nWarning events:\n${events.map((e) => `  - ${e}`).join('\n')}`
      : message;
    super(options.code ?? (reason === 'PodDeleted' ? ErrorCodes.POD_DELETED : ErrorCodes.POD_FAILED), withEvents, {
      ...options,
      details: { reason, events, ...options.details },
    });
    this.reason = reason;
    this.events = events;
  }
}

/** A deadline (waitUntilRunning, waitUntilCompletion, task timeout) expired. */
export class DeadlineExceededError extends PodrunError {
  /** Which deadline expired, by its configuration name. */
  readonly deadline: string;
  constructor(deadline: string, message: string, options: PodrunErrorOptions = {}) {
    super(ErrorCodes.DEADLINE_EXCEEDED, message, { ...options, details: { deadline, ...options.details } });
    this.deadline = deadline;
  }
}

/** The run was cancelled through its AbortSignal (a kill). */
export class CancelledError extends PodrunError {
  constructor(message = 'the task was cancelled', options: PodrunErrorOptions = {}) {
    super(ErrorCodes.CANCELLED, message, options);
  }
}

/** Moving files in or out of the pod failed. */
export class TransferError extends PodrunError {
  constructor(message: string, options: PodrunErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? ErrorCodes.TRANSFER_FAILED, message, options);
  }
}

/** A path would read or write outside the directory it belongs to (`..`, absolute, or a link). */
export class UnsafePathError extends TransferError {
  /** The offending path as the pod reported it. */
  readonly path: string;
  constructor(path: string, message: string, options: PodrunErrorOptions = {}) {
    super(message, { ...options, code: ErrorCodes.UNSAFE_PATH, details: { path, ...options.details } });
    this.path = path;
  }
}

/** Collecting logs failed in a way that could not be recovered. */
export class LogCollectionError extends PodrunError {
  constructor(message: string, options: PodrunErrorOptions = {}) {
    super(ErrorCodes.LOGS_FAILED, message, options);
  }
}

/** True when `error` is a podrun error with the given code. */
export function isPodrunError(error: unknown, code?: ErrorCode): error is PodrunError {
  return error instanceof PodrunError && (code === undefined || error.code === code);
}
