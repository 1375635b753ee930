// Write handlers: create, update (PUT), patch, delete and deletecollection, through the
// resource's Strategy.
import { randomUUID } from 'node:crypto';
import { StoreConflictError } from '../contracts.js';
import type { KubeObject } from '../contracts.js';
import type { RequestScope, ServerContext } from './context.js';
import type { FieldError } from './field-errors.js';
import { applyPatch } from './patch.js';
import { readBody, decodeBody } from './request-body.js';
import { apiVersionOf } from './resources.js';
import { mustGet, scopeNamespace, writeObject } from './rest-read.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import {
  ApiStatusError,
  alreadyExists,
  badRequest,
  conflict,
  failure,
  invalid,
  notFound,
  writeJson,
} from './status.js';
import { randomNameSuffix } from './store.js';
import { strategyFor } from './strategy.js';
import { pruneUnknownFields, strictDecodingMessage } from './strict-fields.js';
import { validateObjectMeta } from './validation.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const serverManaged = [
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
];

function isDryRun(scope: RequestScope): boolean {
  return scope.url.searchParams.getAll('dryRun').includes('All');
}

/** Checks kind/apiVersion/namespace of a body and prunes unknown fields per fieldValidation. */
async function decodeObject(scope: RequestScope, body: unknown, headers: Record<string, string>): Promise<KubeObject> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(`the object provided is unrecognized (must be of type ${scope.type.kind})`);
  }
  const object = body as KubeObject;
  const expected = apiVersionOf(scope.type);
  if (object.kind && object.kind !== scope.type.kind) {
    throw badRequest(`the object provided is unrecognized (must be of type ${scope.type.kind}): ${object.kind}`);
  }
  if (object.apiVersion && object.apiVersion !== expected) {
    throw badRequest(
      `the API version in the data (${object.apiVersion}) does not match the expected API version (${expected})`,
    );
  }
  object.apiVersion = expected;
  object.kind = scope.type.kind;
  object.metadata = (
    object.metadata && typeof object.metadata === 'object' ? object.metadata : {}
  ) as KubeObject['metadata'];
  const urlNamespace = scope.info.namespace;
  if (scope.type.namespaced) {
    if (object.metadata.namespace && object.metadata.namespace !== urlNamespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    object.metadata.namespace = urlNamespace;
  } else {
    delete object.metadata.namespace;
  }
  const unknown = await pruneUnknownFields(scope.type.kind, object as unknown as Record<string, unknown>);
  if (unknown.length > 0) {
    const mode = scope.url.searchParams.get('fieldValidation') ?? 'Warn';
    if (mode === 'Strict') throw badRequest(strictDecodingMessage(unknown));
    if (mode === 'Warn') headers.Warning = unknown.map((f) => `299 - "unknown field \\"${f}\\""`).join(', ');
  }
  return object;
}

function checkValid(scope: RequestScope, object: KubeObject, errors: FieldError[]): void {
  if (errors.length > 0)
    throw invalid(
      scope.type.kind,
      scope.type.group,
      object.metadata.name || object.metadata.generateName || '',
      errors,
    );
}

function checkNamespace(ctx: ServerContext, scope: RequestScope, object: KubeObject): void {
  if (!scope.type.namespaced) return;
  const ns = ctx.store.get('namespaces', undefined, scope.info.namespace);
  if (!ns) throw notFound('namespaces', '', scope.info.namespace);
  if (ns.metadata.deletionTimestamp) {
    const name = object.metadata.name || object.metadata.generateName || '';
    throw new ApiStatusError(
      failure(
        403,
        'Forbidden',
        `${scope.type.resource} "${name}" is forbidden: unable to create new content in namespace ${scope.info.namespace} because it is being terminated`,
        {
          name,
          kind: scope.type.resource,
          causes: [
            {
              reason: 'NamespaceTerminating',
              message: `namespace ${scope.info.namespace} is being terminated`,
              field: 'metadata.namespace',
            },
          ],
        },
      ),
    );
  }
}

/** POST on a collection. */
export async function create(ctx: ServerContext, scope: RequestScope): Promise<void> {
  const headers: Record<string, string> = {};
  const object = await decodeObject(
    scope,
    decodeBody(await readBody(scope.req), scope.req.headers['content-type']),
    headers,
  );
  const strategy = strategyFor(scope.type.resource);
  for (const field of serverManaged) delete object.metadata[field];
  object.metadata.uid = randomUUID();
  if (!object.metadata.name && object.metadata.generateName) {
    object.metadata.name = `${object.metadata.generateName}${randomNameSuffix()}`;
  }
  checkNamespace(ctx, scope, object);
  strategy.prepareCreate?.(ctx, object);
  checkValid(scope, object, [...validateObjectMeta(object, strategy.nameRule), ...(strategy.validate?.(object) ?? [])]);
  strategy.admit?.(ctx, object);
  if (isDryRun(scope)) {
    object.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    writeObject(scope, 201, object, headers);
    return;
  }
  let created: KubeObject;
  try {
    created = ctx.store.create(scope.type.resource, object);
  } catch (error) {
    if (error instanceof StoreConflictError)
      throw alreadyExists(scope.type.resource, scope.type.group, object.metadata.name);
    throw error;
  }
  strategy.afterCreate?.(ctx, created);
  writeObject(scope, 201, created, headers);
}

/**
 * Replaces an object with `next` (PUT, or the result of a PATCH), keeping what the server owns.
 * `subresource` is `status` for the status subresource.
 */
