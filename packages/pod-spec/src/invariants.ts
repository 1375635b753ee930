import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { IssueList } from './issues.js';
import { at, show } from './issues.js';
import { isValidLabelKey, isValidLabelValue } from './labels.js';
import { isDnsLabel } from './properties.js';

/**
 * What the API server would reject but the OpenAPI schema does not catch, checked on the finished
 * pod so a bad overlay fails here, with a path, instead of as a 422 after the run started.
 * Paths are into the built pod (`pod.spec...`).
 */
export function checkPod(pod: V1Pod, issues: IssueList): void {
  const meta = pod.metadata ?? {};
  if (!meta.name || !isDnsLabel(meta.name))
    issues.add('pod.metadata.name', `is not a DNS-1123 label: ${show(meta.name)}`);
  for (const [key, value] of Object.entries(meta.labels ?? {})) {
    if (!isValidLabelKey(key) || !isValidLabelValue(value))
      issues.add(`pod.metadata.labels.${key}`, 'is not a valid label');
  }
  for (const key of Object.keys(meta.annotations ?? {})) {
    if (!isValidLabelKey(key)) issues.add(`pod.metadata.annotations.${key}`, 'is not a valid annotation key');
  }
  const spec = pod.spec;
  if (!spec) return;
  if (spec.ephemeralContainers?.length) {
    issues.add('pod.spec.ephemeralContainers', 'cannot be set when a pod is created; remove it from podSpec');
  }
  const volumes = new Set<string>();
  (spec.volumes ?? []).forEach((v, i) => {
    const path = at('pod.spec.volumes', i);
    if (!isDnsLabel(v.name)) issues.add(`${path}.name`, `is not a DNS-1123 label: ${show(v.name)}`);
    if (volumes.has(v.name)) issues.add(`${path}.name`, `duplicate volume name ${show(v.name)}`);
    volumes.add(v.name);
  });
  const names = new Set<string>();
  const check = (list: V1Container[] | undefined, field: string) =>
    (list ?? []).forEach((c, i) => {
      const path = at(`pod.spec.${field}`, i);
      if (typeof c.name !== 'string' || !isDnsLabel(c.name))
        issues.add(`${path}.name`, `is not a DNS-1123 label: ${show(c.name)}`);
      else if (names.has(c.name)) issues.add(`${path}.name`, `duplicate container name ${show(c.name)}`);
      names.add(c.name);
      if (typeof c.image !== 'string' || c.image.trim() === '') issues.add(`${path}.image`, 'is required');
      const paths = new Set<string>();
      (c.volumeMounts ?? []).forEach((m, j) => {
        const mpath = at(`${path}.volumeMounts`, j);
        if (!volumes.has(m.name)) issues.add(`${mpath}.name`, `no volume named ${show(m.name)} in the pod`);
        if (paths.has(m.mountPath)) issues.add(`${mpath}.mountPath`, `duplicate mount path ${show(m.mountPath)}`);
        paths.add(m.mountPath);
      });
    });
  check(spec.initContainers, 'initContainers');
  check(spec.containers, 'containers');
}
