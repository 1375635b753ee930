// One container's life on the node, like the kubelet's sync loop for it: image "pull", config
// (env, mounts), start in a sandbox, capture logs, wait, then restart per restartPolicy with
// back-off. Every state change goes into the container's status model and is published.
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject, LogClockSettings, NodeOptions, StoredImage } from '../contracts.js';
import { kubeTime } from './clock.js';
import { resolveEnv } from './env.js';
import type { ContainerEnvSpec } from './env.js';
import {
  defaultImageCatalogue,
  defaultPullPolicy,
  defaultPath,
  imageConfig,
  isKnownImage,
  parseImage,
  pullErrorMessage,
} from './images.js';
import { expand } from './env.js';
import { containerIdentity } from './identity.js';
import type { ContainerIdentity } from './identity.js';
import type { ImageConfig } from './images.js';
import { createLogWriter } from './log-store.js';
import type { LogFile } from './log-store.js';
import { containerLimit } from './quantity.js';
import { startSandbox } from './sandbox.js';
import type { Sandbox, SandboxMount } from './sandbox.js';
import type { ContainerStatusModel } from './status.js';
import { containerMounts } from './volumes.js';
import type { PreparedVolume } from './volumes.js';

/** The container fields the node uses. */
export interface ContainerSpec extends ContainerEnvSpec {
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  imagePullPolicy?: string;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
  terminationMessagePath?: string;
  terminationMessagePolicy?: string;
  /** `Always` on an init container makes it a native sidecar (Kubernetes 1.29+). */
  restartPolicy?: string;
  /** Keep a stdin open for attach; `stdinOnce` closes it after the first attach session. */
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  securityContext?: {
    runAsUser?: number;
    runAsGroup?: number;
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
  };
}

/** A started container instance, as exec and the kill paths need it. */
export interface RunningInstance {
  readonly containerID: string;
  readonly name: string;
  readonly init: boolean;
  readonly sandbox: Sandbox;
  readonly env: [string, string][];
  readonly workingDir: string;
  /** Who the container's processes (and exec sessions into it) run as. */
  readonly identity: ContainerIdentity;
  /** Set by the OOM fault before it kills, so the exit is reported as OOMKilled. */
  oomRequested: boolean;
  /** `stdinOnce`: the container's stdin closes when the first attach session's stdin does. */
  readonly stdinOnce: boolean;
}

/** What the pod worker offers each of its containers. */
export interface PodRuntime {
  readonly pod: KubeObject;
  readonly options: NodeOptions;
  readonly logClock: LogClockSettings;
  /** Aborted once the regular containers are done for good: native sidecars stop restarting. */
  readonly sidecarStop: AbortController;
  readonly podDir: string;
  /** Aborted when the pod stops running containers (deletion, deadline, eviction, terminal). */
  readonly signal: AbortSignal;
  readonly volumes: Map<string, PreparedVolume>;
  /** The node's sandbox template directory, or why sandboxes cannot be made here. */
  sandbox(): Promise<{ template: string } | { problem: string }>;
  /** Pod-wide files (/etc/hosts, /etc/hostname, /etc/resolv.conf). */
  readonly podMounts: SandboxMount[];
  /** The pod's addresses and network namespace, known before any container starts. */
  readonly addresses: PodAddresses;
  status(name: string, init: boolean): ContainerStatusModel;
  changed(): void;
  event(type: 'Normal' | 'Warning', reason: string, message: string, container?: { name: string; init: boolean }): void;
  setRunning(name: string, instance: RunningInstance | undefined): void;
  registerLog(containerID: string, file: LogFile): void;
  /** Resolves when a ConfigMap or Secret changes, after `timeoutMs`, or on abort. */
  configChanged(timeoutMs: number): Promise<void>;
}

/** A pod's status.hostIP and status.podIP, the network namespace its containers join, its hostname. */
export interface PodAddresses {
  hostIP: string;
  podIP: string;
  netnsPath: string | undefined;
  /** spec.hostname or the pod name; the host's name for hostNetwork pods (they share its UTS namespace). */
  hostname: string;
}

