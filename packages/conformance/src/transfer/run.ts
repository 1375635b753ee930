// One task run driven the way the Kubernetes runner drives a transfer: prepare, contribute, build
// the pod with @podrun/pod-spec, create it, upload inputs, wait for the main container, download
// outputs, release. Each step is separate so cases can abort or fault any of them.
import { randomBytes } from 'node:crypto';
import type { V1ContainerStatus, V1Pod, V1PodSecurityContext, V1SecurityContext } from '@kubernetes/client-node';
import {
  defaultPodPaths,
  silentLogger,
  type FileTransfer,
  type InputEntry,
  type KubePort,
  type OutputSelection,
  type OutputSink,
  type PodContribution,
  type PodPaths,
  type PodSelector,
  type TaskFilesPlan,
  type TaskRunIdentity,
  type TransferContext,
  type TransferReport,
} from '@podrun/core';
import { buildPod } from '@podrun/pod-spec';
import type { PortFaults } from '../faults.js';

/** Label put on every pod of one suite run, so one shared watch sees them all. */
export const SUITE_LABEL = 'conformance.podrun.io/suite';

/** What the cases of one suite share. */
export interface TransferEnv {
  /** The port strategies get (with the fault layer). */
  kube: KubePort;
  faults: PortFaults;
  transfer: FileTransfer;
  namespace: string;
  image: string;
  selector: PodSelector;
  suiteId: string;
  /** Drops the next transfer stream of a strategy that does not move bytes over exec. */
  dropNextStream?: (afterBytes: number) => void;
  /** How many streams `dropNextStream` has dropped so far. */
  droppedStreams?: () => number;
}

/** What one case runs. */
export interface RunSpec {
  /** Short name, part of the pod name. */
  label: string;
  /** Shell script of the main container; it starts in WORKING_DIR with OUTPUT_DIR created. */
  script: string;
  inputs?: InputEntry[];
  select?: Partial<OutputSelection>;
  /**
   * Users to run as: `pod` becomes the pod's securityContext, `task` the main container's, `files`
   * that of every container the strategy contributes (init containers and sidecars).
   */
  securityContext?: { pod?: V1PodSecurityContext; task?: V1SecurityContext; files?: V1SecurityContext };
}

const MAIN = 'main';
const WAIT_MS = 180_000;

function describeStatus(status: V1ContainerStatus): string {
  const s = status.state;
  const state = s?.running
    ? 'running'
    : s?.terminated
      ? `terminated ${s.terminated.reason ?? ''} ${s.terminated.exitCode}`
      : `waiting ${s?.waiting?.reason ?? ''} ${s?.waiting?.message ?? ''}`;
  return `${status.name}: ${state.trim()}`;
}

/** One line per container, for failure messages. */
export function describePod(pod: V1Pod | undefined): string {
  if (!pod) return 'pod not found';
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  return `phase ${pod.status?.phase ?? '?'}; ${statuses.map(describeStatus).join('; ')}`;
}

function mainStatus(pod: V1Pod): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((s) => s.name === MAIN);
}

/** A task run of one case. */
export class TransferRun {
  readonly identity: TaskRunIdentity;
  readonly paths: PodPaths;
  readonly select: OutputSelection;
  readonly plan: TaskFilesPlan;
  podName: string | undefined;
  contribution: PodContribution | undefined;
  #prepared = false;
  #released = false;

  constructor(
    readonly env: TransferEnv,
    readonly spec: RunSpec,
  ) {
    const id = randomBytes(5).toString('hex');
    this.identity = {
      namespace: 'conformance',
      flowId: 'conformance',
      taskId: spec.label,
      executionId: `exec-${id}`,
      taskRunId: `run-${id}`,
      attempt: 1,
    };
    this.paths = defaultPodPaths(this.identity);
    this.select = { globs: [], outputDir: false, syncWorkingDirectory: false, ...spec.select };
    const hasOutputs = this.select.globs.length > 0 || this.select.outputDir || this.select.syncWorkingDirectory;
    this.plan = {
      hasInputs: (spec.inputs ?? []).length > 0,
      hasOutputs,
      paths: this.paths,
      identity: this.identity,
      select: this.select,
    };
  }

  /** The context strategies receive once the pod exists. */
  context(): TransferContext {
    return {
      kube: this.env.kube,
      namespace: this.env.namespace,
      podName: this.podName ?? '',
      paths: this.paths,
      identity: this.identity,
      logger: silentLogger,
      podSelector: this.env.selector,
    };
  }

