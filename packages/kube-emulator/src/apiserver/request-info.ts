// Turns a request into the attributes authorization sees, as kube-apiserver's RequestInfoFactory
// does (apiserver pkg/endpoints/request/requestinfo.go).

/** What a request is about, in RBAC terms. */
export interface RequestInfo {
  isResourceRequest: boolean;
  /** The URL path without query. */
  path: string;
  /** RBAC verb: get, list, watch, create, update, patch, delete, deletecollection (or the lower-case HTTP method for non-resource paths). */
  verb: string;
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** Path segments after the resource (e.g. for `.../pods/p/log` → []). */
  parts: string[];
}

const namespaceSubresources = new Set(['status', 'finalize']);

/** Parses method + URL like RequestInfoFactory.NewRequestInfo. */
export function requestInfo(method: string, url: URL): RequestInfo {
  const path = url.pathname;
  const nonResource: RequestInfo = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: [],
  };
  let segments = path
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .filter((s) => s !== '')
    .map(decodeURIComponent);
  if (segments.length < 3 || (segments[0] !== 'api' && segments[0] !== 'apis')) return nonResource;
  const info: RequestInfo = { ...nonResource, apiPrefix: segments[0]! };
  segments = segments.slice(1);
  if (info.apiPrefix === 'apis') {
    if (segments.length < 3) return nonResource;
    info.apiGroup = segments.shift()!;
  }
  info.apiVersion = segments.shift()!;
  info.isResourceRequest = true;

  switch (method.toUpperCase()) {
    case 'POST':
      info.verb = 'create';
      break;
    case 'GET':
    case 'HEAD':
      info.verb = 'get';
      break;
    case 'PUT':
      info.verb = 'update';
      break;
    case 'PATCH':
      info.verb = 'patch';
      break;
    case 'DELETE':
      info.verb = 'delete';
      break;
    default:
      info.verb = '';
  }
  if (segments[0] === 'watch') {
    segments.shift();
    info.verb = 'watch';
  }

  if (segments[0] === 'namespaces') {
    if (segments.length > 1) {
      info.namespace = segments[1]!;
      // `/namespaces/ns` and `/namespaces/ns/status|finalize` are the namespace object itself.
      if (segments.length > 2 && !namespaceSubresources.has(segments[2]!)) segments = segments.slice(2);
    }
  }
  info.parts = segments;
  if (segments.length >= 3) info.subresource = segments[2]!;
  if (segments.length >= 2) info.name = segments[1]!;
  if (segments.length >= 1) info.resource = segments[0]!;
  const watchParam = url.searchParams.get('watch');
  const isWatch =
    watchParam !== null && watchParam !== '' && watchParam.toLowerCase() !== 'false' && watchParam !== '0';
  if (!info.name && info.verb === 'get') {
    info.verb = isWatch ? 'watch' : 'list';
    // A list narrowed to one name is authorized against that name (resourceNames rules).
    const exact = /^metadata\.name==?([^,]+)$/.exec(url.searchParams.get('fieldSelector') ?? '');
    if (exact && !exact[1]!.includes('/') && exact[1] !== '.' && exact[1] !== '..') info.name = exact[1]!;
  }
  if (!info.name && info.verb === 'delete') info.verb = 'deletecollection';
  return info;
}

/** The verb label of apiserver_request_total (`LIST`, `WATCH`, `GET`, `POST`, ..., `CONNECT`). */
export function metricVerb(method: string, info: RequestInfo, isConnect: boolean): string {
  if (isConnect) return 'CONNECT';
  if (!info.isResourceRequest) return method.toUpperCase();
  switch (info.verb) {
    case 'list':
      return 'LIST';
    case 'watch':
      return 'WATCH';
    case 'create':
      return 'POST';
    case 'update':
      return 'PUT';
    case 'deletecollection':
      return 'DELETE';
    default:
      return method.toUpperCase();
  }
}
