// startCluster: the composition root wiring the API server half and the node half together.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, PodrunError } from '@podrun/core';
import type { StoredImage } from './contracts.js';
import { tuneGarbageCollectorForStreams } from './gc-tuning.js';
import { createAuthenticator } from './apiserver/auth.js';
import type { BasicAuthUser, StaticToken } from './apiserver/auth.js';
import type { ServerContext } from './apiserver/context.js';
import { bootstrap, eventRecorder, startControllers } from './apiserver/controllers.js';
import { createFaults } from './apiserver/faults.js';
import type { ClusterFaults } from './apiserver/faults.js';
import { createMetrics } from './apiserver/metrics.js';
import type { ApiMetrics } from './apiserver/metrics.js';
import { createAuthorizer } from './apiserver/rbac.js';
import { startApiServer } from './apiserver/server.js';
import { setClaimProvisioning } from './apiserver/strategy.js';
import type { ApiServer } from './apiserver/server.js';
import { DEFAULT_EVENT_TTL_MS, expireEvents } from './apiserver/event-ttl.js';
import { createObjectStore } from './apiserver/store.js';
import { createClusterCa } from './apiserver/tls.js';
import { createServiceAccountTokens } from './apiserver/tokens.js';
import { createWatchServer } from './apiserver/watch.js';
import { kubeconfigIssuer } from './kubeconfig.js';
import type { KubeconfigIdentity } from './kubeconfig.js';
import { createNode } from './node/index.js';
import { createImageStore } from './node/image-store.js';
import { defaultImageCatalogue } from './node/images.js';
import { createPodNetwork } from './node/network.js';

/** Options of {@link startCluster}; every one is optional. */
export interface ClusterOptions {
  /** TCP port on 127.0.0.1 (default: a random free port). */
  port?: number;
  /** Where pods, volumes, logs and the kubeconfig live (default: a fresh temp dir, removed on stop). */
  stateDir?: string;
  /** Serve plain HTTP instead of HTTPS (explicit opt-in; the kubeconfig then uses a bearer token). */
  plainHttp?: boolean;
  /**
   * Catalogue names that run on the host's root filesystem when no imported image has the name,
   * in addition to the built-in catalogue (busybox, alpine, python, ...). A fallback that says so.
   */
  images?: string[];
  /**
   * Image archives to import before the cluster serves: OCI image layouts (directories or tar /
   * tar.gz) or `docker save` archives; names come from the archive. Pulls succeed exactly for
   * imported images (and the catalogue fallback). More can be imported later with
   * `podrun cluster image import` or {@link EmbeddedCluster.importImage}.
   */
  imageArchives?: string[];
  /**
   * The Kubernetes version to serve as, `1.<minor>` (default `1.32`): `/version` says it, and
   * before 1.30 exec negotiates at most `v4.channel.k8s.io` (no stdin close), as such servers do.
   */
  kubernetesVersion?: string;
  /** Extra labels of the node (matched by nodeSelector). */
  nodeLabels?: Record<string, string>;
  /** Node allocatable resources (default: this machine's CPUs and memory, 110 pods). */
  allocatable?: Record<string, string>;
  /** Kubernetes 1.35 behaviour: WebSocket exec also needs `create pods/exec` (default false, as 1.32). */
  execRequiresCreate?: boolean;
  /** Interval of BOOKMARK events for watches that allow them (default 60000, like kube-apiserver). */
  bookmarkIntervalMs?: number;
  /** Static bearer tokens accepted besides ServiceAccount tokens. */
  staticTokens?: StaticToken[];
  /** Basic-auth users. */
  basicAuth?: BasicAuthUser[];
  /** How many changes watches can resume from (default 2000); older resourceVersions get 410. */
  watchHistorySize?: number;
  /**
   * How long an Event is kept after its last write, in milliseconds: kube-apiserver's
   * `--event-ttl` (default one hour, as there); 0 keeps Events for ever.
   */
  eventTtlMs?: number;
  /**
   * Give each pod its own network namespace and IP on a host bridge (default true). When false, or
   * when the machine cannot (no root/CAP_NET_ADMIN, no `ip`), pods share the host network.
   */
  podNetwork?: boolean;
  /** Where the emulator's few log lines go (default: standard error). */
  log?: (line: string) => void;
  /**
   * Tune this process's garbage collector for the cluster's streams (default true): turns off
   * V8's incremental marking, process-wide and for the rest of the process's life. Streams
   * (exec, logs, file copies) then cost the cluster about a third less CPU: with it on, V8 runs a
   * full mark-compact every ~24 MB streamed. Pass false to leave the host process's GC alone.
   */
  tuneGarbageCollector?: boolean;
}

