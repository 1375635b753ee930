// Node half of the emulator: watches the store for pods, schedules them onto the one node, runs
// each bound pod through a PodWorker, and serves logs and exec.
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import { ErrorCodes, PodrunError } from '@podrun/core';
import type {
  ExecRequest,
  KubeObject,
  LogClockSettings,
  LogRequest,
  Node,
  NodeFaults,
  NodeOptions,
  StoreEvent,
} from '../contracts.js';
import { dateNanos, kubeTime, nowNanos } from './clock.js';
import { execTarget, logTarget } from './check.js';
import { finishWithStatus, runExec } from './exec.js';
import { runAttach } from './attach.js';
import type { RunningInstance } from './container-runner.js';
import { streamLog } from './log-serve.js';
import type { LogFile } from './log-store.js';
import { PodWorker } from './pod-worker.js';
import type { WorkerHost } from './pod-worker.js';
import { qosClass } from './quantity.js';
import { buildSandboxTemplate, sandboxUnsupportedReason } from './sandbox-template.js';
import { unschedulableReason } from './scheduler.js';

const defaultEvictionMessage = 'The node was low on resource: memory.';

/**
 * Creates the emulated node. It subscribes to the store at once and runs every pod it can
 * schedule; call `stop()` to kill every process and release sandboxes.
 */
