// Unknown-field detection for fieldValidation (Strict: 400, Warn: Warning header) and the pruning
// every decode does. The field lists come from @kubernetes/client-node's generated models, which
// mirror the Kubernetes OpenAPI schema.
type TypeMap = { name: string; baseName: string; type: string }[];
type Models = Record<string, { getAttributeTypeMap?: () => TypeMap } | undefined>;

/** One model module's import, shared by every closure that reaches it (undefined: no such model). */
const modules = new Map<string, Promise<Models[string]>>();
/** Per kind's model, the models its fields reach, loaded. */
const closures = new Map<string, Promise<Models>>();

/** The model a field type names: `Array<X>` and `{ [key: string]: X; }` give X. */
function modelName(type: string): string {
  for (;;) {
    const inner = /^Array<(.+)>$/.exec(type) ?? /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (!inner) return type;
    type = inner[1]!;
  }
}

function importModel(name: string): Promise<Models[string]> {
  let loading = modules.get(name);
  if (!loading) {
    // One small module per model, not client-node's index (its 14 MB generated API and node-fetch,
    // whose whatwg-url makes Node 21+ warn about punycode) nor models/all.js (~700 modules, about
    // 0.5 s on a cluster's first write, which the podrun command runs in the user's process).
    loading = import(`@kubernetes/client-node/dist/gen/models/${name}.js`).then(
      (module: Record<string, Models[string]>) => module[name],
      () => undefined,
    );
    modules.set(name, loading);
  }
  return loading;
}

/** Loads `root` and every model its fields reach (a walk of its own, so cycles cannot wait on themselves). */
function loadClosure(root: string): Promise<Models> {
  let closure = closures.get(root);
  if (!closure) {
    closure = (async () => {
      const models: Models = {};
      const seen = new Set([root]);
      let wave = [root];
      while (wave.length > 0) {
        const loaded = await Promise.all(wave.map(importModel));
        const next: string[] = [];
        wave.forEach((name, i) => {
          const model = loaded[i];
          models[name] = model;
          for (const attr of model?.getAttributeTypeMap?.() ?? []) {
            const child = modelName(attr.type);
            if (scalar.has(child) || !/^[A-Za-z0-9]+$/.test(child) || seen.has(child)) continue;
            seen.add(child);
            next.push(child);
          }
        });
        wave = next;
      }
      return models;
    })();
    closures.set(root, closure);
  }
  return closure;
}

const modelOfKind: Record<string, string> = {
  Event: 'CoreV1Event',
  TokenRequest: 'AuthenticationV1TokenRequest',
};

const scalar = new Set(['string', 'number', 'boolean', 'Date', 'any', 'IntOrString', 'object']);

function walk(m: Models, value: unknown, type: string, path: string, unknown: string[]): void {
  if (value === null || value === undefined || scalar.has(type)) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => walk(m, v, array[1]!, `${path}[${i}]`, unknown));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === 'object') {
      for (const [k, v] of Object.entries(value as object)) walk(m, v, map[1]!, `${path}[${k}]`, unknown);
    }
    return;
  }
  const attrs = m[type]?.getAttributeTypeMap?.();
  if (!attrs || typeof value !== 'object' || Array.isArray(value)) return;
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    const attr = attrs.find((a) => a.baseName === key);
    const fieldPath = path ? `${path}.${key}` : key;
    if (!attr) {
      unknown.push(fieldPath);
      delete object[key];
      continue;
    }
    walk(m, object[key], attr.type, fieldPath, unknown);
  }
}

/**
 * Removes fields the schema of `kind` does not know from `object` (in place) and returns their
 * paths (`spec.foo`, `spec.containers[0].bar`), in document order.
 */
export async function pruneUnknownFields(kind: string, object: Record<string, unknown>): Promise<string[]> {
  const model = modelOfKind[kind] ?? `V1${kind}`;
  const m = await loadClosure(model);
  if (!m[model]?.getAttributeTypeMap) return [];
  const unknown: string[] = [];
  walk(m, object, model, '', unknown);
  return unknown;
}

/** The Strict-mode 400 message: `strict decoding error: unknown field "spec.foo", unknown field "x"`. */
export function strictDecodingMessage(fields: string[]): string {
  return `strict decoding error: ${fields.map((f) => `unknown field "${f}"`).join(', ')}`;
}
