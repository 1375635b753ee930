// kubeconfig `exec` credential plugins (client.authentication.k8s.io ExecCredential), as cloud
// CLIs are configured (gke-gcloud-auth-plugin, aws eks get-token, kubelogin). podrun runs them
// itself rather than through client-node, which sets no KUBERNETES_EXEC_INFO and turns a failing
// plugin into an error without a message.
import { execFile } from 'node:child_process';
import type { Cluster } from '@kubernetes/client-node';
import { ErrorCodes, PodrunError } from '@podrun/core';
import type { TokenSource } from './auth.js';

/** The `exec` block of a kubeconfig user. */
export interface ExecPluginConfig {
  command: string;
  args?: string[];
  env?: { name: string; value: string }[] | null;
  apiVersion?: string;
  interactiveMode?: 'Never' | 'IfAvailable' | 'Always';
  provideClusterInfo?: boolean;
}

const TIMEOUT_MS = 60_000;

function authError(message: string): PodrunError {
  return new PodrunError(ErrorCodes.KUBE_AUTH, message, { component: 'kube' });
}

/**
 * Tokens from an exec plugin: run once, reused until the credential's `expirationTimestamp`, run
 * again after it or after a 401. The plugin gets `KUBERNETES_EXEC_INFO` as kubectl gives it (not
 * interactive: podrun never has a terminal to prompt on).
 */
export function execPluginTokenSource(
  exec: ExecPluginConfig,
  cluster: Cluster | undefined,
  now: () => number = Date.now,
): TokenSource {
  const apiVersion = exec.apiVersion ?? 'client.authentication.k8s.io/v1';
  let current: Promise<{ token: string; expiresAt: number }> | undefined;
  const run = async (): Promise<{ token: string; expiresAt: number }> => {
    if (exec.interactiveMode === 'Always') {
      throw authError(
        `the exec credential plugin "${exec.command}" needs an interactive terminal (interactiveMode: Always), which podrun never has; configure it to authenticate without prompting`,
      );
    }
    const info = {
      apiVersion,
      kind: 'ExecCredential',
      spec: {
        interactive: false,
        ...(exec.provideClusterInfo && cluster
          ? {
              cluster: {
                server: cluster.server,
                ...(cluster.caData ? { 'certificate-authority-data': cluster.caData } : {}),
                ...(cluster.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
              },
            }
          : {}),
      },
    };
    const env: NodeJS.ProcessEnv = { ...process.env, KUBERNETES_EXEC_INFO: JSON.stringify(info) };
    for (const { name, value } of exec.env ?? []) env[name] = value;
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        exec.command,
        exec.args ?? [],
        { env, timeout: TIMEOUT_MS, maxBuffer: 1024 * 1024 },
        (error, out, err) => {
          if (!error) return resolve(out);
          const code = (error as NodeJS.ErrnoException).code;
          const why =
            code === 'ENOENT'
              ? 'it is not installed or not on the PATH'
              : error.killed
                ? `it did not answer within ${TIMEOUT_MS / 1000} s`
                : `it exited with ${String((error as { code?: unknown }).code ?? 'an error')}${err.trim() ? `: ${err.trim().slice(-500)}` : ''}`;
          reject(authError(`the exec credential plugin "${exec.command}" failed: ${why}; run it yourself to see why`));
        },
      );
    });
    let status: { token?: unknown; expirationTimestamp?: unknown; clientCertificateData?: unknown } | undefined;
    try {
      status = (JSON.parse(stdout) as { status?: typeof status }).status;
    } catch {
      throw authError(`the exec credential plugin "${exec.command}" did not print an ExecCredential (JSON) on stdout`);
    }
    if (typeof status?.token !== 'string' || status.token === '') {
      throw authError(
        status?.clientCertificateData
          ? `the exec credential plugin "${exec.command}" returned a client certificate; podrun uses plugins that return a token`
          : `the exec credential plugin "${exec.command}" returned no status.token`,
      );
    }
    const expiry = typeof status.expirationTimestamp === 'string' ? Date.parse(status.expirationTimestamp) : NaN;
    return { token: status.token, expiresAt: Number.isNaN(expiry) ? Number.POSITIVE_INFINITY : expiry };
  };
  return {
    async token() {
      let credential = current ? await current.catch(() => undefined) : undefined;
      if (!credential || now() >= credential.expiresAt) {
        current = run();
        current.catch(() => (current = undefined));
        credential = await current;
      }
      return credential.token;
    },
    invalidate() {
      current = undefined;
      return true;
    },
  };
}
