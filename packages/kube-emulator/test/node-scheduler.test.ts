import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unschedulableReason } from '../src/node/fit.js';
import { sh, startHarness, status } from './node-harness.js';
import type { Harness } from './node-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    nodeLabels: { disk: 'ssd', zone: 'a' },
    allocatable: { cpu: '1', memory: '1Gi', pods: '110' },
  });
});
afterAll(async () => {
  await h.close();
});

const scheduled = (pod: any) => pod.status?.conditions?.find((c: any) => c.type === 'PodScheduled');
const unschedulable = (name: string) => h.waitFor(name, (p) => scheduled(p)?.reason === 'Unschedulable');

describe('scheduling', () => {
  it('keeps a pod Pending while cpu is insufficient and schedules it once resources are free', async () => {
    h.createPod('big', { containers: [sh('main', 'exec sleep 3600', { resources: { requests: { cpu: '800m' } } })] });
    await h.phase('big', 'Running');
    h.createPod('waiter', { containers: [sh('main', 'echo scheduled', { resources: { requests: { cpu: '500m' } } })] });
    const pending = await unschedulable('waiter');
    expect(scheduled(pending)).toMatchObject({
      status: 'False',
      message:
        '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    });
    expect(status(pending).phase).toBe('Pending');
    expect(status(pending).containerStatuses).toBeUndefined();
    expect((pending.spec as any).nodeName).toBeUndefined();
    expect(h.events.find((e) => e.involvedObject.name === 'waiter' && e.reason === 'FailedScheduling')).toMatchObject({
      type: 'Warning',
    });
    h.store.remove('pods', 'default', 'big');
    await h.phase('waiter', 'Succeeded');
  });

  it('does not schedule onto a node whose labels do not match the nodeSelector', async () => {
    h.createPod('picky', { nodeSelector: { disk: 'hdd' }, containers: [sh('main', 'true')] });
    const pending = await unschedulable('picky');
    expect(scheduled(pending).message).toBe(
      "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
    );
    h.createPod('matching', { nodeSelector: { disk: 'ssd' }, containers: [sh('main', 'true')] });
    await h.phase('matching', 'Succeeded');
  });

  it('holds every pod while scheduling is stopped and schedules them when resumed', async () => {
    h.node.faults.setSchedulingStopped(true);
    h.createPod('held', { containers: [sh('main', 'true')] });
    const pending = await unschedulable('held');
    expect(scheduled(pending).message).toBe(
      '0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
    );
    h.node.faults.setSchedulingStopped(false);
    const done = await h.phase('held', 'Succeeded');
    expect(scheduled(done).status).toBe('True');
    expect(h.events.some((e) => e.involvedObject.name === 'held' && e.reason === 'Scheduled')).toBe(true);
  });

  it('waits for a missing PersistentVolumeClaim', async () => {
    h.createPod('claimer', {
      containers: [sh('main', 'ls /data', { volumeMounts: [{ name: 'd', mountPath: '/data' }] })],
      volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'later' } }],
    });
    const pending = await unschedulable('claimer');
    expect(scheduled(pending).message).toBe(
      '0/1 nodes are available: persistentvolumeclaim "later" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
    );
    h.store.create('persistentvolumeclaims', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'later', namespace: 'default' },
      spec: {},
    });
    await h.phase('claimer', 'Succeeded');
  });
});

describe('scheduler filters', () => {
  const base = {
    nodeLabels: { zone: 'a' },
    allocatable: { cpu: '2', memory: '1Gi', pods: '2' },
    assigned: [],
    stopped: false,
    claimPhase: () => 'Bound',
  };
  const pod = (spec: Record<string, unknown>) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default' },
    spec,
  });

  it('lists every insufficient resource, sorted', () => {
    const message = unschedulableReason({
      ...base,
      pod: pod({ containers: [{ name: 'a', resources: { requests: { memory: '2Gi', cpu: '3' } } }] }),
    });
    expect(message).toBe(
      '0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    );
  });

  it('counts init containers as the max, not the sum, and counts pods', () => {
    const spec = {
      initContainers: [{ name: 'i', resources: { requests: { cpu: '2' } } }],
      containers: [{ name: 'a', resources: { requests: { cpu: '1' } } }],
    };
    expect(unschedulableReason({ ...base, pod: pod(spec) })).toBeUndefined();
    const full = unschedulableReason({
      ...base,
      pod: pod({ containers: [{ name: 'a' }] }),
      assigned: [pod({}), pod({})],
    });
    expect(full).toContain('1 Too many pods');
  });

  it('evaluates required node affinity', () => {
    const affinity = (operator: string, values?: string[]) => ({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator, values }] }],
          },
        },
      },
      containers: [{ name: 'a' }],
    });
    expect(unschedulableReason({ ...base, pod: pod(affinity('In', ['a', 'b'])) })).toBeUndefined();
    expect(unschedulableReason({ ...base, pod: pod(affinity('NotIn', ['a'])) })).toContain(
      "didn't match Pod's node affinity/selector",
    );
    expect(unschedulableReason({ ...base, pod: pod(affinity('Exists')) })).toBeUndefined();
  });
});
