import type { V1Container, V1EnvVar, V1VolumeMount } from '@kubernetes/client-node';
import type { IssueList } from './issues.js';
import { at, show } from './issues.js';
import { cloneJson, deepMerge, isPlainObject, mergeByKey, withoutUnsafeKeys } from './merge.js';
import type { PlainObject } from './merge.js';

/** The runner's own parts a user overlay may not replace, and who owns each. */
export interface Reserved {
  /** `the exec-tar file transfer`, for messages. */
  transfer: string;
  /** Container names (init or regular) owned by podrun or the transfer. */
  containerNames: Set<string>;
  /** Volume names owned by the transfer. */
  volumeNames: Set<string>;
  /** Mount paths of the main container owned by the transfer. */
  mainMountPaths: Set<string>;
  /** Env names of the main container owned by podrun or the transfer -> owner. */
  mainEnv: Map<string, string>;
}

/** Reads an overlay property; anything but an object is an issue. Returns a safe deep copy. */
export function readOverlay(value: unknown, path: string, issues: IssueList): PlainObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) {
    issues.add(path, `expected an object (YAML mapping), got ${Array.isArray(value) ? 'a list' : typeof value}`);
    return undefined;
  }
  return withoutUnsafeKeys(cloneJson(value)) as PlainObject;
}

/** One usable item of a user list, with its path for messages. */
export interface Located<T> {
  item: T;
  path: string;
}

/** Reads a list of objects keyed by a string field (`name`, `mountPath`); bad items are issues. */
export function readKeyedList<T>(value: unknown, path: string, key: string, issues: IssueList): Located<T>[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    issues.add(path, 'expected a list');
    return [];
  }
  const out: Located<T>[] = [];
  value.forEach((item, i) => {
    if (!isPlainObject(item)) issues.add(at(path, i), 'expected an object');
    else if (typeof item[key] !== 'string' || item[key] === '')
      issues.add(`${at(path, i)}.${key}`, 'is required (a non-empty string)');
    else out.push({ item: item as T, path: at(path, i) });
  });
  return out;
}

/** Keeps the items `allowed` accepts; each refusal is reported by `allowed` itself. */
function keep<T>(list: Located<T>[], allowed: (entry: Located<T>) => boolean): T[] {
  return list.filter(allowed).map((entry) => entry.item);
}

function mergeRest(target: V1Container, overlay: PlainObject, handled: readonly string[]): V1Container {
  const rest: PlainObject = {};
  for (const [key, value] of Object.entries(overlay)) if (!handled.includes(key)) rest[key] = value;
  return deepMerge(target as unknown as PlainObject, rest) as unknown as V1Container;
}

const LIST_KEYS = ['name', 'image', 'command', 'args', 'env', 'envFrom', 'volumeMounts'] as const;

/**
 * Merges a user overlay (`podSpec.containers[main]` or `containerSpec`) into the main container.
 * image, command and args belong to the task; reserved env names and mount paths to podrun or the
 * transfer. env merges by name and volumeMounts by mountPath (overlay wins); envFrom is appended;
 * everything else deep-merges with the overlay winning.
 */
export function applyMainOverlay(
  main: V1Container,
  overlay: PlainObject,
  path: string,
  reserved: Reserved,
  issues: IssueList,
): V1Container {
  if ('name' in overlay && overlay.name !== main.name) {
    issues.add(`${path}.name`, `must be "${main.name}" or absent: this overlay applies to the main container`);
  }
  if ('image' in overlay && overlay.image !== main.image) {
    issues.add(`${path}.image`, "the main container's image is the task's containerImage; set containerImage instead");
  }
  for (const key of ['command', 'args'] as const) {
    if (key in overlay) {
      issues.add(
        `${path}.${key}`,
        "the main container runs the task's commands (with its interpreter); set them on the task instead",
      );
    }
  }
  const env = keep(readKeyedList<V1EnvVar>(overlay.env, `${path}.env`, 'name', issues), ({ item, path: p }) => {
    const owner = reserved.mainEnv.get(item.name);
    if (owner) issues.add(`${p}.name`, `${show(item.name)} is set by ${owner}; choose another name`);
    return !owner;
  });
  const mounts = keep(
    readKeyedList<V1VolumeMount>(overlay.volumeMounts, `${path}.volumeMounts`, 'mountPath', issues),
    ({ item, path: p }) => {
      const taken = reserved.mainMountPaths.has(item.mountPath);
      if (taken)
        issues.add(
          `${p}.mountPath`,
          `${show(item.mountPath)} is reserved by ${reserved.transfer}; mount your volume elsewhere`,
        );
      return !taken;
    },
  );
  return finishContainer(mergeRest(main, overlay, LIST_KEYS), main, overlay, env, mounts, path, issues);
}

