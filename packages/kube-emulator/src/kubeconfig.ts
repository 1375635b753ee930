// kubeconfig documents for the emulated cluster.
import { stringify } from 'yaml';

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
