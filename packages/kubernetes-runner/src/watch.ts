// Follows one pod through the process-wide shared informer (no polling) and reports the first
// failure it sees. Image pull errors get a grace period, timed from when each container was
// first seen failing, and re-checked by a timer because no further pod update may come.
import type { V1Pod } from '@kubernetes/client-node';
import type { KubePort, PodSelector } from '@podrun/core';
import { classify, pullErrors, type PodFailure } from './classify.js';

const MAX_TIMER = 2 ** 31 - 1;

export interface PodWatchOptions {
  requiredSidecars: ReadonlySet<string>;
  imagePullGraceMs: number;
  onFailure: (failure: PodFailure) => void;
}

export class PodWatch {
  latest: V1Pod | undefined;
  failure: PodFailure | undefined;
  /** Set before podrun deletes the pod itself, so that deletion is not reported as a failure. */
  deleting = false;
  readonly #pullSince = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

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
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
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
    });
    if (failure) return this.#fail(failure);
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