  /** prepare (when the task has files), as the runner calls it before building the pod. */
  async prepare(signal: AbortSignal): Promise<void> {
    const { transfer } = this.env;
    if (!transfer.prepare || (!this.plan.hasInputs && !this.plan.hasOutputs)) return;
    const { podName: _unused, ...ctx } = this.context();
    await transfer.prepare(ctx, { entries: this.spec.inputs ?? [] }, signal);
    this.#prepared = true;
  }

  /** contribute + build + create the pod (once). */
  async createPod(signal: AbortSignal): Promise<void> {
    if (this.podName) return;
    this.contribution = this.env.transfer.contribute(this.plan);
    const script = `set -e\nmkdir -p "$OUTPUT_DIR"\ncd "$WORKING_DIR"\n${this.spec.script}`;
    const pod = buildPod({
      task: {
        commands: [script],
        containerImage: this.env.image,
        outputFiles: this.select.globs,
        enableOutputDirectory: this.select.outputDir,
      },
      config: {
        namespace: this.env.namespace,
        pullPolicy: 'IF_NOT_PRESENT',
        labels: { [SUITE_LABEL]: this.env.suiteId },
        fileSidecar: { image: this.env.image },
        waitUntilCompletion: 15 * 60_000,
      },
      identity: this.identity,
      paths: this.paths,
      contribution: this.contribution,
      transferName: this.env.transfer.name,
    });
    const security = this.spec.securityContext;
    if (security && pod.spec) {
      if (security.pod) pod.spec.securityContext = { ...pod.spec.securityContext, ...security.pod };
      for (const container of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
        const context = container.name === MAIN ? security.task : security.files;
        if (context) container.securityContext = { ...container.securityContext, ...context };
      }
    }
    const created = await this.env.kube.createPod(this.env.namespace, pod, signal);
    this.podName = created.metadata!.name!;
  }

  /** Everything up to a running task: prepare, create the pod, upload the inputs. */
  async stage(signal: AbortSignal): Promise<TransferReport | undefined> {
    if (!this.#prepared) await this.prepare(signal);
    await this.createPod(signal);
    if (!this.plan.hasInputs) return undefined;
    const pod = await this.env.kube.getPod(this.env.namespace, this.podName!, signal);
    if (pod && this.env.transfer.inputsStaged(this.context(), pod) && this.#uploaded) return undefined;
    const report = await this.env.transfer.uploadInputs(this.context(), { entries: this.spec.inputs ?? [] }, signal);
    this.#uploaded = true;
    return report;
  }
  #uploaded = false;

  /** Waits for the main container to end; returns its exit code, or throws with the pod's state. */
  async waitMain(signal: AbortSignal = AbortSignal.timeout(WAIT_MS)): Promise<number> {
    const pod = await this.env.kube.waitForPod(
      this.env.selector,
      this.podName!,
      (p) =>
        Boolean(mainStatus(p)?.state?.terminated) ||
        p.status?.phase === 'Failed' ||
        Boolean(p.status?.initContainerStatuses?.some((s) => (s.state?.terminated?.exitCode ?? 0) !== 0)),
      signal,
    );
    const terminated = mainStatus(pod)?.state?.terminated;
    if (!terminated) throw new Error(`the task pod failed before its main container ended: ${describePod(pod)}`);
    return terminated.exitCode;
  }

  /** Runs the whole task and asserts the main container succeeded. */
  async runToEnd(signal: AbortSignal = AbortSignal.timeout(WAIT_MS)): Promise<void> {
    await this.stage(signal);
    const exitCode = await this.waitMain(signal);
    if (exitCode !== 0) throw new Error(`the main container exited with ${exitCode}: ${await this.mainLog()}`);
  }

  download(sink: OutputSink, signal: AbortSignal = AbortSignal.timeout(WAIT_MS)): Promise<TransferReport> {
    return this.env.transfer.downloadOutputs(this.context(), this.select, sink, signal);
  }

  async release(): Promise<void> {
    await this.env.transfer.release(this.context());
  }

  /** The main container's log (for failure messages). */
  async mainLog(): Promise<string> {
    try {
      const stream = await this.env.kube.podLogs(this.env.namespace, this.podName!, { container: MAIN, tailLines: 20 });
      let text = '';
      for await (const chunk of stream) text += String(chunk);
      return text.trim();
    } catch {
      return '(log unavailable)';
    }
  }

  /** Releases (once) and deletes the pod; never throws. */
  async dispose(): Promise<void> {
    const holdsResources = this.podName !== undefined || (this.#prepared && this.env.transfer.prepare !== undefined);
    if (!this.#released && holdsResources) await this.release().catch(() => undefined);
    this.#released = true;
    if (this.podName)
      await this.env.kube.deletePod(this.env.namespace, this.podName, { gracePeriodSeconds: 0 }).catch(() => undefined);
  }
}
