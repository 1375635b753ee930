// The follow collector against the embedded cluster's real pods/log streams.
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogCursor, LogLine, LogTarget, PodSelector } from '@podrun/core';
import type { PodrunKubePort } from '@podrun/kube';
import { startTestCluster, type TestCluster } from '@podrun/test-utils';
import { createFollowLogCollector } from '@podrun/logs-follow';

let cluster: TestCluster;
let kube: PodrunKubePort;
const selector: PodSelector = { namespace: 'default', labelSelector: 'test=logs-follow' };
let n = 0;

beforeAll(async () => {
  cluster = await startTestCluster({ port: { retry: { baseDelayMs: 50, maxDelayMs: 500 } } });
  kube = cluster.kube;
});
afterAll(async () => {
  await cluster?.stop();
});

async function pod(containers: Record<string, string>): Promise<string> {
  const name = `logs-${++n}-${Date.now().toString(36)}`;
  const spec: V1Pod = {
    metadata: { name, labels: { test: 'logs-follow' } },
    spec: {
      restartPolicy: 'Never',
      containers: Object.entries(containers).map(([c, script]) => ({
        name: c,
        image: 'busybox',
        command: ['sh', '-c', script],
      })),
    },
  };
  await kube.createPod('default', spec);
  return name;
}

function target(podName: string, container = 'main'): LogTarget & { latest?: V1Pod } {
  const state: { latest?: V1Pod } = {};
  kube.watchPod(selector, podName, (change) => (state.latest = change.pod));
  const status = (p: V1Pod | undefined) => p?.status?.containerStatuses?.find((s) => s.name === container)?.state;
  return {
    kube,
    namespace: 'default',
    podName,
    container,
    started: async (signal) =>
      void (await kube.waitForPod(
        selector,
        podName,
        (p) => Boolean(status(p)?.running || status(p)?.terminated),
        signal,
      )),
    terminated: async (signal) =>
      void (await kube.waitForPod(selector, podName, (p) => Boolean(status(p)?.terminated), signal)),
    isTerminated: () => Boolean(status(state.latest)?.terminated),
  };
}

function collectInto(lines: LogLine[], options: { slow?: boolean } = {}) {
  return {
    line: async (line: LogLine) => {
      if (options.slow) await new Promise((r) => setImmediate(r));
      lines.push(line);
    },
  };
}

const logs = createFollowLogCollector({ reconnectDelayMs: 50 });

describe('follow collector', () => {
  it('delivers each line once, in order, whitespace and timestamps kept, UTF-8 intact', async () => {
    const wide = '\u00e9\u{1F600}'.repeat(20000);
    const name = await pod({
      main: `printf '  indented\\ttab  \\n\\n'; i=1; while [ $i -le 200 ]; do echo "line $i"; i=$((i+1)); done; printf '%s\\n' '${wide}'; printf 'no newline at end'`,
    });
    const lines: LogLine[] = [];
    const cursors: LogCursor[] = [];
    const cursor = await logs.collect(target(name), collectInto(lines, { slow: true }), {
      waitForLogsMs: 3_600_000, // a ceiling only: collection ends with the container, not after it
      signal: new AbortController().signal,
      onCursor: (c) => cursors.push(c),
    });
    const texts = lines.map((l) => l.text);
    expect(texts).toEqual([
      '  indented\ttab  ',
      '',
      ...Array.from({ length: 200 }, (_, i) => `line ${i + 1}`),
      wide,
      'no newline at end',
    ]);
    expect(lines.every((l) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/.test(l.timestamp))).toBe(true);
    expect(cursors).toHaveLength(lines.length);
    expect(cursor).toEqual(cursors.at(-1));
  });

  it('reconnects from the cursor when the stream breaks (API server restart) without gaps or duplicates', async () => {
    const name = await pod({ main: 'i=1; while [ $i -le 40 ]; do echo "tick $i"; i=$((i+1)); sleep 0.05; done' });
    const lines: LogLine[] = [];
    let restarted = false;
    const done = logs.collect(
      target(name),
      {
        line: async (line) => {
          lines.push(line);
          if (line.text === 'tick 10' && !restarted) {
            restarted = true;
            await cluster.restartApiServer();
          }
        },
      },
      { waitForLogsMs: 5000, signal: new AbortController().signal },
    );
    await done;
    expect(lines.map((l) => l.text)).toEqual(Array.from({ length: 40 }, (_, i) => `tick ${i + 1}`));
  });

  it('resumes from a persisted cursor, delivering only what came after it', async () => {
    const name = await pod({ main: 'for i in 1 2 3 4 5 6; do echo "n $i"; done' });
    const first: LogLine[] = [];
    const cursors: LogCursor[] = [];
    await logs.collect(target(name), collectInto(first), {
      waitForLogsMs: 5000,
      signal: new AbortController().signal,
      onCursor: (c) => cursors.push(c),
    });
    const rest: LogLine[] = [];
    await logs.collect(target(name), collectInto(rest), {
      cursor: cursors[2],
      waitForLogsMs: 5000,
      signal: new AbortController().signal,
    });
    expect(rest.map((l) => l.text)).toEqual(['n 4', 'n 5', 'n 6']);
  });

  it('collects several containers of one pod independently', async () => {
    const name = await pod({
      main: 'for i in 1 2 3; do echo "main $i"; done',
      side: 'for i in 1 2 3; do echo "side $i"; done',
    });
    const main: LogLine[] = [];
    const side: LogLine[] = [];
    await Promise.all([
      logs.collect(target(name, 'main'), collectInto(main), {
        waitForLogsMs: 5000,
        signal: new AbortController().signal,
      }),
      logs.collect(target(name, 'side'), collectInto(side), {
        waitForLogsMs: 5000,
        signal: new AbortController().signal,
      }),
    ]);
    expect(main.map((l) => `${l.container}:${l.text}`)).toEqual(['main:main 1', 'main:main 2', 'main:main 3']);
    expect(side.map((l) => `${l.container}:${l.text}`)).toEqual(['side:side 1', 'side:side 2', 'side:side 3']);
  });

  it('stops when aborted', async () => {
    const name = await pod({ main: 'echo first; sleep 300' });
    const controller = new AbortController();
    const lines: LogLine[] = [];
    const done = logs.collect(
      target(name),
      { line: (l) => void (lines.push(l), controller.abort()) },
      { waitForLogsMs: 5000, signal: controller.signal },
    );
    await expect(done).rejects.toBeDefined();
    expect(lines.map((l) => l.text)).toEqual(['first']);
    await kube.deletePod('default', name, { gracePeriodSeconds: 0 });
  });
});
