// Maps HTTP answers and socket/TLS failures to podrun errors whose messages say what failed, why
// and what to do — and never carry a credential (request headers are never quoted).
import { ErrorCodes, KubeApiError } from '@podrun/core';

/** What a call was doing, for messages. */
export interface CallContext {
  /** e.g. `create pod default/p` */
  what: string;
  server: string;
  /** Secret-free description of the credentials (PodrunKubeConfig.credentials). */
  credentials: string;
}

/** Socket errors where the request never reached the server: always safe to retry. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** Socket errors after which the server may or may not have processed the request. */
const DROPPED = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);

const SERVER_CERT = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REJECTED',
]);

/** Network-level classification stored in `KubeApiError.details.network`. */
export type NetworkFailure = 'not-sent' | 'dropped' | 'tls' | 'other';

/** The Kubernetes Status body of an error answer, when it is one. */
export function parseStatus(body: string): { message?: string; reason?: string; code?: number } {
  try {
    const parsed = JSON.parse(body) as { kind?: string; message?: string; reason?: string; code?: number };
    if (parsed && typeof parsed === 'object')
      return { message: parsed.message, reason: parsed.reason, code: parsed.code };
  } catch {
    // not JSON: a proxy or a plain-text error
  }
  return { message: body.trim().slice(0, 500) || undefined };
}

/** A non-2xx answer as a KubeApiError. */
export function statusError(
  status: number,
  body: string,
  ctx: CallContext,
  extra: { retryAfterMs?: number } = {},
): KubeApiError {
  const s = parseStatus(body);
  const said = s.message ? `: ${s.message}` : '';
  let hint: string;
  switch (status) {
    case 401:
      hint =
        `the API server at ${ctx.server} rejected the credentials (401 Unauthorized); podrun used ${ctx.credentials}. ` +
        'Check that the token or client certificate is valid, not expired, and issued for this cluster';
      break;
    case 403:
      hint = `forbidden (403)${said}. Grant the identity this permission with an RBAC Role, or use another identity`;
      break;
    case 404:
      hint = `not found (404)${said}`;
      break;
    case 429:
      hint = `the API server is throttling requests (429)${said}. Try again later or lower the load`;
      break;
    default:
      hint =
        status >= 500
          ? `the API server failed (${status}${s.reason ? ` ${s.reason}` : ''})${said}. Check the cluster's health`
          : `the API server refused it (${status}${s.reason ? ` ${s.reason}` : ''})${said}`;
  }
  return new KubeApiError(`${ctx.what} failed: ${hint}`, {
    component: 'kube',
    status,
    reason: s.reason,
    details: { status, reason: s.reason, retryAfterMs: extra.retryAfterMs },
  });
}

/** A socket or TLS failure as a KubeApiError (code PODRUN_KUBE_CONNECTION or PODRUN_KUBE_AUTH). */
export function networkError(error: unknown, ctx: CallContext): KubeApiError {
  const e = error as NodeJS.ErrnoException;
  const code = e?.code ?? (/socket hang up/i.test(String(e?.message)) ? 'ECONNRESET' : undefined) ?? 'UNKNOWN';
  const detail = String(e?.message ?? error)
    .split('\n')[0]!
    .slice(0, 200);
  let network: NetworkFailure = 'other';
  let errorCode: (typeof ErrorCodes)[keyof typeof ErrorCodes] = ErrorCodes.KUBE_CONNECTION;
  let why: string;
  if (SERVER_CERT.has(code)) {
    network = 'tls';
    why =
      `cannot verify the API server's TLS certificate (${code}: ${detail}). ` +
      'Set caCertData, caCertFile or trustStoreFile to the CA that signed the server certificate ' +
      '(or, unsafely, trustCerts: true)';
  } else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    network = 'tls';
    why =
      `the API server's certificate does not name the host in ${ctx.server} (${detail}). ` +
      'Use the host name the certificate was issued for, or set disableHostnameVerification: true to check only the chain';
  } else if (
    /^ERR_SSL_.*ALERT/.test(code) ||
    /alert (unknown ca|bad certificate|certificate required|access denied)/i.test(detail)
  ) {
    network = 'tls';
    errorCode = ErrorCodes.KUBE_AUTH;
    why =
      `the API server rejected the TLS handshake (${code}); podrun used ${ctx.credentials}. ` +
      'Check that the client certificate is signed by a CA the cluster trusts and has not expired';
  } else if (NOT_SENT.has(code)) {
    network = 'not-sent';
    why =
      `cannot reach the API server at ${ctx.server} (${code}). ` +
      'Check masterUrl/the kubeconfig server, the network, and that the cluster is running';
  } else if (DROPPED.has(code)) {
    network = 'dropped';
    why = `the connection to ${ctx.server} was dropped (${code}). The cluster may be restarting or a proxy cut the connection`;
    if (ctx.credentials.includes('client certificate')) {
      why +=
        '; if it happens on every request, the server may be refusing the client certificate (check its CA and expiry)';
    }
  } else if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) {
    network = 'tls';
    why = `TLS with ${ctx.server} failed (${code}: ${detail}). Check the CA, certificates and masterUrl scheme`;
  } else {
    why = `the request to ${ctx.server} failed (${code}: ${detail})`;
  }
  return new KubeApiError(`${ctx.what} failed: ${why}`, {
    component: 'kube',
    code: errorCode,
    cause: error,
    details: { network, errno: code },
  });
}

/** The network classification of an error raised by the transport, if any. */
export function networkFailure(error: unknown): NetworkFailure | undefined {
  return error instanceof KubeApiError ? (error.details.network as NetworkFailure | undefined) : undefined;
}
