// Kubernetes resource quantities (`500m`, `2`, `128Mi`, `1G`, `1e3`) as the scheduler and kubelet
// account them; the grammar itself is core's.
import { parseQuantity } from '@podrun/core';

type Resources = Record<string, unknown> | undefined;
interface ContainerLike {
  resources?: { requests?: Resources; limits?: Resources };
}

/** A container's request for a resource; like the API server's defaulting, limits stand in for missing requests. */
export function containerRequest(container: ContainerLike, resource: string): number {
  const requested = container.resources?.requests?.[resource] ?? container.resources?.limits?.[resource];
  const value = parseQuantity(requested ?? 0);
  return Number.isFinite(value) ? value : 0;
}

/** A container's limit for a resource, undefined when unlimited. */
export function containerLimit(container: ContainerLike, resource: string): number | undefined {
  const limit = container.resources?.limits?.[resource];
  if (limit === undefined) return undefined;
  const value = parseQuantity(limit);
  return Number.isFinite(value) ? value : undefined;
}

/** What the scheduler accounts for a pod: max(sum of containers, largest init container). */
export function podRequest(
  spec: { containers?: ContainerLike[]; initContainers?: ContainerLike[] },
  resource: string,
): number {
  const sum = (spec.containers ?? []).reduce((total, c) => total + containerRequest(c, resource), 0);
  const init = Math.max(0, ...(spec.initContainers ?? []).map((c) => containerRequest(c, resource)));
  return Math.max(sum, init);
}

/** The pod's QoS class (`Guaranteed`, `Burstable`, `BestEffort`) as the API server computes it. */
export function qosClass(spec: { containers?: ContainerLike[]; initContainers?: ContainerLike[] }): string {
  const all = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    const requests = c.resources?.requests ?? {};
    const limits = c.resources?.limits ?? {};
    if (Object.keys(requests).length > 0 || Object.keys(limits).length > 0) any = true;
    for (const resource of ['cpu', 'memory']) {
      const limit = limits[resource];
      const request = requests[resource] ?? limit;
      if (limit === undefined || parseQuantity(request) !== parseQuantity(limit)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
