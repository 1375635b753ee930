// Pod events from the node's side (the scheduler's and the kubelet's), recorded through the
// cluster's recorder. One home, so both speak with the same involvedObject shape.
import type { KubeObject, NodeOptions } from '../contracts.js';

/** Records Events about pods; best effort, as on a real node. */
export interface PodEvents {
  record(
    pod: KubeObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    container?: { name: string; init: boolean },
  ): void;
}

/** Pod events written through `recordEvent` (the cluster's Event recorder). */
export function createPodEvents(recordEvent: NodeOptions['recordEvent']): PodEvents {
  return {
    record(pod, type, reason, message, container) {
      const namespace = pod.metadata.namespace ?? 'default';
      const involvedObject: Parameters<NodeOptions['recordEvent']>[0]['involvedObject'] = {
        kind: 'Pod',
        name: pod.metadata.name,
        namespace,
        uid: pod.metadata.uid,
      };
      if (container)
        involvedObject.fieldPath = `spec.${container.init ? 'initContainers' : 'containers'}{${container.name}}`;
      try {
        recordEvent({ namespace, involvedObject, type, reason, message });
      } catch {
        // A lost Event never fails the pod: the kubelet's recorder drops them under pressure too.
      }
    },
  };
}
