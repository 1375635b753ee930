// The node's fault switches (the cluster's `faults` reach the node through these): scheduling
// stopped, autoscaler verdicts, OOM kills, evictions, cut exec streams and the log clock.
import type { LogClockSettings, NodeFaults, ObjectStore } from '../contracts.js';
import type { PodWorkers } from './pod-workers.js';
import type { Scheduler } from './scheduler.js';

const defaultEvictionMessage = 'The node was low on resource: memory.';

/** The node's faults, plus what the node asks them while serving. */
export interface NodeFaultState extends NodeFaults {
  /** Byte count after which the next exec session is cut, if the fault is armed (counts the session). */
  takeExecCut(): number | undefined;
}

/** Faults acting on the given scheduler, workers and log clock. */
export function createNodeFaults(parts: {
  store: ObjectStore;
  scheduler: Scheduler;
  workers: PodWorkers;
  logClock: LogClockSettings;
}): NodeFaultState {
  const { store, scheduler, workers, logClock } = parts;
  let execCut: { bytes: number; remaining: number | undefined } | undefined;
  const workerOf = (namespace: string, name: string) => workers.of(store.get('pods', namespace, name), namespace, name);
  return {
    setSchedulingStopped: (value) => scheduler.setStopped(value),
    setAutoscaler: (mode) => scheduler.setAutoscaler(mode),
    oomKill(namespace, pod, container) {
      workerOf(namespace, pod).oomKill(container);
    },
    evict(namespace, pod, message) {
      workerOf(namespace, pod).evict(message ?? defaultEvictionMessage);
    },
    cutExecAfterBytes(bytes, count) {
      execCut = bytes === undefined ? undefined : { bytes, remaining: count };
    },
    setLogClock(settings) {
      Object.assign(logClock, settings);
    },
    takeExecCut() {
      if (!execCut) return undefined;
      const { bytes } = execCut;
      if (execCut.remaining !== undefined && --execCut.remaining <= 0) execCut = undefined;
      return bytes;
    },
  };
}