/** Back-off of the kubelet's restarts and pulls, shortened for an emulator (see README). */
const restartBackoff = { initialMs: 1_000, maxMs: 30_000 };
const pullBackoff = { initialMs: 10_000, maxMs: 300_000 };

/** Resolves after `ms` or as soon as `signal` aborts. */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

/**
 * Runs the container until it is done for good: `succeeded`/`failed` per its last exit when the
 * restart policy lets it stay terminated, `aborted` when the pod stopped it.
 */
export async function runContainer(
  rt: PodRuntime,
  spec: ContainerSpec,
  init: boolean,
): Promise<'succeeded' | 'failed' | 'aborted'> {
  const status = rt.status(spec.name, init);
  const restartPolicy = ((rt.pod.spec as { restartPolicy?: string } | undefined)?.restartPolicy ?? 'Always') as string;
  const ref = { name: spec.name, init };
  let backoff = restartBackoff.initialMs;
  const sidecar = init && spec.restartPolicy === 'Always';
  // A sidecar waiting to restart stops waiting when the regular containers are done.
  const restartWait = sidecar ? AbortSignal.any([rt.signal, rt.sidecarStop.signal]) : rt.signal;
  for (;;) {
    if (sidecar && rt.sidecarStop.signal.aborted) return 'aborted';
    const pulled = rt.signal.aborted ? undefined : await pullImage(rt, spec, init);
    if (!pulled) return 'aborted';
    const prepared = await prepare(rt, spec, init, pulled);
    if (!prepared) return 'aborted';
    const sandbox = await rt.sandbox();
    if ('problem' in sandbox) {
      createError(rt, spec, init, sandbox.problem);
      await delay(backoff, rt.signal);
      backoff = Math.min(backoff * 2, restartBackoff.maxMs);
      continue;
    }
    rt.event('Normal', 'Created', `Created container: ${spec.name}`, ref);
    const outcome = await startAndWait(rt, spec, init, prepared, sandbox.template, pulled);
    if (outcome.kind === 'setup-error') {
      createError(rt, spec, init, outcome.message);
      await delay(backoff, rt.signal);
      backoff = Math.min(backoff * 2, restartBackoff.maxMs);
      continue;
    }
    if (rt.signal.aborted) return 'aborted';
    const success = outcome.exitCode === 0;
    if (sidecar && rt.sidecarStop.signal.aborted) return success ? 'succeeded' : 'failed';
    const restart = sidecar
      ? true
      : init
        ? !success && restartPolicy !== 'Never'
        : restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && !success);
    if (!restart) return success ? 'succeeded' : 'failed';
    const seconds = Math.round(backoff / 1000);
    const podName = `${rt.pod.metadata.name}_${rt.pod.metadata.namespace ?? 'default'}(${rt.pod.metadata.uid ?? ''})`;
    status.lastState = { terminated: status.state.terminated! };
    status.state = {
      waiting: {
        reason: 'CrashLoopBackOff',
        message: `back-off ${seconds}s restarting failed container=${spec.name} pod=${podName}`,
      },
    };
    status.restartCount += 1;
    status.ready = false;
    status.started = false;
    rt.changed();
    rt.event('Warning', 'BackOff', `Back-off restarting failed container ${spec.name} in pod ${podName}`, ref);
    await delay(backoff, restartWait);
    backoff = Math.min(backoff * 2, restartBackoff.maxMs);
  }
}

/** What a container runs on: an imported image, or the host's filesystem (catalogue fallback). */
type PulledImage = { stored: StoredImage } | { hostFilesystem: true };

