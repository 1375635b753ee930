// GET handlers: get, list (selectors, limit/continue, Tables) and watch.
import type { KubeObject } from '../contracts.js';
import type { RequestScope, ServerContext } from './context.js';
import { apiVersionOf } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { ApiStatusError, badRequest, failure, notFound, writeJson } from './status.js';
import { toTable, wantsTable } from './tables.js';

/** Namespace of the request for the store (undefined for cluster-scoped resources). */
export function scopeNamespace(scope: RequestScope): string | undefined {
  return scope.type.namespaced ? scope.info.namespace || undefined : undefined;
}

/** The object named by the URL, or 404. */
export function mustGet(ctx: ServerContext, scope: RequestScope, name: string): KubeObject {
  const found = ctx.store.get(scope.type.resource, scopeNamespace(scope), name);
  if (!found) throw notFound(scope.type.resource, scope.type.group, name);
  return found;
}

/** Writes one object, as a Table when kubectl asks for one. */
export function writeObject(
  scope: RequestScope,
  code: number,
  object: KubeObject,
  headers: Record<string, string> = {},
): void {
  if (wantsTable(scope.req.headers.accept)) {
    const table = toTable(
      scope.type.resource,
      [object],
      object.metadata.resourceVersion ?? '',
      scope.url.searchParams.get('includeObject'),
    );
    writeJson(scope.res, code, table, headers);
    return;
  }
  writeJson(scope.res, code, object, headers);
}

function selectorsOf(scope: RequestScope): (o: KubeObject) => boolean {
  const labels = parseLabelSelector(scope.url.searchParams.get('labelSelector'));
  const fields = parseFieldSelector(scope.url.searchParams.get('fieldSelector'), scope.type.resource);
  return (o) => labels.matches(o.metadata.labels) && fields.matches(o);
}

interface ContinueToken {
  rv: string;
  start: string;
}

function decodeContinue(token: string): ContinueToken {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as ContinueToken;
    if (typeof parsed.start === 'string' && typeof parsed.rv === 'string') return parsed;
  } catch {
    // fall through to the 400 below
  }
  throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}

const sortKey = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** GET on a collection without `watch`. */
export function list(ctx: ServerContext, scope: RequestScope): void {
  const matches = selectorsOf(scope);
  let items = ctx.store.list(scope.type.resource, scopeNamespace(scope)).filter(matches);
  const rv = String(ctx.store.currentResourceVersion());
  const listMeta: Record<string, unknown> = { resourceVersion: rv };
  const cont = scope.url.searchParams.get('continue');
  if (cont) {
    const token = decodeContinue(cont);
    items = items.filter((o) => sortKey(o) > token.start);
  }
  const limit = Number(scope.url.searchParams.get('limit') ?? '0');
  if (Number.isInteger(limit) && limit > 0 && items.length > limit) {
    const remaining = items.length - limit;
    items = items.slice(0, limit);
    listMeta.continue = Buffer.from(JSON.stringify({ rv, start: sortKey(items[items.length - 1]!) })).toString(
      'base64url',
    );
    listMeta.remainingItemCount = remaining;
  }
  if (wantsTable(scope.req.headers.accept)) {
    writeJson(
      scope.res,
      200,
      toTable(scope.type.resource, items, rv, scope.url.searchParams.get('includeObject'), listMeta),
    );
    return;
  }
  // Items of a list carry no kind/apiVersion on the wire, as kube-apiserver writes them.
  const bare = items.map((o) => {
    const { kind: _kind, apiVersion: _apiVersion, ...rest } = o;
    return rest;
  });
  writeJson(scope.res, 200, {
    kind: `${scope.type.kind}List`,
    apiVersion: apiVersionOf(scope.type),
    metadata: listMeta,
    items: bare,
  });
}

/** GET on a collection (or a named object) with `watch`. */
export function watch(ctx: ServerContext, scope: RequestScope, name?: string): void {
  const selected = selectorsOf(scope);
  const matches = name ? (o: KubeObject) => o.metadata.name === name && selected(o) : selected;
  const params = scope.url.searchParams;
  const timeout = params.get('timeoutSeconds');
  const table = wantsTable(scope.req.headers.accept);
  const includeObject = params.get('includeObject');
  const flag = (v: string | null): boolean => v !== null && v !== '' && v.toLowerCase() !== 'false' && v !== '0';
  if (flag(params.get('sendInitialEvents'))) {
    throw new ApiStatusError(
      failure(
        422,
        'Invalid',
        'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is not supported by this server',
        {
          kind: 'ListOptions',
          group: 'meta.k8s.io',
        },
      ),
    );
  }
  ctx.watches.serve(
    {
      resource: scope.type.resource,
      kind: scope.type.kind,
      apiVersion: apiVersionOf(scope.type),
      namespace: scopeNamespace(scope),
      matches,
      resourceVersion: params.get('resourceVersion') ?? undefined,
      allowBookmarks: flag(params.get('allowWatchBookmarks')),
      timeoutSeconds: timeout !== null && Number(timeout) > 0 ? Number(timeout) : undefined,
      ...(table
        ? {
            render: (object: KubeObject) =>
              toTable(scope.type.resource, [object], object.metadata.resourceVersion ?? '', includeObject),
          }
        : {}),
    },
    scope.req,
    scope.res,
  );
}
