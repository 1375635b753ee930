/** Keys that would reach the prototype chain; overlays never set them. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** A JSON-like object (not an array, not null). */
export type PlainObject = Record<string, unknown>;

/** True for `{...}` objects, false for arrays, null and primitives. */
export function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep copy of JSON-like data (drops functions and undefined, like JSON). */
export function cloneJson<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/**
 * Merges `overlay` over `base` like a JSON merge patch (RFC 7386): objects merge key by key,
 * `null` removes a key, anything else (arrays included) replaces. Neither input is changed.
 */
export function deepMerge(base: PlainObject, overlay: PlainObject): PlainObject {
  const out: PlainObject = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    if (UNSAFE_KEYS.has(key) || value === undefined) continue;
    if (value === null) {
      delete out[key];
    } else if (isPlainObject(value) && isPlainObject(out[key])) {
      out[key] = deepMerge(out[key], value);
    } else {
      out[key] = cloneJson(value);
    }
  }
  return out;
}

/**
 * Merges two lists keyed by `key`: an overlay item replaces the base item with the same key in
 * place (whole item, so e.g. `value` and `valueFrom` never mix); new items are appended in order.
 */
export function mergeByKey<T>(base: readonly T[], overlay: readonly T[], key: (item: T) => string): T[] {
  const out = [...base];
  const index = new Map(out.map((item, i) => [key(item), i]));
  for (const item of overlay) {
    const at = index.get(key(item));
    if (at === undefined) {
      index.set(key(item), out.length);
      out.push(item);
    } else {
      out[at] = item;
    }
  }
  return out;
}

/** Removes the unsafe keys of a user object, recursively, so later spreads stay harmless. */
export function withoutUnsafeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUnsafeKeys);
  if (!isPlainObject(value)) return value;
  const out: PlainObject = {};
  for (const [key, item] of Object.entries(value)) if (!UNSAFE_KEYS.has(key)) out[key] = withoutUnsafeKeys(item);
  return out;
}