function replace(
  ctx: ServerContext,
  scope: RequestScope,
  name: string,
  next: KubeObject,
  subresource: string,
): KubeObject {
  const current = mustGet(ctx, scope, name);
  const strategy = strategyFor(scope.type.resource);
  if (next.metadata.name && next.metadata.name !== name) {
    throw badRequest(`the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`);
  }
  next.metadata.name = name;
  const rv = next.metadata.resourceVersion;
  if (rv && rv !== current.metadata.resourceVersion) {
    throw conflict(
      scope.type.resource,
      scope.type.group,
      name,
      'the object has been modified; please apply your changes to the latest version and try again',
    );
  }
  let merged: KubeObject;
  if (subresource === 'status') {
    merged = { ...structuredClone(current), status: (next as Obj).status };
  } else {
    merged = next;
    for (const field of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds']) {
      if (current.metadata[field] !== undefined) merged.metadata[field] = current.metadata[field];
      else delete merged.metadata[field];
    }
    if (strategy.hasStatus) (merged as Obj).status = (current as Obj).status;
    strategy.prepareUpdate?.(merged, current);
    checkValid(scope, merged, [
      ...validateObjectMeta(merged, strategy.nameRule),
      ...(strategy.validate?.(merged) ?? []),
      ...(strategy.validateUpdate?.(merged, current) ?? []),
    ]);
  }
  if (isDryRun(scope)) return merged;
  const updated = ctx.store.update(scope.type.resource, scopeNamespace(scope), name, () => merged);
  if (!updated) throw notFound(scope.type.resource, scope.type.group, name);
  return updated;
}

/** PUT on an object or its status. */
export async function update(
  ctx: ServerContext,
  scope: RequestScope,
  name: string,
  subresource: string,
): Promise<void> {
  const headers: Record<string, string> = {};
  const body = decodeBody(await readBody(scope.req), scope.req.headers['content-type']);
  const next = await decodeObject(scope, body, headers);
  writeObject(scope, 200, replace(ctx, scope, name, next, subresource), headers);
}

/** PATCH on an object or its status. */
export async function patch(ctx: ServerContext, scope: RequestScope, name: string, subresource: string): Promise<void> {
  const contentType = scope.req.headers['content-type'] ?? '';
  const raw = await readBody(scope.req);
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw badRequest(`error decoding patch: ${(error as Error).message}`);
  }
  const current = mustGet(ctx, scope, name);
  const patched = applyPatch(contentType, current, body) as KubeObject;
  const headers: Record<string, string> = {};
  const next = await decodeObject(scope, patched, headers);
  writeObject(scope, 200, replace(ctx, scope, name, next, subresource), headers);
}

interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

async function deleteOptions(scope: RequestScope): Promise<DeleteOptions> {
  const body = decodeBody(await readBody(scope.req), scope.req.headers['content-type']) as DeleteOptions | undefined;
  const options: DeleteOptions = body && typeof body === 'object' ? body : {};
  const grace = scope.url.searchParams.get('gracePeriodSeconds');
  if (grace !== null && grace !== '') options.gracePeriodSeconds = Number(grace);
  return options;
}

function deleteOne(ctx: ServerContext, scope: RequestScope, current: KubeObject, options: DeleteOptions): KubeObject {
  const strategy = strategyFor(scope.type.resource);
  const pre = options.preconditions ?? {};
  const name = current.metadata.name;
  if (pre.uid && pre.uid !== current.metadata.uid) {
    throw conflict(
      scope.type.resource,
      scope.type.group,
      name,
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`,
    );
  }
  if (pre.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
    throw conflict(
      scope.type.resource,
      scope.type.group,
      name,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
    );
  }
  if (isDryRun(scope)) return current;
  if (strategy.delete) return strategy.delete(ctx, current, options.gracePeriodSeconds);
  return ctx.store.remove(scope.type.resource, current.metadata.namespace, name) ?? current;
}

/** DELETE on an object. */
export async function remove(ctx: ServerContext, scope: RequestScope, name: string): Promise<void> {
  const options = await deleteOptions(scope);
  const deleted = deleteOne(ctx, scope, mustGet(ctx, scope, name), options);
  if (strategyFor(scope.type.resource).returnsDeletedObject) {
    writeObject(scope, 200, deleted);
    return;
  }
  writeJson(scope.res, 200, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: {
      name,
      ...(scope.type.group ? { group: scope.type.group } : {}),
      kind: scope.type.resource,
      uid: deleted.metadata.uid,
    },
  });
}

/** DELETE on a collection. */
export async function removeCollection(ctx: ServerContext, scope: RequestScope): Promise<void> {
  const options = await deleteOptions(scope);
  const labels = parseLabelSelector(scope.url.searchParams.get('labelSelector'));
  const fields = parseFieldSelector(scope.url.searchParams.get('fieldSelector'), scope.type.resource);
  const victims = ctx.store
    .list(scope.type.resource, scopeNamespace(scope))
    .filter((o) => labels.matches(o.metadata.labels) && fields.matches(o));
  const items = victims.map((o) => {
    const { kind: _k, apiVersion: _a, ...rest } = deleteOne(ctx, scope, o, options);
    return rest;
  });
  writeJson(scope.res, 200, {
    kind: `${scope.type.kind}List`,
    apiVersion: apiVersionOf(scope.type),
    metadata: { resourceVersion: String(ctx.store.currentResourceVersion()) },
    items,
  });
}
