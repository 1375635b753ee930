import type { V1ResourceRequirements } from '@kubernetes/client-node';
import { isQuantity } from '@podrun/core';
import type { PodSpecConfig, ResourceAmounts } from './config.js';
import type { IssueList } from './issues.js';
import { show } from './issues.js';
import { isValidLabelKey, isValidLabelValue } from './labels.js';
import { isPlainObject } from './merge.js';

const PULL_POLICIES = { ALWAYS: 'Always', IF_NOT_PRESENT: 'IfNotPresent', NEVER: 'Never' } as const;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** waitUntilRunning's default (PT10M), used in the deadline margin when the config has none. */
export const DEFAULT_WAIT_UNTIL_RUNNING_MS = 10 * 60_000;
/** Extra margin, beyond waitUntilRunning, for staging inputs and collecting outputs. */
export const TRANSFER_MARGIN_MS = 5 * 60_000;

/** True for a DNS-1123 label (namespace, pod and container names): at most 63 of `a-z0-9-`. */
export function isDnsLabel(value: string): boolean {
  return value.length <= 63 && DNS_LABEL.test(value);
}

/** True for a DNS-1123 subdomain (service account names): at most 253 of `a-z0-9-.`. */
export function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && DNS_SUBDOMAIN.test(value);
}

/** `ALWAYS` -> `Always`, `IF_NOT_PRESENT` -> `IfNotPresent`, `NEVER` -> `Never`. */
export function pullPolicyOf(config: PodSpecConfig, path: string, issues: IssueList): string | undefined {
  const mapped = (PULL_POLICIES as Record<string, string>)[config.pullPolicy];
  if (!mapped)
    issues.add(`${path}.pullPolicy`, `expected one of ALWAYS, IF_NOT_PRESENT, NEVER, got ${show(config.pullPolicy)}`);
  return mapped;
}

function amounts(value: unknown, path: string, issues: IssueList): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) {
    issues.add(path, 'expected an object with cpu and/or memory');
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [key, raw] of Object.entries(value as ResourceAmounts & Record<string, unknown>)) {
    const quantity = typeof raw === 'number' ? String(raw) : raw;
    if (raw === undefined || raw === null) continue;
    if (typeof quantity !== 'string' || !isQuantity(quantity)) {
      issues.add(`${path}.${key}`, `expected a Kubernetes quantity such as 500m, 2 or 256Mi, got ${show(raw)}`);
    } else {
      out[key] = quantity;
    }
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * Resources as the reference writes them (`request`/`limit`) or as Kubernetes does
 * (`requests`/`limits`), as a V1ResourceRequirements; undefined when nothing is set.
 */
export function resourcesOf(value: unknown, path: string, issues: IssueList): V1ResourceRequirements | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) {
    issues.add(path, 'expected an object with request and/or limit');
    return undefined;
  }
  const out: V1ResourceRequirements = {};
  for (const [key, target] of [
    ['request', 'requests'],
    ['requests', 'requests'],
    ['limit', 'limits'],
    ['limits', 'limits'],
  ] as const) {
    const parsed = amounts(value[key], `${path}.${key}`, issues);
    if (parsed) out[target] = { ...out[target], ...parsed };
  }
  for (const key of Object.keys(value)) {
    if (!['request', 'requests', 'limit', 'limits'].includes(key))
      issues.add(`${path}.${key}`, 'unknown key; expected request or limit');
  }
  return out.requests || out.limits ? out : undefined;
}

/** Checks a nodeSelector map: keys and values must already be valid (never rewritten: they must match nodes). */
export function nodeSelectorOf(value: unknown, path: string, issues: IssueList): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) {
    issues.add(path, 'expected a map of node label names to values');
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [key, raw] of Object.entries(value)) {
    if (!isValidLabelKey(key)) issues.add(`${path}.${key}`, 'is not a valid node label key');
    else if (typeof raw !== 'string' || !isValidLabelValue(raw))
      issues.add(`${path}.${key}`, `is not a valid label value: ${show(raw)}`);
    else out[key] = raw;
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * Cluster-side safety net: the run budget (the task's timeout, which wins, else
 * waitUntilCompletion) plus waitUntilRunning plus a transfer margin, so the cluster only ends a pod
 * the runner would have given up on already (e.g. after the runner died and never came back).
 */
export function activeDeadlineSecondsOf(
  config: PodSpecConfig,
  timeoutMs: number | undefined,
  path: string,
  issues: IssueList,
): number | undefined {
  const positive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
  if (!positive(config.waitUntilCompletion)) {
    issues.add(`${path}.waitUntilCompletion`, `expected a positive duration, got ${show(config.waitUntilCompletion)}`);
    return undefined;
  }
  const running = config.waitUntilRunning ?? DEFAULT_WAIT_UNTIL_RUNNING_MS;
  if (!positive(running)) {
    issues.add(`${path}.waitUntilRunning`, `expected a positive duration, got ${show(config.waitUntilRunning)}`);
    return undefined;
  }
  const run = timeoutMs ?? config.waitUntilCompletion;
  return Math.ceil((run + running + TRANSFER_MARGIN_MS) / 1000);
}
