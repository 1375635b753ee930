// Create-only virtual resources: access reviews (authorization.k8s.io), self-subject and token
// reviews (authentication.k8s.io) and the TokenRequest subresource of ServiceAccounts.
import type { RequestScope, ServerContext } from './context.js';
import { fieldErrors as fe } from './field-errors.js';
import { readObject } from './request-body.js';
import { mustGet } from './rest-read.js';
import { badRequest, invalid, writeJson } from './status.js';
import { kubeTimestamp } from './store.js';
import type { UserInfo } from './tokens.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function body(scope: RequestScope): Promise<Obj> {
  const parsed = await readObject(scope.req);
  if (!parsed || typeof parsed !== 'object')
    throw badRequest(`the object provided is unrecognized (must be of type ${scope.type.kind})`);
  return parsed as Obj;
}

function decide(ctx: ServerContext, user: UserInfo, spec: Obj, kind: string): { allowed: boolean; reason?: string } {
  const resource = spec.resourceAttributes as Obj | undefined;
  const nonResource = spec.nonResourceAttributes as Obj | undefined;
  if (!resource && !nonResource) {
    throw invalid(kind, 'authorization.k8s.io', '', [
      fe.required(
        'spec.resourceAttributes',
        'exactly one of nonResourceAttributes or resourceAttributes must be specified',
      ),
    ]);
  }
  const decision = ctx.authorizer.authorize({
    user,
    verb: String((resource ?? nonResource)!.verb ?? ''),
    isResourceRequest: !!resource,
    path: String(nonResource?.path ?? ''),
    apiGroup: String(resource?.group ?? ''),
    resource: String(resource?.resource ?? ''),
    subresource: String(resource?.subresource ?? ''),
    namespace: String(resource?.namespace ?? ''),
    name: String(resource?.name ?? ''),
  });
  return decision.allowed
    ? { allowed: true, ...(decision.reason ? { reason: decision.reason } : {}) }
    : { allowed: false };
}

function withMeta(object: Obj): Obj {
  return { ...object, metadata: { ...(object.metadata ?? {}), creationTimestamp: null } };
}

/** POST on a virtual (review) resource. */
export async function createReview(ctx: ServerContext, scope: RequestScope): Promise<void> {
  const object = await body(scope);
  const user = scope.user;
  const base = { kind: scope.type.kind, apiVersion: `${scope.type.group}/${scope.type.version}` };
  switch (scope.type.resource) {
    case 'selfsubjectaccessreviews': {
      const spec = (object.spec ?? {}) as Obj;
      writeJson(
        scope.res,
        201,
        withMeta({ ...base, spec, status: decide(ctx, user, spec, 'SelfSubjectAccessReview') }),
      );
      return;
    }
    case 'subjectaccessreviews': {
      const spec = (object.spec ?? {}) as Obj;
      const subject: UserInfo = {
        name: String(spec.user ?? ''),
        groups: (spec.groups as string[] | undefined) ?? [],
        ...(spec.uid ? { uid: spec.uid } : {}),
      };
      writeJson(scope.res, 201, withMeta({ ...base, spec, status: decide(ctx, subject, spec, 'SubjectAccessReview') }));
      return;
    }
    case 'selfsubjectrulesreviews': {
      const spec = (object.spec ?? {}) as Obj;
      const rules = ctx.authorizer.rulesFor(user, String(spec.namespace ?? ''));
      writeJson(
        scope.res,
        201,
        withMeta({
          ...base,
          spec,
          status: {
            resourceRules: rules
              .filter((r) => !r.nonResourceURLs?.length)
              .map((r) => ({
                verbs: r.verbs,
                apiGroups: r.apiGroups ?? [],
                resources: r.resources ?? [],
                ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
              })),
            nonResourceRules: rules
              .filter((r) => r.nonResourceURLs?.length)
              .map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })),
            incomplete: false,
          },
        }),
      );
      return;
    }
    case 'selfsubjectreviews':
      writeJson(scope.res, 201, withMeta({ ...base, status: { userInfo: userInfoJson(user) } }));
      return;
    case 'tokenreviews': {
      const token = String((object.spec as Obj | undefined)?.token ?? '');
      const found = ctx.tokens.authenticate(token);
      writeJson(
        scope.res,
        201,
        withMeta({
          ...base,
          spec: object.spec ?? {},
          status: found
            ? {
                authenticated: true,
                user: userInfoJson(found),
                audiences: ['https://kubernetes.default.svc.cluster.local'],
              }
            : { user: {}, error: '[invalid bearer token, service account token has been invalidated]' },
        }),
      );
      return;
    }
    default:
      throw badRequest(`${scope.type.resource} cannot be created here`);
  }
}

function userInfoJson(user: UserInfo): Obj {
  return {
    username: user.name,
    ...(user.uid ? { uid: user.uid } : {}),
    groups: user.groups,
    ...(user.extra ? { extra: user.extra } : {}),
  };
}

/** POST serviceaccounts/NAME/token (TokenRequest, as `kubectl create token` sends it). */
export async function createToken(ctx: ServerContext, scope: RequestScope, name: string): Promise<void> {
  const sa = mustGet(ctx, scope, name);
  const request = (await readObject(scope.req)) as Obj | undefined;
  const spec = (request?.spec ?? {}) as Obj;
  const expirationSeconds = Number(spec.expirationSeconds ?? 3600);
  if (!Number.isInteger(expirationSeconds) || expirationSeconds < 600) {
    throw invalid('TokenRequest', 'authentication.k8s.io', name, [
      fe.invalid('spec.expirationSeconds', spec.expirationSeconds, 'may not specify a duration less than 10 minutes'),
    ]);
  }
  const bound = spec.boundObjectRef as Obj | undefined;
  const issued = ctx.tokens.issue({
    namespace: scope.info.namespace,
    name,
    uid: sa.metadata.uid!,
    audiences: (spec.audiences as string[] | undefined) ?? [],
    expirationSeconds,
    ...(bound?.kind && bound.name
      ? { boundObject: { kind: String(bound.kind), name: String(bound.name), uid: bound.uid } }
      : {}),
  });
  writeJson(scope.res, 201, {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name, namespace: scope.info.namespace, creationTimestamp: kubeTimestamp() },
    spec: {
      audiences: (spec.audiences as string[] | undefined)?.length
        ? spec.audiences
        : ['https://kubernetes.default.svc.cluster.local'],
      expirationSeconds,
      boundObjectRef: bound ?? null,
    },
    status: { token: issued.token, expirationTimestamp: kubeTimestamp(issued.expirationTimestamp) },
  });
}
