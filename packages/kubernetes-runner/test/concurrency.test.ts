// One runner, many tasks at once: all complete and no line lands in another task's log.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKubernetesRunner } from '@podrun/kubernetes-runner';
import { testCluster, type TestCluster } from './support/cluster.js';
import { identityFor, testContext } from './support/context.js';

let env: TestCluster;
beforeAll(async () => {
  env = await testCluster();
});
afterAll(async () => {
  await env?.stop();
});

it('runs 50 tasks with files concurrently over one shared watch, logs kept apart, at most 8 requests each', async () => {
  const runner = createKubernetesRunner({ kube: env.kube, config: env.config() });
  const before = env.cluster.metrics.requestCount({ resource: 'pods' });
  const tasks = Array.from({ length: 50 }, (_, k) => {
    const ctx = testContext(identityFor(`c${k}`), join(env.dir, `c${k}`));
    const task = {
      commands: [
        `for i in 1 2 3 4 5; do echo "task ${k} line $i"; done`,
        `echo '::{"outputs":{"k":${k}}}::'`,
        'cp in.txt out.txt',
      ],
      containerImage: 'busybox',
      inputFiles: { 'in.txt': { content: `${k}\n` } },
      outputFiles: ['out.txt'],
    };
    return { k, ctx, result: runner.run(task, ctx, new AbortController().signal) };
  });
  for (const { k, ctx, result } of tasks) {
    const r = await result;
    expect(r).toMatchObject({ exitCode: 0, vars: { k } });
    expect(Object.keys(r.outputFiles)).toEqual(['out.txt']);
    expect(ctx.texts()).toEqual([1, 2, 3, 4, 5].map((i) => `task ${k} line ${i}`));
  }
  // Create, upload and download execs, log stream and final read, delete, plus a share of the
  // informer's list and watch: no exec to release a sidecar that the deletion stops anyway.
  const perTask = (env.cluster.metrics.requestCount({ resource: 'pods' }) - before) / 50;
  expect(perTask).toBeLessThanOrEqual(8);
  // All of them shared one pod watch (plus reconnects), not one per task.
  expect(env.cluster.metrics.requestCount({ verb: 'WATCH', resource: 'pods' })).toBeLessThan(10);
}, 180_000);
