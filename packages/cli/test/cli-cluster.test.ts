// The CLI as a subprocess against the embedded cluster: the examples, resume after SIGKILL,
// the task cache without a pod, RBAC from `podrun rbac`, `doctor`, and worker group WAIT.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster } from '@podrun/kube-emulator';
import type { EmbeddedCluster } from '@podrun/kube-emulator';
import { runCli, startCli } from './support/cli.js';
import { applyYaml, serviceAccountToken } from './support/kube.js';
import { testImageArchives } from '@podrun/test-utils';

const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));
let dir: string;
let home: string;
let cluster: EmbeddedCluster;
let kubeconfig: string;
const EXEC_PLUGIN_TOKEN = 'tok-from-exec-plugin';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podrun-cli-k8s-'));
  home = await mkdtemp(join(tmpdir(), 'podrun-home-'));
  // Kubernetes 1.35 behaviour: WebSocket exec needs `create pods/exec` too.
  cluster = await startCluster({
    execRequiresCreate: true,
    staticTokens: [{ token: EXEC_PLUGIN_TOKEN, user: 'exec-plugin-user', groups: ['system:masters'] }],
  });
  kubeconfig = join(dir, 'admin.kubeconfig');
  await writeFile(kubeconfig, cluster.kubeconfig);
});
afterAll(async () => {
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
  await rm(home, { recursive: true, force: true });
});

const noKube = () => ({ HOME: home, KUBECONFIG: '' });
const podCreates = () => cluster.metrics.requestCount({ verb: 'POST', resource: 'pods', subresource: '' });

