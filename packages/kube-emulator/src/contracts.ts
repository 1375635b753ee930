// The seam between the two halves of the emulator: the API server (apiserver/) owns objects,
// HTTP, auth and watches; the node (node/) runs pods and serves their logs and exec sessions.
// Both halves depend only on this file, never on each other's internals.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { WebSocket } from 'ws';
import { ErrorCodes, PodrunError } from '@podrun/core';
import type { Readable } from 'node:stream';
import type { PodNetwork } from './node/network.js';

/** Any Kubernetes object as stored (plain JSON with apiVersion, kind, metadata). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generateName?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** Watch event types as on the wire. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** A change to a stored object, delivered to store subscribers in resourceVersion order. */
export interface StoreEvent {
  type: WatchEventType;
  /** Resource plural, e.g. `pods`, `persistentvolumeclaims`. */
  resource: string;
  object: KubeObject;
}

/** Thrown by {@link ObjectStore.create} when an object of that resource, namespace and name exists. */
export class StoreConflictError extends PodrunError {
  constructor(resource: string, namespace: string | undefined, name: string) {
    super(
      ErrorCodes.EMULATOR,
      `${resource} "${name}" already exists${namespace ? ` in namespace ${namespace}` : ''}; pick another name or delete it first`,
      { component: 'kube-emulator', details: { resource, namespace, name } },
    );
  }
}

/**
 * The cluster state. One global, monotonically increasing resourceVersion across all objects
 * (like etcd's revision). Every write returns a deep copy with the new resourceVersion.
 */
export interface ObjectStore {
  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined;
  /**
   * The uid and resourceVersion of an object, without the deep copy `get` makes: for the node's
   * frequent "is this still the same object" checks and the event recorder.
   */
  identity(
    resource: string,
    namespace: string | undefined,
    name: string,
  ): { uid: string; resourceVersion: string } | undefined;
  list(resource: string, namespace?: string): KubeObject[];
  /** Creates; throws StoreConflictError if the name exists. Fills uid, RV, creationTimestamp. */
  create(resource: string, object: KubeObject): KubeObject;
  /**
   * Replaces an object (the node uses it to write pod status). `mutate` receives a deep copy of
   * the current object and returns the new one; the RV is bumped and MODIFIED emitted.
   * Returns undefined if the object no longer exists.
   */
  update(
    resource: string,
    namespace: string | undefined,
    name: string,
    mutate: (current: KubeObject) => KubeObject,
  ): KubeObject | undefined;
  /** Removes now and emits DELETED with the last state. */
  remove(resource: string, namespace: string | undefined, name: string): KubeObject | undefined;
  /**
   * Subscribes to every change; returns unsubscribe. Listeners run synchronously inside the
   * write. The event is deeply frozen (shared with other listeners and the watch history):
   * copy before changing it.
   */
  subscribe(listener: (event: StoreEvent) => void): () => void;
  /** Current global resourceVersion. */
  currentResourceVersion(): number;
}

/** The parts of an OCI image config the kubelet and runtime use. */
export interface OciImageConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
}

/** One imported image. */
export interface StoredImage {
  /** Names it answers to, normalised (`docker.io/library/busybox:latest`). */
  names: string[];
  /** The manifest digest (`sha256:…`); for a docker archive, the config digest as docker reports it. */
  digest: string;
  /** Bytes of config and layer blobs, as the kubelet reports "Image size". */
  size: number;
  config: OciImageConfig;
  /** The unpacked root filesystem (never written: containers get an overlay over it). */
  rootfs: string;
}

/** Where an archive comes from: a path (file or layout directory) or a stream of a tar/tar.gz. */
export type ImageSource = { path: string } | { stream: Readable };

/** The node's image store; the API server's image admin endpoint imports and lists through it. */
export interface ImageStore {
  /** Imports every image of the archive; `name` overrides the archive's names (one image only). */
  importArchive(source: ImageSource, name?: string): Promise<StoredImage[]>;
  /** The image `reference` names (any tag/digest spelling), or undefined. */
  find(reference: string): StoredImage | undefined;
  list(): StoredImage[];
}

/** Options of one pods/log request, already parsed and validated by the API server. */
export interface LogRequest {
  namespace: string;
  pod: string;
  container: string;
  follow: boolean;
  timestamps: boolean;
  sinceTime?: Date;
  sinceSeconds?: number;
  tailLines?: number;
  limitBytes?: number;
  previous: boolean;
}

/** Options of one exec session, already authorized by the API server. */
export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  /** The negotiated subprotocol: `v5.channel.k8s.io` or `v4.channel.k8s.io` (or older). */
  protocol: string;
}

/**
 * How container log lines are stamped. Like a CRI runtime, each stream is stamped on its own when
 * its output is read (every line of one read shares the stamp), so stamps of stdout and stderr
 * interleave freely; these settings make that harsher, as busy or coarse-clocked nodes do.
 */