async function pullImage(rt: PodRuntime, spec: ContainerSpec, init: boolean): Promise<PulledImage | undefined> {
  const status = rt.status(spec.name, init);
  const ref = { name: spec.name, init };
  const catalogue = rt.options.images.length > 0 ? rt.options.images : defaultImageCatalogue;
  const policy = spec.imagePullPolicy ?? defaultPullPolicy(spec.image);
  const image = spec.image;
  const stored = rt.options.imageStore.find(image);
  if (stored) {
    // Imported images are both on the node and in the cluster's registry: Always pulls (from the
    // store, so it is quick but real), the other policies find it present.
    if (policy === 'Always') {
      const started = performance.now();
      rt.event('Normal', 'Pulling', `Pulling image "${image}"`, ref);
      const took = formatPullDuration(performance.now() - started);
      rt.event(
        'Normal',
        'Pulled',
        `Successfully pulled image "${image}" in ${took} (${took} including waiting). Image size: ${stored.size} bytes.`,
        ref,
      );
    } else {
      rt.event('Normal', 'Pulled', `Container image "${image}" already present on machine`, ref);
    }
    return { stored };
  }
  if (isKnownImage(image, catalogue)) {
    rt.event(
      'Normal',
      'HostFilesystemImage',
      `Image "${image}" was not imported into the embedded cluster: running it on the host's root filesystem (import a real image with \`podrun cluster image import\`)`,
      ref,
    );
    return { hostFilesystem: true };
  }
  if (policy === 'Never') {
    const message = `Container image "${image}" is not present with pull policy of Never`;
    status.state = { waiting: { reason: 'ErrImageNeverPull', message } };
    rt.changed();
    rt.event('Warning', 'ErrImageNeverPull', message, ref);
    await delay(2 ** 31 - 1, rt.signal);
    return undefined;
  }
  let backoff = pullBackoff.initialMs;
  for (;;) {
    const message = pullErrorMessage(image);
    rt.event('Normal', 'Pulling', `Pulling image "${image}"`, ref);
    rt.event('Warning', 'Failed', `Failed to pull image "${image}": ${message}`, ref);
    rt.event('Warning', 'Failed', 'Error: ErrImagePull', ref);
    status.state = { waiting: { reason: 'ErrImagePull', message } };
    rt.changed();
    await delay(1_000, rt.signal);
    if (rt.signal.aborted) return undefined;
    status.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` } };
    rt.changed();
    rt.event('Normal', 'BackOff', `Back-off pulling image "${image}"`, ref);
    rt.event('Warning', 'Failed', 'Error: ImagePullBackOff', ref);
    await delay(backoff, rt.signal);
    if (rt.signal.aborted) return undefined;
    backoff = Math.min(backoff * 2, pullBackoff.maxMs);
  }
}

interface Prepared {
  env: [string, string][];
  command: string[];
  mounts: SandboxMount[];
  workingDir: string;
  identity: ContainerIdentity;
}

/** The image config the container starts from: the imported one, or the catalogue's approximation. */
function startingConfig(spec: ContainerSpec, pulled: PulledImage): ImageConfig & { workingDir: string; user?: string } {
  if ('hostFilesystem' in pulled) return { ...imageConfig(spec.image), workingDir: '' };
  const config = pulled.stored.config;
  return {
    entrypoint: config.Entrypoint ?? [],
    cmd: config.Cmd ?? [],
    env: (config.Env ?? []).map((entry) => {
      const eq = entry.indexOf('=');
      return eq < 0 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
    }),
    workingDir: config.WorkingDir ?? '',
    ...(config.User ? { user: config.User } : {}),
  };
}

/** Env and mounts; a CreateContainerConfigError waits for a ConfigMap/Secret change and retries. */
async function prepare(
  rt: PodRuntime,
  spec: ContainerSpec,
  init: boolean,
  pulled: PulledImage,
): Promise<Prepared | undefined> {
  const image = startingConfig(spec, pulled);
  for (;;) {
    if (rt.signal.aborted) return undefined;
    const env = resolveEnv(spec, {
      pod: rt.pod,
      store: rt.options.store,
      hostIP: rt.addresses.hostIP,
      podIP: rt.addresses.podIP,
      allocatable: rt.options.allocatable,
    });
    const mounts = env.ok ? await containerMounts(spec, rt.volumes) : undefined;
    const who = containerIdentity(
      rt.pod,
      spec.name,
      spec,
      image.user,
      'stored' in pulled ? pulled.stored.rootfs : undefined,
    );
    const problem = !env.ok ? env.message : mounts && !mounts.ok ? mounts.message : !who.ok ? who.message : undefined;
    if (problem === undefined && env.ok && mounts?.ok && who.ok) {
      const home = who.identity.uid === 0 ? '/root' : '/';
      const all = new Map<string, string>([
        ['PATH', defaultPath],
        ...image.env,
        ['HOSTNAME', rt.addresses.hostname],
        ...(image.env.some(([key]) => key === 'HOME') ? [] : [['HOME', home] as [string, string]]),
        ...env.env,
      ]);
      const lookup = (name: string): string | undefined => all.get(name);
      const argv = spec.command?.length
        ? [...spec.command, ...(spec.args ?? [])]
        : [...image.entrypoint, ...(spec.args ?? image.cmd)];
      return {
        env: [...all.entries()],
        command: argv.map((arg) => expand(arg, lookup)),
        mounts: [...rt.podMounts, ...mounts.mounts],
        workingDir: spec.workingDir || image.workingDir || '/',
        identity: who.identity,
      };
    }
    const status = rt.status(spec.name, init);
    const message = problem ?? 'invalid container configuration';
    if (status.state.waiting?.reason !== 'CreateContainerConfigError' || status.state.waiting.message !== message) {
      status.state = { waiting: { reason: 'CreateContainerConfigError', message } };
      rt.changed();
      rt.event('Warning', 'Failed', `Error: ${message}`, { name: spec.name, init });
    }
    await rt.configChanged(10_000);
  }
}

function createError(rt: PodRuntime, spec: ContainerSpec, init: boolean, message: string): void {
  const status = rt.status(spec.name, init);
  status.state = { waiting: { reason: 'CreateContainerError', message } };
  rt.changed();
  rt.event('Warning', 'Failed', `Error: ${message}`, { name: spec.name, init });
}

type Outcome = { kind: 'setup-error'; message: string } | { kind: 'terminated'; exitCode: number };

async function startAndWait(
  rt: PodRuntime,
  spec: ContainerSpec,
  init: boolean,
  prepared: Prepared,
  template: string,
  pulled: PulledImage,
): Promise<Outcome> {
  const status = rt.status(spec.name, init);
  const id = randomBytes(32).toString('hex');
  const containerID = `podrun://${id}`;
  const dir = join(rt.podDir, 'containers', `${spec.name}-${id.slice(0, 12)}`);
  const logDir = join(rt.podDir, 'logs', spec.name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  mkdirSync(logDir, { recursive: true, mode: 0o700 });
  const terminationLog = join(dir, 'termination-log');
  writeFileSync(terminationLog, '', { mode: 0o666 });
  const memory = containerLimit(spec, 'memory');
  const cpu = containerLimit(spec, 'cpu');
  const sandbox = await startSandbox({
    dir,
    hostname: rt.addresses.hostname,
    netnsPath: rt.addresses.netnsPath,
    mounts: [
      ...prepared.mounts,
      {
        source: terminationLog,
        target: spec.terminationMessagePath || '/dev/termination-log',
        readOnly: false,
        file: true,
      },
    ],
    env: prepared.env,
    command: prepared.command,
    workingDir: prepared.workingDir,
    template,
    identity: prepared.identity,
    ...('stored' in pulled ? { rootfs: pulled.stored.rootfs } : {}),
    ...(memory !== undefined ? { memoryLimitBytes: memory } : {}),
    ...(cpu !== undefined ? { cpuLimitCores: cpu } : {}),
    ...(spec.stdin ? { stdin: true } : {}),
  });
  const writer = createLogWriter(join(logDir, `${status.restartCount}.log`), rt.logClock);
  writer.attach(sandbox.stdout, 'stdout');
  writer.attach(sandbox.stderr, 'stderr');
  rt.registerLog(containerID, writer.file);
  const instance: RunningInstance = {
    containerID,
    name: spec.name,
    init,
    sandbox,
    env: prepared.env,
    workingDir: prepared.workingDir,
    identity: prepared.identity,
    oomRequested: false,
    stdinOnce: spec.stdinOnce === true,
  };
  rt.setRunning(spec.name, instance);
  if (rt.signal.aborted) sandbox.signal('SIGKILL');

  const started = await sandbox.started;
  const startedAt = kubeTime();
  const image = imageStatus(spec.image, pulled);
  if (started.kind === 'started') {
    status.state = { running: { startedAt } };
    status.containerID = containerID;
    status.image = image.fullName;
    status.imageID = image.imageID;
    status.started = true;
    // No probes: a regular container or a sidecar is ready once it runs.
    status.ready = !init || spec.restartPolicy === 'Always';
    rt.changed();
    rt.event('Normal', 'Started', `Started container ${spec.name}`, { name: spec.name, init });
  }
  const exit = await sandbox.exited;
  await writer.close();
  rt.setRunning(spec.name, undefined);
  if (started.kind === 'setup-error') {
    await sandbox.release();
    return { kind: 'setup-error', message: started.message };
  }
  const finishedAt = kubeTime();
  let terminated: NonNullable<ContainerStatusModel['state']['terminated']>;
  if (started.kind === 'start-error') {
    terminated = {
      exitCode: 128,
      reason: 'StartError',
      message: started.message,
      startedAt: '1970-01-01T00:00:00Z',
      finishedAt,
      containerID,
    };
    rt.event('Warning', 'Failed', `Error: ${started.message}`, { name: spec.name, init });
  } else {
    const oom = instance.oomRequested || exit.oomKilled;
    const exitCode = instance.oomRequested ? 137 : exit.exitCode;
    terminated = {
      exitCode,
      reason: oom ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error',
      startedAt,
      finishedAt,
      containerID,
    };
    const message = terminationMessage(terminationLog, spec, writer.file.path, exitCode);
    if (message) terminated.message = message;
  }
  status.state = { terminated };
  status.containerID = containerID;
  status.image = image.fullName;
  status.imageID = image.imageID;
  status.ready = init && spec.restartPolicy !== 'Always' && terminated.exitCode === 0;
  status.started = false;
  rt.changed();
  await sandbox.release();
  return { kind: 'terminated', exitCode: terminated.exitCode };
}

/** `image`/`imageID` of the container status: the real digest, or a name for the host's filesystem. */
function imageStatus(reference: string, pulled: PulledImage): { fullName: string; imageID: string } {
  const parsed = parseImage(reference);
  if ('hostFilesystem' in pulled) {
    return { fullName: parsed.fullName, imageID: `host-filesystem:///${parsed.repository}` };
  }
  const repository = parsed.fullName.replace(/[:@][^/]*$/, '');
  return { fullName: parsed.fullName, imageID: `${repository}@${pulled.stored.digest}` };
}

/** The kubelet's pull duration format (Go's time.Duration String, rounded to milliseconds). */
function formatPullDuration(ms: number): string {
  return ms < 1000 ? `${Math.max(1, Math.round(ms))}ms` : `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;
}

/** The termination message file, or with FallbackToLogsOnError the log's tail on failure. */
function terminationMessage(file: string, spec: ContainerSpec, logPath: string, exitCode: number): string | undefined {
  try {
    const text = readFileSync(file).subarray(0, 4096).toString('utf8');
    if (text) return text;
    if (spec.terminationMessagePolicy !== 'FallbackToLogsOnError' || exitCode === 0) return undefined;
    const lines = readTail(logPath, 64 * 1024)
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .slice(-80)
      .map((line) => line.split(' ').slice(3).join(' '));
    return lines.join('\n').slice(-2048) || undefined;
  } catch {
    return undefined;
  }
}

/** The last `bytes` of a file (its first line may be cut). */
function readTail(path: string, bytes: number): string {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    // A leading newline marks a complete first line; otherwise the cut first line is dropped by the caller.
    return size <= bytes ? `\n${buffer.toString('utf8')}` : buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}
