// Authentication as kube-apiserver's union authenticator: x509 client certificates signed by the
// cluster CA, then bearer tokens (static, then ServiceAccount), then basic auth.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ServiceAccountTokens, UserInfo } from './tokens.js';

/** A static bearer token and the user it stands for. */
export interface StaticToken {
  token: string;
  user: string;
  uid?: string;
  groups?: string[];
}

/** A basic-auth user. */
export interface BasicAuthUser {
  username: string;
  password: string;
  uid?: string;
  groups?: string[];
}

/** What authentication found: a user, nobody (no credentials), or bad credentials. */
export type AuthResult = { user: UserInfo } | { user: undefined; reason: 'none' | 'invalid' };

/** Authenticates requests. */
export interface Authenticator {
  authenticate(req: IncomingMessage): AuthResult;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function withAuthenticated(groups: string[]): string[] {
  return groups.includes('system:authenticated') ? groups : [...groups, 'system:authenticated'];
}

/** Creates the authenticator. */
export function createAuthenticator(options: {
  tokens: ServiceAccountTokens;
  staticTokens: StaticToken[];
  basicAuth: BasicAuthUser[];
}): Authenticator {
  const fromCertificate = (req: IncomingMessage): UserInfo | undefined => {
    const socket = req.socket as TLSSocket;
    if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
    const cert = socket.getPeerCertificate();
    const cn = cert?.subject?.CN;
    if (!cn) return undefined;
    const o = cert.subject.O as string | string[] | undefined;
    const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
    return { name: Array.isArray(cn) ? cn[0]! : cn, groups: withAuthenticated(groups) };
  };

  return {
    authenticate(req) {
      const certUser = fromCertificate(req);
      if (certUser) return { user: certUser };
      const header = req.headers.authorization;
      if (!header) return { user: undefined, reason: 'none' };
      const [scheme, value = ''] = header.split(/\s+/, 2) as [string, string?];
      if (scheme.toLowerCase() === 'bearer' && value) {
        const known = options.staticTokens.find((t) => same(t.token, value));
        if (known) {
          return {
            user: {
              name: known.user,
              ...(known.uid ? { uid: known.uid } : {}),
              groups: withAuthenticated(known.groups ?? []),
            },
          };
        }
        const sa = options.tokens.authenticate(value);
        if (sa) return { user: sa };
        return { user: undefined, reason: 'invalid' };
      }
      if (scheme.toLowerCase() === 'basic' && value) {
        const decoded = Buffer.from(value, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        const username = colon < 0 ? decoded : decoded.slice(0, colon);
        const password = colon < 0 ? '' : decoded.slice(colon + 1);
        const known = options.basicAuth.find((u) => u.username === username && same(u.password, password));
        if (known) {
          return {
            user: {
              name: known.username,
              ...(known.uid ? { uid: known.uid } : {}),
              groups: withAuthenticated(known.groups ?? []),
            },
          };
        }
      }
      return { user: undefined, reason: 'invalid' };
    },
  };
}
