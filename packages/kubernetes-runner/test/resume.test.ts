// The runner process dies (SIGKILL) mid-task; a new process with the same task run identity and
// state reattaches to the pod: no second upload, logs continue without duplicates or gaps, vars
// printed before the crash survive, outputs arrive, the pod is cleaned up. resume=false starts a
// fresh pod instead.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '@podrun/core';
import { deletedOrGone, testCluster, type TestCluster } from './support/cluster.js';
import { runInChild } from './support/child.js';
import { identityFor, testContext } from './support/context.js';
import { createKubernetesRunner } from '@podrun/kubernetes-runner';

let env: TestCluster;
beforeAll(async () => {
  env = await testCluster();
});
afterAll(async () => {
  await env?.stop();
});

const WD = '/kestra/working-dir';
const task: Task = {
  commands: [
    `echo '::{"outputs":{"early":"kept"}}::'`,
    'i=1; while [ $i -le 24 ]; do echo "line $i"; i=$((i+1)); sleep 0.05; done',
    `cp ${WD}/in.txt ${WD}/out.txt`,
    'echo "line end"',
  ],
  containerImage: 'busybox',
  inputFiles: { 'in.txt': { content: 'staged once' } },
  outputFiles: ['out.txt'],
};
const expected = [...Array.from({ length: 24 }, (_, i) => `line ${i + 1}`), 'line end'];

/** The crashed runner's state, as the host would hand it to the next runner. */
function stateOf(dir: string): Map<string, unknown> {
  return new Map(Object.entries(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as Record<string, unknown>));
}

/** Runs the same task run again in this process, on the crashed runner's state. */
async function rerun(dir: string, identity: ReturnType<typeof identityFor>, config: Record<string, unknown> = {}) {
  const ctx = testContext(identity, join(dir, 'again'), { stateData: stateOf(dir) });
  const runner = createKubernetesRunner({ kube: env.kube, config: env.config(config) });
  const result = await runner.run(task, ctx, new AbortController().signal);
  return { result, ctx };
}

function loggedLines(dir: string): string[] {
  const file = join(dir, 'lines.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { text: string }).text);
}

describe('resume after the runner process dies', () => {
  it('reattaches: no replayed or lost lines, no second upload, vars and outputs kept, pod cleaned', async () => {
    const identity = identityFor('resume');
    const dir = join(env.dir, 'resume');
    const input = { kubeconfigPath: env.cluster.kubeconfigPath, identity, task, config: {}, dir };

    const first = runInChild({ ...input, dieAfterLine: 'line 8' });
    expect((await first.done).exitSignal).toBe('SIGKILL');
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as Record<
      string,
      { name: string; uid: string }
    >;
    const pod = state['kubernetes.pod']!;
    // The pod lives on without its runner.
    expect(await env.kube.getPod('default', pod.name)).toMatchObject({ metadata: { uid: pod.uid } });

    env.cluster.metrics.reset();
    const { result, ctx } = await rerun(dir, identity);
    expect(result).toMatchObject({ exitCode: 0, vars: { early: 'kept' }, pod: { name: pod.name, uid: pod.uid } });
    expect(Object.keys(result.outputFiles)).toEqual(['out.txt']);
    expect(readFileSync(ctx.stored.get('out.txt')!.path, 'utf8')).toBe('staged once');
    expect([...loggedLines(dir), ...ctx.texts()]).toEqual(expected);
    // Reattached: no pod created, inputs not uploaded again (only the download exec; no release
    // exec, since the pod is deleted anyway).
    expect(env.cluster.metrics.requestCount({ verb: 'POST', resource: 'pods', subresource: '' })).toBe(0);
    expect(env.cluster.metrics.requestCount({ resource: 'pods', subresource: 'exec' })).toBe(1);
    expect(await deletedOrGone(env.kube, pod.name)).toBe(true);
  });

  it('with resume=false starts a fresh pod and removes the old one', async () => {
    const identity = identityFor('fresh');
    const dir = join(env.dir, 'fresh');
    const first = runInChild({ kubeconfigPath: env.cluster.kubeconfigPath, identity, task, config: {}, dir });
    await first.line('line 3');
    first.child.kill('SIGKILL');
    expect((await first.done).exitSignal).toBe('SIGKILL');
    const old = (JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as Record<string, { name: string }>)[
      'kubernetes.pod'
    ]!.name;

    const { result, ctx } = await rerun(dir, identity, { resume: false });
    expect(result.exitCode).toBe(0);
    expect(result.pod?.name).not.toBe(old);
    expect(await deletedOrGone(env.kube, old)).toBe(true);
    // The fresh pod ran the task from the start.
    expect(ctx.texts()).toEqual(expected);
  });
});