export interface LogClockSettings {
  /** Stamps are rounded down to this many milliseconds (0: nanoseconds), so many lines share one. */
  granularityMs: number;
  /** stderr lines are stamped this long before they are written, so they land out of order. */
  stderrLagMs: number;
}

/** Faults the node can inject (the API server exposes them through the fault API). */
export interface NodeFaults {
  /** Pods stay Pending (PodScheduled=False Unschedulable) until resumed. */
  setSchedulingStopped(stopped: boolean): void;
  /**
   * A cluster-autoscaler answering each Unschedulable pod with one event, as it does:
   * `scale-up` (TriggeredScaleUp: a node is coming; resume scheduling to let it "join"),
   * `no-scale-up` (NotTriggerScaleUp: no node group would fit it), or `off` (no autoscaler).
   */
  setAutoscaler(mode: 'off' | 'scale-up' | 'no-scale-up'): void;
  /** Kills the container's process tree and marks it terminated with reason OOMKilled, exit 137. */
  oomKill(namespace: string, pod: string, container?: string): void;
  /** Evicts the pod: phase Failed, reason Evicted, processes killed. */
  evict(namespace: string, pod: string, message?: string): void;
  /** Cuts each exec WebSocket after it has sent this many bytes of stdout (undefined: off). */
  cutExecAfterBytes(bytes: number | undefined, count?: number): void;
  /** Changes how log lines are stamped from now on (see {@link LogClockSettings}). */
  setLogClock(settings: Partial<LogClockSettings>): void;
}

/**
 * The node: watches the store for pods, schedules and runs them as sandboxed processes, writes
 * their status back, and serves logs and exec.
 */
export interface Node {
  readonly name: string;
  /** Handles a validated pods/log request (writes status + body; streams when follow). */
  serveLogs(request: LogRequest, req: IncomingMessage, res: ServerResponse): void;
  /**
   * Runs an exec session on an upgraded WebSocket whose subprotocol is already negotiated.
   * The node sends the initial empty frame, streams, sends exactly one status on channel 3 and
   * closes with code 1000.
   */
  serveExec(request: ExecRequest, socket: WebSocket): void;
  /** Runs an attach session (`request.command` is empty) the same way, ending when the container's output does. */
  serveAttach(request: ExecRequest, socket: WebSocket): void;
  /** Checks that exec/log into this pod/container is possible now; returns a 400 message if not. */
  checkContainer(
    namespace: string,
    pod: string,
    container: string,
    purpose: 'exec' | 'attach' | 'log' | 'log-previous',
  ): string | undefined;
  readonly faults: NodeFaults;
  /** Kills every process and releases sandboxes. */
  stop(): Promise<void>;
}

/** What the node needs at start. */
export interface NodeOptions {
  store: ObjectStore;
  /** Directory for pod sandboxes, volumes and logs. */
  stateDir: string;
  /** Node name (`podrun-node`) and labels used by nodeSelector. */
  nodeName: string;
  nodeLabels: Record<string, string>;
  /** Allocatable resources, e.g. `{ cpu: '2', memory: '8Gi', pods: '110' }`. */
  allocatable: Record<string, string>;
  /** Catalogue names that run on the host's root filesystem when no imported image has that name. */
  images: string[];
  /** Pod network namespaces and IPs (or the host network); the node detaches pods, the cluster stops it. */
  network: PodNetwork;
  /** Imported images: the node's image store and, for pulls, the cluster's registry. */
  imageStore: ImageStore;
  /** Records an Event object (the API server owns the events resource). */
  recordEvent(event: {
    namespace: string;
    involvedObject: { kind: string; name: string; namespace: string; uid?: string; fieldPath?: string };
    type: 'Normal' | 'Warning';
    reason: string;
    message: string;
  }): void;
}

/**
 * Where a PersistentVolumeClaim's data lives: the API server creates this directory when the
 * claim is created (the claim is Bound at once) and removes it when the claim is deleted; the
 * node bind-mounts it for `persistentVolumeClaim` volumes.
 */
export function claimDirectory(stateDir: string, namespace: string, claimName: string): string {
  return join(stateDir, 'volumes', 'pvc', namespace, claimName);
}

/*
 * Pod deletion is split between the halves:
 * - Graceful (gracePeriodSeconds > 0 on a scheduled, non-terminal pod): the API server sets
 *   metadata.deletionTimestamp (now + grace) and metadata.deletionGracePeriodSeconds (MODIFIED).
 *   The node sends SIGTERM, then SIGKILL at the deadline, then calls store.remove (DELETED).
 * - Immediate (gracePeriodSeconds=0, or the pod has no spec.nodeName, or its phase is Succeeded or
 *   Failed — as kube-apiserver's CheckGracefulDelete does): the API server calls store.remove at
 *   once and the node kills whatever still runs when it sees DELETED.
 */
