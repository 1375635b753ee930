// The node's scheduler: pods without a nodeName queue here and are bound when they fit (see
// fit.ts). A pod that does not fit gets PodScheduled=False/Unschedulable and a FailedScheduling
// Event once per distinct reason, and is retried whenever something that could free room changes.
import type { KubeObject, NodeOptions, ObjectStore } from '../contracts.js';
import { kubeTime } from './clock.js';
import type { PodEvents } from './events.js';
import { unschedulableReason } from './fit.js';
import { qosClass } from './quantity.js';

/** What the cluster autoscaler says about unschedulable pods (the autoscaler fault). */
export type AutoscalerMode = 'off' | 'scale-up' | 'no-scale-up';

/** Inputs of {@link createScheduler}. */
export interface SchedulerOptions {
  store: ObjectStore;
  node: Pick<NodeOptions, 'nodeName' | 'nodeLabels' | 'allocatable'>;
  events: PodEvents;
  /** Non-terminal pods already bound to the node. */
  assigned(): KubeObject[];
  /** Called with the bound pod object once the binding is written. */
  bound(pod: KubeObject): void;
}

/** The scheduling queue of the one node. */
export interface Scheduler {
  /** Queues an unbound pod. */
  enqueue(pod: KubeObject): void;
  /** Drops a pod from the queue (deleted or finished). */
  forget(uid: string): void;
  /** Something changed that may let queued pods fit: try them again on the next microtask. */
  retrySoon(): void;
  /** The "scheduling stopped" fault: the node behaves as cordoned. */
  setStopped(stopped: boolean): void;
  setAutoscaler(mode: AutoscalerMode): void;
  stop(): void;
}

/** A scheduler binding to `options.node`. */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const { store, node, events } = options;
  const pending = new Map<string, KubeObject>();
  const lastUnschedulable = new Map<string, string>();
  let stopped = false;
  let cordoned = false;
  let autoscaler: AutoscalerMode = 'off';
  let queued = false;

  const claimPhase = (namespace: string, name: string): string | undefined => {
    const claim = store.get('persistentvolumeclaims', namespace, name);
    return claim ? ((claim as { status?: { phase?: string } }).status?.phase ?? 'Bound') : undefined;
  };

  function markUnschedulable(pod: KubeObject, reason: string): void {
    const namespace = pod.metadata.namespace ?? 'default';
    const condition = {
      type: 'PodScheduled',
      status: 'False',
      lastProbeTime: null,
      lastTransitionTime: kubeTime(),
      reason: 'Unschedulable',
      message: reason,
    };
    store.update('pods', namespace, pod.metadata.name, (current) => ({
      ...current,
      status: {
        ...((current.status ?? {}) as object),
        phase: 'Pending',
        conditions: [condition],
        qosClass: qosClass((current.spec ?? {}) as never),
      },
    }));
    events.record(pod, 'Warning', 'FailedScheduling', reason);
    if (autoscaler === 'scale-up') {
      events.record(pod, 'Normal', 'TriggeredScaleUp', 'pod triggered scale-up: [{podrun-pool 1->2 (max: 3)}]');
    } else if (autoscaler === 'no-scale-up') {
      const why = reason.replace(/^0\/1 nodes are available: /, '').replace(/ preemption:.*$/, '');
      events.record(
        pod,
        'Normal',
        'NotTriggerScaleUp',
        `pod didn't trigger scale-up (it wouldn't fit if a new node is added): 1 ${why}`,
      );
    }
  }

  function bind(pod: KubeObject): void {
    const namespace = pod.metadata.namespace ?? 'default';
    const condition = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: kubeTime() };
    const bound = store.update('pods', namespace, pod.metadata.name, (current) => ({
      ...current,
      spec: { ...((current.spec ?? {}) as object), nodeName: node.nodeName },
      status: { phase: 'Pending', conditions: [condition], qosClass: qosClass((current.spec ?? {}) as never) },
    }));
    events.record(
      pod,
      'Normal',
      'Scheduled',
      `Successfully assigned ${namespace}/${pod.metadata.name} to ${node.nodeName}`,
    );
    if (bound) options.bound(bound);
  }

  function schedulePending(): void {
    for (const [uid, queuedPod] of [...pending]) {
      const pod = store.get('pods', queuedPod.metadata.namespace, queuedPod.metadata.name);
      if (!pod || pod.metadata.uid !== uid || pod.metadata.deletionTimestamp) {
        pending.delete(uid);
        continue;
      }
      const reason = unschedulableReason({
        pod,
        nodeLabels: node.nodeLabels,
        allocatable: node.allocatable,
        assigned: options.assigned(),
        stopped: cordoned,
        claimPhase,
      });
      if (reason) {
        if (lastUnschedulable.get(uid) === reason) continue;
        lastUnschedulable.set(uid, reason);
        markUnschedulable(pod, reason);
        continue;
      }
      pending.delete(uid);
      lastUnschedulable.delete(uid);
      bind(pod);
    }
  }

  const retrySoon = (): void => {
    if (queued || stopped) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      if (!stopped) schedulePending();
    });
  };

  return {
    enqueue(pod) {
      const uid = pod.metadata.uid ?? '';
      if (pending.has(uid)) return;
      pending.set(uid, pod);
      retrySoon();
    },
    forget(uid) {
      pending.delete(uid);
      lastUnschedulable.delete(uid);
    },
    retrySoon,
    setStopped(value) {
      cordoned = value;
      retrySoon();
    },
    setAutoscaler(mode) {
      autoscaler = mode;
    },
    stop() {
      stopped = true;
      pending.clear();
    },
  };
}
