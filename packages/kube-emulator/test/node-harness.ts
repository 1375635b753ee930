// A node on a real store, with a minimal HTTP + WebSocket front so that logs and exec are tested
// over the wire, the way the API server calls the node.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { createObjectStore } from '../src/apiserver/store.js';
import type { KubeObject, Node, NodeOptions } from '../src/contracts.js';
import { createImageStore } from '../src/node/image-store.js';
import { createNode } from '../src/node/index.js';
import { createPodNetwork } from '../src/node/network.js';

export type RecordedEvent = Parameters<NodeOptions['recordEvent']>[0];

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Parsed channel-3 payloads (exactly one expected). */
  statuses: Record<string, unknown>[];
  firstFrame: number[];
  closeCode: number;
  protocol: string;
}

export interface ExecOptions {
  container?: string;
  stdin?: (string | Buffer)[];
  /** v5: send [255, 0] after stdin; v4: close the socket after stdin. */
  closeStdin?: boolean;
  /** Send stdin as text frames (`\u0000` + text), as the official Python client does. */
  textFrames?: boolean;
  protocols?: string[];
  tty?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  /** Called with the socket once open (e.g. to close it early). */
  onOpen?: (ws: WebSocket) => void;
  onStdout?: (text: string, ws: WebSocket) => void;
}

