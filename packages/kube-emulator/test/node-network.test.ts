// Pod networking over real sockets: each pod in its own network namespace on the cluster's
// bridge, reachable from other pods and the host, cut off from the host's loopback and the
// outside; host-network pods and the fallback when the machine cannot do it.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster } from '../src/cluster.js';
import { rawRequest } from './api-helpers.js';
import { eventually, startHarness, waitForLog } from './node-harness.js';
import type { Harness } from './node-harness.js';

const run = promisify(execFile);

/** A node container that answers each TCP connection on 8080 with "pong <hostname>". */
const server = {
  name: 'server',
  image: 'node',
  command: [
    'node',
    '-e',
    "require('net').createServer((s) => s.end('pong ' + require('os').hostname())).listen(8080, () => console.log('listening'))",
  ],
};

/** Connects to host:port and prints what it got, or the error code (exit 1). */
function clientScript(host: string, port: number): string {
  return `const s = require('net').connect(${port}, '${host}'); let d = '';
    s.on('data', (c) => (d += c));
    s.on('end', () => console.log('got ' + d));
    s.on('error', (e) => { console.log('error ' + e.code); process.exitCode = 1; });`;
}

function client(name: string, host: string, port: number): Record<string, unknown> {
  return { name, image: 'node', command: ['node', '-e', clientScript(host, port)] };
}

function ask(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    let data = '';
    socket.on('data', (chunk) => (data += chunk));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

function listen(host: string): Promise<Server> {
  const srv = createServer((s) => s.end('host here'));
  return new Promise((resolve) => srv.listen(0, host, () => resolve(srv)));
}

let h: Harness;
const servers: Server[] = [];
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  for (const srv of servers) srv.close();
  await h.close();
});

async function finishedLog(name: string): Promise<{ phase: string; log: string }> {
  const pod = await h.waitFor(name, (p) => ['Succeeded', 'Failed'].includes((p.status as any)?.phase));
  const log = await (await fetch(`${h.base}/logs?pod=${name}&container=`)).text();
  return { phase: (pod.status as any).phase, log: log.trim() };
}

async function listening(name: string): Promise<void> {
  await h.phase(name, 'Running');
  await waitForLog(h, name, 'listening');
}

function podIP(name: string): string {
  return (h.pod(name)!.status as any).podIP;
}

