// What a fresh cluster contains (bootstrap RBAC policy, system namespaces, the Node object) and
// the small controllers kube-controller-manager would run: per-namespace ServiceAccount and CA
// ConfigMap, namespace deletion, and claim directory cleanup.
import { rmSync } from 'node:fs';
import { claimDirectory } from '../contracts.js';
import type { KubeObject, NodeOptions } from '../contracts.js';
import type { ServerContext } from './context.js';
import { podStrategy } from './pod-strategy.js';
import type { ApiObjectStore } from './store.js';
import { kubeTimestamp } from './store.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const rbac = 'rbac.authorization.k8s.io/v1';

function clusterRole(name: string, rules: Obj[]): KubeObject {
  return {
    apiVersion: rbac,
    kind: 'ClusterRole',
    metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
    rules,
  };
}

function clusterBinding(name: string, role: string, groups: string[]): KubeObject {
  return {
    apiVersion: rbac,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: groups.map((g) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: g })),
  };
}

const read = ['get', 'list', 'watch'];
const write = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const viewRules: Obj[] = [
  {
    apiGroups: [''],
    resources: [
      'pods',
      'pods/log',
      'pods/status',
      'configmaps',
      'events',
      'persistentvolumeclaims',
      'persistentvolumeclaims/status',
      'serviceaccounts',
      'namespaces',
      'namespaces/status',
    ],
    verbs: read,
  },
];
const editRules: Obj[] = [
  ...viewRules,
  { apiGroups: [''], resources: ['pods/exec', 'pods/attach'], verbs: ['create', 'get'] },
  {
    apiGroups: [''],
    resources: ['pods', 'configmaps', 'secrets', 'persistentvolumeclaims', 'serviceaccounts'],
    verbs: write,
  },
  { apiGroups: [''], resources: ['secrets'], verbs: read },
  { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
];
const adminRules: Obj[] = [
  ...editRules,
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: [...read, ...write] },
  { apiGroups: ['authorization.k8s.io'], resources: ['localsubjectaccessreviews'], verbs: ['create'] },
];

/** Creates the objects of a fresh cluster. */
export function bootstrap(
  store: ApiObjectStore,
  node: { name: string; labels: Record<string, string>; allocatable: Record<string, string>; internalIP: string },
): void {
  const policy: KubeObject[] = [
    clusterRole('cluster-admin', [
      { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
      { nonResourceURLs: ['*'], verbs: ['*'] },
    ]),
    clusterRole('system:discovery', [
      {
        nonResourceURLs: [
          '/api',
          '/api/*',
          '/apis',
          '/apis/*',
          '/healthz',
          '/livez',
          '/openapi',
          '/openapi/*',
          '/readyz',
          '/version',
          '/version/',
        ],
        verbs: ['get'],
      },
    ]),
    clusterRole('system:public-info-viewer', [
      { nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'], verbs: ['get'] },
    ]),
    clusterRole('system:basic-user', [
      {
        apiGroups: ['authorization.k8s.io'],
        resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
        verbs: ['create'],
      },
      { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
    ]),
    clusterRole('view', viewRules),
    clusterRole('edit', editRules),
    clusterRole('admin', adminRules),
    clusterBinding('cluster-admin', 'cluster-admin', ['system:masters']),
    clusterBinding('system:discovery', 'system:discovery', ['system:authenticated']),
    clusterBinding('system:public-info-viewer', 'system:public-info-viewer', [
      'system:authenticated',
      'system:unauthenticated',
    ]),
    clusterBinding('system:basic-user', 'system:basic-user', ['system:authenticated']),
  ];
  for (const object of policy) {
    store.create(object.kind === 'ClusterRole' ? 'clusterroles' : 'clusterrolebindings', object);
  }
  store.create('nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      labels: {
        'kubernetes.io/hostname': node.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
        ...node.labels,
      },
    },
    spec: {},
    status: {
      capacity: node.allocatable,
      allocatable: node.allocatable,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'kubelet is posting ready status',
          lastHeartbeatTime: kubeTimestamp(),
          lastTransitionTime: kubeTimestamp(),
        },
      ],
      addresses: [
        { type: 'InternalIP', address: node.internalIP },
        { type: 'Hostname', address: node.name },
      ],
      nodeInfo: {
        kubeletVersion: 'v1.32.0+podrun',
        containerRuntimeVersion: 'podrun://0.1.0',
        operatingSystem: 'linux',
        architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      },
    },
  });
}