export function createNode(input: NodeOptions): Node {
  const options: NodeOptions = { ...input, stateDir: resolve(input.stateDir) };
  const { store } = options;
  const workers = new Map<string, PodWorker>();
  const pending = new Map<string, KubeObject>();
  const lastUnschedulable = new Map<string, string>();
  const logFiles = new Map<string, { file: LogFile; uid: string }>();
  const configWaiters = new Set<() => void>();
  let schedulingStopped = false;
  let autoscaler: 'off' | 'scale-up' | 'no-scale-up' = 'off';
  let execCut: { bytes: number; remaining: number | undefined } | undefined;
  let scheduleQueued = false;
  let stopped = false;
  let template: Promise<{ template: string } | { problem: string }> | undefined;

  const logClock: LogClockSettings = { granularityMs: 0, stderrLagMs: 0 };
  const host: WorkerHost = {
    options,
    logClock,
    sandbox() {
      template ??= (async () => {
        const problem = sandboxUnsupportedReason(options.stateDir);
        if (problem) return { problem };
        const dir = join(options.stateDir, 'sandbox-template');
        const failed = await buildSandboxTemplate(dir, [options.stateDir]);
        return failed ? { problem: failed } : { template: dir };
      })();
      return template;
    },
    registerLog(uid, containerID, file) {
      logFiles.set(containerID, { file, uid });
    },
    configChanged(timeoutMs, signal) {
      return new Promise((resolveWait) => {
        const done = (): void => {
          clearTimeout(timer);
          configWaiters.delete(done);
          signal.removeEventListener('abort', done);
          resolveWait();
        };
        const timer = setTimeout(done, timeoutMs);
        configWaiters.add(done);
        signal.addEventListener('abort', done);
      });
    },
    onTerminal: () => scheduleSoon(),
  };

  const startWorker = (pod: KubeObject): void => {
    const worker = new PodWorker(host, pod);
    workers.set(worker.uid, worker);
    worker.start();
  };

  const forget = (uid: string): void => {
    workers.delete(uid);
    for (const [id, entry] of logFiles) if (entry.uid === uid) logFiles.delete(id);
  };

  const onPod = (event: StoreEvent): void => {
    const pod = event.object;
    const uid = pod.metadata.uid ?? '';
    const worker = workers.get(uid);
    if (event.type === 'DELETED') {
      pending.delete(uid);
      lastUnschedulable.delete(uid);
      if (worker) void worker.forceDelete().then(() => forget(uid));
      scheduleSoon();
      return;
    }
    if (worker) {
      worker.update(pod);
      return;
    }
    const spec = (pod.spec ?? {}) as { nodeName?: string };
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (phase === 'Succeeded' || phase === 'Failed' || pod.metadata.deletionTimestamp) {
      pending.delete(uid);
      return;
    }
    if (spec.nodeName === options.nodeName) {
      pending.delete(uid);
      startWorker(pod);
    } else if (!spec.nodeName && !pending.has(uid)) {
      pending.set(uid, pod);
      scheduleSoon();
    }
  };

  const onEvent = (event: StoreEvent): void => {
    if (stopped) return;
    if (event.resource === 'pods') onPod(event);
    else if (event.resource === 'configmaps' || event.resource === 'secrets')
      for (const wake of [...configWaiters]) wake();
    else if (event.resource === 'persistentvolumeclaims') scheduleSoon();
  };

  function scheduleSoon(): void {
    if (scheduleQueued || stopped) return;
    scheduleQueued = true;
    queueMicrotask(() => {
      scheduleQueued = false;
      schedulePending();
    });
  }

  function schedulePending(): void {
    for (const [uid, queued] of [...pending]) {
      const pod = store.get('pods', queued.metadata.namespace, queued.metadata.name);
      if (!pod || pod.metadata.uid !== uid || pod.metadata.deletionTimestamp) {
        pending.delete(uid);
        continue;
      }
      const namespace = pod.metadata.namespace ?? 'default';
      const reason = unschedulableReason({
        pod,
        nodeLabels: options.nodeLabels,
        allocatable: options.allocatable,
        assigned: [...workers.values()].filter((w) => !w.isTerminal).map((w) => w.pod),
        stopped: schedulingStopped,
        claimPhase: (ns, name) => {
          const claim = store.get('persistentvolumeclaims', ns, name);
          return claim ? (((claim as { status?: { phase?: string } }).status?.phase ?? 'Bound') as string) : undefined;
        },
      });
      if (reason) {
        if (lastUnschedulable.get(uid) === reason) continue;
        lastUnschedulable.set(uid, reason);
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
        recordEvent(pod, 'Warning', 'FailedScheduling', reason);
        if (autoscaler === 'scale-up') {
          recordEvent(pod, 'Normal', 'TriggeredScaleUp', 'pod triggered scale-up: [{podrun-pool 1->2 (max: 3)}]');
        } else if (autoscaler === 'no-scale-up') {
          recordEvent(
            pod,
            'Normal',
            'NotTriggerScaleUp',
            `pod didn't trigger scale-up (it wouldn't fit if a new node is added): 1 ${reason.replace(/^0\/1 nodes are available: /, '').replace(/ preemption:.*$/, '')}`,
          );
        }
        continue;
      }
      pending.delete(uid);
      lastUnschedulable.delete(uid);
      const condition = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: kubeTime() };
      const bound = store.update('pods', namespace, pod.metadata.name, (current) => ({
        ...current,
        spec: { ...((current.spec ?? {}) as object), nodeName: options.nodeName },
        status: { phase: 'Pending', conditions: [condition], qosClass: qosClass((current.spec ?? {}) as never) },
      }));
      recordEvent(
        pod,
        'Normal',
        'Scheduled',
        `Successfully assigned ${namespace}/${pod.metadata.name} to ${options.nodeName}`,
      );
      if (bound && !workers.has(uid)) startWorker(bound);
    }
  }

  function recordEvent(pod: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const namespace = pod.metadata.namespace ?? 'default';
    try {
      options.recordEvent({
        namespace,
        involvedObject: { kind: 'Pod', name: pod.metadata.name, namespace, uid: pod.metadata.uid },
        type,
        reason,
        message,
      });
    } catch {
      // Events are best effort.
    }
  }

  function workerOf(namespace: string, name: string): PodWorker {
    const pod = store.get('pods', namespace, name);
    const worker = pod ? workers.get(pod.metadata.uid ?? '') : undefined;
    if (!worker) {
      throw new PodrunError(
        ErrorCodes.EMULATOR,
        `pod ${namespace}/${name} is not running on node ${options.nodeName}; create it and wait until it is scheduled`,
        {
          component: 'kube-emulator',
          details: { namespace, name },
        },
      );
    }
    return worker;
  }

  /** The running container an exec/attach session is for; answers the socket with a 400 Status if none. */
  function sessionTarget(request: ExecRequest, socket: WebSocket): RunningInstance | undefined {
    const pod = store.get('pods', request.namespace, request.pod);
    const target = pod
      ? execTarget(pod, request.container)
      : { kind: 'error' as const, message: `pods "${request.pod}" not found` };
    const instance =
      target.kind === 'container' ? workers.get(pod?.metadata.uid ?? '')?.instance(target.name) : undefined;
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

  const faults: NodeFaults = {
    setSchedulingStopped(value) {
      schedulingStopped = value;
      scheduleSoon();
    },
    setAutoscaler(mode) {
      autoscaler = mode;
    },
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
  };

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
    serveLogs(request: LogRequest, req: IncomingMessage, res: ServerResponse) {
      const pod = store.get('pods', request.namespace, request.pod);
      const target = pod
        ? logTarget(pod, request.container, request.previous)
        : { kind: 'error' as const, message: `pods "${request.pod}" not found` };
      if (target.kind === 'error') {
        res.writeHead(pod ? 400 : 404, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Failure',
            message: target.message,
            reason: pod ? 'BadRequest' : 'NotFound',
            code: pod ? 400 : 404,
          }),
        );
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      const entry = target.kind === 'container' ? logFiles.get(target.containerID) : undefined;
      if (!entry) {
        res.end();
        return;
      }
      if (request.follow) {
        res.flushHeaders();
        res.socket?.setNoDelay(true);
      }
      const abort = new AbortController();
      req.on('close', () => abort.abort());
      res.on('close', () => abort.abort());
      const sinceNs =
        request.sinceTime !== undefined
          ? dateNanos(request.sinceTime)
          : request.sinceSeconds !== undefined
            ? nowNanos() - BigInt(request.sinceSeconds) * 1_000_000_000n
            : undefined;
      streamLog(
        entry.file,
        {
          follow: request.follow,
          timestamps: request.timestamps,
          ...(sinceNs !== undefined ? { sinceNs } : {}),
          ...(request.tailLines !== undefined ? { tailLines: request.tailLines } : {}),
          ...(request.limitBytes !== undefined ? { limitBytes: request.limitBytes } : {}),
        },
        res,
        abort.signal,
      ).then(
        () => res.end(),
        () => res.destroy(),
      );
    },
    serveExec(request: ExecRequest, socket: WebSocket) {
      const instance = sessionTarget(request, socket);
      if (!instance) return;
      let cutAfter: number | undefined;
      if (execCut) {
        cutAfter = execCut.bytes;
        if (execCut.remaining !== undefined && --execCut.remaining <= 0) execCut = undefined;
      }
      runExec(request, socket, instance, cutAfter);
    },
    serveAttach(request: ExecRequest, socket: WebSocket) {
      const instance = sessionTarget(request, socket);
      if (instance) runAttach(request, socket, instance);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      pending.clear();
      for (const wake of [...configWaiters]) wake();
      await Promise.all([...workers.values()].map((w) => w.stop()));
      workers.clear();
      logFiles.clear();
      await template;
      await rm(join(options.stateDir, 'sandbox-template'), { recursive: true, force: true }).catch(() => undefined);
    },
  };
}