describe('pod network', () => {
  it('is available on this machine (root, ip, CAP_NET_ADMIN)', () => {
    // Everything below assumes it; the fallback has its own tests.
    expect(h.network.fallbackReason).toBeUndefined();
    expect(h.network.hostIP).toMatch(/^10\.244\.\d+\.1$/);
    const bridge = `podrun${h.network.hostIP.split('.')[2]}`;
    expect(readFileSync(`/proc/sys/net/ipv4/conf/${bridge}/forwarding`, 'utf8').trim()).toBe('0');
    expect(readFileSync(`/proc/sys/net/ipv6/conf/${bridge}/disable_ipv6`, 'utf8').trim()).toBe('1');
  });

  it('gives each pod its own IP, reachable from the host and from other pods', async () => {
    h.createPod('web', { containers: [server] });
    await listening('web');
    const ip = podIP('web');
    expect(ip).toMatch(/^10\.244\.\d+\.\d+$/);
    expect(ip).not.toBe(h.network.hostIP);
    expect((h.pod('web')!.status as any).podIPs).toEqual([{ ip }]);
    expect((h.pod('web')!.status as any).hostIP).toBe(h.network.hostIP);
    expect(await ask(ip, 8080)).toBe('pong web');

    h.createPod('caller', { containers: [client('main', ip, 8080)] });
    expect(await finishedLog('caller')).toEqual({ phase: 'Succeeded', log: 'got pong web' });
    expect(podIP('caller')).not.toBe(ip);
  });

  it('shares the namespace between the containers of a pod and exec sessions', async () => {
    h.createPod('duo', {
      containers: [
        server,
        {
          ...client('side', '127.0.0.1', 8080),
          // Retries until the sibling listens: its start order is not defined.
          command: [
            'node',
            '-e',
            `const go = () => { const s = require('net').connect(8080, '127.0.0.1'); let d = '';
               s.on('data', (c) => (d += c)); s.on('end', () => console.log('got ' + d));
               s.on('error', () => setTimeout(go, 50)); }; go();`,
          ],
        },
      ],
    });
    await h.phase('duo', 'Running');
    await waitForLog(h, 'duo', 'got pong duo', 'side');
    const inside = await h.exec('duo', ['node', '-e', clientScript('127.0.0.1', 8080)], {
      container: 'server',
    });
    expect(inside.stdout.trim()).toBe('got pong duo');
    // Another pod's loopback is its own.
    const hosts = await h.exec('web', ['cat', '/etc/hosts']);
    expect(hosts.stdout).toContain(`${podIP('web')}\tweb\n`);
    const other = await h.exec('web', ['node', '-e', clientScript('127.0.0.1', 8081)]);
    expect(other.stdout.trim()).toBe('error ECONNREFUSED');
  });

  it('reaches the host at the bridge address only: not its loopback, not the outside', async () => {
    const onBridge = await listen(h.network.hostIP);
    const onLoopback = await listen('127.0.0.1');
    servers.push(onBridge, onLoopback);
    const bridgePort = (onBridge.address() as AddressInfo).port;
    const loopbackPort = (onLoopback.address() as AddressInfo).port;
    h.createPod('to-host', { containers: [client('main', h.network.hostIP, bridgePort)] });
    expect(await finishedLog('to-host')).toEqual({ phase: 'Succeeded', log: 'got host here' });
    h.createPod('to-loopback', { containers: [client('main', '127.0.0.1', loopbackPort)] });
    expect(await finishedLog('to-loopback')).toEqual({ phase: 'Failed', log: 'error ECONNREFUSED' });
    const outside = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal && !a.address.startsWith('10.244.'));
    if (outside) {
      // No default route: the host's other addresses are unreachable, let alone the world.
      h.createPod('to-outside', { containers: [client('main', outside.address, loopbackPort)] });
      expect(await finishedLog('to-outside')).toEqual({ phase: 'Failed', log: 'error ENETUNREACH' });
    }
  });

  it('keeps the host network for hostNetwork pods', async () => {
    const onLoopback = await listen('127.0.0.1');
    servers.push(onLoopback);
    const port = (onLoopback.address() as AddressInfo).port;
    h.createPod('hostnet', { hostNetwork: true, containers: [client('main', '127.0.0.1', port)] });
    expect(await finishedLog('hostnet')).toEqual({ phase: 'Succeeded', log: 'got host here' });
    expect(podIP('hostnet')).toBe(h.network.hostIP);
  });

  it('writes /etc/hosts as the kubelet does: pod IP with hostname and subdomain, the node file on the host network', async () => {
    const cat = { name: 'main', image: 'busybox', command: ['sh', '-c', 'hostname; cat /etc/hosts'] };
    h.createPod('named', { hostname: 'db-0', subdomain: 'db', containers: [cat] });
    const named = await finishedLog('named');
    expect(named.log.split('\n')[0]).toBe('db-0');
    expect(named.log).toContain(`${podIP('named')}\tdb-0.db.default.svc.cluster.local\tdb-0`);
    h.createPod('hostnet-hosts', {
      hostNetwork: true,
      hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo.remote', 'bar.remote'] }],
      containers: [cat],
    });
    const hostnet = await finishedLog('hostnet-hosts');
    // Host-network pods share the host's UTS namespace in Kubernetes: its name is theirs.
    expect(hostnet.log.split('\n')[0]).toBe(hostname());
    expect(hostnet.log).toContain('\n# Kubernetes-managed hosts file (host network).\n');
    expect(hostnet.log).toContain(readFileSync('/etc/hosts', 'utf8').trim());
    expect(hostnet.log).toMatch(/\n# Entries added by HostAliases\.\n10\.1\.2\.3\tfoo\.remote\tbar\.remote$/);
  });

  it('removes the namespace when the pod is deleted', async () => {
    h.createPod('short', { containers: [server] });
    await listening('short');
    const [, , index, host] = podIP('short').split('.');
    const netns = `/run/netns/podrun-${index}-${host}`;
    expect(existsSync(netns)).toBe(true);
    h.store.remove('pods', 'default', 'short');
    await eventually(() => !existsSync(netns));
  });

  it('removes the namespaces of pods deleted together, and hands their IPs out again', async () => {
    const names = ['many-a', 'many-b', 'many-c', 'many-d'];
    for (const name of names) h.createPod(name, { containers: [server] });
    await Promise.all(names.map(listening));
    const netns = names.map((name) => {
      const [, , index, host] = podIP(name).split('.');
      return `/run/netns/podrun-${index}-${host}`;
    });
    for (const name of names) h.store.remove('pods', 'default', name);
    await eventually(() => netns.every((path) => !existsSync(path)));
    h.createPod('after-many', { containers: [server] });
    await listening('after-many');
    expect(await ask(podIP('after-many'), 8080)).toBe('pong after-many');
  });
});

