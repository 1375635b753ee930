// The RBAC authorizer (plugin/pkg/auth/authorizer/rbac): rules come from the Role, ClusterRole,
// RoleBinding and ClusterRoleBinding objects in the store; system:masters bypasses it.
import type { KubeObject, ObjectStore } from '../contracts.js';
import type { UserInfo } from './tokens.js';

/** What is being asked, as authorizer.Attributes. */
export interface AuthzAttributes {
  user: UserInfo;
  verb: string;
  isResourceRequest: boolean;
  path: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

/** The decision, with the reason RBAC gives for an allow. */
export interface AuthzDecision {
  allowed: boolean;
  reason: string;
}

/** An rbac/v1 PolicyRule. */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

interface RoleRef {
  kind: string;
  name: string;
}

/** A rule together with the binding that grants it (for the allow reason). */
interface GrantedRule {
  rule: PolicyRule;
  describe: string;
}

function subjectMatches(subject: Subject, user: UserInfo, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return subject.name === user.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const ns = subject.namespace || bindingNamespace;
      return user.name === `system:serviceaccount:${ns}:${subject.name}`;
    }
    default:
      return false;
  }
}

function has(list: string[] | undefined, value: string): boolean {
  return !!list && (list.includes('*') || list.includes(value));
}

function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    if (subresource && r === `*/${subresource}`) return true;
  }
  return false;
}

function nonResourceMatches(rule: PolicyRule, path: string): boolean {
  for (const url of rule.nonResourceURLs ?? []) {
    if (url === '*' || url === path) return true;
    if (url.endsWith('*') && path.startsWith(url.slice(0, -1))) return true;
  }
  return false;
}

/** Whether one rule allows the request (rbac/v1 RuleAllows). */
export function ruleAllows(attrs: Omit<AuthzAttributes, 'user'>, rule: PolicyRule): boolean {
  if (!has(rule.verbs, attrs.verb)) return false;
  if (!attrs.isResourceRequest) return nonResourceMatches(rule, attrs.path);
  if (!has(rule.apiGroups, attrs.apiGroup)) return false;
  if (!resourceMatches(rule, attrs.resource, attrs.subresource)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (attrs.name !== '' && names.includes(attrs.name));
}

/** Authorizes requests from the RBAC objects in the store. */
export interface Authorizer {
  authorize(attrs: AuthzAttributes): AuthzDecision;
  /** Every rule that applies to the user in a namespace (SelfSubjectRulesReview). */
  rulesFor(user: UserInfo, namespace: string): PolicyRule[];
}

/** Creates the RBAC authorizer over the store. */
export function createAuthorizer(store: ObjectStore): Authorizer {
  const rulesOf = (ref: RoleRef, bindingNamespace: string): PolicyRule[] => {
    const role =
      ref.kind === 'ClusterRole'
        ? store.get('clusterroles', undefined, ref.name)
        : store.get('roles', bindingNamespace, ref.name);
    return ((role?.rules as PolicyRule[] | undefined) ?? []).filter((r) => Array.isArray(r.verbs));
  };

  function* granted(user: UserInfo, namespace: string): Generator<GrantedRule> {
    const visit = function* (binding: KubeObject, kind: string): Generator<GrantedRule> {
      const ns = binding.metadata.namespace ?? '';
      const subjects = (binding.subjects as Subject[] | undefined) ?? [];
      const subject = subjects.find((s) => subjectMatches(s, user, ns));
      if (!subject) return;
      const ref = binding.roleRef as RoleRef | undefined;
      if (!ref) return;
      const where = ns ? `RoleBinding "${binding.metadata.name}/${ns}"` : `${kind} "${binding.metadata.name}"`;
      const describe = `RBAC: allowed by ${where} of ${ref.kind} "${ref.name}" to ${subject.kind} "${subject.name}"`;
      for (const rule of rulesOf(ref, ns)) yield { rule, describe };
    };
    for (const binding of store.list('clusterrolebindings')) yield* visit(binding, 'ClusterRoleBinding');
    if (namespace) for (const binding of store.list('rolebindings', namespace)) yield* visit(binding, 'RoleBinding');
  }

  return {
    authorize(attrs) {
      if (attrs.user.groups.includes('system:masters')) return { allowed: true, reason: '' };
      for (const { rule, describe } of granted(attrs.user, attrs.namespace)) {
        if (ruleAllows(attrs, rule)) return { allowed: true, reason: describe };
      }
      return { allowed: false, reason: '' };
    },
    rulesFor(user, namespace) {
      if (user.groups.includes('system:masters')) {
        return [
          { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
          { verbs: ['*'], nonResourceURLs: ['*'] },
        ];
      }
      return [...granted(user, namespace)].map((g) => g.rule);
    },
  };
}

/**
 * The message of a 403, as apiserver's forbiddenMessage + NewForbidden build it:
 * `pods "p" is forbidden: User "u" cannot get resource "pods/exec" in API group "" in the namespace "ns"`.
 */
export function forbiddenMessage(attrs: AuthzAttributes, reason = ''): string {
  const who = `User "${attrs.user.name}"`;
  let text: string;
  if (!attrs.isResourceRequest) {
    text = `${who} cannot ${attrs.verb} path "${attrs.path}"`;
  } else {
    const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
    text = attrs.namespace
      ? `${who} cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup}" in the namespace "${attrs.namespace}"`
      : `${who} cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup}" at the cluster scope`;
  }
  if (reason) text += `: ${reason}`;
  if (!attrs.isResourceRequest) return `forbidden: ${text}`;
  const gr = attrs.apiGroup ? `${attrs.resource}.${attrs.apiGroup}` : attrs.resource;
  return attrs.name ? `${gr} "${attrs.name}" is forbidden: ${text}` : `${gr} is forbidden: ${text}`;
}
