// A minimal OpenAPI v3 surface. kubectl create/apply fetch /openapi/v3 to learn whether the
// server validates fields itself (QueryParamVerifierV3 looks for a `fieldValidation` parameter
// on the PATCH operation of the kind); it does here, so kubectl skips client-side schema
// validation and sends fieldValidation=Strict. No schemas are published: kubectl apply then
// computes strategic merge patches from its compiled-in types, as it does without OpenAPI.
import { apiVersionOf, resourceTypes } from './resources.js';
import type { ResourceType } from './resources.js';

const served = (): { path: string; group: string; version: string }[] => {
  const seen = new Map<string, { path: string; group: string; version: string }>();
  for (const t of resourceTypes) {
    const path = t.group ? `apis/${t.group}/${t.version}` : `api/${t.version}`;
    if (!seen.has(path)) seen.set(path, { path, group: t.group, version: t.version });
  }
  return [...seen.values()];
};

/** `/openapi/v3`: the discovery document listing one spec per group/version. */
export function openApiV3Root(): unknown {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of served()) paths[gv.path] = { serverRelativeURL: `/openapi/v3/${gv.path}?hash=podrun-0` };
  return { paths };
}

const parameters = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'].map((name) => ({
  name,
  in: 'query',
  schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
}));

function objectPath(t: ResourceType): string {
  const prefix = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  return t.namespaced ? `${prefix}/namespaces/{namespace}/${t.resource}/{name}` : `${prefix}/${t.resource}/{name}`;
}

/** `/openapi/v3/<api|apis/group>/<version>`, or undefined when not served. */
export function openApiV3Document(gvPath: string): unknown {
  const gv = served().find((g) => g.path === gvPath);
  if (!gv) return undefined;
  const paths: Record<string, unknown> = {};
  for (const t of resourceTypes.filter((r) => r.group === gv.group && r.version === gv.version && !r.virtual)) {
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const operation = (action: string): unknown => ({
      operationId: `${action}${t.kind}`,
      parameters,
      responses: { '200': { description: 'OK' } },
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
    });
    const item: Record<string, unknown> = { get: operation('get') };
    if (t.verbs.includes('patch')) item.patch = operation('patch');
    if (t.verbs.includes('update')) item.put = operation('put');
    paths[objectPath(t)] = item;
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0+podrun' },
    paths,
    components: { schemas: {} },
    'x-podrun-api-version': apiVersionOf(gv),
  };
}
