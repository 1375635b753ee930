import { stringify } from 'yaml';

/** One RBAC rule podrun needs. */
export interface Permission {
  group: string;
  resource: string;
  subresource?: string;
  verbs: string[];
  /** Why podrun needs it, shown by `rbac` and `doctor`. */
  why: string;
}

/** Transfer strategies podrun knows (the `fileTransfer.type` of the Kubernetes runner). */
export type TransferType = 'exec-tar' | 'pvc' | 'object-storage';

/** What the configured strategies do that needs permissions. */
export interface StrategyNeeds {
  transfers: TransferType[];
  /** Some strategy execs into a pod: exec-tar, or pvc moving files through its helper pod. */
  exec: boolean;
  /** pvc creates (and deletes) a claim per task run; otherwise it only reads an existing one. */
  claims: 'none' | 'existing' | 'per-run';
}

/**
 * What the Kubernetes runner needs, least privilege: pods (create, watch through one informer,
 * delete), pod logs, events for failure reasons; exec only when a strategy execs (get for the
 * WebSocket upgrade, create since Kubernetes 1.35); claims only for pvc.
 */
export function requiredPermissions(needs: StrategyNeeds): Permission[] {
  const out: Permission[] = [
    {
      group: '',
      resource: 'pods',
      verbs: ['get', 'list', 'watch', 'create', 'delete'],
      why: 'create the task pod, follow it through a shared watch, find it again on resume, delete it',
    },
    { group: '', resource: 'pods', subresource: 'log', verbs: ['get'], why: 'stream the task logs' },
    { group: '', resource: 'events', verbs: ['list'], why: "explain failures with the pod's Warning events" },
  ];
  if (needs.exec) {
    out.push({
      group: '',
      resource: 'pods',
      subresource: 'exec',
      verbs: ['get', 'create'],
      why: 'stream files in and out of the pod (get for the WebSocket upgrade; create is required from Kubernetes 1.35)',
    });
  }
  if (needs.claims !== 'none') {
    out.push({
      group: '',
      resource: 'persistentvolumeclaims',
      verbs: needs.claims === 'existing' ? ['get'] : ['get', 'create', 'delete'],
      why: 'pvc: the claim that carries the files',
    });
  }
  return out;
}

/** ServiceAccount, Role and RoleBinding YAML granting `permissions` in `namespace`. */
export function rbacYaml(
  permissions: Permission[],
  options: { namespace: string; serviceAccount: string; needs: StrategyNeeds },
): string {
  const name = options.serviceAccount;
  const rules = new Map<string, { apiGroups: string[]; resources: string[]; verbs: string[] }>();
  for (const p of permissions) {
    const verbs = [...p.verbs].sort();
    const key = `${p.group}|${verbs.join(',')}`;
    const rule = rules.get(key) ?? { apiGroups: [p.group], resources: [], verbs };
    rule.resources.push(p.subresource ? `${p.resource}/${p.subresource}` : p.resource);
    rules.set(key, rule);
  }
  const docs = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: options.namespace } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name, namespace: options.namespace },
      rules: [...rules.values()],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, namespace: options.namespace },
      subjects: [{ kind: 'ServiceAccount', name, namespace: options.namespace }],
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    },
  ];
  const header = [
    `# Least-privilege RBAC for podrun's Kubernetes runner (file transfer: ${options.needs.transfers.join(', ')}).`,
    ...permissions.map(
      (p) => `#   ${p.subresource ? `${p.resource}/${p.subresource}` : p.resource}: ${p.verbs.join(', ')} - ${p.why}`,
    ),
    ...(options.needs.exec
      ? [
          '# Note: Kubernetes 1.35+ authorizes WebSocket exec as `create` on pods/exec as well as `get`;',
          '# both are granted so the role works before and after 1.35.',
        ]
      : ['# No pods/exec: these strategies never exec into pods.']),
  ];
  return `${header.join('\n')}\n${docs.map((d) => stringify(d)).join('---\n')}`;
}
