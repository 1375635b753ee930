// One flow drives 50 pods at once on the embedded cluster (200 are measured by `npm run bench`):
// every task with an input and an output file succeeds, the whole run costs at most 8 API requests
// per task, all tasks share one pod watch, and the process prints no MaxListenersExceededWarning.
// Not timed: the figures are in the README's Performance section.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster } from '@podrun/kube-emulator';
import type { EmbeddedCluster } from '@podrun/kube-emulator';
import { testImageArchives } from '@podrun/test-utils';
import { createHost, createRunnerRegistry, registerKubernetesRunner } from '@podrun/host';

const TASKS = 50;
let cluster: EmbeddedCluster;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podrun-fanout-scale-'));
  cluster = await startCluster({ imageArchives: testImageArchives() });
});
afterAll(async () => {
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('fan-out at scale', { timeout: 900_000 }, () => {
  it(`runs ${TASKS} pods from one ForEach with at most 8 API requests per task and one watch`, async () => {
    const registry = createRunnerRegistry();
    registerKubernetesRunner(registry);
    const host = createHost({
      registry,
      stateDir: join(dir, 'state'),
      env: { PATH: process.env.PATH },
      tempDir: dir,
      cluster: { kubeconfigPath: cluster.kubeconfigPath },
      defaultRunner: { type: 'io.podrun.kubernetes' },
    });
    const warnings: string[] = [];
    const onWarning = (warning: Error) => void warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    cluster.metrics.reset();
    const values = Array.from({ length: TASKS }, (_, k) => `v${k}`);
    let result;
    try {
      result = await host.run({
        source: `id: scale
namespace: company.team
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ${JSON.stringify(values)}
    concurrencyLimit: 0
    tasks:
      - id: copy
        type: io.kestra.plugin.scripts.shell.Commands
        containerImage: busybox
        inputFiles:
          in.txt: "task {{ taskrun.value }}"
        outputFiles: [out.txt]
        commands: ['tr a-z A-Z < in.txt > out.txt']
`,
      });
    } finally {
      process.off('warning', onWarning);
    }
    expect(result.record.status).toBe('SUCCESS');
    const runs = Object.values(result.record.tasks).filter((t) => t.id === 'copy');
    expect(runs.map((t) => t.status)).toEqual(values.map(() => 'SUCCESS'));
    for (const k of [0, TASKS - 1]) {
      const chunks: Buffer[] = [];
      const uri = result.record.tasks[`copy[v${k}]`]!.outputs!.outputFiles['out.txt']!;
      for await (const c of (await host.storage.open(uri)).content) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe(`TASK V${k}`);
    }
    // Requests to resources (discovery and /metrics are not the tasks').
    const requests = cluster.metrics
      .series()
      .filter((s) => s.labels.resource !== '')
      .reduce((sum, s) => sum + s.count, 0);
    expect(requests / TASKS).toBeLessThanOrEqual(8);
    expect(cluster.metrics.requestCount({ verb: 'POST', resource: 'pods', subresource: '' })).toBe(TASKS);
    expect(cluster.metrics.requestCount({ verb: 'WATCH', resource: 'pods' })).toBeLessThanOrEqual(2);
    expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
  });
});
