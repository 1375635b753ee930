// The container environment as the kubelet builds it (makeEnvironmentVariables): envFrom first,
// then env in order with $(VAR) expansion and valueFrom references; then command and args are
// expanded against the result. A missing Secret/ConfigMap or key is a CreateContainerConfigError.
import type { KubeObject, ObjectStore } from '../contracts.js';
import { parseQuantity } from '@podrun/core';
import { containerLimit, containerRequest } from './quantity.js';

/** The parts of a container spec the environment depends on. */
export interface ContainerEnvSpec {
  name: string;
  env?: EnvVar[];
  envFrom?: {
    prefix?: string;
    configMapRef?: { name: string; optional?: boolean };
    secretRef?: { name: string; optional?: boolean };
  }[];
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    resourceFieldRef?: { resource: string; containerName?: string; divisor?: string };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
  };
}

/** The environment, or the kubelet's error message. */
export type EnvResult = { ok: true; env: [string, string][] } | { ok: false; message: string };

/** What valueFrom references can see. */
export interface EnvContext {
  pod: KubeObject;
  store: ObjectStore;
  hostIP: string;
  podIP: string;
  allocatable: Record<string, string>;
}

/** Builds the container's variables (not yet the image defaults such as PATH). */
export function resolveEnv(container: ContainerEnvSpec, ctx: EnvContext): EnvResult {
  const namespace = ctx.pod.metadata.namespace ?? 'default';
  const result = new Map<string, string>();
  try {
    for (const source of container.envFrom ?? []) {
      const ref = source.configMapRef ?? source.secretRef;
      if (!ref) continue;
      const isSecret = Boolean(source.secretRef);
      const object = ctx.store.get(isSecret ? 'secrets' : 'configmaps', namespace, ref.name);
      if (!object) {
        if (ref.optional) continue;
        throw new Error(`${isSecret ? 'secret' : 'configmap'} "${ref.name}" not found`);
      }
      for (const [key, value] of Object.entries(objectData(object, isSecret))) {
        const name = `${source.prefix ?? ''}${key}`;
        // The kubelet skips names it cannot export (and records an event); '=' is the hard limit.
        if (name.includes('=') || name.length === 0) continue;
        result.set(name, value);
      }
    }
    for (const variable of container.env ?? []) {
      const value = envValue(variable, container, ctx, namespace, result);
      if (value !== undefined) result.set(variable.name, value);
    }
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
  return { ok: true, env: [...result.entries()] };
}

function envValue(
  variable: EnvVar,
  container: ContainerEnvSpec,
  ctx: EnvContext,
  namespace: string,
  defined: Map<string, string>,
): string | undefined {
  if (!variable.valueFrom) return expand(variable.value ?? '', (name) => defined.get(name));
  const from = variable.valueFrom;
  if (from.fieldRef) return fieldValue(ctx, from.fieldRef.fieldPath);
  if (from.resourceFieldRef) return resourceValue(from.resourceFieldRef, container, ctx.allocatable);
  const ref = from.configMapKeyRef ?? from.secretKeyRef;
  if (!ref) return undefined;
  const isSecret = Boolean(from.secretKeyRef);
  const object = ctx.store.get(isSecret ? 'secrets' : 'configmaps', namespace, ref.name);
  if (!object) {
    if (ref.optional) return undefined;
    throw new Error(`${isSecret ? 'secret' : 'configmap'} "${ref.name}" not found`);
  }
  const data = objectData(object, isSecret);
  if (!(ref.key in data)) {
    if (ref.optional) return undefined;
    throw new Error(`couldn't find key ${ref.key} in ${isSecret ? 'Secret' : 'ConfigMap'} ${namespace}/${ref.name}`);
  }
  return data[ref.key];
}

/** Decoded string data of a ConfigMap (data + binaryData) or Secret (data, base64). */
export function objectData(object: KubeObject, isSecret: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  if (isSecret) {
    for (const [key, value] of Object.entries((object.data ?? {}) as Record<string, string>))
      out[key] = Buffer.from(value, 'base64').toString('utf8');
    // stringData is write-only on a real API server; honour it if the store kept it.
    for (const [key, value] of Object.entries((object.stringData ?? {}) as Record<string, string>)) out[key] = value;
  } else {
    for (const [key, value] of Object.entries((object.binaryData ?? {}) as Record<string, string>))
      out[key] = Buffer.from(value, 'base64').toString('utf8');
    for (const [key, value] of Object.entries((object.data ?? {}) as Record<string, string>)) out[key] = value;
  }
  return out;
}

/** Values of the downward API field paths the kubelet supports. */
export function fieldValue(ctx: { pod: KubeObject; hostIP: string; podIP: string }, fieldPath: string): string {
  const { metadata } = ctx.pod;
  const spec = (ctx.pod.spec ?? {}) as { nodeName?: string; serviceAccountName?: string };
  const subscript = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (subscript) return (subscript[1] === 'labels' ? metadata.labels : metadata.annotations)?.[subscript[2]!] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return metadata.name;
    case 'metadata.namespace':
      return metadata.namespace ?? 'default';
    case 'metadata.uid':
      return metadata.uid ?? '';
    case 'metadata.labels':
      return formatMap(metadata.labels ?? {});
    case 'metadata.annotations':
      return formatMap(metadata.annotations ?? {});
    case 'spec.nodeName':
      return spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return spec.serviceAccountName ?? 'default';
    case 'status.hostIP':
    case 'status.hostIPs':
      return ctx.hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return ctx.podIP;
    default:
      throw new Error(`unsupported fieldPath: ${fieldPath}`);
  }
}

/** `key="value"` lines, sorted, as the kubelet writes labels and annotations. */
export function formatMap(map: Record<string, string>): string {
  return Object.keys(map)
    .sort()
    .map((key) => `${key}=${JSON.stringify(map[key])}`)
    .join('\n');
}

/** limits.cpu / requests.memory etc. divided by the divisor and rounded up, like the kubelet. */
export function resourceValue(
  ref: { resource: string; divisor?: string },
  container: ContainerEnvSpec,
  allocatable: Record<string, string>,
): string {
  const [kind, resource = ''] = ref.resource.split('.', 2) as [string, string?];
  const divisor = parseQuantity(ref.divisor ?? '1') || 1;
  let value = kind === 'limits' ? containerLimit(container, resource) : containerRequest(container, resource);
  // An unset limit is the node's allocatable, as the kubelet reports it.
  if (value === undefined || (kind === 'limits' && value === 0)) value = parseQuantity(allocatable[resource] ?? '0');
  return String(Math.ceil(value / divisor - 1e-9));
}

/** Kubernetes $(VAR) expansion: `$$` escapes, unknown references stay as written. */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const char = input[i]!;
    if (char !== '$' || i + 1 >= input.length) {
      out += char;
      continue;
    }
    const next = input[i + 1]!;
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        // An unterminated reference stays literal; scanning goes on after "$(".
        out += '$(';
        i++;
        continue;
      }
      const name = input.slice(i + 2, close);
      out += lookup(name) ?? `$(${name})`;
      i = close;
    } else {
      out += char + next;
      i++;
    }
  }
  return out;
}
