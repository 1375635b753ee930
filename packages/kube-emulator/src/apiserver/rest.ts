// Routes a resource request (already authenticated and authorized) to its handler.
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import type { RequestScope, ServerContext } from './context.js';
import { podExec, podLog } from './pod-subresources.js';
import { list, mustGet, watch, writeObject } from './rest-read.js';
import { create, patch, remove, removeCollection, update } from './rest-write.js';
import { createReview, createToken } from './reviews.js';
import { methodNotAllowed, notFound, ApiStatusError, pageNotFound } from './status.js';

/** The socket of an upgrade request, for exec. */
export interface UpgradeContext {
  socket: Duplex;
  head: Buffer;
  wss: WebSocketServer;
}

function isWatch(scope: RequestScope): boolean {
  const value = scope.url.searchParams.get('watch');
  return (
    scope.info.verb === 'watch' || (value !== null && value !== '' && value.toLowerCase() !== 'false' && value !== '0')
  );
}

function allowed(scope: RequestScope, verb: string): void {
  if (!scope.type.verbs.includes(verb)) throw methodNotAllowed();
}

/** Serves one resource request; `onUpgraded` is called when exec took over the socket. */
export async function serveResource(
  ctx: ServerContext,
  scope: RequestScope,
  upgrade: UpgradeContext | undefined,
  onUpgraded: () => void,
): Promise<void> {
  const { parts } = scope.info;
  const method = scope.req.method ?? 'GET';
  const { type } = scope;
  if (type.namespaced && parts.length > 1 && !scope.info.namespace) throw new ApiStatusError(pageNotFound());
  if (!type.namespaced && scope.info.namespace && type.resource !== 'namespaces')
    throw new ApiStatusError(pageNotFound());

  if (type.virtual) {
    if (parts.length !== 1 || method !== 'POST') throw methodNotAllowed();
    await createReview(ctx, scope);
    return;
  }

  if (parts.length === 1) {
    switch (method) {
      case 'GET':
      case 'HEAD':
        if (isWatch(scope)) {
          allowed(scope, 'watch');
          watch(ctx, scope);
        } else {
          allowed(scope, 'list');
          list(ctx, scope);
        }
        return;
      case 'POST':
        allowed(scope, 'create');
        if (type.namespaced && !scope.info.namespace) throw new ApiStatusError(pageNotFound());
        await create(ctx, scope);
        return;
      case 'DELETE':
        allowed(scope, 'deletecollection');
        await removeCollection(ctx, scope);
        return;
      default:
        throw methodNotAllowed();
    }
  }

  const name = parts[1]!;
  if (parts.length === 2) {
    switch (method) {
      case 'GET':
      case 'HEAD':
        if (isWatch(scope)) {
          allowed(scope, 'watch');
          watch(ctx, scope, name);
        } else {
          allowed(scope, 'get');
          writeObject(scope, 200, mustGet(ctx, scope, name));
        }
        return;
      case 'PUT':
        allowed(scope, 'update');
        await update(ctx, scope, name, '');
        return;
      case 'PATCH':
        allowed(scope, 'patch');
        await patch(ctx, scope, name, '');
        return;
      case 'DELETE':
        allowed(scope, 'delete');
        await remove(ctx, scope, name);
        return;
      default:
        throw methodNotAllowed();
    }
  }

  const sub = parts[2]!;
  const served = type.subresources?.[sub];
  if (parts.length > 3 || !served) throw notFound(`${type.resource}/${sub}`, type.group, name);
  switch (`${type.resource}/${sub}`) {
    case 'pods/log':
      if (method !== 'GET') throw methodNotAllowed();
      podLog(ctx, scope, name);
      return;
    case 'pods/exec':
      if (method !== 'GET' && method !== 'POST') throw methodNotAllowed();
      podExec(ctx, scope, name, upgrade, onUpgraded);
      return;
    case 'pods/attach':
      if (method !== 'GET' && method !== 'POST') throw methodNotAllowed();
      podExec(ctx, scope, name, upgrade, onUpgraded, 'attach');
      return;
    case 'serviceaccounts/token':
      if (method !== 'POST') throw methodNotAllowed();
      await createToken(ctx, scope, name);
      return;
    default:
      // The status subresource.
      switch (method) {
        case 'GET':
          writeObject(scope, 200, mustGet(ctx, scope, name));
          return;
        case 'PUT':
          await update(ctx, scope, name, sub);
          return;
        case 'PATCH':
          await patch(ctx, scope, name, sub);
          return;
        default:
          throw methodNotAllowed();
      }
  }
}