describe('podrun on a cluster', { timeout: 180_000 }, () => {
  it('runs the reference examples on the embedded cluster when no kubeconfig exists', async () => {
    const hello = await runCli(['run', join(examples, 'new-shell.yml')], { cwd: dir, env: noKube() });
    expect(hello.code).toBe(0);
    expect(hello.stdout).toContain('[shell] Hello World');
    expect(hello.stderr.split('\n').filter((l) => l.includes('embedded cluster'))).toHaveLength(1);
    expect(hello.stderr).not.toContain('debug:');

    // DEBUG=podrun:* (or -v): each automatic decision prints one line saying what and why.
    const withFile = await runCli(
      ['run', join(examples, 'new-shell-with-file.yml'), '--input', `file=@${join(examples, 'data.txt')}`, '--json'],
      { cwd: dir, env: { ...noKube(), DEBUG: 'podrun:*' } },
    );
    expect(withFile.code).toBe(0);
    const decisions = withFile.stderr.split('\n').filter((l) => l.startsWith('podrun: debug: '));
    const about = (topic: string) => decisions.filter((l) => l.startsWith(`podrun: debug: ${topic}: `));
    expect(about('cluster')).toEqual([
      expect.stringMatching(/the embedded one, because there is no kubeconfig/) as unknown as string,
    ]);
    expect(about('server')).toEqual([
      expect.stringMatching(
        /https:\/\/127\.0\.0\.1:\d+ \(context "podrun-emulator".*from a kubeconfig file/,
      ) as unknown as string,
    ]);
    expect(about('credentials')).toEqual([expect.stringMatching(/a client certificate/) as unknown as string]);
    expect(about('exec protocol')).toEqual([
      expect.stringMatching(
        /^podrun: debug: exec protocol: v5\.channel\.k8s\.io: the server speaks it/,
      ) as unknown as string,
    ]);
    const doc = JSON.parse(withFile.stdout);
    const saved = doc.tasks[0].outputFiles['out.txt'].path as string;
    expect(await readFile(join(dir, saved))).toEqual(await readFile(join(examples, 'data.txt')));
    expect(saved).toContain(join('podrun-outputs', doc.executionId, 'shell', 'out.txt'));
  });

  it.skipIf(!process.env.PODRUN_TEST_IMAGES)('imports an image archive and runs a task on it', async () => {
    const archive = process.env.PODRUN_TEST_IMAGES!.split(',')[0]!;
    const name = 'example.com/podrun/tools:1';
    const imported = await runCli(['cluster', 'image', 'import', archive, '--name', name, '--kubeconfig', kubeconfig], {
      cwd: dir,
      env: noKube(),
    });
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toMatch(/^imported example\.com\/podrun\/tools:1 \(sha256:[0-9a-f]{64}\)\n$/);
    const listed = await runCli(['cluster', 'image', 'ls', '--kubeconfig', kubeconfig], { cwd: dir, env: noKube() });
    expect(listed.stdout).toContain('example.com/podrun/tools:1');
    await writeFile(
      join(dir, 'tools.yml'),
      `id: tools
namespace: company.team
tasks:
  - id: banner
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: ${name}
    taskRunner:
      type: io.kestra.plugin.ee.kubernetes.runner.Kubernetes
      pullPolicy: NEVER
    commands:
      - busybox | head -1
`,
    );
    const run = await runCli(['run', join(dir, 'tools.yml'), '--kubeconfig', kubeconfig], { cwd: dir, env: noKube() });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\[banner\] BusyBox v1\./);
    const missing = await runCli(['cluster', 'image', 'import', join(dir, 'nothing.tar'), '--kubeconfig', kubeconfig], {
      cwd: dir,
      env: noKube(),
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nothing.tar: no such archive');
  });

  it('resumes an interrupted run: the pod is found again, logs are not replayed', async () => {
    await writeFile(
      join(dir, 'long.yml'),
      `id: long
namespace: company.team
tasks:
  - id: slow
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    commands:
      - echo started
      - echo running
      - sleep 6
      - echo finished
`,
    );
    const before = podCreates();
    const first = startCli(['run', 'long.yml', '--kubeconfig', kubeconfig, '--execution-id', 'interrupted-1'], {
      cwd: dir,
      env: noKube(),
    });
    // The runner makes a line's cursor durable before it delivers the next one.
    await first.waitFor('[slow] running');
    first.child.kill('SIGKILL');
    await first.done;
    const resumed = await runCli(['resume', 'interrupted-1'], { cwd: dir, env: noKube() });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain('[slow] reattaching');
    expect(resumed.stdout).toContain('[slow] finished');
    expect(resumed.stdout).not.toContain('[slow] started');
    expect(podCreates() - before).toBe(1);
  });

  it('fans out: a live summary instead of interleaved logs, and a resume after SIGKILL reattaches each pod', async () => {
    await writeFile(
      join(dir, 'fan.yml'),
      `id: fan
namespace: company.team
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: [v1, v2, v3, v4]
    concurrencyLimit: 2
    tasks:
      - id: t
        type: io.kestra.plugin.scripts.shell.Commands
        containerImage: busybox
        inputFiles:
          in.txt: "{{ taskrun.value }}"
        outputFiles: [out.txt]
        commands:
          - echo "start {{ taskrun.value }}"
          - sleep 4
          - tr a-z A-Z < in.txt > out.txt
          - echo "end {{ taskrun.value }}"
`,
    );
    const before = podCreates();
    const env = { ...noKube(), PODRUN_SUMMARY_INTERVAL_MS: '100' };
    const first = startCli(['run', 'fan.yml', '--kubeconfig', kubeconfig, '--execution-id', 'fan-1'], {
      cwd: dir,
      env,
    });
    await first.waitFor(/tasks: 0\/4 done, 2 running/);
    first.child.kill('SIGKILL');
    await first.done;
    const resumed = await runCli(['resume', 'fan-1'], { cwd: dir, env });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain('[t[v1]] reattaching');
    expect(resumed.stderr).toContain('[t[v2]] reattaching');
    expect(resumed.stderr).toContain('[each] SUCCESS: 4/4 done, 0 running, 0 failed, 0 queued');
    // The tasks' own lines are summarised, not printed, and kept whole in the log files.
    expect(resumed.stdout + resumed.stderr).not.toContain('start v');
    expect(podCreates() - before).toBe(4);
    for (const v of ['v1', 'v2', 'v3', 'v4']) {
      expect(await readFile(join(dir, 'podrun-outputs', 'fan-1', 't', v, 'out.txt'), 'utf8')).toBe(v.toUpperCase());
      const log = await readFile(join(dir, '.podrun', 'executions', 'fan-1', 'logs', 't', `${v}.log`), 'utf8');
      expect(log.split('\n').filter((l) => l.startsWith('start') || l.startsWith('end'))).toEqual([
        `start ${v}`,
        `end ${v}`,
      ]);
    }
    expect(resumed.stdout).toContain('t[v4]: SUCCESS, exit 0');
  });

  it('caches a task: the rerun uses no pod', async () => {
    await copyFile(join(examples, 'cache.yml'), join(dir, 'cache.yml'));
    const before = podCreates();
    const first = await runCli(['run', 'cache.yml', '--kubeconfig', kubeconfig, '-i', 'text=hi'], {
      cwd: dir,
      env: noKube(),
    });
    const second = await runCli(['run', 'cache.yml', '--kubeconfig', kubeconfig, '-i', 'text=hi'], {
      cwd: dir,
      env: noKube(),
    });
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('cache hit');
    expect(podCreates() - before).toBe(1);
  });

  // The bundle leaves parts of client-node's KubeConfig out (scripts/bundle.js): authentication
  // through a kubeconfig's exec credential plugin still runs through the real one.
  it('authenticates with the token of a kubeconfig exec credential plugin', async () => {
    const plugin = join(dir, 'credential-plugin.sh');
    await writeFile(
      plugin,
      `#!/bin/sh\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${EXEC_PLUGIN_TOKEN}"}}'\n`,
      { mode: 0o755 },
    );
    const file = join(dir, 'exec-plugin.kubeconfig');
    await writeFile(
      file,
      `apiVersion: v1
kind: Config
clusters:
  - name: c
    cluster:
      server: ${cluster.url}
      certificate-authority-data: ${Buffer.from(cluster.caCertPem).toString('base64')}
users:
  - name: u
    user:
      exec: { apiVersion: client.authentication.k8s.io/v1, command: ${plugin}, interactiveMode: Never }
contexts:
  - name: x
    context: { cluster: c, user: u }
current-context: x
`,
    );
    const authenticated = () => cluster.metrics.requestCount({ verb: 'POST', resource: 'pods', subresource: '' });
    const before = authenticated();
    const hello = await runCli(['run', join(examples, 'new-shell.yml'), '--kubeconfig', file, '-v'], {
      cwd: dir,
      env: noKube(),
    });
    expect(hello.code).toBe(0);
    expect(hello.stdout).toContain('[shell] Hello World');
    expect(hello.stderr).toMatch(/credentials: the exec credential plugin ".*credential-plugin\.sh"/);
    expect(hello.stderr).not.toContain(EXEC_PLUGIN_TOKEN);
    expect(authenticated() - before).toBe(1);
  });

  // A kubeconfig's `proxy-url` (socks5) carries every request and the exec WebSocket through the
  // proxy: client-node's SOCKS agent, which the bundle loads only for such a kubeconfig.
  it('reaches the cluster through a socks5 proxy-url, files included', async () => {
    const proxy = await startSocks5Proxy();
    try {
      const file = join(dir, 'socks.kubeconfig');
      await writeFile(
        file,
        cluster.kubeconfig.replace(/(\n(\s+)server: [^\n]+)/, `$1\n$2proxy-url: socks5://127.0.0.1:${proxy.port}`),
      );
      expect(await readFile(file, 'utf8')).toContain('proxy-url: socks5://');
      const execs = () => cluster.metrics.requestCount({ resource: 'pods', subresource: 'exec' });
      const execsBefore = execs();
      const requestsBefore = cluster.metrics.requestCount();
      const run = await runCli(
        [
          'run',
          join(examples, 'new-shell-with-file.yml'),
          '--kubeconfig',
          file,
          '--input',
          `file=@${join(examples, 'data.txt')}`,
        ],
        { cwd: dir, env: noKube() },
      );
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('SUCCESS');
      // The SOCKS agent keeps no connection alive: one connection per request, so every request
      // of the run came through it, the exec WebSockets that moved the files included (a watch
      // cut at exit may open one more than the server counts).
      expect(execs() - execsBefore).toBeGreaterThanOrEqual(2);
      expect(proxy.connections()).toBeGreaterThanOrEqual(cluster.metrics.requestCount() - requestsBefore);
      expect(proxy.targets()).toEqual([new URL(cluster.url).host]);
    } finally {
      await proxy.close();
    }
  });

  it('`podrun rbac` output lets a service account run the file example; doctor agrees', async () => {
    const rbac = await runCli(['rbac', '--namespace', 'default', '--service-account', 'runner'], {
      cwd: dir,
      env: noKube(),
    });
    expect(rbac.code).toBe(0);
    await applyYaml(cluster.kubeconfig, rbac.stdout);
    const sa = join(dir, 'runner.kubeconfig');
    await writeFile(
      sa,
      cluster.kubeconfigFor({ token: await serviceAccountToken(cluster.kubeconfig, 'default', 'runner') }),
    );
    const doctor = await runCli(['doctor', '--kubeconfig', sa], { cwd: dir, env: noKube() });
    expect(doctor.stdout).not.toContain('MISSING');
    expect(doctor.code).toBe(0);
    const run = await runCli(
      [
        'run',
        join(examples, 'new-shell-with-file.yml'),
        '--kubeconfig',
        sa,
        '-i',
        `file=@${join(examples, 'data.txt')}`,
      ],
      { cwd: dir, env: noKube() },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/shell: SUCCESS/);
  });

  it('`podrun doctor` reports a missing permission and exits non-zero', async () => {
    await applyYaml(
      cluster.kubeconfig,
      `apiVersion: v1
kind: ServiceAccount
metadata: {name: partial, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: partial, namespace: default}
rules:
  - {apiGroups: [""], resources: [pods], verbs: [get, list, watch, create, delete]}
  - {apiGroups: [""], resources: [pods/log], verbs: [get]}
  - {apiGroups: [""], resources: [pods/exec], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: partial, namespace: default}
subjects: [{kind: ServiceAccount, name: partial, namespace: default}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: partial}
`,
    );
    const sa = join(dir, 'partial.kubeconfig');
    await writeFile(
      sa,
      cluster.kubeconfigFor({ token: await serviceAccountToken(cluster.kubeconfig, 'default', 'partial') }),
    );
    const doctor = await runCli(['doctor', '--kubeconfig', sa], { cwd: dir, env: noKube() });
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain('MISSING  create pods/exec');
    expect(doctor.stdout).toContain('MISSING  list events');
    expect(doctor.stdout).toContain('ok       get pods/exec');
  });

  it('worker group WAIT: the task starts once its cluster becomes available', async () => {
    const late = join(dir, 'late.kubeconfig');
    await writeFile(join(dir, 'podrun.config.yml'), `workerGroups:\n  late:\n    kubeconfig: late.kubeconfig\n`);
    await writeFile(
      join(dir, 'wait.yml'),
      `id: wait
namespace: company.team
tasks:
  - id: t
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    workerGroup: {key: late, fallback: WAIT}
    commands: ['echo on the late cluster']
`,
    );
    const run = startCli(['run', 'wait.yml', '--kubeconfig', kubeconfig], { cwd: dir, env: noKube() });
    await run.waitFor('waiting for it');
    await writeFile(late, cluster.kubeconfig);
    const result = await run.done;
    await rm(join(dir, 'podrun.config.yml'));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('[t] on the late cluster');
  });

  it('Ctrl-C cancels the run: the pod is deleted and the exit code says cancelled', async () => {
    await writeFile(
      join(dir, 'cancel.yml'),
      `id: cancel
namespace: company.team
tasks:
  - id: slow
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    commands: ['echo started', 'sleep 60']
`,
    );
    const run = startCli(['run', 'cancel.yml', '--kubeconfig', kubeconfig, '--json'], { cwd: dir, env: noKube() });
    await run.waitFor('[slow] started');
    const before = cluster.metrics.requestCount({ verb: 'DELETE', resource: 'pods' });
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code).toBe(3);
    expect(JSON.parse(result.stdout)).toMatchObject({
      status: 'CANCELLED',
      tasks: [{ id: 'slow', status: 'CANCELLED' }],
    });
    expect(cluster.metrics.requestCount({ verb: 'DELETE', resource: 'pods' })).toBeGreaterThan(before);
  });

  it('`podrun cluster start` serves a cluster until interrupted', async () => {
    const out = join(dir, 'started.kubeconfig');
    const started = startCli(['cluster', 'start', '--kubeconfig-out', out, '--state-dir', join(dir, 'cluster-state')], {
      cwd: dir,
      env: noKube(),
    });
    await started.waitFor('stop with Ctrl-C');
    expect(started.stdout()).toMatch(/pods: own network namespaces; they reach this machine at 10\.244\.\d+\.1\n/);
    const doctor = await runCli(['doctor', '--kubeconfig', out], { cwd: dir, env: noKube() });
    expect(doctor.code).toBe(0);
    started.child.kill('SIGINT');
    const result = await started.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('embedded cluster stopped');
  });

  it('`podrun cluster start --no-pod-network` keeps pods on the host network and says so', async () => {
    const started = startCli(['cluster', 'start', '--no-pod-network', '--state-dir', join(dir, 'hostnet-state')], {
      cwd: dir,
      env: noKube(),
    });
    await started.waitFor('stop with Ctrl-C');
    expect(started.stdout()).toContain(
      'pods share the host network: pod networking is turned off (podNetwork: false)\n',
    );
    started.child.kill('SIGINT');
    expect((await started.done).code).toBe(0);
  });

  it('`podrun cluster start --kubernetes-version 1.29` serves as 1.29: doctor sees exec v4, and a transfer works', async () => {
    const out = join(dir, 'k129.kubeconfig');
    const images = testImageArchives();
    const started = startCli(
      [
        'cluster',
        'start',
        '--kubernetes-version',
        '1.29',
        '--kubeconfig-out',
        out,
        '--state-dir',
        join(dir, 'k129'),
        ...images.flatMap((image) => ['--image', image]),
      ],
      { cwd: dir, env: noKube() },
    );
    await started.waitFor('stop with Ctrl-C');
    const doctor = await runCli(['doctor', '--kubeconfig', out], { cwd: dir, env: noKube() });
    expect(doctor.stdout).toContain('server:      v1.29.');
    expect(doctor.stdout).toContain('exec:        v4.channel.k8s.io expected from Kubernetes 1.29: ok');
    await writeFile(
      join(dir, 'v4.yml'),
      `id: v4
namespace: company.team
inputs: [{id: file, type: FILE}]
tasks:
  - id: copy
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    taskRunner: {type: io.kestra.plugin.ee.kubernetes.runner.Kubernetes}
    inputFiles: {data.txt: "{{ inputs.file }}"}
    outputFiles: [out.txt]
    commands: ['cp data.txt out.txt']
`,
    );
    const run = await runCli(
      ['run', 'v4.yml', '--kubeconfig', out, '-i', `file=@${join(examples, 'data.txt')}`, '--json'],
      { cwd: dir, env: noKube() },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('out.txt');
    started.child.kill('SIGINT');
    expect((await started.done).code).toBe(0);
    const bad = await runCli(['cluster', 'start', '--kubernetes-version', '2.0'], { cwd: dir, env: noKube() });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('"2.0" is not a Kubernetes version');
  });

  it('switches strategies by configuration: pvc transfer and poll logs', async () => {
    await writeFile(
      join(dir, 'pvc.yml'),
      `id: pvc
namespace: company.team
inputs: [{id: file, type: FILE}]
pluginDefaults:
  - type: io.kestra.plugin.ee.kubernetes.runner.Kubernetes
    values:
      fileTransfer: {type: pvc}
      logCollector: {type: poll, interval: PT0.5S}
tasks:
  - id: shell
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: centos
    taskRunner: {type: io.kestra.plugin.ee.kubernetes.runner.Kubernetes}
    inputFiles: {data.txt: "{{ inputs.file }}"}
    outputFiles: [out.txt]
    commands: ['cp data.txt out.txt', 'echo copied']
`,
    );
    const claims = () => cluster.metrics.requestCount({ verb: 'POST', resource: 'persistentvolumeclaims' });
    const before = claims();
    const result = await runCli(
      ['run', 'pvc.yml', '--kubeconfig', kubeconfig, '-i', `file=@${join(examples, 'data.txt')}`, '--json'],
      { cwd: dir, env: noKube() },
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('[shell] copied');
    const doc = JSON.parse(result.stdout);
    expect(await readFile(join(dir, doc.tasks[0].outputFiles['out.txt'].path))).toEqual(
      await readFile(join(examples, 'data.txt')),
    );
    expect(claims() - before).toBe(1);
  });
});

/** A SOCKS5 proxy (RFC 1928, no authentication, CONNECT only) that counts what it carries. */
async function startSocks5Proxy(): Promise<{
  port: number;
  connections: () => number;
  targets: () => string[];
  close: () => Promise<void>;
}> {
  let count = 0;
  const seen = new Set<string>();
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    client.once('data', (greeting) => {
      if (greeting[0] !== 5) return client.destroy();
      client.write(Buffer.from([5, 0]));
      client.once('data', (request) => {
        const type = request[3];
        let host: string;
        let at: number;
        if (type === 1) {
          host = [...request.subarray(4, 8)].join('.');
          at = 8;
        } else if (type === 3) {
          host = request.subarray(5, 5 + request[4]!).toString();
          at = 5 + request[4]!;
        } else return client.destroy();
        const port = request.readUInt16BE(at);
        const upstream = connect(port, host, () => {
          count++;
          seen.add(`${host}:${port}`);
          client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
          upstream.pipe(client);
          client.pipe(upstream);
        });
        sockets.add(upstream);
        upstream.on('close', () => sockets.delete(upstream));
        upstream.on('error', () => client.destroy());
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => count,
    targets: () => [...seen],
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