describe('pod network lifetime', () => {
  it('is removed on cluster stop, and a crashed run leftovers do not block the next start', async () => {
    // A crashed run: its process is gone, its lease, bridge and namespace are still there.
    const dead = spawn(process.execPath, ['-e', '']);
    const deadPid = dead.pid!;
    await new Promise((resolve) => dead.on('exit', resolve));
    // A free index (no lease yet: taken exclusively, so no live cluster's lease is overwritten).
    let stale = 255;
    for (; stale > 0; stale -= 1) {
      try {
        writeFileSync(join('/run/podrun-network', `${stale}.lease`), `${deadPid} 1`, { flag: 'wx' });
        break;
      } catch {
        // Leased by a running cluster: try the next one.
      }
    }
    await run('ip', ['link', 'add', `podrun${stale}`, 'type', 'bridge']).catch(() => undefined);
    await run('ip', ['netns', 'add', `podrun-${stale}-9`]).catch(() => undefined);
    const cluster = await startCluster();
    try {
      expect(cluster.podNetworkFallback).toBeUndefined();
      expect(existsSync(`/run/netns/podrun-${stale}-9`)).toBe(false);
      const index = cluster.hostIP.split('.')[2];
      // The dead run's lease and bridge are gone, unless the freed index was leased again at once:
      // by this cluster, or by another one starting meanwhile (parallel test files, other runs).
      const leaseFile = join('/run/podrun-network', `${stale}.lease`);
      const lease = existsSync(leaseFile) ? readFileSync(leaseFile, 'utf8') : undefined;
      expect(lease?.startsWith(`${deadPid} `) ?? false).toBe(false);
      if (lease === undefined) {
        expect((await run('ip', ['-o', 'link', 'show'])).stdout).not.toContain(`podrun${stale}:`);
      }
      const links = await run('ip', ['-o', 'link', 'show']);
      expect(links.stdout).toContain(`podrun${index}:`);
      await cluster.stop();
      const after = await run('ip', ['-o', 'link', 'show']);
      expect(after.stdout).not.toContain(`podrun${index}:`);
    } finally {
      await cluster.stop();
    }
  });

  it('clusters in separate processes started at once get different subnets', async () => {
    // Each process starts a cluster, prints its bridge address and waits for stdin to close.
    const script = `
      import { startCluster } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      const cluster = await startCluster();
      console.log(cluster.hostIP);
      process.stdin.resume();
      process.stdin.on('end', () => cluster.stop());`;
    const children = [0, 1, 2].map(() =>
      spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] }),
    );
    const addresses = await Promise.all(
      children.map(
        (child) =>
          new Promise<string>((resolve, reject) => {
            let out = '';
            child.stdout!.on('data', (chunk) => {
              out += chunk;
              if (out.includes('\n')) resolve(out.trim());
            });
            child.on('exit', (code) => reject(new Error(`cluster process exited with ${code}: ${out}`)));
          }),
      ),
    );
    const exits = children.map((child) => new Promise((resolve) => child.on('exit', resolve)));
    for (const child of children) child.stdin!.end();
    expect(await Promise.all(exits)).toEqual([0, 0, 0]);
    expect(new Set(addresses).size).toBe(3);
    const links = await run('ip', ['-o', 'link', 'show']);
    for (const address of addresses) expect(links.stdout).not.toContain(`podrun${address.split('.')[2]}:`);
  });

  it('two clusters at once get different subnets', async () => {
    const [a, b] = await Promise.all([startCluster(), startCluster()]);
    try {
      expect(a.hostIP).not.toBe(b.hostIP);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

describe('host network fallback', () => {
  it('podNetwork: false keeps pods on the host network and records why', async () => {
    const cluster = await startCluster({ podNetwork: false });
    try {
      expect(cluster.hostIP).toBe('127.0.0.1');
      expect(cluster.podNetworkFallback).toContain('podNetwork: false');
      const events = await rawRequest(cluster.kubeconfig, '/api/v1/namespaces/default/events');
      const event = events.json().items.find((e: any) => e.reason === 'HostNetworkFallback');
      expect(event).toMatchObject({ involvedObject: { kind: 'Node', name: 'podrun-node' } });
      expect(event.message).toContain('podNetwork: false');
      const node = await rawRequest(cluster.kubeconfig, '/api/v1/nodes/podrun-node');
      expect(node.json().status.addresses[0]).toEqual({ type: 'InternalIP', address: '127.0.0.1' });
    } finally {
      await cluster.stop();
    }
  });

  it('falls back with one log line naming the reason when CAP_NET_ADMIN is missing', async () => {
    // The same emulator started without CAP_NET_ADMIN in its bounding set (so root lacks it too).
    const script = `
      import { startCluster } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      const lines = [];
      const cluster = await startCluster({ log: (line) => lines.push(line) });
      console.log(JSON.stringify({ hostIP: cluster.hostIP, reason: cluster.podNetworkFallback, lines }));
      await cluster.stop();`;
    const { stdout } = await run('setpriv', [
      '--bounding-set',
      '-net_admin',
      process.execPath,
      '--input-type=module',
      '-e',
      script,
    ]);
    const result = JSON.parse(stdout);
    expect(result.hostIP).toBe('127.0.0.1');
    expect(result.reason).toBe('the process lacks CAP_NET_ADMIN');
    expect(result.lines).toEqual([
      'podrun kube-emulator: pods share the host network: the process lacks CAP_NET_ADMIN',
    ]);
  });
});