function parseKubernetesVersion(text: string): { major: number; minor: number } {
  const match = /^v?1\.(\d+)(?:\.\d+)?$/.exec(text.trim());
  if (!match || Number(match[1]) < 20) {
    throw new PodrunError(
      ErrorCodes.CONFIG_INVALID,
      `kubernetesVersion "${text}" is not a Kubernetes version the emulator can serve as; give 1.<minor> with minor 20 or more, e.g. 1.29`,
      { component: 'kube-emulator' },
    );
  }
  return { major: 1, minor: Number(match[1]) };
}

/** A running emulated cluster. */
export interface EmbeddedCluster {
  /** `https://127.0.0.1:<port>` (or `http://` with plainHttp). */
  readonly url: string;
  /** Admin kubeconfig (client certificate of `podrun-admin`, group `system:masters`). */
  readonly kubeconfig: string;
  /** The same kubeconfig written to a file in the state directory. */
  readonly kubeconfigPath: string;
  /** The cluster CA (PEM). */
  readonly caCertPem: string;
  /** The address pods reach this machine at (the pod bridge's, or 127.0.0.1 on the host network); also status.hostIP. */
  readonly hostIP: string;
  /** Why pods share the host network; undefined when each pod has its own network namespace. */
  readonly podNetworkFallback: string | undefined;
  readonly stateDir: string;
  readonly faults: ClusterFaults;
  readonly metrics: ApiMetrics;
  /** Closes the listener and every connection, then listens again on the same port; pods keep running. */
  restartApiServer(): Promise<void>;
  /** Imports an image archive (see {@link ClusterOptions.imageArchives}); `name` overrides its name. */
  importImage(archive: string, name?: string): Promise<StoredImage[]>;
  /** The imported images. */
  images(): StoredImage[];
  /** A kubeconfig for another identity: a client certificate for `user`/`groups`, or a token, or basic auth. */
  kubeconfigFor(identity: KubeconfigIdentity): string;
  /** Stops the API server and the node (every pod process is killed) and removes a temporary state dir. */
  stop(): Promise<void>;
}

function defaultAllocatable(): Record<string, string> {
  return {
    cpu: String(os.cpus().length || 1),
    memory: `${Math.floor(os.totalmem() / 1024 / 1024)}Mi`,
    pods: '110',
    'ephemeral-storage': '100Gi',
  };
}

