import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { cpuLimitsSupported, memoryLimitsSupported } from '../src/node/cgroup.js';
import { eventually, processesWith, sh, startHarness, status } from './node-harness.js';
import type { Harness } from './node-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const running = (name: string) =>
  h.waitFor(name, (p) => status(p)?.containerStatuses?.every((c: any) => c.state.running));

describe('node faults', () => {
  it('oomKill: the container terminates OOMKilled with 137 and a Never pod fails', async () => {
    h.createPod('oom', { containers: [sh('main', 'exec sleep 987.4'), sh('side', 'sleep 0.5')] });
    await running('oom');
    h.node.faults.oomKill('default', 'oom', 'main');
    const failed = await h.phase('oom', 'Failed');
    const main = status(failed).containerStatuses.find((c: any) => c.name === 'main');
    expect(main.state.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    expect(processesWith('sleep 987.4')).toEqual([]);
  });

  it('oomKill restarts an OnFailure container, keeping OOMKilled as lastState', async () => {
    h.createPod('oom-restart', {
      restartPolicy: 'OnFailure',
      containers: [
        sh('main', '[ -f /data/again ] && exit 0; touch /data/again; exec sleep 987.5', {
          volumeMounts: [{ name: 'd', mountPath: '/data' }],
        }),
      ],
      volumes: [{ name: 'd', emptyDir: {} }],
    });
    await running('oom-restart');
    // Kill only once the first run has left its mark (it is killed before its next step otherwise).
    await h.exec('oom-restart', ['sh', '-c', 'until [ -f /data/again ]; do sleep 0.05; done']);
    h.node.faults.oomKill('default', 'oom-restart');
    const done = await h.phase('oom-restart', 'Succeeded');
    const main = status(done).containerStatuses[0];
    expect(main.restartCount).toBe(1);
    expect(main.lastState.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
  });

  it('evict: Failed/Evicted with DisruptionTarget, a Warning event and the processes killed', async () => {
    h.createPod('evictee', { containers: [sh('main', 'exec sleep 987.6')] });
    await running('evictee');
    h.node.faults.evict('default', 'evictee');
    const failed = await h.waitFor(
      'evictee',
      (p) => status(p).phase === 'Failed' && status(p).containerStatuses[0].state.terminated,
    );
    const s = status(failed);
    expect(s).toMatchObject({ reason: 'Evicted', message: 'The node was low on resource: memory.' });
    expect(s.conditions.find((c: any) => c.type === 'DisruptionTarget')).toMatchObject({
      status: 'True',
      reason: 'TerminationByKubelet',
    });
    expect(h.events.find((e) => e.involvedObject.name === 'evictee' && e.reason === 'Evicted')).toMatchObject({
      type: 'Warning',
    });
    await eventually(() => processesWith('sleep 987.6').length === 0);
  });

  it('rejects faults for pods that are not on the node', () => {
    expect(() => h.node.faults.evict('default', 'nope')).toThrow(expect.objectContaining({ code: 'PODRUN_EMULATOR' }));
  });

  it.skipIf(!memoryLimitsSupported())(
    'enforces memory limits through the memory cgroup (kernel OOM kill)',
    async () => {
      h.createPod('hog', {
        containers: [
          {
            name: 'main',
            image: 'python:3.12',
            command: ['python3', '-c', 'a = bytearray(400 * 1024 * 1024); print("survived")'],
            resources: { limits: { memory: '48Mi' } },
          },
        ],
      });
      const failed = await h.phase('hog', 'Failed');
      expect(status(failed).containerStatuses[0].state.terminated).toMatchObject({
        exitCode: 137,
        reason: 'OOMKilled',
      });
      expect(status(failed).qosClass).toBe('Burstable');
    },
  );

  it.skipIf(!memoryLimitsSupported())('puts exec sessions into the container memory cgroup', async () => {
    h.createPod('limited', {
      containers: [sh('main', 'exec sleep 3600', { resources: { limits: { memory: '64Mi' } } })],
    });
    await running('limited');
    const main = await h.exec('limited', ['cat', '/proc/1/cgroup']);
    const session = await h.exec('limited', ['cat', '/proc/self/cgroup']);
    const memoryLine = (text: string) => text.split('\n').find((l) => /memory|^0::/.test(l));
    expect(memoryLine(main.stdout)).toContain('podrun-');
    expect(memoryLine(session.stdout)).toBe(memoryLine(main.stdout));
    h.store.remove('pods', 'default', 'limited');
  });

  it.skipIf(!cpuLimitsSupported())('enforces CPU limits as a CFS quota: a busy container is throttled', async () => {
    h.createPod('cpu-capped', {
      containers: [
        sh('main', 'echo busy; while :; do :; done # cpu-capped-marker', { resources: { limits: { cpu: '100m' } } }),
      ],
    });
    await running('cpu-capped');
    const session = await h.exec('cpu-capped', ['cat', '/proc/1/cgroup']);
    // On the host, the container's cgroup for the cpu controller (v1) or its unified one (v2).
    const lines = session.stdout.split('\n');
    const line = lines.find((l) => /^\d+:([^:]*,)?cpu(,[^:]*)?:/.test(l)) ?? lines.find((l) => l.startsWith('0::'))!;
    const path = line.split(':')[2]!;
    const v1 = !line.startsWith('0::');
    const dir = v1 ? `/sys/fs/cgroup/cpu${path}` : `/sys/fs/cgroup${path}`;
    expect(path).toContain('podrun-');
    if (v1) expect(readFileSync(`${dir}/cpu.cfs_quota_us`, 'utf8').trim()).toBe('10000');
    else expect(readFileSync(`${dir}/cpu.max`, 'utf8').trim()).toBe('10000 100000');
    const throttled = (): number => Number(/nr_throttled (\d+)/.exec(readFileSync(`${dir}/cpu.stat`, 'utf8'))?.[1]);
    await eventually(() => throttled() > 0);
    h.store.remove('pods', 'default', 'cpu-capped');
  });
});
