import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { ConfigError, ErrorCodes, type KubePort, type LogLine, type LogTarget, type PodLogOptions } from '@podrun/core';
import { startConformanceCluster, type ConformanceCluster } from '@podrun/conformance';
import { createPollLogCollector } from '@podrun/logs-poll';

let cluster: ConformanceCluster;
beforeAll(async () => {
  cluster = await startConformanceCluster();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

/** The cluster's port, recording the options of every pods/log request. */
function spiedPort(requests: PodLogOptions[]): KubePort {
  return new Proxy(cluster.kube, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (prop === 'podLogs') {
        return (ns: string, name: string, options: PodLogOptions, signal?: AbortSignal) => {
          requests.push(options);
          return target.podLogs(ns, name, options, signal);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function runPod(name: string, script: string): Promise<void> {
  await cluster.kube.createPod(cluster.namespace, {
    metadata: { name, labels: { test: 'logs-poll' } },
    spec: {
      restartPolicy: 'Never',
      containers: [{ name: 'main', image: cluster.image, command: ['sh', '-c', script] }],
    },
  });
}

function targetOf(kube: KubePort, name: string): LogTarget {
  const selector = { namespace: cluster.namespace, labelSelector: 'test=logs-poll' };
  const state = (p: V1Pod) => p.status?.containerStatuses?.find((s) => s.name === 'main')?.state;
  let ended = false;
  kube.watchPod(selector, name, (c) => void (state(c.pod)?.terminated && (ended = true)));
  return {
    kube,
    namespace: cluster.namespace,
    podName: name,
    container: 'main',
    started: async (signal) =>
      void (await kube.waitForPod(selector, name, (p) => Boolean(state(p)?.running || state(p)?.terminated), signal)),
    terminated: async (signal) => {
      await kube.waitForPod(selector, name, (p) => Boolean(state(p)?.terminated), signal);
      ended = true;
    },
    isTerminated: () => ended,
  };
}

describe('poll log collector', () => {
  it('reads with short non-follow requests from the cursor while the container runs', async () => {
    const requests: PodLogOptions[] = [];
    const kube = spiedPort(requests);
    await runPod('poll-reads', 'for i in 1 2 3 4 5 6; do echo "tick $i"; sleep 0.3; done');
    const lines: LogLine[] = [];
    await createPollLogCollector({ interval: 100 }).collect(
      targetOf(kube, 'poll-reads'),
      { line: (l) => void lines.push(l) },
      {
        waitForLogsMs: 5000,
        signal: AbortSignal.timeout(60_000),
      },
    );
    expect(lines.map((l) => l.text)).toEqual(['tick 1', 'tick 2', 'tick 3', 'tick 4', 'tick 5', 'tick 6']);
    expect(requests.length).toBeGreaterThan(2);
    expect(requests.every((r) => r.follow !== true && r.timestamps === true)).toBe(true);
    expect(requests.slice(1).some((r) => r.sinceTime !== undefined)).toBe(true);
  });

  it('the end of the container cuts the wait between reads short', async () => {
    await runPod('poll-end', 'echo a\nsleep 1\necho b');
    const lines: string[] = [];
    // With a ten-minute interval, only the container-ended event can finish this in time.
    await createPollLogCollector({ interval: 600_000 }).collect(
      targetOf(cluster.kube, 'poll-end'),
      { line: (l) => void lines.push(l.text) },
      {
        waitForLogsMs: 600_000,
        signal: AbortSignal.timeout(60_000),
      },
    );
    expect(lines).toEqual(['a', 'b']);
  });

  it('rejects a non-positive interval with a configuration error', () => {
    const error = (() => {
      try {
        createPollLogCollector({ interval: 0 });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe(ErrorCodes.CONFIG_INVALID);
  });
});
