// Which container instance a log or exec request means, with the exact 400 messages of the API
// server (streamLocation / validateContainer) and the kubelet (validateContainerLogStatus).
import type { KubeObject } from '../contracts.js';
import type { ContainerState } from './status.js';

interface StatusLike {
  name: string;
  state?: ContainerState;
  lastState?: ContainerState;
  containerID?: string;
}

/** Where a request leads: an error message, an empty log (unscheduled pod), or a container instance. */
export type ContainerTarget =
  | { kind: 'error'; message: string }
  | { kind: 'empty' }
  | { kind: 'container'; name: string; containerID: string };

/** Resolves the container name like the API server: default to the only container, else explain. */
export function resolveContainerName(pod: KubeObject, container: string): { name: string } | { error: string } {
  const spec = (pod.spec ?? {}) as { containers?: { name: string }[]; initContainers?: { name: string }[] };
  const containers = (spec.containers ?? []).map((c) => c.name);
  const inits = (spec.initContainers ?? []).map((c) => c.name);
  const podName = pod.metadata.name;
  if (!container) {
    if (containers.length === 1) return { name: containers[0]! };
    if (containers.length === 0) return { error: `a container name must be specified for pod ${podName}` };
    let message = `a container name must be specified for pod ${podName}, choose one of: [${containers.join(' ')}]`;
    if (inits.length > 0) message += ` or one of the init containers: [${inits.join(' ')}]`;
    return { error: message };
  }
  if (!containers.includes(container) && !inits.includes(container))
    return { error: `container ${container} is not valid for pod ${podName}` };
  return { name: container };
}

function findStatus(pod: KubeObject, name: string): StatusLike | undefined {
  const status = (pod.status ?? {}) as { containerStatuses?: StatusLike[]; initContainerStatuses?: StatusLike[] };
  return (
    status.containerStatuses?.find((s) => s.name === name) ?? status.initContainerStatuses?.find((s) => s.name === name)
  );
}

/** The instance whose log a request reads (kubelet's validateContainerLogStatus). */
export function logTarget(pod: KubeObject, container: string, previous: boolean): ContainerTarget {
  const resolved = resolveContainerName(pod, container);
  if ('error' in resolved) return { kind: 'error', message: resolved.error };
  // An unscheduled pod has no log location; the API server answers with an empty body.
  if (!(pod.spec as { nodeName?: string } | undefined)?.nodeName) return { kind: 'empty' };
  const name = resolved.name;
  const podName = pod.metadata.name;
  const status = findStatus(pod, name);
  if (!status) return { kind: 'error', message: `container "${name}" in pod "${podName}" is not available` };
  const { state = {}, lastState = {} } = status;
  const found = (containerID: string | undefined): ContainerTarget =>
    containerID
      ? { kind: 'container', name, containerID }
      : { kind: 'error', message: `container "${name}" in pod "${podName}" is terminated` };
  if (previous) {
    if (!lastState.terminated?.containerID)
      return { kind: 'error', message: `previous terminated container "${name}" in pod "${podName}" not found` };
    return found(lastState.terminated.containerID);
  }
  if (state.running) return found(status.containerID);
  if (state.terminated) return found(state.terminated.containerID || lastState.terminated?.containerID);
  if (lastState.terminated) return found(lastState.terminated.containerID);
  if (state.waiting) {
    const reason = state.waiting.reason;
    const why =
      reason === 'ErrImagePull'
        ? "image can't be pulled"
        : reason === 'ImagePullBackOff'
          ? 'trying and failing to pull image'
          : reason;
    return { kind: 'error', message: `container "${name}" in pod "${podName}" is waiting to start: ${why}` };
  }
  return { kind: 'error', message: `container "${name}" in pod "${podName}" is waiting to start - no logs yet` };
}

/** The running container an exec request enters, or the error message. */
export function execTarget(pod: KubeObject, container: string): ContainerTarget {
  const resolved = resolveContainerName(pod, container);
  if ('error' in resolved) return { kind: 'error', message: resolved.error };
  if (!(pod.spec as { nodeName?: string } | undefined)?.nodeName) {
    return { kind: 'error', message: `pod ${pod.metadata.name} does not have a host assigned` };
  }
  const status = findStatus(pod, resolved.name);
  // The kubelet finds no running container to exec in: the same words whether it never ran or completed.
  if (!status?.state?.running || !status.containerID)
    return { kind: 'error', message: `container not found ("${resolved.name}")` };
  return { kind: 'container', name: resolved.name, containerID: status.containerID };
}
