import type { V1ContainerStatus, V1Pod, V1PodCondition } from '@kubernetes/client-node';

/** The container that runs the task's commands (pod-spec's MAIN_CONTAINER). */
export const MAIN = 'main';

export function containerStatus(pod: V1Pod | undefined, name: string): V1ContainerStatus | undefined {
  return (
    pod?.status?.containerStatuses?.find((s) => s.name === name) ??
    pod?.status?.initContainerStatuses?.find((s) => s.name === name)
  );
}

export function isStarted(pod: V1Pod | undefined, name: string): boolean {
  const state = containerStatus(pod, name)?.state;
  return Boolean(state?.running || state?.terminated);
}

export function isTerminated(pod: V1Pod | undefined, name: string): boolean {
  return Boolean(containerStatus(pod, name)?.state?.terminated);
}

export function condition(pod: V1Pod | undefined, type: string): V1PodCondition | undefined {
  return pod?.status?.conditions?.find((c) => c.type === type);
}

function describeStatus(status: V1ContainerStatus): string {
  const { waiting, running, terminated } = status.state ?? {};
  if (terminated) {
    return `${status.name} terminated (${terminated.reason ?? 'exit'}, exit code ${terminated.exitCode}${terminated.message ? `: ${terminated.message}` : ''})`;
  }
  if (running) return `${status.name} running`;
  if (waiting)
    return `${status.name} waiting (${waiting.reason ?? 'unknown'}${waiting.message ? `: ${waiting.message}` : ''})`;
  return `${status.name} not started`;
}

/** One line saying what the pod is doing, for deadline and failure messages. */
export function describePod(pod: V1Pod | undefined): string {
  if (!pod) return 'the pod has not been seen yet';
  const parts = [`phase ${pod.status?.phase ?? 'unknown'}${pod.status?.reason ? ` (${pod.status.reason})` : ''}`];
  const scheduled = condition(pod, 'PodScheduled');
  if (scheduled?.status === 'False')
    parts.push(`not scheduled (${scheduled.reason ?? ''}${scheduled.message ? `: ${scheduled.message}` : ''})`);
  else if (!pod.spec?.nodeName && !pod.status?.containerStatuses?.length) parts.push('waiting to be scheduled');
  for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])])
    parts.push(describeStatus(s));
  if (pod.status?.message) parts.push(pod.status.message);
  return parts.join('; ');
}
