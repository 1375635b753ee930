// Pod volumes as host directories: emptyDir per pod, persistentVolumeClaim from the claim's
// directory, configMap / secret / downwardAPI / projected materialised as files (mode honoured).
// Errors carry the kubelet's FailedMount wording.
import { existsSync, lstatSync, realpathSync } from 'node:fs';
import { chmod, lchown, lstat, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { claimDirectory } from '../contracts.js';
import type { KubeObject, ObjectStore } from '../contracts.js';
import { fieldValue, formatMap, objectData, resourceValue } from './env.js';
import type { ContainerEnvSpec } from './env.js';
import type { SandboxMount } from './sandbox.js';

interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}
interface ObjectSource {
  name?: string;
  secretName?: string;
  items?: KeyToPath[];
  optional?: boolean;
  defaultMode?: number;
}
interface DownwardItem {
  path: string;
  fieldRef?: { fieldPath: string };
  resourceFieldRef?: { resource: string; containerName?: string; divisor?: string };
  mode?: number;
}
interface VolumeSpec {
  name: string;
  emptyDir?: object;
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  configMap?: ObjectSource;
  secret?: ObjectSource;
  downwardAPI?: { items?: DownwardItem[]; defaultMode?: number };
  projected?: {
    defaultMode?: number;
    sources?: {
      configMap?: ObjectSource;
      secret?: ObjectSource;
      downwardAPI?: { items?: DownwardItem[] };
      serviceAccountToken?: object;
    }[];
  };
  [other: string]: unknown;
}

/** A prepared volume: where it is on the host and whether every mount of it is read-only. */
export interface PreparedVolume {
  path: string;
  readOnly: boolean;
}

/** What volume preparation needs. */
export interface VolumeContext {
  stateDir: string;
  podDir: string;
  pod: KubeObject;
  store: ObjectStore;
  hostIP: string;
  podIP: string;
  allocatable: Record<string, string>;
}

/** Prepares every volume of the pod; `ok: false` carries the FailedMount event message. */
export async function prepareVolumes(
  ctx: VolumeContext,
): Promise<{ ok: true; volumes: Map<string, PreparedVolume> } | { ok: false; message: string }> {
  const volumes = new Map<string, PreparedVolume>();
  const spec = (ctx.pod.spec ?? {}) as { volumes?: VolumeSpec[] };
  for (const volume of spec.volumes ?? []) {
    try {
      volumes.set(volume.name, await prepareVolume(volume, ctx));
    } catch (error) {
      return {
        ok: false,
        message: `MountVolume.SetUp failed for volume "${volume.name}" : ${(error as Error).message}`,
      };
    }
  }
  return { ok: true, volumes };
}

async function prepareVolume(volume: VolumeSpec, ctx: VolumeContext): Promise<PreparedVolume> {
  const namespace = ctx.pod.metadata.namespace ?? 'default';
  const dir = join(ctx.podDir, 'volumes', volume.name);
  const fsGroup = ((ctx.pod.spec ?? {}) as { securityContext?: { fsGroup?: number } }).securityContext?.fsGroup;
  if (volume.emptyDir) {
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o777);
    if (fsGroup !== undefined) await applyFsGroup(dir, fsGroup, false);
    return { path: dir, readOnly: false };
  }
  if (volume.persistentVolumeClaim) {
    const path = claimDirectory(ctx.stateDir, namespace, volume.persistentVolumeClaim.claimName);
    await mkdir(path, { recursive: true });
    const readOnly = volume.persistentVolumeClaim.readOnly === true;
    if (fsGroup !== undefined) await applyFsGroup(path, fsGroup, readOnly);
    return { path, readOnly };
  }
  // Generated volumes are rewritten from scratch, like the kubelet's atomic writer swaps them.
  const files = new Map<string, { content: Buffer; mode: number }>();
  if (volume.configMap)
    collectObject(files, volume.configMap, false, namespace, ctx.store, volume.configMap.defaultMode);
  else if (volume.secret) collectObject(files, volume.secret, true, namespace, ctx.store, volume.secret.defaultMode);
  else if (volume.downwardAPI)
    collectDownward(files, volume.downwardAPI.items ?? [], ctx, volume.downwardAPI.defaultMode);
  else if (volume.projected) {
    for (const source of volume.projected.sources ?? []) {
      if (source.configMap)
        collectObject(files, source.configMap, false, namespace, ctx.store, volume.projected.defaultMode);
      if (source.secret) collectObject(files, source.secret, true, namespace, ctx.store, volume.projected.defaultMode);
      if (source.downwardAPI) collectDownward(files, source.downwardAPI.items ?? [], ctx, volume.projected.defaultMode);
      // serviceAccountToken sources get no file: the node cannot mint tokens (see README).
    }
  } else {
    const kind = Object.keys(volume).find((key) => key !== 'name') ?? 'unknown';
    throw new Error(
      `${kind} volumes are not supported by the podrun emulator (use emptyDir, persistentVolumeClaim, configMap, secret, downwardAPI or projected)`,
    );
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o755 });
  for (const [relative, file] of files) {
    const target = join(dir, relative);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.content, { mode: file.mode });
    await chmod(target, file.mode);
  }
  if (fsGroup !== undefined) await applyFsGroup(dir, fsGroup, true);
  return { path: dir, readOnly: true };
}

