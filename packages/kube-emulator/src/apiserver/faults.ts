// The fault API: programmatic (`cluster.faults`) and over HTTP (`POST /podrun-admin/faults/<name>`
// with a JSON body, system:masters only).
import type { LogClockSettings, NodeFaults } from '../contracts.js';
import { failure, badRequest } from './status.js';
import type { KubeStatus } from './status.js';
import type { ApiObjectStore } from './store.js';
import type { WatchRegistry } from './watch.js';

/** Which requests a failNext applies to, and how they fail. */
export interface FailNextOptions {
  /** How many matching requests fail (default 1). */
  count?: number;
  status: 429 | 500 | 503;
  /** Sent as Retry-After and details.retryAfterSeconds (429 defaults to 1). */
  retryAfterSeconds?: number;
  /** RBAC verb (`list`, `watch`, `get`, `create`, ...), case-insensitive. */
  verb?: string;
  resource?: string;
  subresource?: string;
}

/** Faults a test or benchmark can inject. */
export interface ClusterFaults {
  /** Ends every open watch now (clients see a clean end of stream and must re-watch). */
  dropWatches(): void;
  /** Answers the next matching requests with 429/500/503. */
  failNext(options: FailNextOptions): void;
  /** Cuts each exec WebSocket after it has sent this many bytes (undefined: off). */
  cutExecAfterBytes(bytes: number | undefined, count?: number): void;
  /** Makes every resourceVersion handed out so far too old (410) and closes current watches. */
  expireResourceVersions(): void;
  /** New pods stay Pending (Unschedulable) until resumed. */
  stopScheduling(): void;
  resumeScheduling(): void;
  /** A cluster-autoscaler's answer to Unschedulable pods: TriggeredScaleUp, NotTriggerScaleUp or none. */
  autoscaler(mode: 'off' | 'scale-up' | 'no-scale-up'): void;
  oomKill(namespace: string, pod: string, container?: string): void;
  evict(namespace: string, pod: string, message?: string): void;
  /**
   * `held`: new claims stay Pending, as while a slow provisioner works (pods using them are
   * Unschedulable: "pod has unbound immediate PersistentVolumeClaims"); `immediate` (the default)
   * provisions and binds every Pending claim now and new ones at once.
   */
  claimProvisioning(mode: 'held' | 'immediate'): void;
  /** Stamps log lines more harshly (coarse clock, stderr stamped before it is written), as busy nodes do. */
  logClock(settings: Partial<LogClockSettings>): void;
  /** Closes the listener and every connection, then listens again on the same port. */
  restartApiServer(): Promise<void>;
  /** Forgets pending failNext entries. */
  clearFailures(): void;
}

/** A request as failNext matches it. */
export interface FaultTarget {
  verb: string;
  resource: string;
  subresource: string;
}

/** The faults plus the hooks the server uses. */
export interface FaultController extends ClusterFaults {
  /** The Status and headers to fail this request with, if a failNext entry matches. */
  takeFailure(target: FaultTarget): { status: KubeStatus; headers: Record<string, string> } | undefined;
  /** Runs an admin fault by name with a JSON body. */
  runByName(name: string, body: Record<string, unknown>): Promise<void>;
}

interface PendingFailure extends FailNextOptions {
  remaining: number;
}

function statusFor(entry: PendingFailure): { status: KubeStatus; headers: Record<string, string> } {
  const retry = entry.retryAfterSeconds ?? (entry.status === 429 ? 1 : undefined);
  const headers: Record<string, string> = retry !== undefined ? { 'Retry-After': String(retry) } : {};
  const details = retry !== undefined ? { retryAfterSeconds: retry } : undefined;
  switch (entry.status) {
    case 429:
      return {
        status: failure(429, 'TooManyRequests', 'Too many requests, please try again later.', details),
        headers,
      };
    case 503:
      return {
        status: failure(503, 'ServiceUnavailable', 'the server is currently unable to handle the request', details),
        headers,
      };
    default:
      return {
        status: failure(
          500,
          'InternalError',
          'Internal error occurred: injected by the podrun kube-emulator fault API',
          {
            ...details,
            causes: [{ message: 'injected by the podrun kube-emulator fault API' }],
          },
        ),
        headers,
      };
  }
}

