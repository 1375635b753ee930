import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sh, startHarness } from './node-harness.js';
import type { Harness } from './node-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ nodeLabels: { zone: 'a' } });
  h.createPod('chatty', {
    containers: [
      sh(
        'main',
        'echo one; printf "three\\nfour"; echo; head -c 20000 /dev/zero | tr "\\0" x; echo; echo five; echo two >&2',
      ),
    ],
  });
  await h.phase('chatty', 'Succeeded');
});
afterAll(async () => {
  await h.close();
});

// Output order across stdout and stderr is not defined (two pipes), so stderr is checked apart.
const stdoutLines = ['one', 'three', 'four', 'x'.repeat(20000), 'five'];
const withoutStderr = (body: string): string => body.replace(/^(.* )?two\n/m, '');

describe('pods/log', () => {
  it('serves stdout and stderr in order, partial and long lines whole, as text/plain', async () => {
    const logs = await h.logs('chatty');
    expect(logs.status).toBe(200);
    expect(logs.type).toContain('text/plain');
    expect(logs.body).toContain('two\n');
    expect(withoutStderr(logs.body)).toBe(`${stdoutLines.join('\n')}\n`);
  });

  it('prefixes RFC3339Nano timestamps with nine digits and one space, once per line', async () => {
    const lines = withoutStderr((await h.logs('chatty', { timestamps: true })).body)
      .split('\n')
      .slice(0, -1);
    expect(lines).toHaveLength(stdoutLines.length);
    lines.forEach((line, i) => {
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /);
      expect(line.slice(31)).toBe(stdoutLines[i]);
    });
  });

  it('stamps stdout and stderr on their own: equal and out-of-order stamps reach the file, and sinceTime filters by stamp', async () => {
    h.node.faults.setLogClock({ granularityMs: 1000, stderrLagMs: 5000 });
    try {
      h.createPod('skewed', {
        containers: [sh('main', 'printf "o1\\no2\\n"; sleep 0.3; echo e1 >&2; sleep 0.3; echo o3')],
      });
      await h.phase('skewed', 'Succeeded');
    } finally {
      h.node.faults.setLogClock({ granularityMs: 0, stderrLagMs: 0 });
    }
    const lines = (await h.logs('skewed', { timestamps: true })).body.trimEnd().split('\n');
    const stamp = (text: string): string => lines.find((l) => l.endsWith(` ${text}`))!.split(' ')[0]!;
    expect(lines.map((l) => l.split(' ')[1])).toEqual(['o1', 'o2', 'e1', 'o3']);
    expect(stamp('o1')).toBe(stamp('o2')); // one read, one stamp
    expect(stamp('o1')).toMatch(/\.000000000Z$/);
    // e1 was written after o2 but is stamped earlier (the stderr lag).
    expect(Date.parse(stamp('e1'))).toBeLessThan(Date.parse(stamp('o2')));
    const since = (await h.logs('skewed', { sinceTime: stamp('o1').replace(/\.\d+Z$/, 'Z') })).body;
    expect(since).toBe('o1\no2\no3\n');
  });

  it('applies tailLines, limitBytes, sinceTime and sinceSeconds', async () => {
    const tail = (await h.logs('chatty', { tailLines: 2 })).body;
    expect(tail.split('\n')).toHaveLength(3);
    expect(tail).toContain('five\n');
    expect((await h.logs('chatty', { tailLines: 0 })).body).toBe('');
    expect((await h.logs('chatty', { limitBytes: 6 })).body).toBe('one\nth');
    expect(withoutStderr((await h.logs('chatty', { sinceSeconds: 3600 })).body)).toBe(`${stdoutLines.join('\n')}\n`);
    expect((await h.logs('chatty', { sinceTime: new Date(Date.now() + 60_000).toISOString() })).body).toBe('');
    // sinceTime has second precision: everything from that second on comes back, nothing before.
    const stamped = (await h.logs('chatty', { timestamps: true })).body.split('\n');
    const second = `${stamped[0]!.slice(0, 19)}Z`;
    expect(withoutStderr((await h.logs('chatty', { sinceTime: second })).body)).toBe(`${stdoutLines.join('\n')}\n`);
  });

  it('follows a running container and ends once it terminated and all output was sent', async () => {
    h.createPod('stream', {
      containers: [
        sh(
          'main',
          'echo start; i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo "line $i"; sleep 0.02; done; printf tail',
        ),
      ],
    });
    await h.waitFor('stream', (p) => (p.status as any)?.containerStatuses?.[0]?.state?.running !== undefined);
    const followed = await h.logs('stream', { follow: true });
    const expected = ['start', ...Array.from({ length: 40 }, (_, i) => `line ${i + 1}`), 'tail'];
    expect(followed.body).toBe(`${expected.join('\n')}\n`);
    expect((h.pod('stream')!.status as any).containerStatuses[0].state.terminated).toBeDefined();
    // Following a finished container returns everything at once.
    expect((await h.logs('stream', { follow: true, tailLines: 2 })).body).toBe('line 40\ntail\n');
  });

  it('stops streaming when the client disconnects', async () => {
    h.createPod('endless', {
      terminationGracePeriodSeconds: 0,
      containers: [sh('main', 'while true; do echo tick; sleep 0.05; done')],
    });
    await h.waitFor('endless', (p) => (p.status as any)?.containerStatuses?.[0]?.state?.running !== undefined);
    const abort = new AbortController();
    const query = new URLSearchParams({ pod: 'endless', follow: 'true' });
    const response = await fetch(`${h.base}/logs?${query}`, { signal: abort.signal });
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('tick');
    abort.abort();
    await expect(reader.read()).rejects.toThrow();
    h.store.remove('pods', 'default', 'endless');
  });

  it('answers with the 400 messages of the API server and kubelet', async () => {
    h.createPod('multi', {
      initContainers: [sh('prep', 'true')],
      containers: [sh('a', 'sleep 30'), sh('b', 'sleep 30')],
      volumes: [{ name: 'v', configMap: { name: 'absent' } }],
    });
    await h.waitFor('multi', () =>
      h.events.some((e) => e.involvedObject.name === 'multi' && e.reason === 'FailedMount'),
    );
    expect(h.node.checkContainer('default', 'multi', '', 'log')).toBe(
      'a container name must be specified for pod multi, choose one of: [a b] or one of the init containers: [prep]',
    );
    expect(h.node.checkContainer('default', 'multi', 'zzz', 'log')).toBe('container zzz is not valid for pod multi');
    expect(h.node.checkContainer('default', 'multi', 'a', 'log')).toBe(
      'container "a" in pod "multi" is waiting to start: PodInitializing',
    );
    expect(h.node.checkContainer('default', 'chatty', 'main', 'log-previous')).toBe(
      'previous terminated container "main" in pod "chatty" not found',
    );
    expect(h.node.checkContainer('default', 'chatty', 'main', 'exec')).toBe('container not found ("main")');
    expect(h.node.checkContainer('default', 'chatty', 'main', 'log')).toBeUndefined();
    const refused = await h.logs('multi', { container: 'a' });
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toMatchObject({
      kind: 'Status',
      code: 400,
      reason: 'BadRequest',
      message: 'container "a" in pod "multi" is waiting to start: PodInitializing',
    });
    h.store.remove('pods', 'default', 'multi');

    h.createPod('pulling', { containers: [{ name: 'main', image: 'nope/nope' }] });
    await h.waitFor(
      'pulling',
      (p) => (p.status as any)?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImagePull',
    );
    expect(h.node.checkContainer('default', 'pulling', 'main', 'log')).toBe(
      'container "main" in pod "pulling" is waiting to start: image can\'t be pulled',
    );
    h.store.remove('pods', 'default', 'pulling');
  });

  it('returns an empty log for a pod that is not scheduled yet', async () => {
    h.createPod('nowhere', { nodeSelector: { zone: 'b' }, containers: [sh('main', 'true')] });
    await h.waitFor('nowhere', (p) => (p.status as any)?.conditions?.[0]?.reason === 'Unschedulable');
    const logs = await h.logs('nowhere');
    expect(logs).toMatchObject({ status: 200, body: '' });
  });
});
