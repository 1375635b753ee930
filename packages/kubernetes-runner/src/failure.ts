import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import {
  CancelledError,
  DeadlineExceededError,
  ErrorCodes,
  PodFailedError,
  PodrunError,
  type KubePort,
} from '@podrun/core';
import type { PodFailure } from './classify.js';
import { describePod } from './pod-status.js';

const COMPONENT = 'kubernetes-runner';

/** Why the run stopped early, recorded when it happens; the error is built once events are known. */
export type Stop =
  | { kind: 'killed' }
  | { kind: 'deadline'; deadline: string; limitMs: number }
  | { kind: 'failed'; failure: PodFailure };

/** The pod's Warning events as `reason: message` lines (best effort, bounded in time). */
export async function warningEvents(kube: KubePort, namespace: string, podName: string): Promise<string[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 5000);
  try {
    const events: CoreV1Event[] = await kube.listPodEvents(namespace, podName, controller.signal);
    const lines = events
      .filter((e) => e.type === 'Warning')
      .map((e) => `${e.reason ?? 'Warning'}: ${e.message ?? ''}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ''}`);
    return [...new Set(lines)].slice(-10);
  } catch {
    return [];
  } finally {
    clearTimeout(timer);
  }
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
}

/** The error a stopped run rejects with. */
export function stopError(
  stop: Stop,
  context: { pod: V1Pod | undefined; podName?: string; events: string[]; details: Record<string, unknown> },
): PodrunError {
  const where = context.podName ? `pod ${context.podName}` : 'the pod';
  switch (stop.kind) {
    case 'killed':
      return new CancelledError(`the task was killed; ${where} was deleted at once`, {
        component: COMPONENT,
        details: context.details,
      });
    case 'deadline': {
      const events = context.events.length
        ? `\nWarning events:\n${context.events.map((e) => `  - ${e}`).join('\n')}`
        : '';
      const hint =
        stop.deadline === 'waitUntilRunning'
          ? 'raise waitUntilRunning if the cluster is just slow to schedule, pull or start'
          : 'raise the task timeout or waitUntilCompletion if the task needs longer';
      return new DeadlineExceededError(
        stop.deadline,
        `${stop.deadline} (${seconds(stop.limitMs)}) expired; ${where} was: ${describePod(context.pod)}; it was deleted. ${hint}${events}`,
        { component: COMPONENT, details: { ...context.details, events: context.events } },
      );
    }
    case 'failed':
      return new PodFailedError(stop.failure.reason, `${where}: ${stop.failure.message}`, {
        component: COMPONENT,
        events: context.events,
        details: { ...context.details, container: stop.failure.container, state: describePod(context.pod) },
      });
  }
}

/** Wraps an unexpected error so callers always get the podrun hierarchy. */
export function asPodrunError(error: unknown): PodrunError {
  if (error instanceof PodrunError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new PodrunError(ErrorCodes.POD_FAILED, `the run failed unexpectedly: ${message}`, {
    component: COMPONENT,
    cause: error,
  });
}
