// Bound ServiceAccount tokens (TokenRequest API): ES256 JWTs with the same claims kube-apiserver
// puts in them, valid while the ServiceAccount (same uid) exists and the token has not expired.
import { generateKeyPairSync, randomUUID, sign, verify } from 'node:crypto';
import type { ObjectStore } from '../contracts.js';

/** The issuer and default audience of tokens, as on a kubeadm cluster. */
export const apiAudience = 'https://kubernetes.default.svc.cluster.local';

/** A user as authentication found it. */
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** Issues and checks ServiceAccount tokens. */
export interface ServiceAccountTokens {
  issue(input: {
    namespace: string;
    name: string;
    uid: string;
    audiences?: string[];
    expirationSeconds: number;
    boundObject?: { kind: string; name: string; uid?: string };
  }): { token: string; expirationTimestamp: Date };
  /** The ServiceAccount user, or undefined when the token is not one of ours or no longer valid. */
  authenticate(token: string): UserInfo | undefined;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** Creates the token issuer with a fresh signing key. */
export function createServiceAccountTokens(store: ObjectStore): ServiceAccountTokens {
  // ES256, which kube-apiserver accepts for --service-account-signing-key-file: a P-256 key is made
  // in well under a millisecond, an RSA-2048 one took 30-300 ms of every cluster start.
  const { privateKey: key, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = randomUUID();

  return {
    issue({ namespace, name, uid, audiences, expirationSeconds, boundObject }) {
      const now = Math.floor(Date.now() / 1000);
      const exp = now + expirationSeconds;
      const header = { alg: 'ES256', kid };
      const claims = {
        aud: audiences && audiences.length > 0 ? audiences : [apiAudience],
        exp,
        iat: now,
        iss: apiAudience,
        jti: randomUUID(),
        'kubernetes.io': {
          namespace,
          serviceaccount: { name, uid },
          ...(boundObject
            ? { [boundObject.kind.toLowerCase()]: { name: boundObject.name, uid: boundObject.uid } }
            : {}),
        },
        nbf: now,
        sub: `system:serviceaccount:${namespace}:${name}`,
      };
      const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
      // JWS carries ECDSA signatures as r || s (RFC 7518 3.4), not DER.
      const signature = sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' });
      return { token: `${signingInput}.${b64url(signature)}`, expirationTimestamp: new Date(exp * 1000) };
    },

    authenticate(token) {
      const parts = token.split('.');
      if (parts.length !== 3) return undefined;
      const [head, body, signature] = parts as [string, string, string];
      const ok = verify(
        'sha256',
        Buffer.from(`${head}.${body}`),
        { key: publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(signature, 'base64url'),
      );
      if (!ok) return undefined;
      let claims: {
        aud?: string[];
        exp?: number;
        nbf?: number;
        'kubernetes.io'?: { namespace?: string; serviceaccount?: { name?: string; uid?: string } };
      };
      try {
        claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as typeof claims;
      } catch {
        return undefined;
      }
      const now = Date.now() / 1000;
      if (typeof claims.exp !== 'number' || claims.exp <= now) return undefined;
      if (typeof claims.nbf === 'number' && claims.nbf > now + 60) return undefined;
      if (!claims.aud?.includes(apiAudience)) return undefined;
      const namespace = claims['kubernetes.io']?.namespace;
      const sa = claims['kubernetes.io']?.serviceaccount;
      if (!namespace || !sa?.name) return undefined;
      const current = store.get('serviceaccounts', namespace, sa.name);
      if (!current || current.metadata.uid !== sa.uid) return undefined;
      return {
        name: `system:serviceaccount:${namespace}:${sa.name}`,
        uid: sa.uid,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
      };
    },
  };
}
