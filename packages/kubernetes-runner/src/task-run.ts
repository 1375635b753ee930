// One task run, as a sequence of steps on one pod: acquire (resume or create), stage inputs,
// wait until running, follow logs, wait for the end, collect outputs, release and clean up.
// Every wait shares one internal signal that the kill signal, the deadlines and the pod watch's
// failure detection abort, so whatever step is running stops at once with the right reason.
import type { V1Pod } from '@kubernetes/client-node';
import {
  defaultPodPaths,
  requireContainerImage,
  type FileTransfer,
  type KubePort,
  type KubernetesRunnerConfig,
  type LogCollector,
  type Logger,
  type OutputSink,
  type PodContribution,
  type PodPaths,
  type PodSelector,
  type RunContext,
  type Task,
  type TaskRunResult,
  type TransferContext,
  KUBERNETES_RUNNER_TYPE,
} from '@podrun/core';
import { buildPod, identityMatchLabels, identitySelector } from '@podrun/pod-spec';
import { classify } from './classify.js';
import { asPodrunError, stopError, warningEvents, type Stop } from './failure.js';
import { TaskLogSink, logTarget, plainSink } from './logs.js';
import { filesPlan, type FilesPlan } from './plan.js';
import { MAIN, containerStatus, isStarted, isTerminated } from './pod-status.js';
import { chooseResumable } from './resume.js';
import { RunnerState, type PodRef } from './state.js';
import { PodWatch } from './watch.js';

/** Everything a run needs from its runner. */
export interface RunEnvironment {
  kube: KubePort;
  config: KubernetesRunnerConfig;
  transfer: FileTransfer;
  logs: LogCollector;
  logger: Logger;
  selector: PodSelector;
}

const MAX_TIMER = 2 ** 31 - 1;

export class TaskRun {
  readonly #internal = new AbortController();
  readonly #state: RunnerState;
  #stop: Stop | undefined;
  #pod: PodRef | undefined;
  #watch: PodWatch | undefined;
  #releaseInformer: (() => void) | undefined;
  #paths: PodPaths;
  #plan: FilesPlan | undefined;
  #timers: NodeJS.Timeout[] = [];
  #killDeletion: Promise<void> | undefined;
  #vars: () => Record<string, unknown> = () => ({});

  constructor(
    private readonly env: RunEnvironment,
    private readonly task: Task,
    private readonly ctx: RunContext,
    private readonly kill: AbortSignal,
  ) {
    this.#state = new RunnerState(ctx.state);
    this.#paths = defaultPodPaths(ctx.identity);
  }

