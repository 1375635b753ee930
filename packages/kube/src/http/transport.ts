// The one HTTP path to the API server: TLS and credentials from the PodrunKubeConfig (so every
// kubeconfig auth provider works), a bearer token renewed once on 401, error bodies kept (unlike
// client-node's Log class), and retries for transient failures.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { IncomingMessage } from 'node:http';
import { parseRetryAfter, silentLogger } from '@podrun/core';
import type { KubeApiError, Logger } from '@podrun/core';
import type { PodrunKubeConfig } from '../connection/kubeconfig.js';
import { networkError, statusError, type CallContext } from './errors.js';
import { abortReason, withRetry, type Idempotency, type RetryPolicy } from './retry.js';

/** Query parameters; arrays repeat the key, undefined values are left out. */
export type Query = Record<string, string | number | boolean | string[] | undefined>;

/** One API request. */
export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Query;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** For messages, e.g. `create pod default/p`. */
  what: string;
}

const USER_AGENT = 'podrun-kube/0.1';
const MAX_ERROR_BODY = 64 * 1024;

/** Reads a response body as text, up to `limit` bytes. */
export async function readText(res: IncomingMessage, limit = Number.POSITIVE_INFINITY): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    if (size < limit) chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** HTTP access to one API server with the kubeconfig's TLS and credentials. */
export class Transport {
  constructor(
    readonly kc: PodrunKubeConfig,
    readonly policy: RetryPolicy,
    readonly logger: Logger = silentLogger,
    /** A request with no answer (or a stalled body) for this long is dropped and, if safe, retried. */
    private readonly requestTimeoutMs = 60_000,
  ) {}

