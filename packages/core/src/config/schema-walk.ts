import type { z } from 'zod';
import type { IssuePath } from './values.js';

/*
 * Finds which property names an object accepts at a path, for "did you mean". zod's issue for an
 * unknown key names only the key, so the converter walks the schema alongside the input; the
 * input picks the branch of a discriminated union the way zod did.
 */

type Def = {
  type: string;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  out?: z.core.$ZodType;
  getter?: () => z.core.$ZodType;
  shape?: Record<string, z.core.$ZodType>;
  options?: z.core.$ZodType[];
  discriminator?: string;
  valueType?: z.core.$ZodType;
  element?: z.core.$ZodType;
  left?: z.core.$ZodType;
  right?: z.core.$ZodType;
  values?: unknown[];
};

const defOf = (schema: z.core.$ZodType): Def => schema._zod.def as unknown as Def;

interface Node {
  schema: z.core.$ZodType;
  value: unknown;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional']);

/** Unwraps wrappers and pipes and opens unions into the object-like schemas they may stand for. */
function expand(node: Node, out: Node[], depth = 0): void {
  if (depth > 32) return;
  const def = defOf(node.schema);
  if (WRAPPERS.has(def.type) && def.innerType) return expand({ ...node, schema: def.innerType }, out, depth + 1);
  if (def.type === 'pipe' && def.in && def.out) {
    const side = defOf(def.in).type === 'transform' ? def.out : def.in;
    return expand({ ...node, schema: side }, out, depth + 1);
  }
  if (def.type === 'lazy' && def.getter) return expand({ ...node, schema: def.getter() }, out, depth + 1);
  if (def.type === 'intersection' && def.left && def.right) {
    expand({ ...node, schema: def.left }, out, depth + 1);
    return expand({ ...node, schema: def.right }, out, depth + 1);
  }
  if (def.type === 'union' && def.options) {
    let options = def.options;
    const key = def.discriminator;
    if (key && node.value && typeof node.value === 'object') {
      const wanted = (node.value as Record<string, unknown>)[key];
      const matching = options.filter((o) => discriminatorValues(o, key).includes(wanted));
      if (matching.length > 0) options = matching;
    }
    for (const option of options) expand({ ...node, schema: option }, out, depth + 1);
    return;
  }
  out.push(node);
}

function discriminatorValues(option: z.core.$ZodType, key: string): unknown[] {
  const found: Node[] = [];
  expand({ schema: option, value: undefined }, found);
  const values: unknown[] = [];
  for (const node of found) {
    const field = defOf(node.schema).shape?.[key];
    if (!field) continue;
    const leaves: Node[] = [];
    expand({ schema: field, value: undefined }, leaves);
    for (const leaf of leaves) values.push(...(defOf(leaf.schema).values ?? []));
  }
  return values;
}

function child(node: Node, segment: PropertyKey): Node | undefined {
  const def = defOf(node.schema);
  const value =
    node.value && typeof node.value === 'object'
      ? (node.value as Record<PropertyKey, unknown>)[segment as string]
      : undefined;
  if (def.type === 'object' && def.shape) {
    const field = def.shape[segment as string];
    return field ? { schema: field, value } : undefined;
  }
  if (def.type === 'record' && def.valueType) return { schema: def.valueType, value };
  if (def.type === 'array' && def.element) return { schema: def.element, value };
  return undefined;
}

/** Property names accepted by the object schema(s) found at `path`; empty when none. */
export function knownKeysAt(root: z.core.$ZodType, path: IssuePath, input: unknown): string[] {
  let frontier: Node[] = [{ schema: root, value: input }];
  for (const segment of path) {
    const expanded: Node[] = [];
    for (const node of frontier) expand(node, expanded);
    frontier = expanded.map((n) => child(n, segment)).filter((n): n is Node => n !== undefined);
  }
  const objects: Node[] = [];
  for (const node of frontier) expand(node, objects);
  const keys = new Set<string>();
  for (const node of objects) for (const key of Object.keys(defOf(node.schema).shape ?? {})) keys.add(key);
  return [...keys];
}
