// One bound pod on the node, like the kubelet's pod worker: volumes, init containers one by one,
// then all containers; status published to the store; deadline, deletion, eviction and OOM.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { KubeObject, LogClockSettings, NodeOptions } from '../contracts.js';
import { kubeTime } from './clock.js';
import type { PodEvents } from './events.js';
import { runContainer } from './container-runner.js';
import type { ContainerSpec, PodAddresses, PodRuntime, RunningInstance } from './container-runner.js';
import type { LogFile } from './log-store.js';
import { qosClass } from './quantity.js';
import type { SandboxMount } from './sandbox.js';
import { Conditions, apiContainerStatus, computePhase, updateReadiness } from './status.js';
import type { ContainerStatusModel } from './status.js';
import { hostsFile } from './network.js';
import { prepareVolumes } from './volumes.js';
import type { PreparedVolume } from './volumes.js';

/** What the node gives each pod worker. */
export interface WorkerHost {
  readonly options: NodeOptions;
  /** How log lines are stamped (changed by the logClock fault). */
  readonly logClock: LogClockSettings;
  /** Where the worker's Events go. */
  readonly events: PodEvents;
  /** The sandbox template directory, built once per node, or why sandboxes cannot be made. */
  sandbox(): Promise<{ template: string } | { problem: string }>;
  registerLog(podUid: string, containerID: string, file: LogFile): void;
  /** Resolves on the next ConfigMap/Secret change, after `timeoutMs`, or when `signal` aborts. */
  configChanged(timeoutMs: number, signal: AbortSignal): Promise<void>;
  /** The pod reached a terminal phase (its resources are free again). */
  onTerminal(worker: PodWorker): void;
}

interface PodSpecLike {
  containers?: ContainerSpec[];
  initContainers?: ContainerSpec[];
  activeDeadlineSeconds?: number;
  terminationGracePeriodSeconds?: number;
  hostAliases?: { ip: string; hostnames?: string[] }[];
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  hostNetwork?: boolean;
  hostname?: string;
  subdomain?: string;
}

