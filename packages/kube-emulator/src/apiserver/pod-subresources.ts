// pods/log and pods/exec (and attach, refused): parameter parsing and validation as
// kube-apiserver does it, then delegation to the node.
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import type { ExecRequest, KubeObject, LogRequest } from '../contracts.js';
import type { RequestScope, ServerContext } from './context.js';
import { fieldErrors as fe } from './field-errors.js';
import type { FieldError } from './field-errors.js';
import { forbiddenMessage } from './rbac.js';
import { mustGet } from './rest-read.js';
import { ApiStatusError, badRequest, failure, invalid } from './status.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Convert_Slice_string_To_bool: false only when absent, "false" (any case) or "0". */
function flag(params: URLSearchParams, name: string): boolean {
  const value = params.get(name);
  return value !== null && value.toLowerCase() !== 'false' && value !== '0';
}

function intParam(params: URLSearchParams, name: string): number | undefined {
  const value = params.get(name);
  if (value === null || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw badRequest(`strconv.ParseInt: parsing "${value}": invalid syntax`);
  return n;
}

/** Resolves the container of a log/exec request, with the API server's 400 messages. */
function resolveContainer(pod: KubeObject, requested: string | null): string {
  const spec = (pod as Obj).spec ?? {};
  const containers: string[] = (spec.containers ?? []).map((c: Obj) => c.name as string);
  const inits: string[] = (spec.initContainers ?? []).map((c: Obj) => c.name as string);
  const name = pod.metadata.name;
  if (!requested) {
    if (containers.length === 1) return containers[0]!;
    let message = `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`;
    if (inits.length > 0) message += ` or one of the init containers: [${inits.join(' ')}]`;
    throw badRequest(message);
  }
  if (!containers.includes(requested) && !inits.includes(requested)) {
    throw badRequest(`container ${requested} is not valid for pod ${name}`);
  }
  return requested;
}

/** GET pods/log. */
export function podLog(ctx: ServerContext, scope: RequestScope, name: string): void {
  const params = scope.url.searchParams;
  const tailLines = intParam(params, 'tailLines');
  const limitBytes = intParam(params, 'limitBytes');
  const sinceSeconds = intParam(params, 'sinceSeconds');
  const sinceTimeText = params.get('sinceTime');
  let sinceTime: Date | undefined;
  if (sinceTimeText) {
    sinceTime = new Date(sinceTimeText);
    if (Number.isNaN(sinceTime.getTime())) {
      throw badRequest(
        `parsing time "${sinceTimeText}" as "2006-01-02T15:04:05Z07:00": cannot parse "${sinceTimeText}" as "2006"`,
      );
    }
    // kube-apiserver passes sinceTime on to the kubelet formatted as RFC3339, without the
    // fraction: the kubelet filters from the start of that second.
    sinceTime = new Date(Math.floor(sinceTime.getTime() / 1000) * 1000);
  }
  const errors: FieldError[] = [];
  if (tailLines !== undefined && tailLines < 0)
    errors.push(fe.invalid('tailLines', tailLines, 'must be greater than or equal to 0'));
  if (limitBytes !== undefined && limitBytes < 1)
    errors.push(fe.invalid('limitBytes', limitBytes, 'must be greater than 0'));
  if (sinceSeconds !== undefined && sinceTime !== undefined) {
    errors.push(fe.forbidden('', 'at most one of `sinceTime` or `sinceSeconds` may be specified'));
  } else if (sinceSeconds !== undefined && sinceSeconds < 1) {
    errors.push(fe.invalid('sinceSeconds', sinceSeconds, 'must be greater than 0'));
  }
  if (errors.length > 0) throw invalid('PodLogOptions', '', name, errors);

  const pod = mustGet(ctx, scope, name);
  const container = resolveContainer(pod, params.get('container'));
  const previous = flag(params, 'previous');
  const problem = ctx.node.checkContainer(scope.info.namespace, name, container, previous ? 'log-previous' : 'log');
  if (problem) throw badRequest(problem);
  const request: LogRequest = {
    namespace: scope.info.namespace,
    pod: name,
    container,
    follow: flag(params, 'follow'),
    timestamps: flag(params, 'timestamps'),
    previous,
    ...(sinceTime ? { sinceTime } : {}),
    ...(sinceSeconds !== undefined ? { sinceSeconds } : {}),
    ...(tailLines !== undefined ? { tailLines } : {}),
    ...(limitBytes !== undefined ? { limitBytes } : {}),
  };
  ctx.node.serveLogs(request, scope.req, scope.res);
}

/** Subprotocols served, in preference order when the client offers several. */
const execProtocols = [
  'v5.channel.k8s.io',
  'v4.channel.k8s.io',
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
  'channel.k8s.io',
];

/** The subprotocols a server of Kubernetes `1.<minor>` serves: v5 (stdin close) only from 1.30. */
export function servedExecProtocols(minor: number): string[] {
  return minor >= 30 ? execProtocols : execProtocols.filter((p) => p !== 'v5.channel.k8s.io');
}

/** The first client-offered subprotocol we serve (wsstream handshake), or undefined. */
export function negotiateProtocol(header: string | undefined, minor: number): string | undefined {
  const offered = (header ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const served = servedExecProtocols(minor);
  return offered.find((p) => served.includes(p));
}

/**
 * pods/exec and pods/attach (GET with a WebSocket upgrade); `upgrade` is set when the request is an
 * upgrade. Attach takes no command and joins the container's own stdin/stdout/stderr.
 */
export function podExec(
  ctx: ServerContext,
  scope: RequestScope,
  name: string,
  upgrade: { socket: Duplex; head: Buffer; wss: WebSocketServer } | undefined,
  onUpgraded: () => void,
  kind: 'exec' | 'attach' = 'exec',
): void {
  const params = scope.url.searchParams;
  const stdin = flag(params, 'stdin');
  const stdout = flag(params, 'stdout');
  const tty = flag(params, 'tty');
  // With a TTY stderr is merged into stdout; the request for it is dropped silently.
  const stderr = flag(params, 'stderr') && !tty;
  if (!stdin && !stdout && !flag(params, 'stderr'))
    throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  const command = kind === 'exec' ? params.getAll('command') : [];
  if (kind === 'exec' && command.length === 0)
    throw badRequest('you must specify at least one command for the container');
  if (kind === 'attach' && tty) throw badRequest('attach with a TTY is not supported by the podrun kube-emulator');

  if (ctx.execRequiresCreate) {
    const attrs = { ...scope.info, verb: 'create', user: scope.user };
    if (!ctx.authorizer.authorize(attrs).allowed) {
      throw new ApiStatusError(failure(403, 'Forbidden', forbiddenMessage(attrs), { name, kind: 'pods' }));
    }
  }
  const pod = mustGet(ctx, scope, name);
  const container = resolveContainer(pod, params.get('container'));
  if (!upgrade || (scope.req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
    throw badRequest('Upgrade request required');
  }
  const offered = scope.req.headers['sec-websocket-protocol'];
  const protocol = offered ? negotiateProtocol(offered, ctx.version.minor) : 'channel.k8s.io';
  if (!protocol) {
    throw badRequest(
      `unable to upgrade: no supported subprotocol offered (supported: ${servedExecProtocols(ctx.version.minor).join(', ')})`,
    );
  }
  const problem = ctx.node.checkContainer(scope.info.namespace, name, container, kind);
  if (problem) throw badRequest(problem);

  const request: ExecRequest = {
    namespace: scope.info.namespace,
    pod: name,
    container,
    command,
    stdin,
    stdout,
    stderr,
    tty,
    protocol,
  };
  onUpgraded();
  upgrade.wss.handleUpgrade(scope.req, upgrade.socket, upgrade.head, (ws) => {
    if (kind === 'exec') ctx.node.serveExec(request, ws);
    else ctx.node.serveAttach(request, ws);
  });
}