  readonly #decided = new Set<string>();
  /**
   * Says once, at debug level, what an automatic decision chose and why (as testcontainers does);
   * never with secrets.
   */
  decided(topic: string, line: string): void {
    if (this.#decided.has(topic)) return;
    this.#decided.add(topic);
    this.logger.debug(`[podrun] [kube] ${topic}: ${line}`);
  }

  /** Logs one retry decision (never with secrets: only status, errno and the delay). */
  onRetry(what: string): (error: unknown, attempt: number, delayMs: number) => void {
    return (error, attempt, delayMs) => {
      const e = error as KubeApiError;
      this.logger.debug(`[podrun] [kube] ${what}: transient failure, retrying`, {
        attempt,
        delayMs,
        status: e?.status,
        errno: e?.details?.errno,
      });
    };
  }

  /** The API server URL. */
  get server(): string {
    return this.kc.server;
  }

  /** Context for error messages. */
  context(what: string): CallContext {
    return { what, server: this.server, credentials: this.kc.credentials };
  }

  /** Absolute URL for a path and query. */
  url(path: string, query: Query = {}): URL {
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(v));
    }
    return url;
  }

  /**
   * TLS options and headers for a WebSocket to the API server (exec). Outside a proxy, each one
   * is a new connection with the shared TLS identity: its parsed credentials, and the last
   * session to resume (a resumed session skips the certificate checks, for both ends).
   */
  async webSocketOptions(): Promise<https.RequestOptions & { headers: Record<string, string> }> {
    const opts: https.RequestOptions = {};
    await this.kc.applyToHTTPSOptions(opts);
    // The keep-alive agent is for REST calls; a proxied cluster needs client-node's proxy agent.
    const { agent, auth, headers, ...tlsOptions } = opts;
    const identity = this.kc.proxied ? undefined : this.kc.tlsIdentity(tlsOptions);
    return {
      ...tlsOptions,
      ...(this.kc.proxied ? { agent } : {}),
      ...(identity && {
        secureContext: identity.secureContext,
        ...(identity.session && { session: identity.session }),
        createConnection: ((options: tls.ConnectionOptions) => {
          // No UNIX path, and SNI only for a host name.
          const socket = tls.connect({
            ...options,
            path: undefined,
            servername: options.servername ?? (net.isIP(options.host ?? '') ? '' : options.host),
          });
          socket.on('session', (session: Buffer) => (identity.session = session));
          return socket;
        }) as https.RequestOptions['createConnection'],
      }),
      headers: this.headers(headers, auth),
    };
  }

  private headers(raw: http.OutgoingHttpHeaders | readonly string[] | undefined, auth: string | null | undefined) {
    const headers: Record<string, string> = { 'User-Agent': USER_AGENT };
    if (raw && !Array.isArray(raw)) {
      for (const [k, v] of Object.entries(raw)) if (v !== undefined) headers[k] = String(v);
    }
    if (auth) headers.Authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
    return headers;
  }

  private async once(spec: RequestSpec, streaming: boolean): Promise<IncomingMessage> {
    const opts: https.RequestOptions = {};
    await this.kc.applyToHTTPSOptions(opts);
    const headers = this.headers(opts.headers, opts.auth);
    headers.Accept = 'application/json, */*';
    let payload: Buffer | undefined;
    if (spec.body !== undefined) {
      payload = Buffer.from(JSON.stringify(spec.body));
      headers['Content-Type'] = spec.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const url = this.url(spec.path, spec.query);
    const lib = url.protocol === 'http:' ? http : https;
    return await new Promise<IncomingMessage>((resolve, reject) => {
      const req = lib.request(url, { method: spec.method, agent: opts.agent, headers, signal: spec.signal });
      // A server that accepts the connection and never answers must not hang the caller. Streams
      // (logs, watches) may legitimately stay quiet once they have started.
      req.setTimeout(this.requestTimeoutMs, () =>
        req.destroy(Object.assign(new Error(`no answer within ${this.requestTimeoutMs} ms`), { code: 'ETIMEDOUT' })),
      );
      req.once('response', (res) => {
        if (streaming) req.setTimeout(0);
        resolve(res);
      });
      req.once('error', (error) =>
        reject(spec.signal?.aborted ? abortReason(spec.signal) : networkError(error, this.context(spec.what))),
      );
      req.end(payload);
    });
  }

  /**
   * Sends one request (no retries) and returns the response whatever its status. A 401 with a
   * renewable token renews it and sends once more.
   */
  async send(spec: RequestSpec, streaming = false): Promise<IncomingMessage> {
    const res = await this.once(spec, streaming);
    if (res.statusCode === 401 && this.kc.refreshCredentials()) {
      res.resume();
      return await this.once(spec, streaming);
    }
    return res;
  }

  /** Raises the KubeApiError for a non-success response (reading its Status body). */
  async fail(res: IncomingMessage, what: string): Promise<never> {
    const body = await readText(res, MAX_ERROR_BODY).catch(() => '');
    throw statusError(res.statusCode ?? 0, body, this.context(what), {
      retryAfterMs: parseRetryAfter(res.headers['retry-after']),
    });
  }

  /** Sends with retries and parses the JSON answer; non-2xx raises KubeApiError. */
  async json<T>(spec: RequestSpec, kind: Idempotency): Promise<T> {
    return await withRetry(
      async () => {
        const res = await this.send(spec);
        if ((res.statusCode ?? 0) >= 300) return await this.fail(res, spec.what);
        const text = await readText(res).catch((error: unknown) => {
          throw networkError(error, this.context(spec.what));
        });
        return (text ? JSON.parse(text) : undefined) as T;
      },
      { policy: this.policy, kind, signal: spec.signal, onRetry: this.onRetry(spec.what) },
    );
  }

  /** Opens a streaming GET (logs, watch) with retries until the server answers 200. */
  async stream(spec: RequestSpec): Promise<IncomingMessage> {
    return await withRetry(
      async () => {
        const res = await this.send(spec, true);
        if (res.statusCode !== 200) return await this.fail(res, spec.what);
        return res;
      },
      { policy: this.policy, kind: 'idempotent', signal: spec.signal, onRetry: this.onRetry(spec.what) },
    );
  }
}
