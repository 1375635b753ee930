// Node half of the emulator, the composition of its parts: the scheduler binds pods, the pod
// workers run them, faults switch behaviour, and logs/exec/attach are served from the workers.
// This file only wires them and routes store changes; each concern lives in its own module.
import { resolve } from 'node:path';
import type { WebSocket } from 'ws';
import type { ExecRequest, LogClockSettings, Node, NodeOptions, StoreEvent } from '../contracts.js';
import { execTarget, logTarget } from './check.js';
import { createConfigChanges } from './config-changes.js';
import type { RunningInstance } from './container-runner.js';
import { createPodEvents } from './events.js';
import { finishWithStatus, runExec } from './exec.js';
import { runAttach } from './attach.js';
import { createNodeFaults } from './faults.js';
import { serveLogRequest } from './log-serve.js';
import { PodWorkers } from './pod-workers.js';
import { createSandboxTemplateCache } from './sandbox-template.js';
import { createScheduler } from './scheduler.js';

/**
 * Creates the emulated node. It subscribes to the store at once and runs every pod it can
 * schedule; call `stop()` to kill every process and release sandboxes.
 */
export function createNode(input: NodeOptions): Node {
  const options: NodeOptions = { ...input, stateDir: resolve(input.stateDir) };
  const { store } = options;
  const logClock: LogClockSettings = { granularityMs: 0, stderrLagMs: 0 };
  const events = createPodEvents(options.recordEvent);
  const configChanges = createConfigChanges();
  const sandboxTemplate = createSandboxTemplateCache(options.stateDir);
  let stopped = false;

  // The scheduler needs the workers (what is assigned, whom to start) and the workers tell the
  // scheduler when room frees up; both exist before either is used.
  const workers: PodWorkers = new PodWorkers(
    {
      options,
      logClock,
      events,
      sandbox: () => sandboxTemplate.get(),
      configChanged: (timeoutMs, signal) => configChanges.wait(timeoutMs, signal),
      onTerminal: () => scheduler.retrySoon(),
    },
    options.nodeName,
  );
  const scheduler = createScheduler({
    store,
    node: options,
    events,
    assigned: () => workers.active(),
    bound: (pod) => {
      if (!workers.has(pod.metadata.uid ?? '')) workers.start(pod);
    },
  });
  const faults = createNodeFaults({ store, scheduler, workers, logClock });

  const onPod = (event: StoreEvent): void => {
    const pod = event.object;
    const uid = pod.metadata.uid ?? '';
    if (event.type === 'DELETED') {
      scheduler.forget(uid);
      workers.deleted(uid);
      scheduler.retrySoon();
      return;
    }
    if (workers.update(pod)) return;
    const spec = (pod.spec ?? {}) as { nodeName?: string };
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (phase === 'Succeeded' || phase === 'Failed' || pod.metadata.deletionTimestamp) {
      scheduler.forget(uid);
    } else if (spec.nodeName === options.nodeName) {
      scheduler.forget(uid);
      workers.start(pod);
    } else if (!spec.nodeName) {
      scheduler.enqueue(pod);
    }
  };

  const onEvent = (event: StoreEvent): void => {
    if (stopped) return;
    if (event.resource === 'pods') onPod(event);
    else if (event.resource === 'configmaps' || event.resource === 'secrets') configChanges.notify();
    else if (event.resource === 'persistentvolumeclaims') scheduler.retrySoon();
  };

  /** The running container an exec/attach session is for; answers the socket with a 400 Status if none. */
  function sessionTarget(request: ExecRequest, socket: WebSocket): RunningInstance | undefined {
    const pod = store.get('pods', request.namespace, request.pod);
    const target = pod
      ? execTarget(pod, request.container)
      : { kind: 'error' as const, message: `pods "${request.pod}" not found` };
    const instance = target.kind === 'container' ? workers.instance(pod, target.name) : undefined;
    if (!instance) {
      const message = target.kind === 'error' ? target.message : `container not found ("${request.container}")`;
      finishWithStatus(socket, request.protocol, {
        metadata: {},
        status: 'Failure',
        message,
        reason: 'BadRequest',
        code: 400,
      });
    }
    return instance;
  }

  const unsubscribe = store.subscribe((event) => {
    // Store listeners run inside the writer's call; handle the change after it returned.
    queueMicrotask(() => onEvent(event));
  });
  for (const pod of store.list('pods')) onPod({ type: 'ADDED', resource: 'pods', object: pod });

  return {
    name: options.nodeName,
    faults,
    checkContainer(namespace, podName, container, purpose) {
      const pod = store.get('pods', namespace, podName);
      if (!pod) return `pods "${podName}" not found`;
      const target =
        purpose === 'exec' || purpose === 'attach'
          ? execTarget(pod, container)
          : logTarget(pod, container, purpose === 'log-previous');
      return target.kind === 'error' ? target.message : undefined;
    },
    serveLogs(request, req, res) {
      const pod = store.get('pods', request.namespace, request.pod);
      serveLogRequest(request, pod, (containerID) => workers.logFile(containerID), req, res);
    },
    serveExec(request, socket) {
      const instance = sessionTarget(request, socket);
      if (instance) runExec(request, socket, instance, faults.takeExecCut());
    },
    serveAttach(request, socket) {
      const instance = sessionTarget(request, socket);
      if (instance) runAttach(request, socket, instance);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      scheduler.stop();
      configChanges.notify();
      await workers.stopAll();
      await sandboxTemplate.remove();
    },
  };
}
