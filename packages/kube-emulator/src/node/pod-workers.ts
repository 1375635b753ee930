// The pods bound to this node: one PodWorker each, and the log files their containers wrote
// (kept until the pod is gone, so logs of terminated containers can still be read).
import { ErrorCodes, PodrunError } from '@podrun/core';
import type { KubeObject } from '../contracts.js';
import type { RunningInstance } from './container-runner.js';
import type { LogFile } from './log-store.js';
import { PodWorker } from './pod-worker.js';
import type { WorkerHost } from './pod-worker.js';

/** What the registry's workers share; `registerLog` is the registry's own. */
export type PodWorkersHost = Omit<WorkerHost, 'registerLog'>;

/** The pod workers of the node, by pod UID. */
export class PodWorkers {
  private readonly workers = new Map<string, PodWorker>();
  private readonly logFiles = new Map<string, { file: LogFile; uid: string }>();
  private readonly host: WorkerHost;

  constructor(
    host: PodWorkersHost,
    private readonly nodeName: string,
  ) {
    this.host = {
      ...host,
      registerLog: (uid, containerID, file) => this.logFiles.set(containerID, { file, uid }),
    };
  }

  /** Starts running a pod bound to this node. */
  start(pod: KubeObject): void {
    const worker = new PodWorker(this.host, pod);
    this.workers.set(worker.uid, worker);
    worker.start();
  }

  has(uid: string): boolean {
    return this.workers.has(uid);
  }

  /** Passes a changed pod object to its worker; false when no worker runs it. */
  update(pod: KubeObject): boolean {
    const worker = this.workers.get(pod.metadata.uid ?? '');
    worker?.update(pod);
    return worker !== undefined;
  }

  /** The pod object was removed from the store: kill what still runs and forget it. */
  deleted(uid: string): void {
    const worker = this.workers.get(uid);
    if (!worker) return;
    void worker.forceDelete().then(() => {
      this.workers.delete(uid);
      for (const [id, entry] of this.logFiles) if (entry.uid === uid) this.logFiles.delete(id);
    });
  }

  /** Pods that still hold node resources (the scheduler's "assigned"). */
  active(): KubeObject[] {
    return [...this.workers.values()].filter((w) => !w.isTerminal).map((w) => w.pod);
  }

  /** The worker of a pod; a clear error when the pod does not run here. */
  of(pod: KubeObject | undefined, namespace: string, name: string): PodWorker {
    const worker = pod ? this.workers.get(pod.metadata.uid ?? '') : undefined;
    if (!worker) {
      throw new PodrunError(
        ErrorCodes.EMULATOR,
        `pod ${namespace}/${name} is not running on node ${this.nodeName}; create it and wait until it is scheduled`,
        { component: 'kube-emulator', details: { namespace, name } },
      );
    }
    return worker;
  }

  /** The running instance of a container, for exec and attach. */
  instance(pod: KubeObject | undefined, container: string): RunningInstance | undefined {
    return this.workers.get(pod?.metadata.uid ?? '')?.instance(container);
  }

  /** The log file of a container instance. */
  logFile(containerID: string): LogFile | undefined {
    return this.logFiles.get(containerID)?.file;
  }

  /** Kills every pod's processes and releases their sandboxes. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.workers.clear();
    this.logFiles.clear();
  }
}