/**
 * Merges `fileSideCarSpec` into one container the transfer contributed. name, command and args
 * are the transfer's protocol; env names and mount paths it already has are its own.
 */
export function applyTransferOverlay(
  container: V1Container,
  overlay: PlainObject,
  path: string,
  reserved: Reserved,
  issues: IssueList,
): V1Container {
  for (const key of ['name', 'command', 'args'] as const) {
    if (key in overlay) issues.add(`${path}.${key}`, `is set by ${reserved.transfer} and cannot be overridden`);
  }
  const ownEnv = new Set((container.env ?? []).map((e) => e.name));
  const ownMounts = new Set((container.volumeMounts ?? []).map((m) => m.mountPath));
  const env = keep(readKeyedList<V1EnvVar>(overlay.env, `${path}.env`, 'name', issues), ({ item, path: p }) => {
    const taken = ownEnv.has(item.name);
    if (taken) issues.add(`${p}.name`, `${show(item.name)} is set by ${reserved.transfer}; choose another name`);
    return !taken;
  });
  const mounts = keep(
    readKeyedList<V1VolumeMount>(overlay.volumeMounts, `${path}.volumeMounts`, 'mountPath', issues),
    ({ item, path: p }) => {
      const taken = ownMounts.has(item.mountPath);
      if (taken)
        issues.add(
          `${p}.mountPath`,
          `${show(item.mountPath)} is reserved by ${reserved.transfer}; mount your volume elsewhere`,
        );
      return !taken;
    },
  );
  const merged = mergeRest(
    container,
    overlay,
    LIST_KEYS.filter((k) => k !== 'image'),
  );
  return finishContainer(merged, container, overlay, env, mounts, path, issues);
}

function finishContainer(
  merged: V1Container,
  base: V1Container,
  overlay: PlainObject,
  env: V1EnvVar[],
  mounts: V1VolumeMount[],
  path: string,
  issues: IssueList,
): V1Container {
  const out: V1Container = { ...merged, name: base.name };
  if (env.length) out.env = mergeByKey(base.env ?? [], env, (e) => e.name);
  if (mounts.length) out.volumeMounts = mergeByKey(base.volumeMounts ?? [], mounts, (m) => m.mountPath);
  if (overlay.envFrom !== undefined) {
    if (Array.isArray(overlay.envFrom)) out.envFrom = [...(base.envFrom ?? []), ...(overlay.envFrom as [])];
    else issues.add(`${path}.envFrom`, 'expected a list');
  }
  return out;
}

/**
 * Applies `fileSidecar.defaultSpec` under a transfer container: the container's own values win,
 * env and volumeMounts are unions (container entries win on the same key).
 */
export function applyDefaults(
  container: V1Container,
  defaults: PlainObject,
  path: string,
  issues: IssueList,
): V1Container {
  const env = keep(readKeyedList<V1EnvVar>(defaults.env, `${path}.env`, 'name', issues), () => true);
  const mounts = keep(
    readKeyedList<V1VolumeMount>(defaults.volumeMounts, `${path}.volumeMounts`, 'mountPath', issues),
    () => true,
  );
  const rest: PlainObject = {};
  for (const [key, value] of Object.entries(defaults)) {
    if (!['name', 'command', 'args', 'env', 'volumeMounts'].includes(key)) rest[key] = value;
  }
  const out = deepMerge(rest, cloneJson(container) as unknown as PlainObject) as unknown as V1Container;
  if (env.length) out.env = mergeByKey(env, container.env ?? [], (e) => e.name);
  if (mounts.length) out.volumeMounts = mergeByKey(mounts, container.volumeMounts ?? [], (m) => m.mountPath);
  return out;
}
