// Legacy (unaggregated) discovery documents; kubectl accepts them when the response is plain
// application/json (client-go discovery falls back from the aggregated v2 format).
import { apiVersionOf, resourceTypes, servedGroups } from './resources.js';

/** The Kubernetes version the API server serves as (`ClusterOptions.kubernetesVersion`). */
export interface ServedVersion {
  major: number;
  minor: number;
}

/** The `/version` document. */
export function versionInfo(version: ServedVersion): Record<string, string> {
  return {
    major: String(version.major),
    minor: String(version.minor),
    gitVersion: `v${version.major}.${version.minor}.0+podrun`,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2024-12-11T00:00:00Z',
    goVersion: 'go1.23.3',
    compiler: 'gc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

/** `/api`. */
export function apiVersions(serverAddress: string): unknown {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDocument(group: string, version: string): unknown {
  const gv = { groupVersion: `${group}/${version}`, version };
  return { name: group, versions: [gv], preferredVersion: gv };
}

/** `/apis`. */
export function apiGroupList(): unknown {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: servedGroups.map((g) => groupDocument(g.group, g.version)),
  };
}

/** `/apis/<group>`, or undefined when the group is not served. */
export function apiGroup(group: string): unknown {
  const served = servedGroups.find((g) => g.group === group);
  if (!served) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...(groupDocument(served.group, served.version) as object) };
}

/** `/api/v1` or `/apis/<group>/<version>`, or undefined when not served. */
export function apiResourceList(group: string, version: string): unknown {
  const types = resourceTypes.filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const resources: unknown[] = [];
  for (const t of types) {
    resources.push({
      name: t.resource,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs,
      ...(t.shortNames ? { shortNames: t.shortNames } : {}),
      ...(t.categories ? { categories: t.categories } : {}),
    });
    for (const [name, sub] of Object.entries(t.subresources ?? {})) {
      resources.push({
        name: `${t.resource}/${name}`,
        singularName: '',
        namespaced: t.namespaced,
        ...(sub.group !== undefined ? { group: sub.group, version: sub.version } : {}),
        kind: sub.kind,
        verbs: sub.verbs,
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources };
}
