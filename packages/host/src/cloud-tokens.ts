// The reference's cloud token tasks, as an oauthTokenProvider runs them: GCP's OauthAccessToken
// (a service-account key, or application default credentials). Their outputs are named as the
// reference's plugins name them (`accessToken.tokenValue`, `accessToken.expirationTime`).
import { createHash, createHmac, createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ErrorCodes, PodrunError } from '@podrun/core';

/** The GCP access-token task type. */
export const GCP_ACCESS_TOKEN_TASK = 'io.kestra.plugin.gcp.auth.OauthAccessToken';

const DEFAULT_SCOPES = ['https://www.googleapis.com/auth/cloud-platform'];
const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';

/** What the GCP task outputs. */
export interface GcpAccessTokenOutput {
  accessToken: { tokenValue: string; expirationTime: string; scopes: string[] };
}

function tokenError(message: string, cause?: unknown): PodrunError {
  return new PodrunError(ErrorCodes.KUBE_AUTH, `[OauthAccessToken] ${message}`, {
    component: 'cloud-tokens',
    ...(cause ? { cause } : {}),
  });
}

interface ServiceAccountKey {
  type?: string;
  client_email?: string;
  private_key?: string;
  token_uri?: string;
}

/**
 * Runs `io.kestra.plugin.gcp.auth.OauthAccessToken`: with `serviceAccount` (the key's JSON), the
 * OAuth JWT-bearer exchange at the key's `token_uri`; without, application default credentials —
 * the key file GOOGLE_APPLICATION_CREDENTIALS names, else the metadata server (GCE_METADATA_HOST,
 * default metadata.google.internal), as on GKE with workload identity.
 */
export async function gcpAccessToken(
  task: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
  now: () => number = Date.now,
): Promise<GcpAccessTokenOutput> {
  const scopes = Array.isArray(task.scopes) ? task.scopes.map(String) : DEFAULT_SCOPES;
  let key: ServiceAccountKey | undefined;
  if (typeof task.serviceAccount === 'string' && task.serviceAccount.trim() !== '') {
    try {
      key = JSON.parse(task.serviceAccount) as ServiceAccountKey;
    } catch {
      throw tokenError(
        'serviceAccount is not a service-account key (JSON); pass the key file content, e.g. {{ secret("GCP_SA_KEY") }}',
      );
    }
  } else if (env.GOOGLE_APPLICATION_CREDENTIALS) {
    try {
      key = JSON.parse(readFileSync(env.GOOGLE_APPLICATION_CREDENTIALS, 'utf8')) as ServiceAccountKey;
    } catch (error) {
      throw tokenError(`cannot read GOOGLE_APPLICATION_CREDENTIALS (${env.GOOGLE_APPLICATION_CREDENTIALS})`, error);
    }
  }
  const answer = key ? await exchangeJwt(key, scopes, now) : await fromMetadataServer(env, scopes);
  const expiresIn = Number(answer.expires_in ?? 3600);
  return {
    accessToken: {
      tokenValue: answer.access_token,
      expirationTime: new Date(now() + expiresIn * 1000).toISOString(),
      scopes,
    },
  };
}

interface TokenAnswer {
  access_token: string;
  expires_in?: number;
}

async function exchangeJwt(key: ServiceAccountKey, scopes: string[], now: () => number): Promise<TokenAnswer> {
  if (!key.client_email || !key.private_key) {
    throw tokenError('the service-account key has no client_email or private_key; use a key of type service_account');
  }
  const tokenUri = key.token_uri ?? GOOGLE_TOKEN_URI;
  const iat = Math.floor(now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({
    iss: key.client_email,
    scope: scopes.join(' '),
    aud: tokenUri,
    iat,
    exp: iat + 3600,
  })}`;
  let signature: string;
  try {
    signature = createSign('RSA-SHA256').update(unsigned).sign(key.private_key, 'base64url');
  } catch (error) {
    throw tokenError('the service-account private_key cannot sign; check the key', error);
  }
  return post(tokenUri, {
    grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    assertion: `${unsigned}.${signature}`,
  });
}

async function post(url: string, form: Record<string, string>): Promise<TokenAnswer> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw tokenError(`cannot reach the token endpoint ${url}`, error);
  }
  return answerOf(res, url);
}

async function fromMetadataServer(
  env: Readonly<Record<string, string | undefined>>,
  scopes: string[],
): Promise<TokenAnswer> {
  const host = env.GCE_METADATA_HOST ?? 'metadata.google.internal';
  const url = `http://${host}/computeMetadata/v1/instance/service-accounts/default/token?scopes=${encodeURIComponent(scopes.join(','))}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { 'Metadata-Flavor': 'Google' }, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw tokenError(
      `no serviceAccount given, no GOOGLE_APPLICATION_CREDENTIALS, and the metadata server (${host}) cannot be reached; give the task a serviceAccount key`,
      error,
    );
  }
  return answerOf(res, url);
}

