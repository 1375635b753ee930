// The real kubectl against the emulator: get -w, logs -f, exec (stdin, exit codes), cp both ways,
// delete. These need the node half (pods really run).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startCluster } from '../src/index.js';
import type { EmbeddedCluster } from '../src/index.js';
import { kubectl, kubectlPath, kubectlStream } from './api-helpers.js';

let cluster: EmbeddedCluster;
let kc: string;

function podYaml(name: string, script: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 2,
      containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', script] }],
    },
  });
}

async function createPod(name: string, script: string): Promise<void> {
  const file = join(cluster.stateDir, `${name}.json`);
  writeFileSync(file, podYaml(name, script));
  const result = await kubectl(kc, ['create', '-f', file]);
  expect(result.stdout.trim()).toBe(`pod/${name} created`);
}

async function waitRunning(name: string): Promise<void> {
  const result = await kubectl(kc, ['wait', '--for=jsonpath={.status.phase}=Running', `pod/${name}`, '--timeout=60s']);
  expect(result.stdout.trim()).toBe(`pod/${name} condition met`);
}

function treeDigest(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(root, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(root);
  return out;
}

beforeAll(async () => {
  cluster = await startCluster();
  kc = cluster.kubeconfigPath;
});
afterAll(async () => {
  await cluster?.stop();
});

describe.skipIf(!kubectlPath)('kubectl end to end', () => {
  it('get pods -w shows the pod going from Pending to Completed', async () => {
    const watch = kubectlStream(kc, ['get', 'pods', '-w']);
    try {
      await createPod('watched', 'echo done');
      const output = await watch.waitFor(/watched\s+0\/1\s+Completed/);
      expect(output).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
      expect(output).toMatch(/watched\s+0\/1\s+(Pending|ContainerCreating)/);
    } finally {
      watch.child.kill();
    }
  });

  it('logs -f streams until the container terminates', async () => {
    await createPod('talker', 'for i in 1 2 3; do echo line-$i; sleep 0.3; done; echo bye >&2');
    await kubectl(kc, ['wait', '--for=jsonpath={.status.phase}=Running', 'pod/talker', '--timeout=60s']);
    const logs = await kubectl(kc, ['logs', '-f', 'talker']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toBe('line-1\nline-2\nline-3\nbye\n');
    const stamped = await kubectl(kc, ['logs', 'talker', '--timestamps', '--tail=1']);
    expect(stamped.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z bye\n$/);
  });

  it('exec passes stdin, returns output and the exit code', async () => {
    await createPod('shell', 'sleep 300');
    await waitRunning('shell');
    const echoed = await kubectl(kc, ['exec', '-i', 'shell', '--', 'sh', '-c', 'tr a-z A-Z'], {
      input: 'hello from stdin\n',
    });
    expect(echoed).toMatchObject({ code: 0, stdout: 'HELLO FROM STDIN\n' });
    const failed = await kubectl(kc, ['exec', 'shell', '--', 'sh', '-c', 'echo oops >&2; exit 3']);
    expect(failed.code).toBe(3);
    expect(failed.stderr).toContain('oops');
    expect(failed.stderr).toContain('command terminated with exit code 3');
  });

  it('run -i --rm and attach: stdin reaches the container, output streams back, stdinOnce closes it', async () => {
    const run = await kubectl(
      kc,
      [
        'run',
        'attach-run',
        '--image=busybox',
        '--restart=Never',
        '--rm',
        '-i',
        '--',
        'sh',
        '-c',
        'read x; echo "got:$x"; exit 3',
      ],
      { input: 'hello\n' },
    );
    expect(run.stdout).toContain('got:hello');
    expect(run.stderr).not.toContain('falling back to streaming logs');
    expect(run.code).toBe(3);

    const file = join(cluster.stateDir, 'attach-me.json');
    const pod = JSON.parse(podYaml('attach-me', 'while read l; do echo "echo:$l"; done; echo bye'));
    Object.assign(pod.spec.containers[0], { stdin: true, stdinOnce: true });
    writeFileSync(file, JSON.stringify(pod));
    await kubectl(kc, ['create', '-f', file]);
    await waitRunning('attach-me');
    const attached = await kubectl(kc, ['attach', '-i', 'attach-me'], { input: 'a\nb\n' });
    expect(attached.stdout).toBe('echo:a\necho:b\nbye\n');
    expect(attached.code).toBe(0);
    const phase = await kubectl(kc, [
      'wait',
      '--for=jsonpath={.status.phase}=Succeeded',
      'pod/attach-me',
      '--timeout=60s',
    ]);
    expect(phase.code).toBe(0);
  });

  it('cp copies a tree with a large file into the pod and back unchanged', async () => {
    const source = join(cluster.stateDir, 'cp-src');
    mkdirSync(join(source, 'nested', 'deeper'), { recursive: true });
    writeFileSync(join(source, 'small.txt'), 'small\n');
    writeFileSync(join(source, 'nested', 'deeper', 'large.bin'), randomBytes(16 * 1024 * 1024));
    writeFileSync(join(source, 'nested', 'empty'), '');
    const to = await kubectl(kc, ['cp', source, 'default/shell:/tmp/work']);
    expect(to).toMatchObject({ code: 0 });
    const listed = await kubectl(kc, ['exec', 'shell', '--', 'sh', '-c', 'cd /tmp/work && find . -type f | sort']);
    expect(listed.stdout).toBe('./nested/deeper/large.bin\n./nested/empty\n./small.txt\n');
    const back = join(cluster.stateDir, 'cp-back');
    const from = await kubectl(kc, ['cp', 'default/shell:/tmp/work', back]);
    expect(from.code).toBe(0);
    expect(treeDigest(back)).toEqual(treeDigest(source));
  });

  it('delete stops the pod gracefully and waits until it is gone', async () => {
    const deleted = await kubectl(kc, ['delete', 'pod', 'shell']);
    expect(deleted.stdout.trim()).toBe('pod "shell" deleted');
    const gone = await kubectl(kc, ['get', 'pod', 'shell']);
    expect(gone.stderr).toContain('Error from server (NotFound): pods "shell" not found');
  });
});
