// Wakes pod workers waiting on ConfigMap/Secret changes (projected volumes refresh on change, or
// after the kubelet's sync period at the latest).

/** Waiters for the next ConfigMap/Secret change. */
export interface ConfigChanges {
  /** Resolves on the next change, after `timeoutMs`, or when `signal` aborts. */
  wait(timeoutMs: number, signal: AbortSignal): Promise<void>;
  /** A ConfigMap or Secret changed: wake every waiter. */
  notify(): void;
}

/** An empty set of waiters. */
export function createConfigChanges(): ConfigChanges {
  const waiters = new Set<() => void>();
  return {
    wait(timeoutMs, signal) {
      return new Promise((resolveWait) => {
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(done);
          signal.removeEventListener('abort', done);
          resolveWait();
        };
        const timer = setTimeout(done, timeoutMs);
        waiters.add(done);
        signal.addEventListener('abort', done);
      });
    },
    notify() {
      for (const wake of [...waiters]) wake();
    },
  };
}
