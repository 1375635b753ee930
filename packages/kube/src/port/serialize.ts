// client-node's model declarations type timestamps as Date; answers read through podrun's own
// transport are plain JSON, so the timestamp strings in them become Dates here. client-node's own
// ObjectSerializer would do it, but importing it loads all ~700 generated model classes (694 kB
// that every start of the CLI parsed); the models podrun reads reach only a dozen Date fields.
// test/serialize.test.ts derives this table from client-node's typeMap, so an upgrade that adds a
// timestamp fails there instead of leaving a string where the declarations promise a Date.

/** Model names podrun reads. */
export type ModelName = 'V1Pod' | 'CoreV1Event' | 'V1PersistentVolumeClaim' | 'V1Status';

/** Per model, its fields that hold Dates or lead to one; and keys client-node renames. */
export interface ModelShape {
  /** Field -> `'Date'`, another model of the table, or a list of one (`'Model[]'`). */
  readonly fields?: Readonly<Record<string, string>>;
  /** JSON key -> property name (client-node avoids the reserved word `continue`). */
  readonly renamed?: Readonly<Record<string, string>>;
}

/** Where the Dates (and renamed keys) are, per model, as client-node 1.4's typeMap declares them. */
export const MODEL_SHAPES: Readonly<Record<string, ModelShape>> = {
  V1Pod: { fields: { metadata: 'V1ObjectMeta', spec: 'V1PodSpec', status: 'V1PodStatus' } },
  V1PodSpec: { fields: { volumes: 'V1Volume[]' } },
  V1Volume: { fields: { ephemeral: 'V1EphemeralVolumeSource' } },
  V1EphemeralVolumeSource: { fields: { volumeClaimTemplate: 'V1PersistentVolumeClaimTemplate' } },
  V1PersistentVolumeClaimTemplate: { fields: { metadata: 'V1ObjectMeta' } },
  V1PodStatus: {
    fields: {
      conditions: 'V1PodCondition[]',
      containerStatuses: 'V1ContainerStatus[]',
      ephemeralContainerStatuses: 'V1ContainerStatus[]',
      initContainerStatuses: 'V1ContainerStatus[]',
      startTime: 'Date',
    },
  },
  V1PodCondition: { fields: { lastProbeTime: 'Date', lastTransitionTime: 'Date' } },
  V1ContainerStatus: { fields: { lastState: 'V1ContainerState', state: 'V1ContainerState' } },
  V1ContainerState: { fields: { running: 'V1ContainerStateRunning', terminated: 'V1ContainerStateTerminated' } },
  V1ContainerStateRunning: { fields: { startedAt: 'Date' } },
  V1ContainerStateTerminated: { fields: { finishedAt: 'Date', startedAt: 'Date' } },
  CoreV1Event: { fields: { firstTimestamp: 'Date', lastTimestamp: 'Date', metadata: 'V1ObjectMeta' } },
  V1PersistentVolumeClaim: { fields: { metadata: 'V1ObjectMeta', status: 'V1PersistentVolumeClaimStatus' } },
  V1PersistentVolumeClaimStatus: { fields: { conditions: 'V1PersistentVolumeClaimCondition[]' } },
  V1PersistentVolumeClaimCondition: { fields: { lastProbeTime: 'Date', lastTransitionTime: 'Date' } },
  V1ObjectMeta: {
    fields: { creationTimestamp: 'Date', deletionTimestamp: 'Date', managedFields: 'V1ManagedFieldsEntry[]' },
  },
  V1ManagedFieldsEntry: { fields: { time: 'Date' } },
  V1Status: { fields: { metadata: 'V1ListMeta' } },
  V1ListMeta: { renamed: { continue: '_continue' } },
};

/**
 * Freshly parsed JSON from the API server -> the object client-node's model declarations describe:
 * timestamps become `Date`s and renamed keys take client-node's names. Converts `json` in place
 * (callers pass `JSON.parse` output they do not keep) and returns it as a plain object, not a
 * model class instance; unlike client-node's serializer, fields its models do not know are kept.
 */
export function fromJson<T>(json: unknown, model: ModelName): T {
  convert(json, model);
  return json as T;
}

function convert(value: unknown, model: string): void {
  if (!isObject(value)) return;
  const shape = MODEL_SHAPES[model] ?? {};
  for (const [key, name] of Object.entries(shape.renamed ?? {})) {
    if (!(key in value)) continue;
    value[name] = value[key];
    delete value[key];
  }
  for (const [key, field] of Object.entries(shape.fields ?? {})) {
    const v = value[key];
    if (v === undefined || v === null) continue;
    if (field === 'Date') value[key] = new Date(v as string);
    else if (!field.endsWith('[]')) convert(v, field);
    else if (Array.isArray(v)) for (const item of v) convert(item, field.slice(0, -2));
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
