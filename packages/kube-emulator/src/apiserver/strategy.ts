// Per-resource behaviour of the generic REST handlers (like the registries' RESTCreateStrategy,
// RESTUpdateStrategy and RESTDeleteStrategy).
import { mkdirSync } from 'node:fs';
import { claimDirectory } from '../contracts.js';
import type { KubeObject } from '../contracts.js';
import type { ServerContext } from './context.js';
import { fieldErrors as fe } from './field-errors.js';
import { validateBinding, validateClaimSpec, validateDataKeys, validateRules } from './validation.js';
import type { FieldError } from './field-errors.js';
import { podStrategy } from './pod-strategy.js';
import type { Strategy } from './strategy-contract.js';
import { ApiStatusError, failure } from './status.js';
import { kubeTimestamp } from './store.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function secretData(object: KubeObject): void {
  const o = object as Obj;
  if (o.stringData && typeof o.stringData === 'object') {
    o.data ??= {};
    for (const [k, v] of Object.entries(o.stringData as Record<string, string>)) {
      o.data[k] = Buffer.from(String(v)).toString('base64');
    }
    delete o.stringData;
  }
  if (!o.type) o.type = 'Opaque';
}

/** Binds a claim to a freshly provisioned volume, as the PV controller does after provisioning. */
function bind(claim: KubeObject): KubeObject {
  const o = claim as Obj;
  return {
    ...claim,
    metadata: {
      ...claim.metadata,
      annotations: {
        ...claim.metadata.annotations,
        'pv.kubernetes.io/bind-completed': 'yes',
        'pv.kubernetes.io/bound-by-controller': 'yes',
      },
    },
    spec: { ...o.spec, volumeName: `pvc-${claim.metadata.uid}` },
    status: {
      phase: 'Bound',
      accessModes: o.spec.accessModes,
      capacity: { storage: o.spec.resources?.requests?.storage },
    },
  } as KubeObject;
}

/**
 * The claimProvisioning fault: while held, new claims stay Pending (pods using them are
 * Unschedulable, "pod has unbound immediate PersistentVolumeClaims"); released, every Pending
 * claim is provisioned and bound.
 */
export function setClaimProvisioning(ctx: ServerContext, held: boolean): void {
  ctx.claimProvisioning.held = held;
  if (held) return;
  for (const claim of ctx.store.list('persistentvolumeclaims')) {
    if ((claim as Obj).status?.phase !== 'Pending') continue;
    const { namespace, name } = claim.metadata;
    ctx.store.update('persistentvolumeclaims', namespace, name, bind);
    ctx.recordEvent({
      namespace: namespace!,
      involvedObject: { kind: 'PersistentVolumeClaim', name, namespace: namespace!, uid: claim.metadata.uid },
      type: 'Normal',
      reason: 'ProvisioningSucceeded',
      message: `Successfully provisioned volume pvc-${claim.metadata.uid}`,
    });
  }
}

const claimStrategy: Strategy = {
  nameRule: 'subdomain',
  hasStatus: true,
  returnsDeletedObject: true,
  prepareCreate(ctx, claim) {
    const o = claim as Obj;
    o.spec ??= {};
    o.spec.volumeMode ??= 'Filesystem';
    o.spec.storageClassName ??= 'standard';
    if (ctx.claimProvisioning.held) {
      o.status = { phase: 'Pending' };
      return;
    }
    // Bound at once, like a default StorageClass with Immediate binding and a fast provisioner.
    Object.assign(claim, bind(claim));
  },
  validate: validateClaimSpec,
  afterCreate(ctx, claim) {
    mkdirSync(claimDirectory(ctx.stateDir, claim.metadata.namespace!, claim.metadata.name), { recursive: true });
  },
};

const protectedNamespaces = new Set(['default', 'kube-system', 'kube-public']);

const namespaceStrategy: Strategy = {
  nameRule: 'label',
  hasStatus: true,
  returnsDeletedObject: true,
  prepareCreate(_ctx, ns) {
    const o = ns as Obj;
    ns.metadata.labels = { ...ns.metadata.labels, 'kubernetes.io/metadata.name': ns.metadata.name };
    o.spec = { finalizers: ['kubernetes'] };
    o.status = { phase: 'Active' };
  },
  prepareUpdate(next) {
    next.metadata.labels = { ...next.metadata.labels, 'kubernetes.io/metadata.name': next.metadata.name };
  },
  delete(ctx, ns) {
    if (protectedNamespaces.has(ns.metadata.name)) {
      throw new ApiStatusError(
        failure(403, 'Forbidden', `namespaces "${ns.metadata.name}" is forbidden: this namespace may not be deleted`, {
          name: ns.metadata.name,
          kind: 'namespaces',
        }),
      );
    }
    if (ns.metadata.deletionTimestamp) return ns;
    // The namespace controller (controllers.ts) empties it and then removes it.
    return (
      ctx.store.update('namespaces', undefined, ns.metadata.name, (current) => {
        current.metadata.deletionTimestamp = kubeTimestamp();
        current.metadata.deletionGracePeriodSeconds = 0;
        (current as Obj).status = { phase: 'Terminating' };
        return current;
      }) ?? ns
    );
  },
};

function roleRefImmutable(next: KubeObject, old: KubeObject): FieldError[] {
  return JSON.stringify((next as Obj).roleRef) === JSON.stringify((old as Obj).roleRef)
    ? []
    : [fe.invalid('roleRef', (next as Obj).roleRef, 'cannot change roleRef')];
}

const strategies: Record<string, Strategy> = {
  pods: podStrategy,
  persistentvolumeclaims: claimStrategy,
  namespaces: namespaceStrategy,
  secrets: {
    nameRule: 'subdomain',
    prepareCreate: (_ctx, o) => secretData(o),
    prepareUpdate: (next) => secretData(next),
    validate: validateDataKeys,
  },
  configmaps: { nameRule: 'subdomain', validate: validateDataKeys },
  serviceaccounts: { nameRule: 'subdomain' },
  events: { nameRule: 'subdomain' },
  nodes: { nameRule: 'subdomain' },
  roles: { nameRule: 'path-segment', validate: (o) => validateRules(o, true) },
  clusterroles: { nameRule: 'path-segment', validate: (o) => validateRules(o, false) },
  rolebindings: {
    nameRule: 'path-segment',
    validate: (o) => validateBinding(o, false),
    validateUpdate: roleRefImmutable,
  },
  clusterrolebindings: {
    nameRule: 'path-segment',
    validate: (o) => validateBinding(o, true),
    validateUpdate: roleRefImmutable,
  },
};

/** The strategy of a resource (a plain subdomain-named one when none is registered). */
export function strategyFor(resource: string): Strategy {
  return strategies[resource] ?? { nameRule: 'subdomain' };
}
