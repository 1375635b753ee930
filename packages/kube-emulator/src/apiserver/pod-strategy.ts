// Pods: defaulting (pkg/apis/core/v1/defaults.go), admission (ServiceAccount), validation, and
// graceful deletion (pkg/registry/core/pod/strategy.go CheckGracefulDelete).
import type { KubeObject } from '../contracts.js';
import { ApiStatusError, failure } from './status.js';
import { kubeTimestamp } from './store.js';
import type { Strategy } from './strategy-contract.js';
import { validatePodSpec, validatePodSpecUpdate } from './validation.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function defaultContainer(c: Obj): void {
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  if (!c.imagePullPolicy && typeof c.image === 'string') {
    const last = c.image.split('/').pop() ?? '';
    const tag = last.includes('@') ? undefined : last.split(':')[1];
    c.imagePullPolicy =
      tag === undefined && !last.includes('@') ? 'Always' : tag === 'latest' ? 'Always' : 'IfNotPresent';
  }
  c.resources ??= {};
  for (const port of c.ports ?? []) port.protocol ??= 'TCP';
  for (const env of c.env ?? []) {
    const ref = env.valueFrom?.fieldRef;
    if (ref) ref.apiVersion ??= 'v1';
  }
}

function qosClass(spec: Obj): string {
  const all: Obj[] = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    const requests = c.resources?.requests ?? {};
    const limits = c.resources?.limits ?? {};
    if (Object.keys(requests).length || Object.keys(limits).length) any = true;
    for (const r of ['cpu', 'memory']) {
      if (limits[r] === undefined || (requests[r] !== undefined && String(requests[r]) !== String(limits[r])))
        guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** Applies the defaults kube-apiserver fills in on create. */
export function defaultPod(pod: KubeObject): void {
  const spec = ((pod as Obj).spec ??= {}) as Obj;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  spec.priority ??= 0;
  if (spec.serviceAccount && !spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount;
  spec.serviceAccountName ??= 'default';
  spec.serviceAccount = spec.serviceAccountName;
  spec.tolerations ??= [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ];
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) defaultContainer(c);
  for (const v of spec.volumes ?? []) {
    if (v.configMap) v.configMap.defaultMode ??= 420;
    if (v.secret) v.secret.defaultMode ??= 420;
    if (v.downwardAPI) v.downwardAPI.defaultMode ??= 420;
  }
}

function forbidden(name: string, message: string): ApiStatusError {
  return new ApiStatusError(
    failure(403, 'Forbidden', `pods "${name}" is forbidden: ${message}`, { name, kind: 'pods' }),
  );
}

/** The pod strategy. */
export const podStrategy: Strategy = {
  nameRule: 'subdomain',
  hasStatus: true,
  returnsDeletedObject: true,
  prepareCreate(_ctx, pod) {
    defaultPod(pod);
    (pod as Obj).status = { phase: 'Pending', qosClass: qosClass((pod as Obj).spec) };
    delete pod.metadata.deletionTimestamp;
    delete pod.metadata.deletionGracePeriodSeconds;
  },
  admit(ctx, pod) {
    const ns = pod.metadata.namespace!;
    const sa = (pod as Obj).spec?.serviceAccountName as string;
    if (!ctx.store.get('serviceaccounts', ns, sa)) {
      throw forbidden(
        pod.metadata.name || pod.metadata.generateName || '',
        `error looking up service account ${ns}/${sa}: serviceaccount "${sa}" not found`,
      );
    }
  },
  validate: (pod) => validatePodSpec(pod),
  validateUpdate: (next, old) => validatePodSpecUpdate(next, old),
  delete(ctx, pod, gracePeriodSeconds) {
    const spec = (pod as Obj).spec ?? {};
    const phase = (pod as Obj).status?.phase;
    let grace = gracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30;
    // Unscheduled or finished pods have nothing to stop: kube-apiserver deletes them at once.
    if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') grace = 0;
    const { namespace, name } = pod.metadata;
    if (grace <= 0) return ctx.store.remove('pods', namespace, name) ?? pod;
    const existing = pod.metadata.deletionGracePeriodSeconds;
    // A second delete may only shorten the grace period, never extend it.
    if (pod.metadata.deletionTimestamp && existing !== undefined && existing <= grace) return pod;
    return (
      ctx.store.update('pods', namespace, name, (current) => {
        current.metadata.deletionTimestamp = kubeTimestamp(new Date(Date.now() + grace * 1000));
        current.metadata.deletionGracePeriodSeconds = grace;
        return current;
      }) ?? pod
    );
  },
};
