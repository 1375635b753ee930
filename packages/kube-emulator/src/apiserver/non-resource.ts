// Non-resource paths (discovery, health, metrics, OpenAPI) and the admin fault endpoint.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StoredImage } from '../contracts.js';
import type { ServerContext } from './context.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.js';
import type { FaultController } from './faults.js';
import { openApiV3Document, openApiV3Root } from './openapi.js';
import type { MetricsRecorder } from './metrics.js';
import { readObject } from './request-body.js';
import { ApiStatusError, failure, pageNotFound, writeJson, writeStatus } from './status.js';
import type { UserInfo } from './tokens.js';

function text(res: ServerResponse, code: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(code, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-cache, private',
  });
  res.end(body);
}

/** Serves an authorized non-resource request. */
export function serveNonResource(
  ctx: ServerContext,
  metrics: MetricsRecorder,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): void {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const segments = path.split('/').filter((s) => s !== '');
  if (req.method !== 'GET' && req.method !== 'HEAD')
    throw new ApiStatusError(
      failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
    );
  switch (path) {
    case '/version':
      writeJson(res, 200, versionInfo(ctx.version));
      return;
    case '/api':
      writeJson(res, 200, apiVersions(ctx.serverAddress()));
      return;
    case '/apis':
      writeJson(res, 200, apiGroupList());
      return;
    case '/healthz':
    case '/livez':
    case '/readyz':
      text(res, 200, 'ok');
      return;
    case '/metrics':
      text(res, 200, metrics.text(), 'text/plain; version=0.0.4; charset=utf-8');
      return;
    default:
      break;
  }
  let document: unknown;
  if (path === '/openapi/v3') document = openApiV3Root();
  if (path.startsWith('/openapi/v3/')) document = openApiV3Document(path.slice('/openapi/v3/'.length));
  if (segments[0] === 'api' && segments.length === 2) document = apiResourceList('', segments[1]!);
  if (segments[0] === 'apis' && segments.length === 2) document = apiGroup(segments[1]!);
  if (segments[0] === 'apis' && segments.length === 3) document = apiResourceList(segments[1]!, segments[2]!);
  if (document === undefined) {
    writeStatus(res, pageNotFound());
    return;
  }
  writeJson(res, 200, document);
}

/** The image list as `GET /podrun-admin/images` and the import answer show it. */
function imageList(images: StoredImage[]): { items: { names: string[]; digest: string; size: number }[] } {
  return { items: images.map(({ names, digest, size }) => ({ names, digest, size })) };
}

/**
 * `/podrun-admin/faults/<name>` (POST, JSON body), `/podrun-admin/metrics/reset`, and
 * `/podrun-admin/images` (GET lists; POST imports the archive streamed as the body, `?name=`
 * overrides its name); system:masters only.
 */
export async function serveAdmin(
  ctx: ServerContext,
  faults: FaultController,
  metrics: MetricsRecorder,
  user: UserInfo,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  if (!user.groups.includes('system:masters')) {
    writeStatus(res, failure(403, 'Forbidden', `forbidden: User "${user.name}" cannot post path "${url.pathname}"`));
    return;
  }
  const segments = url.pathname.split('/').filter((s) => s !== '');
  if (segments[1] === 'images' && segments.length === 2) {
    if (req.method === 'GET') {
      writeJson(res, 200, imageList(ctx.images.list()));
      return;
    }
    if (req.method === 'POST') {
      const name = url.searchParams.get('name') ?? undefined;
      try {
        writeJson(res, 201, imageList(await ctx.images.importArchive({ stream: req }, name)));
      } catch (error) {
        throw new ApiStatusError(failure(400, 'BadRequest', (error as Error).message));
      }
      return;
    }
  }
  if (req.method !== 'POST')
    throw new ApiStatusError(failure(405, 'MethodNotAllowed', 'the admin API only accepts POST'));
  const body = ((await readObject(req)) ?? {}) as Record<string, unknown>;
  if (segments[1] === 'metrics' && segments[2] === 'reset') {
    metrics.reset();
    writeJson(res, 200, { status: 'ok' });
    return;
  }
  if (segments[1] !== 'faults' || !segments[2]) {
    writeStatus(res, pageNotFound());
    return;
  }
  const name = segments[2];
  if (name === 'restartApiServer') {
    // Answer first: the restart closes this very connection.
    writeJson(res, 202, { status: 'restarting' });
    res.once('finish', () => void faults.restartApiServer());
    return;
  }
  try {
    await faults.runByName(name, body);
  } catch (error) {
    if (error instanceof ApiStatusError) throw error;
    // e.g. oomKill of a pod the node does not run
    writeStatus(res, failure(400, 'BadRequest', (error as Error).message));
    return;
  }
  writeJson(res, 200, { status: 'ok' });
}