/** Starts an emulated cluster in this process. */
export async function startCluster(options: ClusterOptions = {}): Promise<EmbeddedCluster> {
  const version = parseKubernetesVersion(options.kubernetesVersion ?? '1.32');
  if (options.port !== undefined && (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)) {
    throw new PodrunError(
      ErrorCodes.CONFIG_INVALID,
      `port ${options.port} is not a TCP port; pass 0-65535 or leave it out for a random one`,
      {
        component: 'kube-emulator',
      },
    );
  }
  const eventTtlMs = options.eventTtlMs ?? DEFAULT_EVENT_TTL_MS;
  if (!Number.isFinite(eventTtlMs) || eventTtlMs < 0) {
    throw new PodrunError(
      ErrorCodes.CONFIG_INVALID,
      `eventTtlMs ${eventTtlMs} is not a time to keep Events; pass milliseconds (0 keeps them for ever) or leave it out for an hour`,
      { component: 'kube-emulator' },
    );
  }
  if (options.tuneGarbageCollector !== false) tuneGarbageCollectorForStreams();
  const ownsStateDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? mkdtempSync(join(os.tmpdir(), 'podrun-kube-emulator-'));
  mkdirSync(stateDir, { recursive: true });

  const ca = createClusterCa();
  const serving = ca.issueServerCertificate(
    ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
    ['127.0.0.1', '::1'],
  );
  const adminToken = randomBytes(24).toString('base64url');
  const store = createObjectStore({ historySize: options.watchHistorySize ?? 2000 });
  const nodeName = 'podrun-node';
  const allocatable = options.allocatable ?? defaultAllocatable();
  const network = await createPodNetwork({ enabled: options.podNetwork !== false });
  bootstrap(store, { name: nodeName, labels: options.nodeLabels ?? {}, allocatable, internalIP: network.hostIP });

  let server: ApiServer | undefined;
  const tokens = createServiceAccountTokens(store);
  const watches = createWatchServer(store, options.bookmarkIntervalMs ?? 60_000);
  const recordEvent = eventRecorder(store, nodeName);
  const imageStore = createImageStore(join(stateDir, 'images'));
  try {
    for (const archive of options.imageArchives ?? []) await imageStore.importArchive({ path: archive });
  } catch (error) {
    await network.stop();
    if (ownsStateDir) rmSync(stateDir, { recursive: true, force: true });
    throw error;
  }
  // The node runs pods from the store; it is complete before the API server's context names it.
  const node = createNode({
    store,
    stateDir,
    nodeName,
    nodeLabels: options.nodeLabels ?? {},
    allocatable,
    images: [...defaultImageCatalogue, ...(options.images ?? [])],
    imageStore,
    recordEvent,
    network,
  });
  const ctx: ServerContext = {
    store,
    node,
    authorizer: createAuthorizer(store),
    tokens,
    watches,
    stateDir,
    caCertPem: ca.certPem,
    execRequiresCreate: options.execRequiresCreate ?? false,
    recordEvent,
    serverAddress: () => `127.0.0.1:${server?.port ?? 0}`,
    images: imageStore,
    version,
    claimProvisioning: { held: false },
  };
  const stopControllers = startControllers(ctx);
  const stopEventExpiry = eventTtlMs > 0 ? expireEvents(store, eventTtlMs) : () => undefined;
  if (network.fallbackReason !== undefined) {
    recordEvent({
      namespace: 'default',
      involvedObject: { kind: 'Node', name: nodeName, namespace: '' },
      type: options.podNetwork === false ? 'Normal' : 'Warning',
      reason: 'HostNetworkFallback',
      message: `pods share the host network: ${network.fallbackReason}`,
    });
    if (options.podNetwork !== false)
      (options.log ?? ((line: string) => process.stderr.write(`${line}\n`)))(
        `podrun kube-emulator: pods share the host network: ${network.fallbackReason}`,
      );
  }

  const faults = createFaults({
    store,
    watches,
    node: node.faults,
    // The server needs the faults to start; the restart fault can only fire once it listens.
    restart: () => server!.restart(),
    claimProvisioning: (held) => setClaimProvisioning(ctx, held),
  });
  const metrics = createMetrics();
  const plain = options.plainHttp === true;
  try {
    server = await startApiServer({
      ctx,
      authenticator: createAuthenticator({
        tokens,
        staticTokens: [
          ...(options.staticTokens ?? []),
          ...(plain ? [{ token: adminToken, user: 'podrun-admin', groups: ['system:masters'] }] : []),
        ],
        basicAuth: options.basicAuth ?? [],
      }),
      faults,
      metrics,
      tls: plain ? undefined : { keyPem: serving.keyPem, certPem: serving.certPem, caPem: ca.certPem },
      host: '127.0.0.1',
      port: options.port ?? 0,
    });
  } catch (error) {
    await node.stop();
    await network.stop();
    stopControllers();
    if (ownsStateDir) rmSync(stateDir, { recursive: true, force: true });
    throw new PodrunError(
      ErrorCodes.EMULATOR,
      `cannot listen on 127.0.0.1:${options.port ?? 0} (${(error as Error).message}); pick another port or leave it out`,
      {
        component: 'kube-emulator',
        cause: error,
      },
    );
  }
  const url = `${plain ? 'http' : 'https'}://127.0.0.1:${server.port}`;
  const issuer = kubeconfigIssuer({ server: url, ca, tls: !plain });
  const kubeconfig = plain
    ? issuer.kubeconfig({ token: adminToken }, 'podrun-admin')
    : issuer.kubeconfig({ user: 'podrun-admin', groups: ['system:masters'] });
  const kubeconfigPath = join(stateDir, 'kubeconfig');
  writeFileSync(kubeconfigPath, kubeconfig, { mode: 0o600 });

  let stopped: Promise<void> | undefined;
  return {
    url,
    kubeconfig,
    kubeconfigPath,
    caCertPem: ca.certPem,
    hostIP: network.hostIP,
    podNetworkFallback: network.fallbackReason,
    stateDir,
    faults,
    metrics,
    restartApiServer: () => server!.restart(),
    kubeconfigFor: (identity) => issuer.kubeconfig(identity),
    importImage: (archive, name) => imageStore.importArchive({ path: archive }, name),
    images: () => imageStore.list(),
    stop() {
      stopped ??= (async () => {
        await server!.close();
        await node.stop();
        await network.stop();
        stopControllers();
        stopEventExpiry();
        store.clear();
        if (ownsStateDir) rmSync(stateDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