  get #signal(): AbortSignal {
    return this.#internal.signal;
  }

  async run(): Promise<TaskRunResult> {
    const onKill = (): void => this.#halt({ kind: 'killed' });
    if (this.kill.aborted) onKill();
    else this.kill.addEventListener('abort', onKill, { once: true });
    try {
      this.#signal.throwIfAborted();
      return await this.#execute();
    } catch (error) {
      throw await this.#failed(error);
    } finally {
      this.kill.removeEventListener('abort', onKill);
      for (const timer of this.#timers) clearTimeout(timer);
      this.#watch?.stop();
      this.#releaseInformer?.();
    }
  }

  /** Stops the run for `stop`; a kill deletes the pod at once. */
  #halt(stop: Stop): void {
    if (this.#stop) return;
    this.#stop = stop;
    if (stop.kind === 'killed') this.#killDeletion = this.#deletePod(0);
    this.#internal.abort(new Error(`run stopped: ${stop.kind}`));
  }

  #deadline(deadline: string, limitMs: number, remainingMs = limitMs): () => void {
    const timer = setTimeout(
      () => this.#halt({ kind: 'deadline', deadline, limitMs }),
      Math.min(Math.max(remainingMs, 0), MAX_TIMER),
    );
    this.#timers.push(timer);
    return () => clearTimeout(timer);
  }

  #transferContext(): TransferContext {
    return {
      podDeleted: this.env.config.delete,
      kube: this.env.kube,
      namespace: this.env.selector.namespace,
      podName: this.#pod!.name,
      paths: this.#paths,
      identity: this.ctx.identity,
      logger: this.ctx.logger,
      podSelector: this.env.selector,
      ...(this.ctx.onProgress && { onProgress: this.ctx.onProgress }),
    };
  }

  async #execute(): Promise<TaskRunResult> {
    const { kube, config, transfer, selector } = this.env;
    requireContainerImage(this.task, KUBERNETES_RUNNER_TYPE);
    const inputs = await this.ctx.resolveInputs(this.task);
    const plan = (this.#plan = filesPlan(
      this.task,
      inputs,
      this.#paths,
      this.ctx.identity,
      config.syncWorkingDirectory,
    ));
    // prepare comes first: a strategy may contribute what it prepared (e.g. pre-signed URLs).
    if (plan.hasInputs || plan.hasOutputs) {
      await transfer.prepare?.(
        {
          kube,
          namespace: selector.namespace,
          paths: this.#paths,
          identity: this.ctx.identity,
          logger: this.ctx.logger,
          podSelector: selector,
        },
        inputs,
        this.#signal,
      );
    }
    const contribution = withOutputDir(transfer.contribute(plan), plan.paths.outputDir);
    const clearRunning = this.#deadline('waitUntilRunning', config.waitUntilRunning);
    let pod = await this.#acquire(contribution);
    const name = this.#pod!.name;
    const watch = (this.#watch = new PodWatch(kube, selector, name, {
      requiredSidecars: new Set((contribution.sidecars ?? []).map((c) => c.name)),
      imagePullGraceMs: config.imagePullGracePeriod,
      failOnUnschedulable: config.failOnUnschedulable,
      onWaiting: (message) => this.ctx.logger.info(`[podrun] [kubernetes-runner] ${message}`, { pod: name }),
      onFailure: (failure) => this.#halt({ kind: 'failed', failure }),
    }));
    watch.start();
    this.#releaseInformer?.();
    const tctx = this.#transferContext();

    if (plan.hasInputs && !transfer.inputsStaged(tctx, pod)) {
      const report = await transfer.uploadInputs(tctx, inputs, this.#signal);
      this.ctx.logger.info('[podrun] [kubernetes-runner] input files staged', { pod: name, ...report });
    }
    pod = await kube.waitForPod(
      selector,
      name,
      (p) => isStarted(p, MAIN) || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed',
      this.#signal,
    );
    clearRunning();

    let since = await this.#state.runningSince();
    if (since === undefined) await this.#state.setRunningSince((since = Date.now()));
    const limit = this.task.timeoutMs ?? config.waitUntilCompletion;
    this.#deadline(
      this.task.timeoutMs !== undefined ? 'timeout' : 'waitUntilCompletion',
      limit,
      limit - (Date.now() - since),
    );

    const sink = new TaskLogSink(this.ctx.taskLogs, this.#state, MAIN, this.ctx.logger, await this.#state.protocol());
    this.#vars = () => ({ ...sink.protocol.vars });
    const logsAbort = new AbortController();
    // A kill or an expired deadline stops the logs at once; after a pod failure the container has
    // ended, so its last lines are still collected (bounded by waitForLogs).
    const stopLogs = (): void => {
      if (this.#stop?.kind !== 'failed') logsAbort.abort(new Error('run stopped'));
    };
    this.#signal.addEventListener('abort', stopLogs, { once: true });
    const logsDone = this.env.logs
      .collect(logTarget(kube, selector, name, MAIN, watch), sink, {
        cursor: await this.#state.cursor(MAIN),
        waitForLogsMs: config.waitForLogs,
        signal: logsAbort.signal,
        onCursor: sink.onCursor,
      })
      .then(
        () => undefined,
        (error: unknown) => {
          if (!logsAbort.signal.aborted)
            this.ctx.logger.warn('[podrun] [kubernetes-runner] log collection failed; some lines may be missing', {
              pod: name,
              error: String(error),
            });
        },
      );
    try {
      pod = await kube.waitForPod(selector, name, (p) => isTerminated(p, MAIN), this.#signal);
      const failure =
        watch.failure ??
        classify(pod, {
          requiredSidecars: new Set(),
          pullErrorSince: new Map(),
          imagePullGraceMs: Infinity,
          now: Date.now(),
        });
      if (failure) {
        this.#halt({ kind: 'failed', failure });
        this.#signal.throwIfAborted();
      }
      await logsDone;
    } finally {
      this.#signal.removeEventListener('abort', stopLogs);
      if (this.#stop) await this.#drain(logsDone, logsAbort);
      await sink.flush();
    }
    const exitCode = containerStatus(pod, MAIN)?.state?.terminated?.exitCode ?? 0;

    let outputFiles: Record<string, string> = {};
    if (plan.hasOutputs) {
      const stored = await this.#state.outputs();
      outputFiles = stored ?? (await this.#download(tctx, plan, exitCode));
    }
    await transfer.release(tctx);
    const result: TaskRunResult = {
      exitCode,
      outputFiles,
      vars: sink.protocol.vars,
      metrics: [...sink.protocol.metrics],
      pod: { namespace: selector.namespace, name, uid: this.#pod!.uid },
    };
    if (config.delete) await this.#deletePod();
    return result;
  }

  /** Lets the log collector finish what it has (bounded by waitForLogs) after an early stop. */
  async #drain(logsDone: Promise<void>, logsAbort: AbortController): Promise<void> {
    const timer = setTimeout(() => logsAbort.abort(new Error('run stopped')), this.env.config.waitForLogs);
    await logsDone;
    clearTimeout(timer);
  }

  async #download(tctx: TransferContext, plan: FilesPlan, exitCode: number): Promise<Record<string, string>> {
    const outputFiles: Record<string, string> = {};
    const sink: OutputSink = {
      write: async (entry, content) => {
        outputFiles[entry.name] = await this.ctx.storage.putOutput(entry.name, content);
      },
    };
    try {
      const report = await this.env.transfer.downloadOutputs(tctx, plan.select, sink, this.#signal);
      this.ctx.logger.info('[podrun] [kubernetes-runner] output files collected', { pod: tctx.podName, ...report });
    } catch (error) {
      // The task's own failure is the result that matters; missing outputs are expected then.
      if (exitCode === 0 || this.#signal.aborted) throw error;
      this.ctx.logger.warn('[podrun] [kubernetes-runner] output files of the failed task could not be collected', {
        pod: tctx.podName,
        error: String(error),
      });
    }
    await this.#state.setOutputs(outputFiles);
    return outputFiles;
  }

  /** Reattaches to this task run's pod (resume) or creates a new one; removes the others. */
  async #acquire(contribution: ReturnType<FileTransfer['contribute']>): Promise<V1Pod> {
    const { kube, config, transfer, selector } = this.env;
    const recorded = await this.#state.pod();
    // Read from the shared informer this run watches its pod with anyway: one request less, and
    // its list (not a second one) is what a resumed run finds its pod in.
    const found = await kube.cachedPods(selector, identityMatchLabels(this.ctx.identity), this.#signal);
    this.#releaseInformer = found.release;
    const existing = found.pods;
    const stored = new Set<string>();
    for (const p of existing) {
      const uid = p.metadata?.uid ?? '';
      if (uid && (await this.#state.outputsOf(uid))) stored.add(uid);
    }
    const choice = config.resume
      ? chooseResumable(existing, this.ctx.identity, {
          ...(recorded && { stateUid: recorded.uid }),
          needsOutputs: this.#plan!.hasOutputs,
          outputsStored: (uid) => stored.has(uid),
          // A finished pod still Running keeps the transfer's sidecar up: outputs are readable.
          outputsReadable: (p) => p.status?.phase === 'Running',
        })
      : { winner: undefined, losers: existing.filter((p) => !p.metadata?.deletionTimestamp) };
    for (const loser of choice.losers) {
      const phase = loser.status?.phase;
      const active = phase === 'Pending' || phase === 'Running' || phase === undefined;
      if (!active && !config.delete) continue;
      const name = loser.metadata!.name!;
      // Transient failures were retried by the port; what is left (403, say) leaves the pod
      // running beside the new one: say so rather than hide it.
      await kube
        .deletePod(selector.namespace, name)
        .catch((error: unknown) =>
          this.ctx.logger.warn(
            `[podrun] [kubernetes-runner] could not delete pod ${name} of an earlier attempt (${error instanceof Error ? error.message : String(error)}); it may still be running: delete it by hand`,
            { pod: name },
          ),
        );
    }
    if (choice.winner) {
      const pod = choice.winner;
      this.#pod = { namespace: selector.namespace, name: pod.metadata!.name!, uid: pod.metadata!.uid! };
      this.#state.bind(this.#pod.uid);
      await this.#state.setPod(this.#pod);
      this.#paths = pathsOf(pod, this.#paths);
      this.ctx.logger.info('[podrun] [kubernetes-runner] reattached to the existing pod of this task run', {
        pod: this.#pod.name,
        phase: pod.status?.phase,
      });
      return pod;
    }
    const spec = buildPod({
      task: this.task,
      config,
      identity: this.ctx.identity,
      paths: this.#paths,
      contribution,
      transferName: transfer.name,
    });
    const pod = await kube.createPod(selector.namespace, spec, this.#signal);
    this.#pod = { namespace: selector.namespace, name: pod.metadata!.name!, uid: pod.metadata!.uid! };
    this.#state.bind(this.#pod.uid);
    await this.#state.setPod(this.#pod);
    this.ctx.logger.info('[podrun] [kubernetes-runner] pod created', { pod: this.#pod.name });
    return pod;
  }

  async #deletePod(gracePeriodSeconds?: number): Promise<void> {
    const { kube, selector } = this.env;
    if (this.#watch) this.#watch.deleting = true;
    const options = gracePeriodSeconds === undefined ? undefined : { gracePeriodSeconds };
    try {
      if (this.#pod) {
        await kube.deletePod(selector.namespace, this.#pod.name, options);
        return;
      }
      // Killed while the create was in flight: whatever it made must go too.
      const pods = await kube.listPods(selector.namespace, identitySelector(this.ctx.identity));
      await Promise.all(
        pods
          .filter((p) => p.status?.phase === 'Pending' || p.status?.phase === 'Running' || !p.status?.phase)
          .map((p) => kube.deletePod(selector.namespace, p.metadata!.name!, options)),
      );
    } catch (error) {
      this.ctx.logger.warn('[podrun] [kubernetes-runner] could not delete the pod', {
        pod: this.#pod?.name,
        error: String(error),
      });
    }
  }

  async #failed(error: unknown): Promise<Error> {
    const { kube, config, selector } = this.env;
    if (!this.#stop && this.#watch) {
      // The step may have failed on the same pod change the watch is about to report.
      this.#watch.evaluate();
    }
    const stop = this.#stop;
    const details: Record<string, unknown> = { vars: this.#vars(), ...(this.#pod && { pod: this.#pod.name }) };
    if (!stop) {
      // Let the pod finish (the sidecar waits for the end marker) and free the transfer's resources.
      await this.#release();
      if (config.delete && this.#pod) await this.#deletePod();
      return asPodrunError(error);
    }
    const pod = this.#watch?.latest;
    const events =
      this.#pod && stop.kind !== 'killed' ? await warningEvents(kube, selector.namespace, this.#pod.name) : [];
    if (
      stop.kind === 'failed' &&
      stop.failure.container &&
      stop.failure.container !== MAIN &&
      this.#pod &&
      this.#watch
    ) {
      await this.#containerLogs(stop.failure.container, this.#watch);
    }
    if (stop.kind === 'killed') {
      const known = this.#pod;
      await this.#killDeletion;
      // The create may have completed after the kill's deletion ran.
      if (!known && this.#pod) await this.#deletePod(0);
    } else if (stop.kind === 'deadline') await this.#deletePod(0);
    else {
      await this.#release();
      if (config.delete) await this.#deletePod();
    }
    return stopError(stop, { pod, ...(this.#pod && { podName: this.#pod.name }), events, details });
  }

  async #release(): Promise<void> {
    if (!this.#pod) return;
    await this.env.transfer.release(this.#transferContext()).catch(() => undefined);
  }

  /** Shows a failed init container's or sidecar's own log lines (why it failed). */
  async #containerLogs(container: string, watch: PodWatch): Promise<void> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), Math.max(this.env.config.waitForLogs, 2000));
    try {
      const target = logTarget(this.env.kube, this.env.selector, this.#pod!.name, container, watch);
      if (!target.isTerminated()) return;
      await this.env.logs.collect(target, plainSink(this.ctx.taskLogs), {
        waitForLogsMs: this.env.config.waitForLogs,
        signal: controller.signal,
      });
    } catch {
      // Best effort: the failure itself is reported either way.
    } finally {
      clearTimeout(timer);
    }
  }
}

/** WORKING_DIR / OUTPUT_DIR as the existing pod has them (a reattached pod keeps its own). */
function pathsOf(pod: V1Pod, defaults: PodPaths): PodPaths {
  const env = pod.spec?.containers?.find((c) => c.name === MAIN)?.env ?? [];
  const workingDir = env.find((e) => e.name === 'WORKING_DIR')?.value;
  const outputDir = env.find((e) => e.name === 'OUTPUT_DIR')?.value;
  return workingDir && outputDir ? { ...defaults, workingDir, outputDir } : defaults;
}

/** The volume that gives OUTPUT_DIR a directory when no file transfer provides one. */
const OUTPUT_DIR_VOLUME = 'podrun-output-dir';

/**
 * OUTPUT_DIR is set in every pod, so it must exist in every pod: a task without files gets an
 * emptyDir there (the kubelet creates the mount point; nothing is collected from it, as nothing
 * was asked for). With files, the transfer's volume and init container already create it.
 */
function withOutputDir(contribution: PodContribution, outputDir: string): PodContribution {
  if (contribution.mainVolumeMounts?.length) return contribution;
  return {
    ...contribution,
    volumes: [...(contribution.volumes ?? []), { name: OUTPUT_DIR_VOLUME, emptyDir: {} }],
    mainVolumeMounts: [{ name: OUTPUT_DIR_VOLUME, mountPath: outputDir }],
    reservedVolumeNames: [...(contribution.reservedVolumeNames ?? []), OUTPUT_DIR_VOLUME],
  };
}
