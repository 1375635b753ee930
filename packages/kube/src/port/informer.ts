// One list+watch loop per (namespace, labelSelector), shared by every subscriber. Written on
// podrun's transport instead of client-node's ListWatch, which stops for good on any non-410
// error and never asks for bookmarks. This loop never stops until released: it resumes from the
// last resourceVersion (bookmarks keep it fresh), relists on 410 (HTTP or ERROR event), and
// backs off on every other failure.
import type { IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger, PodChange, PodSelector } from '@podrun/core';
import { KubeApiError, backoffDelay, sleep } from '@podrun/core';
import type { RetryPolicy } from '../http/retry.js';
import type { Transport } from '../http/transport.js';
import type { PodsApi } from './pods.js';
import { fromJson } from './serialize.js';

/** Tuning of the watch loop. */
export interface WatchTuning {
  /** Server-side timeoutSeconds of each watch request (default: random 300-600, like client-go). */
  timeoutSeconds?: () => number;
  /**
   * A watch that delivers nothing (not even a bookmark) for this long is presumed dead and
   * reopened. Always longer than the server-side timeout, so a healthy idle watch is never cut
   * (client-node 2.0.0 aborts every watch after 30 s).
   */
  idleGraceMs?: number;
  /** Backoff between failed attempts (never gives up). */
  backoff: RetryPolicy;
}

/** Counters, for tests and diagnostics. */
export interface InformerStats {
  lists: number;
  watches: number;
  bookmarks: number;
  relists: number;
  failures: number;
  events: number;
}

type Listener = (change: PodChange) => void;

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: { metadata?: { name?: string; resourceVersion?: string }; code?: number; reason?: string; message?: string };
}

class Expired extends Error {}

/** A shared pod informer for one namespace and label selector. */
export class PodInformer {
  readonly cache = new Map<string, V1Pod>();
  readonly stats: InformerStats = { lists: 0, watches: 0, bookmarks: 0, relists: 0, failures: 0, events: 0 };
  /** Resolves once the first list has filled the cache. */
  readonly synced: Promise<void>;
  private markSynced!: () => void;
  private readonly listeners = new Map<string, Set<Listener>>();
  // Pods this process created that the watch has not shown yet: they exist, so a waiter must not
  // take their absence from the cache for a deletion (nor spend a GET to find out).
  private readonly expected = new Set<string>();
  private readonly errorListeners = new Set<(error: unknown) => void>();
  private readonly stop = new AbortController();
  private resourceVersion = '';
  private running: Promise<void> | undefined;

  constructor(
    private readonly t: Transport,
    private readonly pods: PodsApi,
    readonly selector: PodSelector,
    private readonly tuning: WatchTuning,
    private readonly logger: Logger,
  ) {
    this.synced = new Promise((resolve) => (this.markSynced = resolve));
  }

  /** Starts the loop (idempotent). */
  start(): void {
    this.running ??= this.loop();
  }

  /** Stops the loop and drops the open watch. */
  async close(): Promise<void> {
    this.stop.abort();
    await this.running;
  }

  /** Records a pod just created through this port, until the watch or a list shows it. */
  expect(name: string): void {
    if (!this.cache.has(name)) this.expected.add(name);
  }

  /** True when pod `name` is cached, or was created here and is not shown yet. */
  knows(name: string): boolean {
    return this.cache.has(name) || this.expected.has(name);
  }

