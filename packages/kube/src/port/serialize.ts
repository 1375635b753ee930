// client-node's typed models use Date for timestamps; answers read through podrun's own transport
// go through the same deserializer so callers get the types the V1Pod declarations promise.
// (client-node 1.4.0 does not export the serializer from its entry point.)
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';

/** Model names podrun reads. */
export type ModelName = 'V1Pod' | 'CoreV1Event' | 'V1PersistentVolumeClaim' | 'V1Status';

/** Plain JSON from the API server -> the client-node model instance. */
export function fromJson<T>(json: unknown, model: ModelName): T {
  return ObjectSerializer.deserialize(json, model, '') as T;
}
