import { createHash } from 'node:crypto';
import { ErrorCodes } from '@podrun/core';
import type { TaskRunIdentity } from '@podrun/core';
import { IssueList, show } from './issues.js';

/** Prefix of every label and annotation key podrun owns. User labels may not use it. */
export const PODRUN_LABEL_PREFIX = 'podrun.io/';

/** `app.kubernetes.io/managed-by` label key; its value is always `podrun`. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

const IDENTITY_FIELDS = [
  ['namespace', 'namespace'],
  ['flowId', 'flow-id'],
  ['taskId', 'task-id'],
  ['executionId', 'execution-id'],
  ['taskRunId', 'taskrun-id'],
] as const;
const ATTEMPT_KEY = `${PODRUN_LABEL_PREFIX}taskrun-attempt`;

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_LABEL = 63;
const HASH_CHARS = 10;

/** True when `value` is a valid Kubernetes label value (at most 63 characters, allowed characters). */
export function isValidLabelValue(value: string): boolean {
  return value.length <= MAX_LABEL && LABEL_VALUE.test(value);
}

/** True when `key` is a valid label or annotation key (`[prefix/]name`). */
export function isValidLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const name = slash < 0 ? key : key.slice(slash + 1);
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  if (name.length > MAX_LABEL || !LABEL_NAME.test(name)) return false;
  return prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
}

/** Short stable digest of the full input; what keeps shortened values distinct. */
export function shortHash(value: string, chars = HASH_CHARS): string {
  return createHash('sha256').update(value, 'utf8').digest('hex').slice(0, chars);
}

/**
 * Makes `value` a valid label value. A valid value is kept as it is; anything else (too long,
 * disallowed characters) becomes a readable prefix plus `-` and a hash of the whole original value,
 * so distinct inputs stay distinct and the same input always gives the same label.
 */
export function sanitizeLabelValue(value: string): string {
  if (isValidLabelValue(value)) return value;
  const hash = shortHash(value);
  const body = value
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, MAX_LABEL - HASH_CHARS - 1)
    .replace(/[^A-Za-z0-9]+$/, '');
  return body ? `${body}-${hash}` : hash;
}

/** Problems with an identity, reported under `identity.<field>`. */
export function checkIdentity(identity: TaskRunIdentity, issues: IssueList): void {
  for (const [field] of IDENTITY_FIELDS) {
    const value: unknown = identity[field];
    if (typeof value !== 'string' || value.length === 0) {
      issues.add(`identity.${field}`, 'must be a non-empty string', ErrorCodes.TASK_INVALID);
    }
  }
  if (!Number.isInteger(identity.attempt) || identity.attempt < 1) {
    issues.add('identity.attempt', `must be an integer >= 1, got ${show(identity.attempt)}`, ErrorCodes.TASK_INVALID);
  }
}

function checkedIdentity(identity: TaskRunIdentity): void {
  const issues = new IssueList();
  checkIdentity(identity, issues);
  issues.throwIfAny();
}

/**
 * The labels that identify a task run's pod: `podrun.io/{namespace, flow-id, task-id,
 * execution-id, taskrun-id, taskrun-attempt}` (values made valid by {@link sanitizeLabelValue})
 * and `app.kubernetes.io/managed-by: podrun`.
 */
export function identityLabels(identity: TaskRunIdentity): Record<string, string> {
  checkedIdentity(identity);
  return identityLabelsOf(identity);
}

/** {@link identityLabels} without the identity check (the builder reports problems itself). */
export function identityLabelsOf(identity: TaskRunIdentity): Record<string, string> {
  const labels: Record<string, string> = { [MANAGED_BY_LABEL]: 'podrun' };
  for (const [field, key] of IDENTITY_FIELDS)
    labels[PODRUN_LABEL_PREFIX + key] = sanitizeLabelValue(String(identity[field] ?? ''));
  labels[ATTEMPT_KEY] = String(identity.attempt);
  return labels;
}

/**
 * The reference's pod labels (`kestra.io/namespace`, `flow-id`, `task-id`, `execution-id`,
 * `taskrun-id`, `taskrun-attempt` counting from 0), for clusters whose policies select on them.
 */
export function referenceLabelsOf(identity: TaskRunIdentity): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [field, key] of IDENTITY_FIELDS)
    labels[`kestra.io/${key}`] = sanitizeLabelValue(String(identity[field] ?? ''));
  labels['kestra.io/taskrun-attempt'] = String(identity.attempt - 1);
  return labels;
}

/** The identity values in full, unshortened, as `podrun.io/...` annotations. */
export function identityAnnotations(identity: TaskRunIdentity): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (const [field, key] of IDENTITY_FIELDS) annotations[PODRUN_LABEL_PREFIX + key] = String(identity[field] ?? '');
  annotations[ATTEMPT_KEY] = String(identity.attempt);
  return annotations;
}

/**
 * The labels every pod of a task run carries: of every attempt, or of one `attempt` when given.
 */
export function identityMatchLabels(
  identity: TaskRunIdentity,
  options: { attempt?: number } = {},
): Record<string, string> {
  const labels = identityLabels({ ...identity, attempt: options.attempt ?? identity.attempt });
  if (options.attempt === undefined) delete labels[ATTEMPT_KEY];
  return labels;
}

/**
 * Label selector (`k=v,k=v`) matching the pods of one task run, for resume. Every attempt's pod
 * matches unless `attempt` is given.
 */
export function identitySelector(identity: TaskRunIdentity, options: { attempt?: number } = {}): string {
  return Object.entries(identityMatchLabels(identity, options))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/**
 * The user's `labels`, checked: keys must be valid and outside `podrun.io/`; values are made valid
 * like identity values.
 */
export function userLabels(labels: unknown, path: string, issues: IssueList): Record<string, string> {
  const out: Record<string, string> = {};
  if (labels === undefined || labels === null) return out;
  if (typeof labels !== 'object' || Array.isArray(labels)) {
    issues.add(path, 'expected a map of label names to values');
    return out;
  }
  for (const [key, value] of Object.entries(labels)) {
    const where = `${path}.${key}`;
    if (key.startsWith(PODRUN_LABEL_PREFIX)) {
      issues.add(
        where,
        `the "${PODRUN_LABEL_PREFIX}" prefix is reserved for podrun's identity labels; choose another key`,
      );
    } else if (!isValidLabelKey(key)) {
      issues.add(where, 'is not a valid label key ([prefix/]name, name at most 63 characters of A-Z a-z 0-9 - _ .)');
    } else if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      issues.add(where, `label values must be strings, got ${show(value)}`);
    } else {
      out[key] = sanitizeLabelValue(String(value));
    }
  }
  return out;
}
