// PATCH bodies: JSON merge patch (RFC 7386), strategic merge patch (a merge patch whose lists of
// containers, volumes, env, ... merge by key and whose simple `$patch` directives are honoured;
// other lists replace), JSON patch (RFC 6902).
import { isDeepStrictEqual } from 'node:util';
import { badRequest, failure, ApiStatusError, unsupportedMediaType } from './status.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const isObject = (v: unknown): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Lists that strategic merge patch merges by key (patchMergeKey in k8s.io/api) rather than
 * replacing; enough for `kubectl apply` of pods, PVCs and RBAC objects.
 */
const mergeKeys: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  conditions: 'type',
  hostAliases: 'ip',
  ownerReferences: 'uid',
};

function mergeList(target: Json, patch: Json[], key: string): Json {
  const out: Json[] = Array.isArray(target) ? [...target] : [];
  for (const item of patch) {
    if (!isObject(item) || item[key] === undefined) {
      out.push(structuredClone(item));
      continue;
    }
    const index = out.findIndex((existing) => isObject(existing) && existing[key] === item[key]);
    if (item.$patch === 'delete') {
      if (index >= 0) out.splice(index, 1);
    } else if (index >= 0) {
      out[index] = mergePatch(out[index]!, item, true);
    } else {
      out.push(mergePatch(null, item, true));
    }
  }
  return out;
}

/** RFC 7386; with `strategic`, also the parts of strategic merge patch kubectl apply relies on. */
export function mergePatch(target: Json, patch: Json, strategic = false): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  if (strategic && patch.$patch === 'replace') {
    const rest = { ...patch };
    delete rest.$patch;
    return rest;
  }
  if (strategic && patch.$patch === 'delete') return null;
  for (const [key, value] of Object.entries(patch)) {
    // $setElementOrder, $retainKeys, $deleteFromPrimitiveList and $patch are directives, not fields.
    if (strategic && key.startsWith('$')) continue;
    if (value === null) {
      delete out[key];
    } else if (strategic && Array.isArray(value) && mergeKeys[key]) {
      out[key] = mergeList(out[key] ?? null, value, mergeKeys[key]);
    } else {
      out[key] = mergePatch(out[key] ?? null, value, strategic);
    }
  }
  return out;
}

function unescape(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/'))
    throw badRequest(`the server rejected our request due to an error in our request: invalid JSON pointer "${path}"`);
  return path.slice(1).split('/').map(unescape);
}

function invalidPatch(message: string): ApiStatusError {
  return new ApiStatusError(failure(422, 'Invalid', message));
}

function resolveParent(doc: Json, tokens: string[], op: string, path: string): { parent: Json; last: string } {
  let node: Json = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[Number(token)] ?? null;
    else if (isObject(node)) node = node[token] ?? null;
    else node = null;
    if (node === null)
      throw invalidPatch(
        `the server rejected our request due to an error in our request: ${op} operation does not apply: doc is missing path: "${path}": missing value`,
      );
  }
  return { parent: node, last: tokens[tokens.length - 1]! };
}

function getAt(doc: Json, path: string, op: string): Json {
  let node: Json = doc;
  for (const token of pointer(path)) {
    const next: Json | undefined = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
    if (next === undefined)
      throw invalidPatch(
        `the server rejected our request due to an error in our request: ${op} operation does not apply: doc is missing path: "${path}": missing value`,
      );
    node = next;
  }
  return node;
}

function removeAt(doc: Json, path: string, op: string): Json {
  const tokens = pointer(path);
  const { parent, last } = resolveParent(doc, tokens, op, path);
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!(i >= 0 && i < parent.length))
      throw invalidPatch(
        `the server rejected our request due to an error in our request: ${op} operation does not apply: doc is missing path: "${path}": missing value`,
      );
    return parent.splice(i, 1)[0]!;
  }
  if (!isObject(parent) || !(last in parent))
    throw invalidPatch(
      `the server rejected our request due to an error in our request: ${op} operation does not apply: doc is missing path: "${path}": missing value`,
    );
  const old = parent[last]!;
  delete parent[last];
  return old;
}

function addAt(doc: Json, path: string, value: Json, replace: boolean, op: string): Json {
  const tokens = pointer(path);
  if (tokens.length === 0) return value;
  const { parent, last } = resolveParent(doc, tokens, op, path);
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!(i >= 0 && i <= parent.length))
      throw invalidPatch(
        `the server rejected our request due to an error in our request: ${op} operation does not apply: index out of range`,
      );
    if (replace) parent[i] = value;
    else parent.splice(i, 0, value);
  } else if (isObject(parent)) {
    if (replace && !(last in parent))
      throw invalidPatch(
        `the server rejected our request due to an error in our request: replace operation does not apply: doc is missing key: ${path}: missing value`,
      );
    parent[last] = value;
  } else {
    throw invalidPatch(
      `the server rejected our request due to an error in our request: ${op} operation does not apply: doc is missing path: "${path}": missing value`,
    );
  }
  return doc;
}

/** RFC 6902. */
export function jsonPatch(target: Json, operations: unknown): Json {
  if (!Array.isArray(operations))
    throw badRequest(
      'the server rejected our request due to an error in our request: json: cannot unmarshal object into Go value of type jsonpatch.Patch',
    );
  let doc: Json = structuredClone(target);
  for (const raw of operations as Record<string, Json>[]) {
    const op = String(raw.op);
    const path = String(raw.path ?? '');
    switch (op) {
      case 'add':
        doc = addAt(doc, path, structuredClone(raw.value ?? null), false, op);
        break;
      case 'replace':
        doc = addAt(doc, path, structuredClone(raw.value ?? null), true, op);
        break;
      case 'remove':
        removeAt(doc, path, op);
        break;
      case 'move': {
        const value = removeAt(doc, String(raw.from), op);
        doc = addAt(doc, path, value, false, op);
        break;
      }
      case 'copy':
        doc = addAt(doc, path, structuredClone(getAt(doc, String(raw.from), op)), false, op);
        break;
      case 'test':
        if (!isDeepStrictEqual(getAt(doc, path, op), raw.value)) {
          throw invalidPatch(
            `the server rejected our request due to an error in our request: testing value ${path} failed: test failed`,
          );
        }
        break;
      default:
        throw badRequest(`the server rejected our request due to an error in our request: Unexpected kind: ${op}`);
    }
  }
  return doc;
}

/** Applies a PATCH body of the given Content-Type to `target`. */
export function applyPatch(contentType: string, target: unknown, body: unknown): unknown {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  switch (type) {
    case 'application/json-patch+json':
      return jsonPatch(target as Json, body);
    case 'application/merge-patch+json':
      return mergePatch(target as Json, body as Json);
    case 'application/strategic-merge-patch+json':
      return mergePatch(target as Json, body as Json, true);
    default:
      throw unsupportedMediaType(contentType);
  }
}
