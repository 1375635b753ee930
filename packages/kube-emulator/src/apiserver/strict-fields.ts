// Unknown-field detection for fieldValidation (Strict: 400, Warn: Warning header) and the pruning
// every decode does. The field lists come from @kubernetes/client-node's generated models, which
// mirror the Kubernetes OpenAPI schema.
type TypeMap = { name: string; baseName: string; type: string }[];
type Models = Record<string, { getAttributeTypeMap?: () => TypeMap } | undefined>;

let models: Models | undefined;

// The models alone, not client-node's index: that adds its 14 MB generated API and node-fetch, which
// took about twice as long to load (on the first write of a cluster, which the CLI runs in-process)
// and made Node 21+ print a punycode deprecation warning.
async function loadModels(): Promise<Models> {
  models ??= (await import('@kubernetes/client-node/dist/gen/models/all.js')) as unknown as Models;
  return models;
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
  const m = await loadModels();
  const model = modelOfKind[kind] ?? `V1${kind}`;
  if (!m[model]?.getAttributeTypeMap) return [];
  const unknown: string[] = [];
  walk(m, object, model, '', unknown);
  return unknown;
}

/** The Strict-mode 400 message: `strict decoding error: unknown field "spec.foo", unknown field "x"`. */
export function strictDecodingMessage(fields: string[]): string {
  return `strict decoding error: ${fields.map((f) => `unknown field "${f}"`).join(', ')}`;
}
