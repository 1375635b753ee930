// Pod status as the kubelet reports it: container statuses, conditions, and the phase computed
// like kubelet_pods.go getPhase.
import { kubeTime } from './clock.js';

/** A container state in API shape: exactly one of waiting / running / terminated. */
export interface ContainerState {
  waiting?: { reason: string; message?: string };
  running?: { startedAt: string };
  terminated?: {
    exitCode: number;
    signal?: number;
    reason: string;
    message?: string;
    startedAt?: string;
    finishedAt: string;
    containerID?: string;
  };
}

/** One container's status as the node tracks it (API shape plus whether it is an init container). */
export interface ContainerStatusModel {
  name: string;
  init: boolean;
  /** A native sidecar: an init container with `restartPolicy: Always` (Kubernetes 1.29+). */
  sidecar?: boolean;
  state: ContainerState;
  lastState: ContainerState;
  ready: boolean;
  started: boolean;
  restartCount: number;
  image: string;
  imageID: string;
  containerID?: string;
}

/** A pod condition in API shape. */
export interface PodCondition {
  type: string;
  status: 'True' | 'False';
  reason?: string;
  message?: string;
  lastProbeTime: null;
  lastTransitionTime: string;
}

type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** The pod phase from container states, following the kubelet's getPhase. */
export function computePhase(
  statuses: ContainerStatusModel[],
  restartPolicy: RestartPolicy,
): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  const init = statuses.filter((s) => s.init && !s.sidecar);
  const failedInit = init.some((s) => s.state.terminated && s.state.terminated.exitCode !== 0);
  if (failedInit && restartPolicy === 'Never') return 'Failed';
  const initDone = init.every((s) => s.state.terminated?.exitCode === 0) && statuses.every(sidecarStarted);
  if (!initDone) return 'Pending';
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  let waiting = 0;
  for (const s of statuses.filter((c) => !c.init)) {
    if (s.state.running) running++;
    else if (s.state.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState.terminated) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  // Sidecars still running (being stopped after the regular containers ended) keep the pod Running.
  if (running > 0 || statuses.some((s) => s.sidecar && s.state.running)) return 'Running';
  if (stopped > 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

/** A sidecar counts as initialized once it has started (running now, or ran before a restart). */
function sidecarStarted(s: ContainerStatusModel): boolean {
  return !s.sidecar || Boolean(s.state.running || s.state.terminated || s.lastState.terminated);
}

/** Tracks conditions and keeps lastTransitionTime stable while a condition's status does not change. */
export class Conditions {
  private readonly byType = new Map<string, PodCondition>();

  set(type: string, status: boolean, reason?: string, message?: string): void {
    const previous = this.byType.get(type);
    const value = status ? 'True' : 'False';
    const condition: PodCondition = {
      type,
      status: value,
      lastProbeTime: null,
      lastTransitionTime: previous && previous.status === value ? previous.lastTransitionTime : kubeTime(),
    };
    if (reason) condition.reason = reason;
    if (message) condition.message = message;
    this.byType.set(type, condition);
  }

  has(type: string): boolean {
    return this.byType.has(type);
  }

  /** In the order a real kubelet lists them. */
  list(): PodCondition[] {
    const order = [
      'DisruptionTarget',
      'PodReadyToStartContainers',
      'Initialized',
      'Ready',
      'ContainersReady',
      'PodScheduled',
    ];
    return order.flatMap((type) => {
      const found = this.byType.get(type);
      return found ? [structuredClone(found)] : [];
    });
  }
}

/** Updates Initialized / ContainersReady / Ready from container statuses and the phase. */
export function updateReadiness(conditions: Conditions, statuses: ContainerStatusModel[], phase: string): void {
  const pendingInit = statuses
    .filter((s) => (s.sidecar ? !sidecarStarted(s) : s.init && s.state.terminated?.exitCode !== 0))
    .map((s) => s.name);
  if (pendingInit.length === 0) conditions.set('Initialized', true);
  else
    conditions.set(
      'Initialized',
      false,
      'ContainersNotInitialized',
      `containers with incomplete status: [${pendingInit.join(' ')}]`,
    );
  if (phase === 'Succeeded' || phase === 'Failed') {
    conditions.set('ContainersReady', false, 'PodCompleted');
    conditions.set('Ready', false, 'PodCompleted');
    return;
  }
  // Sidecars' readiness counts toward the pod's, as for regular containers.
  const unready = statuses.filter((s) => (!s.init || s.sidecar) && !s.ready).map((s) => s.name);
  if (unready.length === 0) {
    conditions.set('ContainersReady', true);
    conditions.set('Ready', true);
  } else {
    const message = `containers with unready status: [${unready.join(' ')}]`;
    conditions.set('ContainersReady', false, 'ContainersNotReady', message);
    conditions.set('Ready', false, 'ContainersNotReady', message);
  }
}

/** The API shape of one container status (without the node-internal `init` flag). */
export function apiContainerStatus(model: ContainerStatusModel): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: model.name,
    state: structuredClone(model.state),
    lastState: structuredClone(model.lastState),
    ready: model.ready,
    restartCount: model.restartCount,
    image: model.image,
    imageID: model.imageID,
    started: model.started,
  };
  if (model.containerID) out.containerID = model.containerID;
  return out;
}