async function answerOf(res: Response, url: string): Promise<TokenAnswer> {
  const body = (await res.json().catch(() => ({}))) as Partial<TokenAnswer> & { error?: string };
  if (!res.ok || typeof body.access_token !== 'string') {
    // The endpoint's error code only (never the request, which holds the signed assertion).
    throw tokenError(
      `${new URL(url).host} refused the token request (HTTP ${res.status}${body.error ? `, ${body.error}` : ''})`,
    );
  }
  return body as TokenAnswer;
}

/** The AWS EKS token task type. */
export const AWS_EKS_TOKEN_TASK = 'io.kestra.plugin.aws.auth.EksToken';

/** What the EKS task outputs. */
export interface EksTokenOutput {
  token: { tokenValue: string; expirationTime: string };
}

const bytes = (data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/** SHA-256 / HMAC-SHA-256 for the SigV4 signer, from node:crypto. */
class NodeSha256 {
  readonly #hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
}

/**
 * Runs `io.kestra.plugin.aws.auth.EksToken` as `aws eks get-token` does: a pre-signed STS
 * GetCallerIdentity URL (SigV4, valid 60 s for the signature, with the `x-k8s-aws-id: <cluster>`
 * header signed in), base64url-encoded behind `k8s-aws-v1.`. Credentials: the task's
 * `accessKeyId`/`secretKeyId`/`sessionToken`, else the AWS SDK's default chain (environment,
 * profile, web identity, instance metadata). The AWS SDK is loaded only here.
 */
export async function eksToken(
  task: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
  now: () => number = Date.now,
): Promise<EksTokenOutput> {
  const clusterName = typeof task.clusterName === 'string' ? task.clusterName : '';
  if (!clusterName) throw tokenError('clusterName is required (the EKS cluster name), as the reference requires it');
  const region = String(task.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1');
  const [{ SignatureV4 }, credentials] = await Promise.all([import('@smithy/signature-v4'), awsCredentials(task, env)]);
  const hostname =
    typeof task.stsEndpointOverride === 'string'
      ? new URL(task.stsEndpointOverride).host
      : `sts.${region}.amazonaws.com`;
  const signer = new SignatureV4({ service: 'sts', region, credentials, sha256: NodeSha256, uriEscapePath: true });
  const signingDate = new Date(now());
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, 'x-k8s-aws-id': clusterName },
    },
    { expiresIn: 60, signingDate },
  );
  const query = new URLSearchParams(presigned.query as Record<string, string>).toString();
  const url = `https://${hostname}/?${query}`;
  const seconds = Number(task.expirationDuration ?? 600);
  return {
    token: {
      tokenValue: `k8s-aws-v1.${Buffer.from(url).toString('base64url')}`,
      expirationTime: new Date(signingDate.getTime() + seconds * 1000).toISOString(),
    },
  };
}

async function awsCredentials(
  task: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }> {
  if (typeof task.accessKeyId === 'string' && typeof task.secretKeyId === 'string') {
    return {
      accessKeyId: task.accessKeyId,
      secretAccessKey: task.secretKeyId,
      ...(typeof task.sessionToken === 'string' ? { sessionToken: task.sessionToken } : {}),
    };
  }
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    return {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  }
  try {
    const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
    return await defaultProvider()();
  } catch (error) {
    throw tokenError(
      'no AWS credentials: give the task accessKeyId and secretKeyId (e.g. from secret()), or configure the default chain (AWS_ACCESS_KEY_ID, a profile, web identity)',
      error,
    );
  }
}
