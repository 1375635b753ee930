// The listener: HTTPS (or plain HTTP on request), the filter chain (authentication, injected
// faults, impersonation, authorization, metrics) and restart on the same port.
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Authenticator } from './auth.js';
import { serveAdmin, serveNonResource } from './non-resource.js';
import type { ServerContext } from './context.js';
import type { FaultController } from './faults.js';
import type { MetricsRecorder } from './metrics.js';
import { negotiateProtocol } from './pod-subresources.js';
import { forbiddenMessage } from './rbac.js';
import type { AuthzAttributes } from './rbac.js';
import { metricVerb, requestInfo } from './request-info.js';
import { findResourceType } from './resources.js';
import { serveResource } from './rest.js';
import { ApiStatusError, failure, internalError, pageNotFound, unauthorized, writeStatus } from './status.js';
import type { UserInfo } from './tokens.js';

/** What the listener needs. */
export interface ApiServerOptions {
  ctx: ServerContext;
  authenticator: Authenticator;
  faults: FaultController;
  metrics: MetricsRecorder;
  /** PEMs for HTTPS; undefined serves plain HTTP. */
  tls: { keyPem: string; certPem: string; caPem: string } | undefined;
  host: string;
  port: number;
}

/** A running listener. */
export interface ApiServer {
  readonly port: number;
  /** Closes the listener and every connection (watches, exec sessions), then listens again. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

function impersonate(ctx: ServerContext, req: IncomingMessage, user: UserInfo): UserInfo {
  const target = req.headers['impersonate-user'];
  if (typeof target !== 'string' || target === '') return user;
  const rawGroups = req.headers['impersonate-group'];
  const groups = rawGroups === undefined ? [] : Array.isArray(rawGroups) ? rawGroups : [rawGroups];
  const checks: AuthzAttributes[] = [
    {
      user,
      verb: 'impersonate',
      isResourceRequest: true,
      path: '',
      apiGroup: '',
      resource: 'users',
      subresource: '',
      namespace: '',
      name: target,
    },
    ...groups.map((g) => ({
      user,
      verb: 'impersonate',
      isResourceRequest: true,
      path: '',
      apiGroup: '',
      resource: 'groups',
      subresource: '',
      namespace: '',
      name: g,
    })),
  ];
  for (const attrs of checks) {
    if (!ctx.authorizer.authorize(attrs).allowed) {
      throw new ApiStatusError(
        failure(403, 'Forbidden', forbiddenMessage(attrs), { name: attrs.name, kind: attrs.resource }),
      );
    }
  }
  return { name: target, groups: [...groups, 'system:authenticated'] };
}

/** Starts listening. */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { ctx, authenticator, faults, metrics } = options;
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (protocols) => negotiateProtocol([...protocols].join(','), ctx.version.minor) ?? false,
  });

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    upgrade?: { socket: Duplex; head: Buffer },
  ): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const info = requestInfo(req.method ?? 'GET', url);
    let upgraded = false;
    let recorded = false;
    const record = (): void => {
      if (recorded) return;
      recorded = true;
      metrics.record({
        verb: metricVerb(req.method ?? 'GET', info, info.subresource === 'exec' || info.subresource === 'attach'),
        group: info.apiGroup,
        version: info.apiVersion,
        resource: info.resource,
        subresource: info.subresource,
        scope: !info.isResourceRequest
          ? ''
          : info.namespace && info.resource !== 'namespaces'
            ? 'namespace'
            : info.name
              ? 'resource'
              : 'cluster',
        code: upgraded ? '101' : String(res.statusCode),
      });
    };
    res.once('close', record);
    res.once('finish', record);
    try {
      const auth = authenticator.authenticate(req);
      if (!auth.user) {
        writeStatus(res, unauthorized());
        return;
      }
      if (url.pathname.startsWith('/podrun-admin/')) {
        await serveAdmin(ctx, faults, metrics, auth.user, req, res, url);
        return;
      }
      const injected = faults.takeFailure({ verb: info.verb, resource: info.resource, subresource: info.subresource });
      if (injected) {
        writeStatus(res, injected.status, injected.headers);
        return;
      }
      const user = impersonate(ctx, req, auth.user);
      const attrs: AuthzAttributes = { ...info, user };
      if (!ctx.authorizer.authorize(attrs).allowed) {
        writeStatus(
          res,
          failure(
            403,
            'Forbidden',
            forbiddenMessage(attrs),
            info.isResourceRequest
              ? {
                  ...(info.name ? { name: info.name } : {}),
                  ...(info.apiGroup ? { group: info.apiGroup } : {}),
                  kind: info.resource,
                }
              : {},
          ),
        );
        return;
      }
      if (!info.isResourceRequest) {
        serveNonResource(ctx, metrics, req, res, url);
        return;
      }
      const type = findResourceType(info.apiGroup, info.apiVersion, info.resource);
      if (!type) throw new ApiStatusError(pageNotFound());
      await serveResource(ctx, { req, res, url, info, user, type }, upgrade ? { ...upgrade, wss } : undefined, () => {
        upgraded = true;
        record();
      });
    } catch (error) {
      if (error instanceof ApiStatusError) writeStatus(res, error.status, error.headers);
      else writeStatus(res, internalError((error as Error)?.message ?? String(error)).status);
    }
  };

  const sockets = new Set<Socket>();
  let server: http.Server;
  let port = options.port;

  const listen = async (): Promise<void> => {
    server = options.tls
      ? https.createServer({
          key: options.tls.keyPem,
          cert: options.tls.certPem,
          ca: [options.tls.caPem],
          requestCert: true,
          rejectUnauthorized: false,
        })
      : http.createServer();
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.setNoDelay(true);
      socket.once('close', () => sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void handle(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Errors before the upgrade are ordinary HTTP responses written on the raw socket.
      const res = new http.ServerResponse(req);
      res.assignSocket(socket as Socket);
      res.once('finish', () => {
        res.detachSocket(socket as Socket);
        socket.end();
      });
      socket.on('error', () => socket.destroy());
      void handle(req, res, { socket, head });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: options.host }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    port = (server.address() as { port: number }).port;
  };

  const shutdown = async (): Promise<void> => {
    ctx.watches.closeAll();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  await listen();
  // Restarts and the final close run one after another, never interleaved.
  let queue: Promise<void> = Promise.resolve();
  let closed = false;
  const serialized = (step: () => Promise<void>): Promise<void> => {
    const next = queue.then(step);
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    get port() {
      return port;
    },
    restart: () =>
      serialized(async () => {
        if (closed) return;
        await shutdown();
        await listen();
      }),
    close: () =>
      serialized(async () => {
        if (closed) return;
        closed = true;
        await shutdown();
      }),
  };
}