export async function startHarness(overrides: Partial<NodeOptions> = {}) {
  const stateDir = mkdtempSync(join(tmpdir(), overrides.stateDir ?? 'podrun-node-'));
  const store = createObjectStore();
  const events: RecordedEvent[] = [];
  const network = overrides.network ?? (await createPodNetwork({ enabled: true }));
  const imageStore = overrides.imageStore ?? createImageStore(join(stateDir, 'images'));
  const node: Node = createNode({
    store,
    nodeName: 'podrun-node',
    nodeLabels: { 'kubernetes.io/hostname': 'podrun-node', 'kubernetes.io/os': 'linux' },
    allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
    images: [],
    imageStore,
    ...overrides,
    network,
    stateDir,
    recordEvent: (event) => {
      events.push(event);
      // Stored like the API server does, so that waits on the store also see events.
      store.create('events', {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: '', generateName: `${event.involvedObject.name}.`, namespace: event.namespace },
        ...event,
      });
    },
  });

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const q = url.searchParams;
    const num = (name: string): number | undefined => (q.has(name) ? Number(q.get(name)) : undefined);
    const request = {
      namespace: q.get('namespace') ?? 'default',
      pod: q.get('pod') ?? '',
      container: q.get('container') ?? '',
      follow: q.get('follow') === 'true',
      timestamps: q.get('timestamps') === 'true',
      previous: q.get('previous') === 'true',
      ...(q.has('sinceTime') ? { sinceTime: new Date(q.get('sinceTime')!) } : {}),
      ...(q.has('sinceSeconds') ? { sinceSeconds: num('sinceSeconds')! } : {}),
      ...(q.has('tailLines') ? { tailLines: num('tailLines')! } : {}),
      ...(q.has('limitBytes') ? { limitBytes: num('limitBytes')! } : {}),
    };
    node.serveLogs(request, req, res);
  });
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) =>
      ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io'].find((p) => offered.has(p)) ?? false,
  });
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      node.serveExec(
        {
          namespace: q.get('namespace') ?? 'default',
          pod: q.get('pod') ?? '',
          container: q.get('container') ?? '',
          command: q.getAll('command'),
          stdin: q.get('stdin') === 'true',
          stdout: q.get('stdout') !== 'false',
          stderr: q.get('stderr') !== 'false',
          tty: q.get('tty') === 'true',
          protocol: ws.protocol,
        },
        ws,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  const harness = {
    network,
    base: `http://${base}`,
    store,
    node,
    events,
    stateDir,
    imageStore,

    createPod(name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject {
      return store.create('pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'default', ...metadata },
        spec: { restartPolicy: 'Never', ...spec },
      });
    },

    pod(name: string): KubeObject | undefined {
      return store.get('pods', 'default', name);
    },

    /** Resolves with the pod once `predicate` holds (checked now and on every store change). */
    waitFor(name: string, predicate: (pod: KubeObject) => boolean, timeoutMs = 40_000): Promise<KubeObject> {
      return new Promise((resolve, reject) => {
        let unsubscribe: () => void = () => undefined;
        const check = (): boolean => {
          const pod = harness.pod(name);
          if (pod && predicate(pod)) {
            clearTimeout(timer);
            unsubscribe();
            resolve(pod);
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => {
          unsubscribe();
          reject(new Error(`timed out waiting for pod ${name}: ${JSON.stringify(harness.pod(name)?.status)}`));
        }, timeoutMs);
        unsubscribe = store.subscribe(() => queueMicrotask(check));
        check();
      });
    },

    phase(name: string, phase: string): Promise<KubeObject> {
      return harness.waitFor(name, (p) => (p.status as { phase?: string } | undefined)?.phase === phase);
    },

    /** Waits until the pod is gone from the store. */
    gone(name: string, timeoutMs = 40_000): Promise<void> {
      return new Promise((resolve, reject) => {
        if (!harness.pod(name)) return resolve();
        const timer = setTimeout(() => reject(new Error(`pod ${name} still exists`)), timeoutMs);
        const unsubscribe = store.subscribe((event) => {
          if (event.type === 'DELETED' && event.object.metadata.name === name) {
            clearTimeout(timer);
            unsubscribe();
            resolve();
          }
        });
      });
    },

    async logs(
      pod: string,
      params: Record<string, string | number | boolean> = {},
    ): Promise<{ status: number; body: string; type: string | null }> {
      const query = new URLSearchParams({
        pod,
        ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])),
      });
      const response = await fetch(`http://${base}/logs?${query}`);
      return { status: response.status, body: await response.text(), type: response.headers.get('content-type') };
    },

    exec(pod: string, command: string[], options: ExecOptions = {}): Promise<ExecResult> {
      const query = new URLSearchParams({ pod, container: options.container ?? '' });
      for (const part of command) query.append('command', part);
      query.set('stdin', String(Boolean(options.stdin)));
      query.set('stdout', String(options.stdout ?? true));
      query.set('stderr', String(options.stderr ?? true));
      query.set('tty', String(Boolean(options.tty)));
      const ws = new WebSocket(
        `ws://${base}/exec?${query}`,
        options.protocols ?? ['v5.channel.k8s.io', 'v4.channel.k8s.io'],
      );
      const result: ExecResult = { stdout: '', stderr: '', statuses: [], firstFrame: [], closeCode: 0, protocol: '' };
      let frames = 0;
      return new Promise((resolve, reject) => {
        ws.on('error', reject);
        ws.on('open', () => {
          result.protocol = ws.protocol;
          options.onOpen?.(ws);
          for (const chunk of options.stdin ?? []) {
            if (options.textFrames) ws.send(`\u0000${chunk.toString()}`, { binary: false });
            else ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(chunk)]));
          }
          if (options.closeStdin) {
            if (ws.protocol.startsWith('v5')) ws.send(Buffer.from([255, 0]));
            else ws.close();
          }
        });
        ws.on('message', (data: Buffer) => {
          if (frames++ === 0) result.firstFrame = [...data];
          const channel = data[0];
          const text = data.subarray(1).toString('utf8');
          if (channel === 1) {
            result.stdout += text;
            options.onStdout?.(result.stdout, ws);
          } else if (channel === 2) result.stderr += text;
          else if (channel === 3) result.statuses.push(JSON.parse(text) as Record<string, unknown>);
        });
        ws.on('close', (code) => {
          result.closeCode = code;
          resolve(result);
        });
      });
    },

    async close(): Promise<void> {
      await node.stop();
      await network.stop();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return harness;
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;

/** A pod status field, typed loosely for assertions. */
export function status(pod: KubeObject): any {
  return pod.status;
}

/** A busybox-style container running a shell script. */
export function sh(name: string, script: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, image: 'busybox', command: ['sh', '-c', script], ...extra };
}

/** Host processes whose command line contains `marker`. */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(marker))
        found.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}

/** Re-checks a condition that has no event to wait on (e.g. a process gone from /proc). */
export async function eventually(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Follows a container's log until `text` appears (event-driven: the node streams as it writes). */
export async function waitForLog(h: { base: string }, pod: string, text: string, container = ''): Promise<void> {
  const abort = new AbortController();
  const query = new URLSearchParams({ pod, container, follow: 'true' });
  const response = await fetch(`${h.base}/logs?${query}`, { signal: abort.signal });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let seen = '';
  try {
    while (!seen.includes(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`log of ${pod} ended without "${text}": ${seen}`);
      seen += decoder.decode(value, { stream: true });
    }
  } finally {
    abort.abort();
  }
}
