// A client-node KubeConfig that (1) reuses one keep-alive agent per TLS identity instead of a new
// agent per request (client-node 1.x leaks sockets on watch reconnection, #2893), (2) can verify
// the certificate chain without the host name, and (3) knows how to renew a bearer token after a 401.
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { PeerCertificate } from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';
import type { RequestContext } from '@kubernetes/client-node';
import type { TokenSource } from './auth.js';
import type { KubeConfigSource } from './options.js';

type TlsFields = Pick<
  https.AgentOptions,
  'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'rejectUnauthorized' | 'servername'
>;

const TLS_KEYS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

/** What {@link PodrunKubeConfig} adds to client-node's KubeConfig. */
export interface PodrunKubeConfigInit {
  source: KubeConfigSource;
  namespace: string;
  verifyHostname: boolean;
  tokenSource?: TokenSource;
  /** Secret-free description of the credentials, used in error messages. */
  credentials: string;
}

/**
 * client-node's `KubeConfig`, usable with all its API clients, plus what podrun needs: where the
 * configuration came from, the default namespace, token renewal and shared agents.
 */
export class PodrunKubeConfig extends KubeConfig {
  /** Where the configuration came from. */
  readonly source: KubeConfigSource;
  /** Default namespace (Connection.namespace, else the context's, else `default`). */
  readonly namespace: string;
  /** False when disableHostnameVerification is set. */
  readonly verifyHostname: boolean;
  /** Secret-free description of the credentials in use, for messages. */
  readonly credentials: string;
  private readonly tokenSource: TokenSource | undefined;
  private readonly agents = new Map<string, http.Agent>();

  constructor(init: PodrunKubeConfigInit) {
    super();
    this.source = init.source;
    this.namespace = init.namespace;
    this.verifyHostname = init.verifyHostname;
    this.tokenSource = init.tokenSource;
    this.credentials = init.credentials;
  }

  /** The API server URL of the current context. */
  get server(): string {
    const cluster = this.getCurrentCluster();
    if (!cluster) throw new Error('no current cluster');
    return cluster.server;
  }

  /** True when the kubeconfig routes through a proxy (client-node's own proxy agents are kept then). */
  get proxied(): boolean {
    return !!this.getCurrentCluster()?.proxyUrl;
  }

  override async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    await super.applyToHTTPSOptions(opts);
    if (!this.verifyHostname) opts.checkServerIdentity = skipHostname;
    if (!this.proxied) opts.agent = this.agentFor(opts);
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const agent = context.getAgent() as (http.Agent & { options?: TlsFields }) | undefined;
    if (agent && !this.proxied) context.setAgent(this.agentFor(agent.options ?? {}));
  }

  /**
   * Drops a bearer token the server rejected so the next request fetches a fresh one. Returns
   * false when the credentials cannot change (a static token, a certificate).
   */
  refreshCredentials(): boolean {
    return this.tokenSource?.invalidate() ?? false;
  }

  /** Destroys the shared agents and their idle sockets. */
  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  private agentFor(fields: TlsFields): http.Agent {
    const plain = this.server.startsWith('http:');
    const hash = createHash('sha256').update(plain ? 'http' : 'https');
    for (const k of TLS_KEYS) hash.update(`|${k}=${material(fields[k])}`);
    const key = hash.digest('hex');
    let agent = this.agents.get(key);
    if (!agent) {
      const options: https.AgentOptions = { keepAlive: true, keepAliveMsecs: 30_000, scheduling: 'lifo' };
      for (const k of TLS_KEYS) {
        if (fields[k] !== undefined) (options as Record<string, unknown>)[k] = fields[k];
      }
      if (!this.verifyHostname) options.checkServerIdentity = skipHostname;
      agent = plain ? new http.Agent(options) : new https.Agent(options);
      this.agents.set(key, agent);
    }
    return agent;
  }
}

// The chain is still verified by OpenSSL (rejectUnauthorized stays true); only the name check goes.
function skipHostname(_host: string, _cert: PeerCertificate): Error | undefined {
  return undefined;
}

function material(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map(material).join(',');
  return String(value);
}
