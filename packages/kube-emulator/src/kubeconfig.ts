// kubeconfig documents for the emulated cluster.
import { stringify } from 'yaml';
import type { ClusterCa } from './apiserver/tls.js';

/** The credentials one kubeconfig user entry carries. */
export type KubeconfigCredentials =
  | { clientCertificatePem: string; clientKeyPem: string }
  | { token: string }
  | { username: string; password: string };

const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** Builds a kubeconfig with one cluster, one user and one current context. */
export function buildKubeconfig(input: {
  server: string;
  caCertPem: string | undefined;
  userName: string;
  credentials: KubeconfigCredentials;
  namespace?: string;
  contextName?: string;
}): string {
  const context = input.contextName ?? 'podrun-emulator';
  const cluster: Record<string, unknown> = { server: input.server };
  if (input.caCertPem) cluster['certificate-authority-data'] = b64(input.caCertPem);
  // client-node refuses plain http unless TLS verification is explicitly skipped.
  else cluster['insecure-skip-tls-verify'] = true;
  const creds = input.credentials;
  const user: Record<string, unknown> =
    'token' in creds
      ? { token: creds.token }
      : 'username' in creds
        ? { username: creds.username, password: creds.password }
        : { 'client-certificate-data': b64(creds.clientCertificatePem), 'client-key-data': b64(creds.clientKeyPem) };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: context, cluster }],
    contexts: [
      { name: context, context: { cluster: context, user: input.userName, namespace: input.namespace ?? 'default' } },
    ],
    'current-context': context,
    users: [{ name: input.userName, user }],
    preferences: {},
  });
}

/** Who a kubeconfig authenticates as: a client certificate for a user and groups, a token, or basic auth. */
export type KubeconfigIdentity =
  | { user: string; groups?: string[] }
  | { token: string }
  | { username: string; password: string };

/** Writes kubeconfigs for one server whose client certificates `ca` issues; `tls` says whether clients trust it. */
export function kubeconfigIssuer(input: { server: string; ca: ClusterCa; tls: boolean }): {
  kubeconfig(identity: KubeconfigIdentity, userName?: string): string;
} {
  return {
    kubeconfig(identity, userName) {
      let credentials: KubeconfigCredentials;
      let name: string;
      if ('user' in identity) {
        const pair = input.ca.issueClientCertificate(identity.user, identity.groups ?? []);
        credentials = { clientCertificatePem: pair.certPem, clientKeyPem: pair.keyPem };
        name = identity.user;
      } else if ('token' in identity) {
        credentials = identity;
        name = 'token-user';
      } else {
        credentials = identity;
        name = identity.username;
      }
      return buildKubeconfig({
        server: input.server,
        caCertPem: input.tls ? input.ca.certPem : undefined,
        userName: userName ?? name,
        credentials,
      });
    },
  };
}
