import { randomInt } from 'node:crypto';
import { ErrorCodes } from '@podrun/core';
import type { TaskRunIdentity } from '@podrun/core';
import { IssueList, show } from './issues.js';

const MAX_NAME = 63;
const SUFFIX = /^[a-z0-9]{1,16}$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** 8 random lowercase letters and digits (36^8, about 2.8e12 values). */
export function randomSuffix(length = 8): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

function slug(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

function cut(value: string, length: number): string {
  return value.slice(0, Math.max(0, length)).replace(/-+$/, '');
}

/**
 * Pod name `<flow>-<task>-<suffix>`: lowercase, characters outside `a-z0-9` turned into `-`, and
 * the flow and task parts shortened fairly so the whole name is a DNS-1123 label of at most 63
 * characters (valid as a pod name and as the pod's hostname). The suffix keeps names unique.
 */
export function generatePodName(
  identity: Pick<TaskRunIdentity, 'flowId' | 'taskId'>,
  options: { suffix?: string } = {},
): string {
  const issues = new IssueList();
  const name = podNameOf(identity, options.suffix, issues);
  issues.throwIfAny();
  return name;
}

/** {@link generatePodName}, reporting a bad suffix into `issues` instead of throwing. */
export function podNameOf(
  identity: Pick<TaskRunIdentity, 'flowId' | 'taskId'>,
  requested: string | undefined,
  issues: IssueList,
): string {
  const suffix = requested ?? randomSuffix();
  if (!SUFFIX.test(suffix)) {
    issues.add(
      'nameSuffix',
      `must be 1-16 lowercase letters or digits, got ${show(suffix)}`,
      ErrorCodes.POD_SPEC_INVALID,
    );
    return '';
  }
  const flow = slug(String(identity.flowId ?? ''));
  const task = slug(String(identity.taskId ?? ''));
  const budget = MAX_NAME - suffix.length - 1;
  let base: string;
  if (!flow || !task) {
    base = cut(flow || task, budget);
  } else if (flow.length + 1 + task.length <= budget) {
    base = `${flow}-${task}`;
  } else {
    // Each part gets half the room; a part shorter than its half gives the rest to the other.
    const half = Math.floor((budget - 1) / 2);
    const taskRoom = Math.max(half, budget - 1 - flow.length);
    const t = cut(task, taskRoom);
    const f = cut(flow, budget - 1 - t.length);
    base = [f, t].filter(Boolean).join('-');
  }
  return `${base || 'podrun'}-${suffix}`;
}
