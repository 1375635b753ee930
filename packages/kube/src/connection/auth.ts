// Bearer tokens that can change while the process runs: the Connection's oauthTokenProvider and
// the in-cluster service-account token (rotated by the kubelet). Both plug into client-node as a
// custom authenticator so its own API clients use them too.
import { readFileSync, statSync } from 'node:fs';
import type { KubeConfig, User } from '@kubernetes/client-node';

// client-node 1.4.0 does not export its Authenticator interface.
type Authenticator = Parameters<KubeConfig['addAuthenticator']>[0];
import { ErrorCodes, PodrunError } from '@podrun/core';
import type { TokenProviderResult } from './options.js';

/** A bearer token that may be renewed. */
export interface TokenSource {
  /** The current token (fetched or read when needed). */
  token(): Promise<string>;
  /** Forgets the current token after a 401; returns false when a retry cannot yield another one. */
  invalidate(): boolean;
}

/** Name of the client-node auth provider that routes to a {@link TokenSource}. */
export const TOKEN_SOURCE_PROVIDER = 'podrun-token-source';

/** Seconds-since-epoch `exp` of a JWT, if the token is one. */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Tokens from the Connection's oauthTokenProvider, cached until the server answers 401, until the
 * `expiresAt` the provider gave (its `cache`), or for a JWT until 30 s before its `exp` — so an
 * expiring token is replaced before it fails.
 */
export function providerTokenSource(
  provider: () => TokenProviderResult | Promise<TokenProviderResult>,
  now: () => number = Date.now,
): TokenSource {
  let current: Promise<string> | undefined;
  let expiresAtMs = Number.POSITIVE_INFINITY;
  const fetchToken = async () => {
    let token: string;
    let until: number | undefined;
    try {
      const result = await provider();
      token = typeof result === 'string' ? result : (result?.token as string);
      until = typeof result === 'object' && result !== null ? result.expiresAt : undefined;
    } catch (error) {
      throw new PodrunError(
        ErrorCodes.KUBE_AUTH,
        `oauthTokenProvider failed (${error instanceof Error ? error.name : 'error'}); ` +
          'check the token provider task and its output',
        { component: 'kube', cause: error },
      );
    }
    if (typeof token !== 'string' || token.trim() === '') {
      throw new PodrunError(
        ErrorCodes.KUBE_AUTH,
        'oauthTokenProvider returned no token; check that its output names the token value',
        { component: 'kube' },
      );
    }
    const exp = jwtExpiry(token.trim());
    expiresAtMs = Math.min(exp === undefined ? Number.POSITIVE_INFINITY : exp * 1000 - 30_000, until ?? Infinity);
    return token.trim();
  };
  return {
    token() {
      if (current && now() >= expiresAtMs) current = undefined;
      current ??= fetchToken().catch((error: unknown) => {
        current = undefined;
        throw error;
      });
      return current;
    },
    invalidate() {
      current = undefined;
      return true;
    },
  };
}

/**
 * A token file (in-cluster service account). Re-read whenever it changes on disk — the kubelet
 * rotates projected tokens — and after a 401.
 */
export function fileTokenSource(path: string): TokenSource {
  let cached: { token: string; mtimeMs: number; size: number } | undefined;
  return {
    async token() {
      let stat;
      try {
        stat = statSync(path);
      } catch (error) {
        throw new PodrunError(
          ErrorCodes.KUBE_AUTH,
          `cannot read the service-account token ${path} (${(error as NodeJS.ErrnoException).code}); ` +
            'check that the pod mounts its service-account token',
          { component: 'kube' },
        );
      }
      if (!cached || cached.mtimeMs !== stat.mtimeMs || cached.size !== stat.size) {
        cached = { token: readFileSync(path, 'utf8').trim(), mtimeMs: stat.mtimeMs, size: stat.size };
      }
      return cached.token;
    },
    invalidate() {
      cached = undefined;
      return true;
    },
  };
}

/** A client-node authenticator that sets `Authorization: Bearer` from a token source. */
export function tokenSourceAuthenticator(source: TokenSource): Authenticator {
  return {
    isAuthProvider(user: User): boolean {
      return (user.authProvider as { name?: string } | undefined)?.name === TOKEN_SOURCE_PROVIDER;
    },
    async applyAuthentication(_user, opts): Promise<void> {
      // client-node always hands a headers object (applyAuthorizationHeader creates it).
      const headers = (opts.headers ??= {}) as Record<string, string>;
      headers.Authorization = `Bearer ${await source.token()}`;
    },
  };
}

/** A secret-free description of how a kubeconfig user authenticates, for error messages. */
export function describeUser(user: User | null, origin: string): string {
  if (!user) return `no credentials (${origin})`;
  const kinds: string[] = [];
  const provider = (user.authProvider as { name?: string } | undefined)?.name;
  if (provider === TOKEN_SOURCE_PROVIDER) kinds.push('a renewable bearer token');
  else if (provider) kinds.push(`the "${provider}" auth provider`);
  if (user.exec) kinds.push(`the exec credential plugin "${(user.exec as { command?: string }).command ?? '?'}"`);
  if (user.token) kinds.push('a bearer token');
  if (user.certData || user.certFile) kinds.push('a client certificate');
  if (user.username) kinds.push(`basic auth as "${user.username}"`);
  return `${kinds.length ? kinds.join(' and ') : 'no credentials'} (${origin})`;
}
