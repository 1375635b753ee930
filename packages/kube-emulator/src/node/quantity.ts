// Kubernetes resource quantities (`500m`, `2`, `128Mi`, `1G`, `1e3`) as plain numbers.
const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const decimal: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** The quantity's value in base units (cores, bytes, count); NaN when malformed. */
export function parseQuantity(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return Number.NaN;
  const match = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/.exec(
    value.trim(),
  );
  if (!match) return Number.NaN;
  const number = Number(match[1]);
  if (match[2]) return number * 10 ** Number(match[2].slice(1));
  const suffix = match[3] ?? '';
  return number * (binary[suffix] ?? decimal[suffix] ?? Number.NaN);
}

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