/** Creates the fault controller. */
export function createFaults(deps: {
  store: ApiObjectStore;
  watches: WatchRegistry;
  node: NodeFaults;
  restart: () => Promise<void>;
  claimProvisioning: (held: boolean) => void;
}): FaultController {
  const pending: PendingFailure[] = [];
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

  const faults: FaultController = {
    dropWatches: () => deps.watches.closeAll(),
    failNext(options) {
      if (![429, 500, 503].includes(options.status)) throw badRequest('failNext status must be 429, 500 or 503');
      pending.push({ ...options, remaining: options.count ?? 1 });
    },
    cutExecAfterBytes: (bytes, count) => deps.node.cutExecAfterBytes(bytes, count),
    expireResourceVersions() {
      deps.store.expireAll();
      deps.watches.closeAll();
    },
    stopScheduling: () => deps.node.setSchedulingStopped(true),
    resumeScheduling: () => deps.node.setSchedulingStopped(false),
    autoscaler: (mode) => deps.node.setAutoscaler(mode),
    oomKill: (namespace, pod, container) => deps.node.oomKill(namespace, pod, container),
    evict: (namespace, pod, message) => deps.node.evict(namespace, pod, message),
    logClock: (settings) => deps.node.setLogClock(settings),
    claimProvisioning: (mode) => deps.claimProvisioning(mode === 'held'),
    restartApiServer: () => deps.restart(),
    clearFailures() {
      pending.length = 0;
    },
    takeFailure(target) {
      const index = pending.findIndex(
        (p) =>
          (p.verb === undefined || p.verb.toLowerCase() === target.verb) &&
          (p.resource === undefined || p.resource === target.resource) &&
          (p.subresource === undefined || p.subresource === target.subresource),
      );
      if (index < 0) return undefined;
      const entry = pending[index]!;
      entry.remaining--;
      if (entry.remaining <= 0) pending.splice(index, 1);
      return statusFor(entry);
    },
    async runByName(name, body) {
      switch (name) {
        case 'dropWatches':
          return faults.dropWatches();
        case 'failNext':
          return faults.failNext({
            status: (num(body.status) ?? 503) as FailNextOptions['status'],
            ...(num(body.count) !== undefined ? { count: num(body.count) } : {}),
            ...(num(body.retryAfterSeconds) !== undefined ? { retryAfterSeconds: num(body.retryAfterSeconds) } : {}),
            ...(str(body.verb) ? { verb: str(body.verb) } : {}),
            ...(str(body.resource) ? { resource: str(body.resource) } : {}),
            ...(str(body.subresource) !== undefined ? { subresource: str(body.subresource) } : {}),
          });
        case 'cutExecAfterBytes':
          return faults.cutExecAfterBytes(num(body.bytes), num(body.count));
        case 'expireResourceVersions':
          return faults.expireResourceVersions();
        case 'stopScheduling':
          return faults.stopScheduling();
        case 'resumeScheduling':
          return faults.resumeScheduling();
        case 'autoscaler': {
          const mode = String(body.mode ?? 'off');
          if (mode !== 'off' && mode !== 'scale-up' && mode !== 'no-scale-up')
            throw new Error(`autoscaler mode must be off, scale-up or no-scale-up, not ${JSON.stringify(mode)}`);
          return faults.autoscaler(mode);
        }
        case 'oomKill':
          return faults.oomKill(String(body.namespace ?? 'default'), String(body.pod ?? ''), str(body.container));
        case 'evict':
          return faults.evict(String(body.namespace ?? 'default'), String(body.pod ?? ''), str(body.message));
        case 'claimProvisioning': {
          const mode = String(body.mode ?? 'immediate');
          if (mode !== 'held' && mode !== 'immediate')
            throw new Error(`claimProvisioning mode must be held or immediate, not ${JSON.stringify(mode)}`);
          return faults.claimProvisioning(mode);
        }
        case 'logClock':
          return faults.logClock({
            ...(num(body.granularityMs) !== undefined ? { granularityMs: num(body.granularityMs) } : {}),
            ...(num(body.stderrLagMs) !== undefined ? { stderrLagMs: num(body.stderrLagMs) } : {}),
          });
        case 'restartApiServer':
          return faults.restartApiServer();
        case 'clearFailures':
          return faults.clearFailures();
        default:
          throw badRequest(`unknown fault "${name}"`);
      }
    },
  };
  return faults;
}
