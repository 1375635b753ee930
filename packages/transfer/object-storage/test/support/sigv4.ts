// An independent AWS Signature V4 verifier (node:crypto only, not the SDK that signs), so the
// tests prove that every request the runner and the pod make is correctly signed or pre-signed.
import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
const hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const rfc3986 = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export interface VerifyResult {
  ok: boolean;
  reason?: string;
  accessKeyId?: string;
}

function canonicalUri(rawPath: string): string {
  return rawPath
    .split('/')
    .map((segment) => rfc3986(decodeURIComponent(segment)))
    .join('/');
}

function canonicalQuery(params: [string, string][]): string {
  return params
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return (Array.isArray(value) ? value.join(',') : (value ?? '')).trim().replace(/\s+/g, ' ');
}

function signature(secret: string, date: string, scope: string[], amzDate: string, canonicalRequest: string): string {
  const [day, region, service] = scope;
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day!), region!), service!), 'aws4_request');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope.join('/'), hex(canonicalRequest)].join('\n');
  void date;
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

/** Verifies a header-signed or pre-signed request; `secrets` maps access key ids to secrets. */
export function verifySigV4(
  method: string,
  url: string,
  headers: IncomingHttpHeaders,
  secrets: Map<string, string>,
  now = Date.now(),
): VerifyResult {
  const parsed = new URL(url, 'http://placeholder');
  const params = [...parsed.searchParams.entries()];
  const presigned = parsed.searchParams.has('X-Amz-Signature');
  let credential: string, signedHeaders: string, provided: string, amzDate: string, payload: string;
  if (presigned) {
    credential = parsed.searchParams.get('X-Amz-Credential') ?? '';
    signedHeaders = parsed.searchParams.get('X-Amz-SignedHeaders') ?? '';
    provided = parsed.searchParams.get('X-Amz-Signature') ?? '';
    amzDate = parsed.searchParams.get('X-Amz-Date') ?? '';
    payload = parsed.searchParams.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
    const expires = Number(parsed.searchParams.get('X-Amz-Expires'));
    const start = Date.parse(amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
    if (!(start + expires * 1000 >= now)) return { ok: false, reason: 'expired' };
  } else {
    const auth = headerValue(headers, 'authorization');
    const m = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(auth);
    if (!m) return { ok: false, reason: auth ? 'unsupported authorization' : 'anonymous request' };
    [, credential, signedHeaders, provided] = m as unknown as [string, string, string, string];
    amzDate = headerValue(headers, 'x-amz-date');
    payload = headerValue(headers, 'x-amz-content-sha256') || 'UNSIGNED-PAYLOAD';
  }
  const [accessKeyId, ...scope] = credential.split('/');
  const secret = secrets.get(accessKeyId ?? '');
  if (!secret) return { ok: false, reason: 'unknown access key' };
  const names = signedHeaders.split(';');
  if (!names.includes('host')) return { ok: false, reason: 'host not signed' };
  const canonicalRequest = [
    method,
    canonicalUri(parsed.pathname),
    canonicalQuery(params.filter(([k]) => k !== 'X-Amz-Signature')),
    names.map((n) => `${n}:${headerValue(headers, n)}\n`).join(''),
    signedHeaders,
    payload,
  ].join('\n');
  const expected = signature(secret, amzDate, scope, amzDate, canonicalRequest);
  return expected === provided ? { ok: true, accessKeyId } : { ok: false, reason: 'signature mismatch', accessKeyId };
}
