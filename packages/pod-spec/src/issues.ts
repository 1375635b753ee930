import { ConfigError, ErrorCodes } from '@podrun/core';
import type { ConfigIssue, ErrorCode } from '@podrun/core';

/** Component name used in every error this package raises. */
export const COMPONENT = 'pod-spec';

/**
 * Collects every problem found while building one pod, so the user gets one error listing all of
 * them (with their paths) instead of fixing them one run at a time.
 */
export class IssueList {
  readonly #issues: ConfigIssue[] = [];
  readonly #codes = new Set<ErrorCode>();

  add(path: string, message: string, code: ErrorCode = ErrorCodes.CONFIG_INVALID): void {
    // One overlay applied to several containers must not repeat the same problem.
    if (this.#issues.some((i) => i.path === path && i.message === message)) return;
    this.#issues.push({ path, message });
    this.#codes.add(code);
  }

  get size(): number {
    return this.#issues.length;
  }

  /** Throws one ConfigError when anything was found. A task problem wins the code over config. */
  throwIfAny(): void {
    if (this.#issues.length === 0) return;
    const code = this.#codes.has(ErrorCodes.TASK_INVALID)
      ? ErrorCodes.TASK_INVALID
      : this.#codes.has(ErrorCodes.CONFIG_INVALID)
        ? ErrorCodes.CONFIG_INVALID
        : ErrorCodes.POD_SPEC_INVALID;
    const title =
      code === ErrorCodes.TASK_INVALID
        ? 'cannot build the pod: the task is invalid'
        : code === ErrorCodes.CONFIG_INVALID
          ? 'cannot build the pod: invalid runner configuration'
          : 'cannot build the pod: the file transfer contributed an invalid pod part';
    throw new ConfigError(this.#issues, { code, component: COMPONENT, title });
  }
}

/** `base[0]`-style path segment for list items. */
export function at(base: string, index: number): string {
  return `${base}[${index}]`;
}

/** Quotes a value for an issue message; never used for secrets (pod specs hold none by design). */
export function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}
