// Follows one pod through the process-wide shared informer (no polling) and reports the first
// failure it sees. Image pull errors get a grace period, timed from when each container was
// first seen failing, and re-checked by a timer because no further pod update may come.
// Unschedulable is waited through (until waitUntilRunning), its reason logged when it changes;
// the pod's events are read then, and every 15 s while it lasts, for the cluster-autoscaler's
// verdict (NotTriggerScaleUp fails at once; TriggeredScaleUp is reported), since an autoscaler
// answers some seconds after the scheduler and the pod itself no longer changes.
import type { V1Pod } from '@kubernetes/client-node';
import type { KubePort, PodSelector } from '@podrun/core';
import { classify, pullErrors, type PodFailure } from './classify.js';

const MAX_TIMER = 2 ** 31 - 1;

function eventTime(event: {
  lastTimestamp?: Date | string;
  eventTime?: Date | string;
  metadata?: { creationTimestamp?: Date | string };
}): number {
  return new Date(event.lastTimestamp ?? event.eventTime ?? event.metadata?.creationTimestamp ?? 0).getTime();
}

export interface PodWatchOptions {
  requiredSidecars: ReadonlySet<string>;
  imagePullGraceMs: number;
  /** Fail at once on Unschedulable (the `failOnUnschedulable` option). */
  failOnUnschedulable?: boolean;
  /** Told what the pod waits for while it is Unschedulable (reason changes, autoscaler news). */
  onWaiting?: (message: string) => void;
  onFailure: (failure: PodFailure) => void;
}

const AUTOSCALER_RECHECK_MS = 15_000;

export class PodWatch {
  latest: V1Pod | undefined;
  failure: PodFailure | undefined;
  /** Set before podrun deletes the pod itself, so that deletion is not reported as a failure. */
  deleting = false;
  readonly #pullSince = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #unschedulable: string | undefined;
  #noScaleUp: string | undefined;
  #scaleUpSeen = false;
  #eventsTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly kube: KubePort,
    private readonly selector: PodSelector,
    private readonly name: string,
    private readonly options: PodWatchOptions,
  ) {}

  start(): void {
    this.#unsubscribe = this.kube.watchPod(this.selector, this.name, (change) => {
      if (change.type === 'deleted') {
        this.latest = change.pod;
        if (!this.deleting)
          this.#fail({
            reason: 'PodDeleted',
            message: `pod ${this.name} was deleted by someone else while the task ran`,
          });
        return;
      }
      this.latest = change.pod;
      this.evaluate();
    });
  }

  stop(): void {
    clearTimeout(this.#timer);
    clearTimeout(this.#eventsTimer);
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** While the pod is Unschedulable: says why when that changes, and looks for the autoscaler's verdict. */
  #followScheduling(pod: V1Pod): void {
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const reason =
      scheduled?.status === 'False' && scheduled.reason === 'Unschedulable'
        ? (scheduled.message ?? 'no node fits')
        : undefined;
    if (reason === this.#unschedulable) return;
    this.#unschedulable = reason;
    clearTimeout(this.#eventsTimer);
    if (reason === undefined) return;
    this.options.onWaiting?.(`waiting for a node: ${reason}`);
    void this.#readAutoscaler();
  }

  async #readAutoscaler(): Promise<void> {
    if (this.#unschedulable === undefined || this.failure) return;
    const events = await this.kube.listPodEvents(this.selector.namespace, this.name).catch(() => []);
    const latest = (reason: string) =>
      events.filter((e) => e.reason === reason).sort((a, b) => eventTime(b) - eventTime(a))[0];
    const refused = latest('NotTriggerScaleUp');
    const triggered = latest('TriggeredScaleUp');
    if (refused && (!triggered || eventTime(refused) >= eventTime(triggered))) {
      this.#noScaleUp = refused.message ?? 'no scale-up';
      this.evaluate();
      return;
    }
    if (triggered && !this.#scaleUpSeen) {
      this.#scaleUpSeen = true;
      this.options.onWaiting?.(`the cluster-autoscaler is adding a node: ${triggered.message ?? ''}`.trim());
    }
    clearTimeout(this.#eventsTimer);
    this.#eventsTimer = setTimeout(() => void this.#readAutoscaler(), AUTOSCALER_RECHECK_MS);
    this.#eventsTimer.unref();
  }

  /** Re-classifies the latest state (also called by the grace timer). */
  evaluate(): void {
    const pod = this.latest;
    if (!pod || this.failure) return;
    if (pod.metadata?.deletionTimestamp && !this.deleting) {
      return this.#fail({
        reason: 'PodDeleted',
        message: `pod ${this.name} is being deleted by someone else (since ${String(pod.metadata.deletionTimestamp)})`,
      });
    }
    const now = Date.now();
    const failing = new Set(pullErrors(pod));
    for (const name of [...this.#pullSince.keys()]) if (!failing.has(name)) this.#pullSince.delete(name);
    for (const name of failing) if (!this.#pullSince.has(name)) this.#pullSince.set(name, now);
    const failure = classify(pod, {
      requiredSidecars: this.options.requiredSidecars,
      pullErrorSince: this.#pullSince,
      imagePullGraceMs: this.options.imagePullGraceMs,
      now,
      failOnUnschedulable: this.options.failOnUnschedulable ?? false,
      ...(this.#noScaleUp !== undefined ? { noScaleUp: this.#noScaleUp } : {}),
    });
    if (failure) return this.#fail(failure);
    this.#followScheduling(pod);
    clearTimeout(this.#timer);
    if (this.#pullSince.size) {
      const due = Math.min(...this.#pullSince.values()) + this.options.imagePullGraceMs - now;
      // Clamped: a longer delay overflows Node's timer and would fire at once, over and over.
      this.#timer = setTimeout(() => this.evaluate(), Math.min(Math.max(due, 0) + 5, MAX_TIMER));
      this.#timer.unref();
    }
  }

  #fail(failure: PodFailure): void {
    if (this.failure) return;
    this.failure = failure;
    clearTimeout(this.#timer);
    this.options.onFailure(failure);
  }
}
