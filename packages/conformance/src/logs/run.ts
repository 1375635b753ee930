// A pod whose containers print what a case needs, and LogTargets over it built from one shared
// watch, the way the Kubernetes runner builds them.
import { randomBytes } from 'node:crypto';
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { KubePort, LogCollector, LogCursor, LogLine, LogSink, LogTarget, PodSelector } from '@podrun/core';
import type { PortFaults } from '../faults.js';

/** Label put on every pod of one suite run. */
export const LOG_SUITE_LABEL = 'conformance.podrun.io/log-suite';

/** What the cases of one log suite share. */
export interface LogEnv {
  kube: KubePort;
  faults: PortFaults;
  collector: LogCollector;
  namespace: string;
  image: string;
  selector: PodSelector;
  suiteId: string;
}

function statusOf(pod: V1Pod, container: string): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((s) => s.name === container);
}

/** A sink that records lines; `onLine` lets a case react to one. */
export class RecordingLogSink implements LogSink {
  readonly lines: LogLine[] = [];
  onLine: ((line: LogLine) => void) | undefined;
  line(line: LogLine): void {
    this.lines.push(line);
    this.onLine?.(line);
  }
  texts(): string[] {
    return this.lines.map((l) => l.text);
  }
}

/** One pod of a log case, with one container per script. */
export class LogPod {
  name: string | undefined;
  readonly #unwatch: (() => void)[] = [];

  constructor(
    readonly env: LogEnv,
    readonly label: string,
    readonly scripts: Record<string, string>,
  ) {}

  async create(): Promise<void> {
    const name = `logs-${this.label}-${randomBytes(4).toString('hex')}`;
    await this.env.kube.createPod(this.env.namespace, {
      metadata: { name, labels: { [LOG_SUITE_LABEL]: this.env.suiteId } },
      spec: {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 0,
        containers: Object.entries(this.scripts).map(([container, script]) => ({
          name: container,
          image: this.env.image,
          imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c', script],
        })),
      },
    });
    this.name = name;
  }

  /** The LogTarget of one container, as the runner would pass it. */
  target(container: string): LogTarget {
    const { kube, selector, namespace } = this.env;
    const name = this.name!;
    let terminated = false;
    this.#unwatch.push(
      kube.watchPod(selector, name, (change) => {
        if (change.type === 'deleted' || statusOf(change.pod, container)?.state?.terminated) terminated = true;
      }),
    );
    const wait = async (predicate: (pod: V1Pod) => boolean, signal: AbortSignal) => {
      await kube.waitForPod(selector, name, predicate, signal);
    };
    return {
      kube,
      namespace,
      podName: name,
      container,
      started: (signal) =>
        wait(
          (p) => Boolean(statusOf(p, container)?.state?.running || statusOf(p, container)?.state?.terminated),
          signal,
        ),
      terminated: async (signal) => {
        await wait((p) => Boolean(statusOf(p, container)?.state?.terminated), signal);
        terminated = true;
      },
      isTerminated: () => terminated,
    };
  }

  /** Collects one container to the end with the suite's collector. */
  async collect(
    container: string,
    options: {
      cursor?: LogCursor;
      waitForLogsMs?: number;
      signal?: AbortSignal;
      onCursor?: (c: LogCursor) => void;
      sink?: RecordingLogSink;
    } = {},
  ): Promise<{ sink: RecordingLogSink; cursor: LogCursor | undefined }> {
    const sink = options.sink ?? new RecordingLogSink();
    const cursor = await this.env.collector.collect(this.target(container), sink, {
      waitForLogsMs: options.waitForLogsMs ?? 5_000,
      signal: options.signal ?? AbortSignal.timeout(120_000),
      ...(options.cursor && { cursor: options.cursor }),
      ...(options.onCursor && { onCursor: options.onCursor }),
    });
    return { sink, cursor };
  }

  async waitTerminated(container: string): Promise<void> {
    await this.target(container).terminated(AbortSignal.timeout(120_000));
  }

  async dispose(): Promise<void> {
    for (const unwatch of this.#unwatch.splice(0)) unwatch();
    if (this.name)
      await this.env.kube.deletePod(this.env.namespace, this.name, { gracePeriodSeconds: 0 }).catch(() => undefined);
  }
}
