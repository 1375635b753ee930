import { Pod } from 'kubernetes-models/v1/Pod';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { expect } from 'vitest';

// Written from the Kubernetes docs ("Labels and Selectors", "Object Names and IDs"), on purpose
// independent of the package's own checks, so a bug there cannot hide here.
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function expectValidLabelValue(value: string): void {
  expect(value.length).toBeLessThanOrEqual(63);
  expect(value).toMatch(LABEL_VALUE);
}

export function expectValidKey(key: string): void {
  const slash = key.lastIndexOf('/');
  const name = key.slice(slash + 1);
  expect(name.length).toBeLessThanOrEqual(63);
  expect(name).toMatch(LABEL_NAME);
  if (slash >= 0) expect(key.slice(0, slash)).toMatch(DNS_SUBDOMAIN);
}

export function expectDnsLabel(name: string): void {
  expect(name.length).toBeLessThanOrEqual(63);
  expect(name).toMatch(DNS_LABEL);
}

/**
 * Validates a built pod against the official Kubernetes OpenAPI schema (kubernetes-models), then
 * checks what the API server validates beyond the schema: names, labels, unique container and
 * volume names, mounts that point at existing volumes, one mount per path.
 */
export function expectValidPod(pod: V1Pod): void {
  const json = JSON.parse(JSON.stringify(pod));
  expect(json).toEqual(pod); // nothing that JSON would drop (functions, undefined, class instances)
  expect(() => new Pod(json).validate()).not.toThrow();
  const meta = pod.metadata!;
  expectDnsLabel(meta.name!);
  expectDnsLabel(meta.namespace!);
  for (const [key, value] of Object.entries(meta.labels ?? {})) {
    expectValidKey(key);
    expectValidLabelValue(value);
  }
  for (const key of Object.keys(meta.annotations ?? {})) expectValidKey(key);
  const spec = pod.spec!;
  expect(spec.restartPolicy).toBe('Never');
  expect(Number.isInteger(spec.activeDeadlineSeconds)).toBe(true);
  const volumeNames = (spec.volumes ?? []).map((v) => v.name);
  expect(new Set(volumeNames).size).toBe(volumeNames.length);
  const all: V1Container[] = [...(spec.initContainers ?? []), ...spec.containers];
  expect(new Set(all.map((c) => c.name)).size).toBe(all.length);
  for (const c of all) {
    expectDnsLabel(c.name);
    expect(c.image).toBeTruthy();
    const paths = (c.volumeMounts ?? []).map((m) => m.mountPath);
    expect(new Set(paths).size).toBe(paths.length);
    for (const m of c.volumeMounts ?? []) expect(volumeNames).toContain(m.name);
  }
  expect(spec.containers[0]!.name).toBe('main');
}