/**
 * The kubelet's SetVolumeOwnership (fsGroupChangePolicy Always): every file and directory gets
 * group `gid` and group read (and write, unless read-only) permission; directories also group
 * execute and the setgid bit, so files created later inherit the group.
 */
async function applyFsGroup(path: string, gid: number, readOnly: boolean): Promise<void> {
  const info = await lstat(path);
  if (info.isSymbolicLink()) return;
  await lchown(path, info.uid, gid);
  const mask = (readOnly ? 0o440 : 0o660) | (info.isDirectory() ? 0o2110 : 0);
  await chmod(path, (info.mode & 0o7777) | mask);
  if (info.isDirectory()) {
    for (const entry of await readdir(path)) await applyFsGroup(join(path, entry), gid, readOnly);
  }
}

function collectObject(
  files: Map<string, { content: Buffer; mode: number }>,
  source: ObjectSource,
  isSecret: boolean,
  namespace: string,
  store: ObjectStore,
  defaultMode: number | undefined,
): void {
  const name = (isSecret ? (source.secretName ?? source.name) : source.name) ?? '';
  const object = store.get(isSecret ? 'secrets' : 'configmaps', namespace, name);
  if (!object) {
    if (source.optional) return;
    throw new Error(`${isSecret ? 'secret' : 'configmap'} "${name}" not found`);
  }
  const data = rawData(object, isSecret);
  const mode = source.defaultMode ?? defaultMode ?? 0o644;
  const items: KeyToPath[] = source.items ?? Object.keys(data).map((key) => ({ key, path: key }));
  for (const item of items) {
    const content = data[item.key];
    if (content === undefined) {
      if (source.optional) continue;
      throw new Error(
        isSecret
          ? `references non-existent secret key: ${item.key}`
          : `configmap references non-existent config key: ${item.key}`,
      );
    }
    files.set(safeRelative(item.path), { content, mode: item.mode ?? mode });
  }
}

function rawData(object: KubeObject, isSecret: boolean): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const binary = (isSecret ? object.data : object.binaryData) as Record<string, string> | undefined;
  for (const [key, value] of Object.entries(binary ?? {})) out[key] = Buffer.from(value, 'base64');
  const text = isSecret ? {} : objectData({ ...object, binaryData: {} }, false);
  for (const [key, value] of Object.entries(text)) out[key] = Buffer.from(value);
  if (isSecret)
    for (const [key, value] of Object.entries((object.stringData ?? {}) as Record<string, string>))
      out[key] = Buffer.from(value);
  return out;
}

function collectDownward(
  files: Map<string, { content: Buffer; mode: number }>,
  items: DownwardItem[],
  ctx: VolumeContext,
  defaultMode: number | undefined,
): void {
  const spec = (ctx.pod.spec ?? {}) as { containers?: ContainerEnvSpec[] };
  for (const item of items) {
    let value = '';
    if (item.fieldRef) {
      const path = item.fieldRef.fieldPath;
      value =
        path === 'metadata.labels' || path === 'metadata.annotations'
          ? formatMap((ctx.pod.metadata[path.slice(9)] ?? {}) as Record<string, string>)
          : fieldValue(ctx, path);
    } else if (item.resourceFieldRef) {
      const container =
        spec.containers?.find((c) => c.name === item.resourceFieldRef!.containerName) ?? spec.containers?.[0];
      value = container ? resourceValue(item.resourceFieldRef, container, ctx.allocatable) : '0';
    }
    files.set(safeRelative(item.path), { content: Buffer.from(value), mode: item.mode ?? defaultMode ?? 0o644 });
  }
}

/** Rejects absolute paths and `..`, which the API server's validation also forbids. */
function safeRelative(path: string): string {
  const normalized = normalize(path);
  if (normalized.startsWith('/') || normalized === '..' || normalized.startsWith(`..${sep}`))
    throw new Error(`invalid path "${path}"`);
  return normalized;
}

interface VolumeMountSpec {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

/** A container's bind mounts, or an error message (CreateContainerConfigError) for a bad subPath. */
export async function containerMounts(
  container: { volumeMounts?: VolumeMountSpec[] },
  volumes: Map<string, PreparedVolume>,
): Promise<{ ok: true; mounts: SandboxMount[] } | { ok: false; message: string }> {
  const mounts: SandboxMount[] = [];
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes.get(mount.name);
    if (!volume) return { ok: false, message: `cannot find volume "${mount.name}" to mount into container` };
    let source = volume.path;
    let file = false;
    if (mount.subPath) {
      try {
        source = join(volume.path, safeRelative(mount.subPath));
      } catch {
        return {
          ok: false,
          message: `failed to prepare subPath for volumeMount "${mount.name}": invalid subPath "${mount.subPath}"`,
        };
      }
      if (!existsSync(source)) await mkdir(source, { recursive: true, mode: 0o755 });
      // A subPath must not lead out of its volume through a symlink (CVE-2017-1002101).
      const real = realpathSync(source);
      if (real !== realpathSync(volume.path) && !real.startsWith(`${realpathSync(volume.path)}/`)) {
        return {
          ok: false,
          message: `failed to prepare subPath for volumeMount "${mount.name}": subpath "${mount.subPath}" escapes the volume`,
        };
      }
      source = real;
      file = !lstatSync(source).isDirectory();
    }
    mounts.push({ source, target: mount.mountPath, readOnly: volume.readOnly || mount.readOnly === true, file });
  }
  return { ok: true, mounts };
}
