// Shared test plumbing: raw HTTPS requests with a kubeconfig's credentials, client-node clients,
// and an async kubectl runner (the cluster runs in this process, so nothing may block the loop).
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import https from 'node:https';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { parse } from 'yaml';
import * as k8s from '@kubernetes/client-node';
import type { EmbeddedCluster } from '../src/index.js';

/** Where kubectl is; tests that need it skip (with a printed reason) when it is absent. */
export const kubectlPath = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p));
if (!kubectlPath) console.warn('[kube-emulator tests] kubectl not found: kubectl tests are skipped');

interface KubeconfigDoc {
  clusters: { cluster: { server: string; 'certificate-authority-data'?: string } }[];
  users: {
    user: {
      token?: string;
      username?: string;
      password?: string;
      'client-certificate-data'?: string;
      'client-key-data'?: string;
    };
  }[];
}

/** A response read to the end. */
export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json<T = Record<string, any>>(): T;
}

/** One HTTP(S) request with the credentials of `kubeconfig` (or none). */
export function rawRequest(
  kubeconfig: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: unknown; anonymous?: boolean } = {},
): Promise<RawResponse> {
  const doc = parse(kubeconfig) as KubeconfigDoc;
  const server = new URL(doc.clusters[0]!.cluster.server);
  const user = options.anonymous ? {} : doc.users[0]!.user;
  const b64 = (v?: string): Buffer | undefined => (v ? Buffer.from(v, 'base64') : undefined);
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  if (user.token) headers.Authorization = `Bearer ${user.token}`;
  if (user.username)
    headers.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const transport = server.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      {
        host: server.hostname,
        port: server.port,
        path,
        method: options.method ?? 'GET',
        headers,
        ca: b64(doc.clusters[0]!.cluster['certificate-authority-data']),
        cert: b64(user['client-certificate-data']),
        key: b64(user['client-key-data']),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** client-node config for a kubeconfig string. */
export function kubeConfig(kubeconfig: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(kubeconfig);
  return kc;
}

/** CoreV1Api for a kubeconfig string. */
export function coreApi(kubeconfig: string): k8s.CoreV1Api {
  return kubeConfig(kubeconfig).makeApiClient(k8s.CoreV1Api);
}

/** The result of one kubectl run. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Writes a kubeconfig next to the cluster's and returns its path. */
export function writeKubeconfig(cluster: EmbeddedCluster, name: string, kubeconfig: string): string {
  const path = join(cluster.stateDir, `${name}.kubeconfig`);
  writeFileSync(path, kubeconfig, { mode: 0o600 });
  return path;
}

/** Runs kubectl asynchronously with the given kubeconfig file; never throws on a non-zero exit. */
export function kubectl(
  kubeconfigPath: string,
  args: string[],
  options: { input?: string | Buffer; env?: Record<string, string> } = {},
): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      kubectlPath ?? 'kubectl',
      args,
      {
        env: { ...process.env, KUBECONFIG: kubeconfigPath, ...options.env },
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error && typeof (error as { code?: unknown }).code !== 'number') {
          reject(error);
          return;
        }
        resolve({ code: error ? ((error as { code: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** Starts a long-running kubectl (e.g. `get -w`, `logs -f`) and collects its stdout. */
export function kubectlStream(
  kubeconfigPath: string,
  args: string[],
): { child: ChildProcess; output: () => string; waitFor: (re: RegExp) => Promise<string>; exited: Promise<number> } {
  const child = spawn(kubectlPath ?? 'kubectl', args, {
    env: { ...process.env, KUBECONFIG: kubeconfigPath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: { re: RegExp; resolve: (s: string) => void }[] = [];
  const check = (): void => {
    for (const w of [...waiters]) {
      if (w.re.test(out)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(out);
      }
    }
  };
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString('utf8');
    check();
  });
  child.stderr!.on('data', (c: Buffer) => {
    out += c.toString('utf8');
    check();
  });
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  return {
    child,
    output: () => out,
    waitFor: (re) =>
      new Promise((resolve) => {
        waiters.push({ re, resolve });
        check();
      }),
    exited,
  };
}

/** Reads a watch stream line by line until `until` returns true or the stream ends. */
export async function readWatch(
  kubeconfig: string,
  path: string,
  until: (events: { type: string; object: Record<string, any> }[]) => boolean,
  onOpen?: () => void,
): Promise<{ events: { type: string; object: Record<string, any> }[]; ended: boolean; status: number }> {
  const doc = parse(kubeconfig) as KubeconfigDoc;
  const server = new URL(doc.clusters[0]!.cluster.server);
  const user = doc.users[0]!.user;
  const b64 = (v?: string): Buffer | undefined => (v ? Buffer.from(v, 'base64') : undefined);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: server.hostname,
        port: server.port,
        path,
        headers: { Accept: 'application/json' },
        ca: b64(doc.clusters[0]!.cluster['certificate-authority-data']),
        cert: b64(user['client-certificate-data']),
        key: b64(user['client-key-data']),
        agent: false,
      },
      (res) => {
        onOpen?.();
        const events: { type: string; object: Record<string, any> }[] = [];
        let buffer = '';
        let done = false;
        res.on('data', (chunk: Buffer) => {
          buffer += chunk.toString('utf8');
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            events.push(JSON.parse(buffer.slice(0, nl)));
            buffer = buffer.slice(nl + 1);
          }
          if (!done && until(events)) {
            done = true;
            req.destroy();
            resolve({ events, ended: false, status: res.statusCode ?? 0 });
          }
        });
        res.on('end', () => {
          if (!done) resolve({ events, ended: true, status: res.statusCode ?? 0 });
        });
        res.on('error', () => undefined);
      },
    );
    req.on('error', (e) => (e.message.includes('socket hang up') ? undefined : reject(e)));
    req.end();
  });
}

/** A minimal pod. */
export function pod(
  name: string,
  extra: Record<string, unknown> = {},
  command = ['sh', '-c', 'echo hello'],
): k8s.V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...extra },
    spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command }] },
  };
}

/** The JSON body of a client-node ApiException. */
export function errorBody(error: unknown): Record<string, any> {
  const body = (error as { body?: unknown }).body;
  return typeof body === 'string' ? JSON.parse(body) : (body as Record<string, unknown>);
}
