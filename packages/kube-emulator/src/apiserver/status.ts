// metav1.Status bodies exactly as kube-apiserver writes them (apimachinery pkg/api/errors), and
// the error type handlers throw to answer with one.
import type { ServerResponse } from 'node:http';
import { ErrorCodes, PodrunError } from '@podrun/core';

/** One entry of `details.causes`; the Go field `Type` is serialised as `reason`. */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** A metav1.Status with `status: Failure`. */
export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason?: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    causes?: StatusCause[];
    retryAfterSeconds?: number;
  };
  code: number;
}

/** Thrown by handlers; the router writes `status` as the response. */
export class ApiStatusError extends PodrunError {
  readonly status: KubeStatus;
  readonly headers: Record<string, string>;
  constructor(status: KubeStatus, headers: Record<string, string> = {}) {
    super(ErrorCodes.EMULATOR, status.message, { component: 'kube-emulator', details: { code: status.code } });
    this.status = status;
    this.headers = headers;
  }
}

/** Builds a Failure Status. */
export function failure(
  code: number,
  reason: string | undefined,
  message: string,
  details?: KubeStatus['details'],
): KubeStatus {
  const status: KubeStatus = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, code };
  if (reason) status.reason = reason;
  if (details) status.details = details;
  return status;
}

/** `group/resource` as Kubernetes prints a GroupResource: `pods`, `roles.rbac.authorization.k8s.io`. */
export function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

function groupDetail(group: string): { group?: string } {
  return group ? { group } : {};
}

export function notFound(resource: string, group: string, name: string): ApiStatusError {
  return new ApiStatusError(
    failure(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, {
      name,
      ...groupDetail(group),
      kind: resource,
    }),
  );
}

export function alreadyExists(resource: string, group: string, name: string): ApiStatusError {
  return new ApiStatusError(
    failure(409, 'AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, {
      name,
      ...groupDetail(group),
      kind: resource,
    }),
  );
}

export function conflict(resource: string, group: string, name: string, why: string): ApiStatusError {
  return new ApiStatusError(
    failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`, {
      name,
      ...groupDetail(group),
      kind: resource,
    }),
  );
}

/** 422 Invalid: `Pod "x" is invalid: spec.containers[0].image: Required value` (causes joined by ", "). */
export function invalid(kind: string, group: string, name: string, causes: StatusCause[]): ApiStatusError {
  const text = causes.map((c) => `${c.field ?? ''}: ${c.message}`).join(', ');
  const shown = causes.length > 1 ? `[${text}]` : text;
  return new ApiStatusError(
    failure(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${shown}`, {
      name,
      ...groupDetail(group),
      kind,
      causes,
    }),
  );
}

export function badRequest(message: string): ApiStatusError {
  return new ApiStatusError(failure(400, 'BadRequest', message));
}

export function methodNotAllowed(): ApiStatusError {
  return new ApiStatusError(
    failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
  );
}

export function unsupportedMediaType(contentType: string): ApiStatusError {
  return new ApiStatusError(
    failure(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json; got ${contentType}`,
    ),
  );
}

export function unauthorized(): KubeStatus {
  return failure(401, 'Unauthorized', 'Unauthorized');
}

export function internalError(message: string): ApiStatusError {
  return new ApiStatusError(
    failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }),
  );
}

export function expired(message: string): KubeStatus {
  return failure(410, 'Expired', message);
}

/** The 404 for a URL that names no served resource. */
export function pageNotFound(): KubeStatus {
  return failure(404, 'NotFound', 'the server could not find the requested resource', {});
}

/** Writes a Status as the response (no-op when headers were already sent). */
export function writeStatus(res: ServerResponse, status: KubeStatus, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  writeJson(res, status.code, status, headers);
}

/** Writes a JSON body with an exact Content-Length. */
export function writeJson(
  res: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
    ...headers,
  });
  res.end(text);
}
