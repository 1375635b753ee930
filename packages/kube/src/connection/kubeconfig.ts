// A client-node KubeConfig that (1) reuses one keep-alive agent per TLS identity instead of a new
// agent per request (client-node 1.x leaks sockets on watch reconnection, #2893), (2) can verify
// the certificate chain without the host name, and (3) knows how to renew a bearer token after a 401.
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
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
  private readonly identities = new Map<string, TlsIdentity>();

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

  /**
   * The TLS identity of these options (made once per CA, client certificate and key): what a
   * connection outside the agents (an exec WebSocket) needs to skip parsing them again and to
   * resume the last TLS session. Undefined for a plain-HTTP server.
   */
  tlsIdentity(fields: TlsFields): TlsIdentity | undefined {
    if (this.server.startsWith('http:')) return undefined;
    // Per server too: a session is only ever offered to the server that granted it.
    const key = identityKey(this.server, fields);
    let identity = this.identities.get(key);
    if (!identity) {
      const material: tls.SecureContextOptions = {};
      for (const k of CONTEXT_KEYS) {
        if (fields[k] !== undefined) (material as Record<string, unknown>)[k] = fields[k];
      }
      identity = { secureContext: tls.createSecureContext(material), session: undefined };
      this.identities.set(key, identity);
    }
    return identity;
  }

  /** Destroys the shared agents and their idle sockets. */
  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
    this.identities.clear();
  }

  private agentFor(fields: TlsFields): http.Agent {
    const plain = this.server.startsWith('http:');
    const key = identityKey(this.server, fields);
    let agent = this.agents.get(key);
    if (!agent) {
      const options: https.AgentOptions = { keepAlive: true, keepAliveMsecs: 30_000, scheduling: 'lifo' };
      for (const k of TLS_KEYS) {
        if (fields[k] !== undefined) (options as Record<string, unknown>)[k] = fields[k];
      }
      if (!this.verifyHostname) options.checkServerIdentity = skipHostname;
      // Every new connection would otherwise parse the CA, certificate and key again (a few ms
      // each, many times over when many tasks stream logs and exec at once).
      if (!plain) options.secureContext = this.tlsIdentity(fields)!.secureContext;
      agent = plain ? new http.Agent(options) : new https.Agent(options);
      this.agents.set(key, agent);
    }
    return agent;
  }
}

/** A parsed TLS identity and the last session a connection with it was given. */
export interface TlsIdentity {
  readonly secureContext: tls.SecureContext;
  /** Resumed by the next connection, which then skips verifying the server's chain again. */
  session: Buffer | undefined;
}

const CONTEXT_KEYS = ['ca', 'cert', 'key', 'pfx', 'passphrase'] as const;

function identityKey(server: string, fields: TlsFields): string {
  const hash = createHash('sha256').update(server);
  for (const k of TLS_KEYS) hash.update(`|${k}=${material(fields[k])}`);
  return hash.digest('hex');
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