/** Runs one pod. Create it once the pod is bound to this node, then call `start()`. */
export class PodWorker implements PodRuntime {
  pod: KubeObject;
  readonly podDir: string;
  readonly volumes = new Map<string, PreparedVolume>();
  readonly podMounts: SandboxMount[] = [];
  readonly uid: string;
  /** podIP stays empty until the pod's network namespace exists, as the kubelet reports it. */
  readonly addresses: PodAddresses;
  private readonly controller = new AbortController();
  /** Aborted once the regular containers are done for good: sidecars are no longer restarted. */
  readonly sidecarStop = new AbortController();
  private readonly statusWaiters = new Set<() => void>();
  private readonly statuses: ContainerStatusModel[];
  private readonly conditions = new Conditions();
  private readonly running = new Map<string, RunningInstance>();
  private override: { reason: string; message: string } | undefined;
  private terminalPhase: string | undefined;
  private startTime: string | undefined;
  private removed = false;
  private deleting = false;
  private publishQueued = false;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private finished: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: WorkerHost,
    pod: KubeObject,
  ) {
    this.pod = pod;
    this.uid = pod.metadata.uid ?? '';
    this.podDir = join(
      host.options.stateDir,
      'pods',
      `${pod.metadata.namespace ?? 'default'}_${pod.metadata.name}_${this.uid}`,
    );
    const spec = this.spec();
    this.addresses = {
      hostIP: host.options.network.hostIP,
      podIP: '',
      netnsPath: undefined,
      hostname: spec.hostNetwork ? hostname() : (spec.hostname ?? pod.metadata.name),
    };
    const waiting = (spec.initContainers?.length ?? 0) > 0 ? 'PodInitializing' : 'ContainerCreating';
    const model = (c: ContainerSpec, init: boolean): ContainerStatusModel => ({
      name: c.name,
      init,
      ...(init && c.restartPolicy === 'Always' ? { sidecar: true } : {}),
      state: { waiting: { reason: waiting } },
      lastState: {},
      ready: false,
      started: false,
      restartCount: 0,
      // Until the image is pulled the kubelet reports the image as written in the spec.
      image: c.image ?? '',
      imageID: '',
    });
    this.statuses = [
      ...(spec.initContainers ?? []).map((c) => model(c, true)),
      ...(spec.containers ?? []).map((c) => model(c, false)),
    ];
    this.conditions.set('PodScheduled', true);
  }

  get options(): NodeOptions {
    return this.host.options;
  }
  get logClock(): LogClockSettings {
    return this.host.logClock;
  }
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  sandbox(): Promise<{ template: string } | { problem: string }> {
    return this.host.sandbox();
  }
  /** Whether the pod reached Succeeded or Failed. */
  get isTerminal(): boolean {
    return this.terminalPhase !== undefined;
  }

  /** Starts the pod's containers (in the background). */
  start(): void {
    this.finished = this.run().catch((error: unknown) => {
      this.event('Warning', 'Failed', `podrun node error: ${(error as Error).message}`);
    });
  }

  /** A newer version of the pod from the store (labels, annotations, deletionTimestamp). */
  update(pod: KubeObject): void {
    if (pod.metadata.uid !== this.uid) return;
    this.pod = pod;
    if (pod.metadata.deletionTimestamp && !this.deleting)
      void this.deleteGracefully(pod.metadata.deletionGracePeriodSeconds ?? 30);
  }

  status(name: string, init: boolean): ContainerStatusModel {
    return this.statuses.find((s) => s.name === name && s.init === init)!;
  }

  /** The running instance of a container, for exec. */
  instance(name: string): RunningInstance | undefined {
    return this.running.get(name);
  }

  setRunning(name: string, instance: RunningInstance | undefined): void {
    if (instance) this.running.set(name, instance);
    else this.running.delete(name);
  }

  registerLog(containerID: string, file: LogFile): void {
    this.host.registerLog(this.uid, containerID, file);
  }

  configChanged(timeoutMs: number): Promise<void> {
    return this.host.configChanged(timeoutMs, this.signal);
  }

  event(
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    container?: { name: string; init: boolean },
  ): void {
    this.host.events.record(this.pod, type, reason, message, container);
  }

  /** Recomputes phase and conditions and publishes the status (coalesced per tick). */
  changed(): void {
    for (const waiter of [...this.statusWaiters]) waiter();
    if (this.terminalPhase === undefined) {
      const phase = this.override ? 'Failed' : computePhase(this.statuses, this.spec().restartPolicy ?? 'Always');
      if (phase === 'Succeeded' || phase === 'Failed') {
        this.terminalPhase = phase;
        clearTimeout(this.deadlineTimer);
        this.controller.abort();
        // Like the kubelet's sandbox teardown: the IP is free again, status.podIP stays.
        void this.finished.then(() => this.options.network.detach(this.uid));
        queueMicrotask(() => this.host.onTerminal(this));
      }
    }
    if (this.publishQueued) return;
    this.publishQueued = true;
    queueMicrotask(() => {
      this.publishQueued = false;
      this.publish();
    });
  }

  /** The OOM fault: the kernel-style kill of one container (or all running ones). */
  oomKill(container?: string): void {
    for (const instance of this.running.values()) {
      if (container && instance.name !== container) continue;
      instance.oomRequested = true;
      instance.sandbox.signal('SIGKILL');
    }
  }

  /** The kubelet's eviction: Failed/Evicted with a DisruptionTarget condition, processes killed at once. */
  evict(message: string): void {
    if (this.terminalPhase !== undefined) return;
    this.conditions.set('DisruptionTarget', true, 'TerminationByKubelet', message);
    this.fail('Evicted', message);
    this.event('Warning', 'Evicted', message);
    void this.killAll(0);
  }

  /** Force deletion (the pod is already gone from the store): kill everything now, clean up. */
  async forceDelete(): Promise<void> {
    this.removed = true;
    this.deleting = true;
    this.controller.abort();
    await this.killAll(0);
    await this.cleanup();
  }

  /** Node shutdown: like force deletion, without touching the store. */
  stop(): Promise<void> {
    return this.forceDelete();
  }

  private spec(): PodSpecLike {
    return (this.pod.spec ?? {}) as PodSpecLike;
  }

  private fail(reason: string, message: string): void {
    this.override = { reason, message };
    this.changed();
  }

  private async run(): Promise<void> {
    this.startTime = kubeTime();
    const spec = this.spec();
    this.conditions.set('PodReadyToStartContainers', false);
    this.changed();
    if (spec.activeDeadlineSeconds !== undefined) {
      this.deadlineTimer = setTimeout(() => this.deadlineExceeded(), spec.activeDeadlineSeconds * 1000);
    }
    mkdirSync(this.podDir, { recursive: true, mode: 0o700 });
    if (!(await this.attachNetwork())) return;
    let lastMountError = '';
    for (;;) {
      if (this.signal.aborted) return;
      const result = await prepareVolumes({
        stateDir: this.options.stateDir,
        podDir: this.podDir,
        pod: this.pod,
        store: this.options.store,
        hostIP: this.addresses.hostIP,
        podIP: this.addresses.podIP,
        allocatable: this.options.allocatable,
      });
      if (result.ok) {
        for (const [name, volume] of result.volumes) this.volumes.set(name, volume);
        break;
      }
      if (result.message !== lastMountError) this.event('Warning', 'FailedMount', result.message);
      lastMountError = result.message;
      await this.configChanged(10_000);
    }
    this.writePodFiles();
    this.conditions.set('PodReadyToStartContainers', true);
    this.changed();
    const sidecars: Promise<unknown>[] = [];
    try {
      for (const init of spec.initContainers ?? []) {
        if (init.restartPolicy === 'Always') {
          // A native sidecar: started in order, kept running (restarted whenever it exits) beside
          // the regular containers; the next init container starts once it has started.
          sidecars.unshift(runContainer(this, init, true));
          const status = this.status(init.name, true);
          await Promise.race([
            sidecars[0],
            this.waitFor(() => Boolean(status.state.running || status.lastState.terminated)),
          ]);
          if (this.signal.aborted) return;
          continue;
        }
        const outcome = await runContainer(this, init, true);
        if (outcome !== 'succeeded') return;
      }
      await Promise.all((spec.containers ?? []).map((c) => runContainer(this, c, false)));
    } finally {
      // The regular containers are done for good (or a later init container failed): the
      // sidecars are stopped, last started first.
      if (sidecars.length > 0) {
        this.sidecarStop.abort();
        await this.stopSidecars(spec);
        await Promise.all(sidecars);
      }
    }
  }

  /** SIGTERM to each running sidecar in reverse start order, SIGKILL after the grace period. */
  private async stopSidecars(spec: PodSpecLike): Promise<void> {
    const grace = spec.terminationGracePeriodSeconds ?? 30;
    const sidecars = (spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').reverse();
    for (const sidecar of sidecars) {
      const instance = this.running.get(sidecar.name);
      if (!instance?.init) continue;
      this.event('Normal', 'Killing', `Stopping container ${sidecar.name}`, { name: sidecar.name, init: true });
      instance.sandbox.signal('SIGTERM');
      const timer = setTimeout(() => instance.sandbox.signal('SIGKILL'), grace * 1000);
      await instance.sandbox.exited;
      clearTimeout(timer);
    }
  }

  /** Resolves once `check()` holds (re-checked on every status change) or the pod stops. */
  private waitFor(check: () => boolean): Promise<void> {
    return new Promise((resolveWait) => {
      const poll = (): void => {
        if (check() || this.signal.aborted) {
          this.statusWaiters.delete(poll);
          resolveWait();
        }
      };
      this.statusWaiters.add(poll);
      poll();
    });
  }

  private writePodFiles(): void {
    const dir = join(this.podDir, 'etc');
    mkdirSync(dir, { recursive: true });
    const spec = this.spec();
    const hosts = hostsFile({
      podIP: this.addresses.podIP,
      hostname: this.addresses.hostname,
      domain: spec.subdomain ? `${spec.subdomain}.${this.pod.metadata.namespace ?? 'default'}.svc.cluster.local` : '',
      hostNetwork: spec.hostNetwork === true,
      aliases: spec.hostAliases ?? [],
    });
    writeFileSync(join(dir, 'hosts'), hosts, { mode: 0o644 });
    writeFileSync(join(dir, 'hostname'), `${this.addresses.hostname}\n`, { mode: 0o644 });
    this.podMounts.push({ source: join(dir, 'hosts'), target: '/etc/hosts', readOnly: false, file: true });
    this.podMounts.push({ source: join(dir, 'hostname'), target: '/etc/hostname', readOnly: false, file: true });
    // The host's resolver config may live under a masked path (/run/systemd/resolve): copy it.
    if (existsSync('/etc/resolv.conf')) {
      try {
        writeFileSync(join(dir, 'resolv.conf'), readFileSync('/etc/resolv.conf'), { mode: 0o644 });
        this.podMounts.push({
          source: join(dir, 'resolv.conf'),
          target: '/etc/resolv.conf',
          readOnly: false,
          file: true,
        });
      } catch {
        // Unreadable: containers keep whatever the host root shows.
      }
    }
  }

  private deadlineExceeded(): void {
    if (this.terminalPhase !== undefined) return;
    const message = 'Pod was active on the node longer than the specified deadline';
    this.event('Warning', 'DeadlineExceeded', message);
    this.fail('DeadlineExceeded', message);
    void this.killAll(this.spec().terminationGracePeriodSeconds ?? 30);
  }

  private async deleteGracefully(graceSeconds: number): Promise<void> {
    this.deleting = true;
    this.controller.abort();
    clearTimeout(this.deadlineTimer);
    await this.killAll(graceSeconds);
    this.publish();
    const current = this.options.store.identity('pods', this.pod.metadata.namespace, this.pod.metadata.name);
    if (current?.uid === this.uid)
      this.options.store.remove('pods', this.pod.metadata.namespace, this.pod.metadata.name);
    this.removed = true;
    await this.cleanup();
  }

  /** SIGTERM (or SIGKILL at once when grace is 0), SIGKILL at the deadline; resolves when every container is done. */
  private async killAll(graceSeconds: number): Promise<void> {
    this.controller.abort();
    for (const instance of this.running.values()) {
      if (graceSeconds > 0)
        this.event('Normal', 'Killing', `Stopping container ${instance.name}`, {
          name: instance.name,
          init: instance.init,
        });
      instance.sandbox.signal(graceSeconds > 0 ? 'SIGTERM' : 'SIGKILL');
    }
    const timer =
      graceSeconds > 0
        ? setTimeout(() => {
            for (const instance of this.running.values()) instance.sandbox.signal('SIGKILL');
          }, graceSeconds * 1000)
        : undefined;
    // Containers started right now (between abort and this call) are killed by their runner.
    await this.finished;
    clearTimeout(timer);
  }

  private publish(): void {
    if (this.removed) return;
    const store = this.options.store;
    const { namespace, name } = this.pod.metadata;
    const current = store.identity('pods', namespace, name);
    if (!current || current.uid !== this.uid) return;
    const spec = this.spec();
    const phase = this.terminalPhase ?? computePhase(this.statuses, spec.restartPolicy ?? 'Always');
    updateReadiness(this.conditions, this.statuses, phase);
    const status: Record<string, unknown> = {
      phase,
      conditions: this.conditions.list(),
      hostIP: this.addresses.hostIP,
      hostIPs: [{ ip: this.addresses.hostIP }],
      ...(this.addresses.podIP ? { podIP: this.addresses.podIP, podIPs: [{ ip: this.addresses.podIP }] } : {}),
      ...(this.startTime ? { startTime: this.startTime } : {}),
      ...(this.override ? { reason: this.override.reason, message: this.override.message } : {}),
      qosClass: qosClass(spec),
    };
    const init = this.statuses.filter((s) => s.init);
    if (init.length > 0) status.initContainerStatuses = init.map(apiContainerStatus);
    status.containerStatuses = this.statuses.filter((s) => !s.init).map(apiContainerStatus);
    store.update('pods', namespace, name, (pod) => ({ ...pod, status }));
  }

  /** Creates the pod's network namespace; failing that, the pod fails as a real sandbox failure would. */
  private async attachNetwork(): Promise<boolean> {
    try {
      const attachment = await this.options.network.attach(this.uid, this.spec().hostNetwork === true);
      Object.assign(this.addresses, attachment);
      if (this.signal.aborted) await this.options.network.detach(this.uid);
      return !this.signal.aborted;
    } catch (error) {
      const message = `Failed to create pod sandbox: ${(error as Error).message}`;
      this.event('Warning', 'FailedCreatePodSandBox', message);
      this.fail('FailedCreatePodSandBox', message);
      return false;
    }
  }

  private async cleanup(): Promise<void> {
    await this.options.network.detach(this.uid);
    await rm(this.podDir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
  }
}