/** Starts the controllers; returns their stop function. */
export function startControllers(ctx: ServerContext): () => void {
  const { store } = ctx;
  const pendingClaimDirs = new Set<string>();

  const populateNamespace = (ns: string): void => {
    if (!store.get('serviceaccounts', ns, 'default')) {
      store.create('serviceaccounts', {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'default', namespace: ns },
      });
    }
    if (!store.get('configmaps', ns, 'kube-root-ca.crt')) {
      store.create('configmaps', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'kube-root-ca.crt',
          namespace: ns,
          annotations: {
            'kubernetes.io/description':
              'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.',
          },
        },
        data: { 'ca.crt': ctx.caCertPem },
      });
    }
  };

  const namespaced = [
    'pods',
    'events',
    'persistentvolumeclaims',
    'serviceaccounts',
    'secrets',
    'configmaps',
    'roles',
    'rolebindings',
  ];
  const drainNamespace = (ns: string): void => {
    for (const resource of namespaced) {
      for (const object of store.list(resource, ns)) {
        if (resource === 'pods') {
          if (!object.metadata.deletionTimestamp) podStrategy.delete!(ctx, object, undefined);
        } else {
          store.remove(resource, ns, object.metadata.name);
        }
      }
    }
    if (store.list('pods', ns).length === 0) store.remove('namespaces', undefined, ns);
  };

  const claimInUse = (ns: string, claim: string): boolean =>
    store
      .list('pods', ns)
      .some((p) => ((p as Obj).spec?.volumes ?? []).some((v: Obj) => v.persistentVolumeClaim?.claimName === claim));

  const unsubscribe = store.subscribe((event) => {
    const { object } = event;
    if (event.resource === 'namespaces') {
      if (event.type === 'ADDED') populateNamespace(object.metadata.name);
      if (event.type === 'MODIFIED' && object.metadata.deletionTimestamp) drainNamespace(object.metadata.name);
      return;
    }
    if (event.resource === 'persistentvolumeclaims' && event.type === 'DELETED') {
      // Like pvc-protection: the data stays while a pod still uses the claim.
      const key = `${object.metadata.namespace}/${object.metadata.name}`;
      if (claimInUse(object.metadata.namespace!, object.metadata.name)) pendingClaimDirs.add(key);
      else
        rmSync(claimDirectory(ctx.stateDir, object.metadata.namespace!, object.metadata.name), {
          recursive: true,
          force: true,
        });
      return;
    }
    if (event.resource === 'pods' && event.type === 'DELETED') {
      const ns = object.metadata.namespace!;
      for (const key of [...pendingClaimDirs]) {
        const [claimNs, claim] = key.split('/') as [string, string];
        if (claimNs === ns && !claimInUse(ns, claim)) {
          pendingClaimDirs.delete(key);
          rmSync(claimDirectory(ctx.stateDir, ns, claim), { recursive: true, force: true });
        }
      }
      const namespace = store.get('namespaces', undefined, ns);
      if (namespace?.metadata.deletionTimestamp && store.list('pods', ns).length === 0)
        store.remove('namespaces', undefined, ns);
    }
  });

  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    if (!store.get('namespaces', undefined, ns)) {
      store.create('namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } },
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Active' },
      });
    }
  }
  return unsubscribe;
}

/** The recordEvent the node calls: a core/v1 Event as the kubelet writes one. */
export function eventRecorder(store: ApiObjectStore, nodeName: string): NodeOptions['recordEvent'] {
  // Event names are `<object>.<UnixNano in hex>` as client-go's recorder makes them, so a
  // listing sorted by name is in time order per object.
  let lastNano = 0n;
  return (event) => {
    const nano = BigInt(Date.now()) * 1_000_000n;
    lastNano = nano > lastNano ? nano : lastNano + 1n;
    const now = kubeTimestamp();
    const object = store.identity('pods', event.involvedObject.namespace, event.involvedObject.name);
    try {
      store.create('events', {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${event.involvedObject.name}.${lastNano.toString(16)}`, namespace: event.namespace },
        involvedObject: {
          apiVersion: 'v1',
          ...event.involvedObject,
          ...(object && !event.involvedObject.uid ? { uid: object.uid } : {}),
          ...(object ? { resourceVersion: object.resourceVersion } : {}),
        },
        reason: event.reason,
        message: event.message,
        type: event.type,
        source: {
          component:
            event.reason === 'Scheduled' || event.reason === 'FailedScheduling' ? 'default-scheduler' : 'kubelet',
          host: nodeName,
        },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        eventTime: null,
        reportingComponent:
          event.reason === 'Scheduled' || event.reason === 'FailedScheduling' ? 'default-scheduler' : 'kubelet',
        reportingInstance: nodeName,
      });
    } catch {
      // An event that cannot be recorded (namespace gone) is dropped, as the kubelet's recorder does.
    }
  };
}