  /** Calls `listener` with changes of pod `name`; returns unsubscribe. */
  subscribe(name: string, listener: Listener): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (!set.size && this.listeners.get(name) === set) this.listeners.delete(name);
    };
  }

  /**
   * Calls `listener` with failures that retrying will not fix by itself (401, 403), so waiters
   * can give up; the loop itself keeps going. Returns unsubscribe.
   */
  onPersistentError(listener: (error: unknown) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  private emit(change: PodChange): void {
    this.stats.events++;
    const name = change.pod.metadata?.name ?? '';
    for (const listener of [...(this.listeners.get(name) ?? [])]) {
      try {
        listener(change);
      } catch (error) {
        this.logger.warn('[podrun] [kube] a pod watch subscriber threw; ignored', { error: String(error) });
      }
    }
  }

  private async loop(): Promise<void> {
    const signal = this.stop.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (!this.resourceVersion) await this.relist();
        const started = Date.now();
        const delivered = await this.watchOnce();
        // A server that closes watches at once would otherwise make this a busy loop.
        failures = delivered || Date.now() - started > 1000 ? 0 : failures + 1;
        if (failures) await sleep(backoffDelay(this.tuning.backoff, failures), signal);
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof Expired || (error instanceof KubeApiError && error.status === 410)) {
          this.stats.relists++;
          this.resourceVersion = '';
          continue;
        }
        failures++;
        this.stats.failures++;
        if (error instanceof KubeApiError && (error.status === 401 || error.status === 403)) {
          for (const listener of [...this.errorListeners]) listener(error);
        }
        this.logger.warn('[podrun] [kube] pod watch failed; retrying', {
          namespace: this.selector.namespace,
          labelSelector: this.selector.labelSelector,
          error: error instanceof Error ? error.message : String(error),
        });
        await sleep(backoffDelay(this.tuning.backoff, failures), signal).catch(() => undefined);
      }
    }
  }

  private async relist(): Promise<void> {
    const { namespace, labelSelector } = this.selector;
    const listing = await this.pods.list(namespace, labelSelector, this.stop.signal);
    this.stats.lists++;
    const seen = new Set<string>();
    for (const pod of listing.pods) {
      const name = pod.metadata?.name ?? '';
      seen.add(name);
      const old = this.cache.get(name);
      this.cache.set(name, pod);
      if (!old) this.emit({ type: 'added', pod });
      else if (old.metadata?.resourceVersion !== pod.metadata?.resourceVersion) this.emit({ type: 'updated', pod });
    }
    for (const [name, pod] of [...this.cache]) {
      if (!seen.has(name)) {
        this.cache.delete(name);
        this.emit({ type: 'deleted', pod });
      }
    }
    // A list answers for every pod: an expected one it lacks is told apart by the waiters' GET.
    this.expected.clear();
    this.resourceVersion = listing.resourceVersion;
    this.markSynced();
  }

  /** One watch request; resolves on a clean end (true when it delivered anything). */
  private async watchOnce(): Promise<boolean> {
    const { namespace, labelSelector } = this.selector;
    const timeoutSeconds = this.tuning.timeoutSeconds?.() ?? 300 + Math.floor(Math.random() * 300);
    const res = await this.t.stream({
      method: 'GET',
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
      query: {
        watch: true,
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
        labelSelector,
      },
      signal: this.stop.signal,
      what: `watch pods in ${namespace}${labelSelector ? ` (${labelSelector})` : ''}`,
    });
    this.stats.watches++;
    return await this.consume(res, timeoutSeconds * 1000 + (this.tuning.idleGraceMs ?? 30_000));
  }

  private consume(res: IncomingMessage, idleMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const decoder = new StringDecoder('utf8');
      let buffered = '';
      let delivered = false;
      let settled = false;
      let idle: NodeJS.Timeout | undefined;
      const finish = (error?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(idle);
        res.destroy();
        if (error) reject(error);
        else resolve(delivered);
      };
      const armIdle = () => {
        clearTimeout(idle);
        idle = setTimeout(() => finish(new Error(`no watch data for ${idleMs} ms; reopening`)), idleMs);
        idle.unref();
      };
      armIdle();
      res.on('data', (chunk: Buffer) => {
        armIdle();
        buffered += decoder.write(chunk);
        let nl: number;
        while (!settled && (nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (!line) continue;
          try {
            delivered = this.handle(JSON.parse(line) as WatchEvent) || delivered;
          } catch (error) {
            finish(error);
          }
        }
      });
      res.on('end', () => finish());
      res.on('error', (error) => finish(error));
      res.on('close', () => finish(res.complete ? undefined : new Error('watch connection closed before its end')));
    });
  }

  private handle(event: WatchEvent): boolean {
    const rv = event.object?.metadata?.resourceVersion;
    switch (event.type) {
      case 'BOOKMARK':
        this.stats.bookmarks++;
        if (rv) this.resourceVersion = rv;
        return true;
      case 'ERROR': {
        const status = event.object;
        if (status.code === 410) throw new Expired(status.message ?? 'resourceVersion expired');
        throw new KubeApiError(`[podrun] [kube] the pod watch reported an error: ${status.message ?? status.reason}`, {
          component: 'kube',
          status: status.code,
          reason: status.reason,
        });
      }
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED': {
        const pod = fromJson<V1Pod>(event.object, 'V1Pod');
        const name = pod.metadata?.name ?? '';
        if (rv) this.resourceVersion = rv;
        this.expected.delete(name);
        if (event.type === 'DELETED') {
          this.cache.delete(name);
          this.emit({ type: 'deleted', pod });
        } else {
          const existed = this.cache.has(name);
          this.cache.set(name, pod);
          this.emit({ type: existed ? 'updated' : 'added', pod });
        }
        return true;
      }
      default:
        return false;
    }
  }
}
