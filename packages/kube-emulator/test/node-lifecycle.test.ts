import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, processesWith, sh, startHarness, status, waitForLog } from './node-harness.js';
import type { Harness } from './node-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('pod lifecycle', () => {
  it('runs a pod to Succeeded with kubelet-shaped statuses', async () => {
    h.createPod('ok', { containers: [sh('main', 'echo hello; sleep 0.3')] });
    const running = await h.phase('ok', 'Running');
    const rs = status(running);
    expect(rs.containerStatuses[0].state.running.startedAt).toMatch(/Z$/);
    expect(rs.containerStatuses[0]).toMatchObject({
      name: 'main',
      ready: true,
      started: true,
      restartCount: 0,
      image: 'docker.io/library/busybox:latest',
    });
    expect(rs.containerStatuses[0].containerID).toMatch(/^podrun:\/\/[0-9a-f]{64}$/);
    expect(rs.podIP).toMatch(/^10\.244\.\d+\.\d+$/);
    expect(rs.hostIP).toBe(h.network.hostIP);
    expect((running.spec as any).nodeName).toBe('podrun-node');
    const done = await h.phase('ok', 'Succeeded');
    const s = status(done);
    expect(s.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(s.containerStatuses[0].ready).toBe(false);
    const conditions = Object.fromEntries(s.conditions.map((c: any) => [c.type, c]));
    expect(conditions.Ready).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    expect(conditions.PodScheduled.status).toBe('True');
    expect(conditions.Initialized.status).toBe('True');
    expect(s.qosClass).toBe('BestEffort');
    expect(s.startTime).toBeDefined();
    const reasons = h.events.filter((e) => e.involvedObject.name === 'ok').map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['Scheduled', 'HostFilesystemImage', 'Created', 'Started']));
    expect(reasons).not.toContain('Pulled');
    expect(rs.containerStatuses[0].imageID).toBe('host-filesystem:///busybox');
    const logs = await h.logs('ok');
    expect(logs.body).toBe('hello\n');
  });

  it('runs init containers one by one, app containers waiting PodInitializing meanwhile', async () => {
    h.createPod('init', {
      initContainers: [
        sh('first', 'echo one > /work-dir/order; sleep 0.3', { volumeMounts: [{ name: 'w', mountPath: '/work-dir' }] }),
        sh('second', 'echo two >> /work-dir/order', { volumeMounts: [{ name: 'w', mountPath: '/work-dir' }] }),
      ],
      containers: [sh('main', 'cat /work-dir/order', { volumeMounts: [{ name: 'w', mountPath: '/work-dir' }] })],
      volumes: [{ name: 'w', emptyDir: {} }],
    });
    const initializing = await h.waitFor(
      'init',
      (p) => status(p)?.initContainerStatuses?.[0]?.state?.running !== undefined,
    );
    const s = status(initializing);
    expect(s.phase).toBe('Pending');
    expect(s.initContainerStatuses[1].state.waiting.reason).toBe('PodInitializing');
    expect(s.containerStatuses[0].state.waiting.reason).toBe('PodInitializing');
    const initialized = s.conditions.find((c: any) => c.type === 'Initialized');
    expect(initialized).toMatchObject({
      status: 'False',
      reason: 'ContainersNotInitialized',
      message: 'containers with incomplete status: [first second]',
    });
    const done = await h.phase('init', 'Succeeded');
    expect(status(done).initContainerStatuses.map((c: any) => c.state.terminated.reason)).toEqual([
      'Completed',
      'Completed',
    ]);
    expect((await h.logs('init', { container: 'main' })).body).toBe('one\ntwo\n');
  });

  it('runs native sidecars (restartPolicy Always init containers) beside the app, then stops them', async () => {
    const mount = { volumeMounts: [{ name: 'w', mountPath: '/w' }] };
    h.createPod('sidecar', {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 5,
      initContainers: [
        sh('proxy', "trap 'echo stopping; exit 0' TERM; echo up > /w/proxy; while true; do sleep 0.1; done", {
          ...mount,
          restartPolicy: 'Always',
        }),
        sh('setup', 'cat /w/proxy > /w/seen-by-setup', mount),
      ],
      containers: [sh('main', 'cat /w/seen-by-setup; until [ -f /w/go ]; do sleep 0.05; done; echo main done', mount)],
      volumes: [{ name: 'w', emptyDir: {} }],
    });
    const running = await h.waitFor('sidecar', (p) => status(p)?.containerStatuses?.[0]?.state?.running !== undefined);
    const s = status(running);
    expect(s.phase).toBe('Running');
    expect(s.initContainerStatuses[0]).toMatchObject({ name: 'proxy', ready: true, started: true });
    expect(s.initContainerStatuses[0].state.running).toBeDefined();
    expect(s.initContainerStatuses[1].state.terminated.reason).toBe('Completed');
    expect(s.conditions.find((c: any) => c.type === 'Initialized').status).toBe('True');
    expect(s.conditions.find((c: any) => c.type === 'Ready').status).toBe('True');
    await h.exec('sidecar', ['touch', '/w/go'], { container: 'main' });
    const done = await h.phase('sidecar', 'Succeeded');
    expect(status(done).initContainerStatuses[0].state.terminated).toBeDefined();
    expect((await h.logs('sidecar', { container: 'main' })).body).toBe('up\nmain done\n');
    expect((await h.logs('sidecar', { container: 'proxy' })).body).toBe('stopping\n');
    expect(h.events.some((e) => e.reason === 'Killing' && e.message === 'Stopping container proxy')).toBe(true);
  });

  it('stops the sidecars when a later init container fails the pod', async () => {
    h.createPod('sidecar-fail', {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 2,
      initContainers: [sh('proxy', 'exec sleep 876.5', { restartPolicy: 'Always' }), sh('setup', 'exit 3')],
      containers: [sh('main', 'echo never')],
    });
    const failed = await h.phase('sidecar-fail', 'Failed');
    expect(status(failed).initContainerStatuses[1].state.terminated.exitCode).toBe(3);
    await eventually(() => processesWith('sleep 876.5').length === 0);
  });

  it('fails the pod when an init container fails (restartPolicy Never)', async () => {
    h.createPod('init-fail', { initContainers: [sh('setup', 'exit 3')], containers: [sh('main', 'echo never')] });
    const failed = await h.phase('init-fail', 'Failed');
    const s = status(failed);
    expect(s.initContainerStatuses[0].state.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(s.containerStatuses[0].state.waiting.reason).toBe('PodInitializing');
  });

  it('reports StartError (exit 128) when the command cannot be executed', async () => {
    h.createPod('start-error', { containers: [{ name: 'main', image: 'busybox', command: ['no-such-binary'] }] });
    const failed = await h.phase('start-error', 'Failed');
    const terminated = status(failed).containerStatuses[0].state.terminated;
    expect(terminated).toMatchObject({ exitCode: 128, reason: 'StartError' });
    expect(terminated.message).toContain('exec: "no-such-binary": executable file not found in $PATH');
  });

  it('fails to pull unknown images: ErrImagePull, then ImagePullBackOff with events', async () => {
    h.createPod('pull', { containers: [{ name: 'main', image: 'docker.io/library/no-such-image:1.0' }] });
    const errPull = await h.waitFor(
      'pull',
      (p) => status(p)?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImagePull',
    );
    expect(status(errPull).containerStatuses[0].state.waiting.message).toContain(
      'failed to pull and unpack image "docker.io/library/no-such-image:1.0"',
    );
    const backOff = await h.waitFor(
      'pull',
      (p) => status(p)?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff',
    );
    expect(status(backOff).containerStatuses[0].state.waiting.message).toBe(
      'Back-off pulling image "docker.io/library/no-such-image:1.0"',
    );
    expect(status(backOff).phase).toBe('Pending');
    const mine = h.events.filter((e) => e.involvedObject.name === 'pull');
    expect(mine.find((e) => e.reason === 'Failed' && e.message.startsWith('Failed to pull image'))?.type).toBe(
      'Warning',
    );
    expect(
      mine.some(
        (e) => e.reason === 'BackOff' && e.message === 'Back-off pulling image "docker.io/library/no-such-image:1.0"',
      ),
    ).toBe(true);
    expect((await h.logs('pull')).status).toBe(400);
  });

  it('waits in CreateContainerConfigError until the secret exists', async () => {
    h.createPod('config', {
      containers: [
        sh('main', 'echo "token=$TOKEN"', {
          env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } }],
        }),
      ],
    });
    const waiting = await h.waitFor(
      'config',
      (p) => status(p)?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError',
    );
    expect(status(waiting).containerStatuses[0].state.waiting.message).toBe('secret "creds" not found');
    h.store.create('secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'creds', namespace: 'default' },
      data: { other: 'eA==' },
    });
    await h.waitFor(
      'config',
      (p) =>
        status(p)?.containerStatuses?.[0]?.state?.waiting?.message ===
        "couldn't find key token in Secret default/creds",
    );
    h.store.update('secrets', 'default', 'creds', (s) => ({
      ...s,
      data: { token: Buffer.from('s3cret').toString('base64') },
    }));
    await h.phase('config', 'Succeeded');
    expect((await h.logs('config')).body).toBe('token=s3cret\n');
  });

  it('restarts with OnFailure: restartCount, lastState and previous logs', async () => {
    h.createPod('restart', {
      restartPolicy: 'OnFailure',
      containers: [
        sh('main', 'n=$(cat /data/n 2>/dev/null || echo 0); echo "run $n"; echo $((n+1)) > /data/n; [ "$n" -ge 1 ]', {
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        }),
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
    });
    const done = await h.phase('restart', 'Succeeded');
    const c = status(done).containerStatuses[0];
    expect(c.restartCount).toBe(1);
    expect(c.lastState.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(c.state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect((await h.logs('restart')).body).toBe('run 1\n');
    expect((await h.logs('restart', { previous: true })).body).toBe('run 0\n');
    expect(
      h.events.some(
        (e) =>
          e.involvedObject.name === 'restart' &&
          e.reason === 'BackOff' &&
          e.message.startsWith('Back-off restarting failed container main'),
      ),
    ).toBe(true);
  });

  it('fails the pod with DeadlineExceeded after activeDeadlineSeconds and kills it', async () => {
    h.createPod('deadline', {
      activeDeadlineSeconds: 1,
      terminationGracePeriodSeconds: 1,
      containers: [sh('main', 'exec sleep 987.1')],
    });
    const failed = await h.phase('deadline', 'Failed');
    expect(status(failed)).toMatchObject({
      reason: 'DeadlineExceeded',
      message: 'Pod was active on the node longer than the specified deadline',
    });
    const terminated = await h.waitFor(
      'deadline',
      (p) => status(p).containerStatuses[0].state.terminated !== undefined,
    );
    expect(status(terminated).containerStatuses[0].state.terminated.exitCode).toBe(137);
    expect(processesWith('sleep 987.1')).toEqual([]);
  });

  it('deletes gracefully: SIGTERM reaches the trap, then the pod is removed', async () => {
    h.createPod('graceful', {
      containers: [sh('main', 'trap "echo bye; exit 42" TERM; echo ready; while true; do sleep 0.1; done')],
    });
    // The trap exists once the script printed "ready"; before that PID 1 would ignore SIGTERM.
    await h.phase('graceful', 'Running');
    await waitForLog(h, 'graceful', 'ready');
    let last: any;
    const removed = new Promise<void>((resolve) => {
      const off = h.store.subscribe((e) => {
        if (e.type === 'DELETED' && e.object.metadata.name === 'graceful') {
          last = e.object;
          off();
          resolve();
        }
      });
    });
    h.store.update('pods', 'default', 'graceful', (p) => ({
      ...p,
      metadata: {
        ...p.metadata,
        deletionTimestamp: new Date(Date.now() + 30_000).toISOString(),
        deletionGracePeriodSeconds: 30,
      },
    }));
    await removed;
    expect(status(last).containerStatuses[0].state.terminated.exitCode).toBe(42);
    expect(h.events.some((e) => e.involvedObject.name === 'graceful' && e.reason === 'Killing')).toBe(true);
  });

  it('kills at once on force deletion (DELETED without grace)', async () => {
    h.createPod('forced', { containers: [sh('main', 'trap "" TERM; exec sleep 987.2')] });
    await h.phase('forced', 'Running');
    await eventually(() => processesWith('sleep 987.2').length > 0);
    h.store.remove('pods', 'default', 'forced');
    await eventually(() => processesWith('sleep 987.2').length === 0);
  });
});

describe('without a usable sandbox', () => {
  it('never runs unsandboxed: the container waits in CreateContainerError with the reason', async () => {
    // A comma cannot go into overlay mount options, so this node cannot build sandboxes.
    const broken = await startHarness({ stateDir: 'podrun,node-' });
    try {
      broken.createPod('nosandbox', { containers: [sh('main', 'echo should-not-run')] });
      const waiting = await broken.waitFor(
        'nosandbox',
        (p) => status(p)?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerError',
      );
      expect(status(waiting).containerStatuses[0].state.waiting.message).toContain('must not contain commas');
      expect(status(waiting).phase).toBe('Pending');
      expect(broken.events.some((e) => e.reason === 'Failed' && e.message.startsWith('Error: '))).toBe(true);
    } finally {
      await broken.close();
    }
  });
});
