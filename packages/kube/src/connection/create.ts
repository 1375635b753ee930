// Connection (the reference runner's `config`) -> a working client-node KubeConfig.
import type { Cluster, Context, KubeConfig, User } from '@kubernetes/client-node';
import { execPluginTokenSource, type ExecPluginConfig } from './exec-plugin.js';
import { ErrorCodes, PodrunError } from '@podrun/core';
import {
  describeUser,
  providerTokenSource,
  tokenSourceAuthenticator,
  TOKEN_SOURCE_PROVIDER,
  type TokenSource,
} from './auth.js';
import { discover, type Discovered } from './discover.js';
import { PodrunKubeConfig } from './kubeconfig.js';
import type { ConnectionOptions, KubeconfigSelection, KubeConfigSource, KubeEnvironment } from './options.js';
import { readKeyStore, readTrustStore } from './pkcs12.js';
import {
  checkKeyMatchesCertificate,
  fieldError,
  loadCertificates,
  loadClientCertificate,
  loadPrivateKey,
} from './tls-material.js';

/** The reference's default API server URL, used when a Connection names none and nothing is found. */
export const DEFAULT_MASTER_URL = 'https://kubernetes.default.svc';

const CLUSTER_FIELDS = [
  'caCertData',
  'caCertFile',
  'trustStoreFile',
  'trustCerts',
  'disableHostnameVerification',
] as const;
const USER_FIELDS = [
  'clientCertData',
  'clientCertFile',
  'clientKeyData',
  'clientKeyFile',
  'keyStoreFile',
  'oauthToken',
  'oauthTokenProvider',
  'username',
  'password',
] as const;

const b64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');
const has = (c: ConnectionOptions, keys: readonly (keyof ConnectionOptions)[]) =>
  keys.some((k) => c[k] !== undefined && c[k] !== null && c[k] !== '');

function bool(field: keyof ConnectionOptions, value: boolean | string | undefined): boolean | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  const v = value.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw fieldError(field, `expected true or false, got "${value}"`);
}

function masterUrl(value: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw fieldError('masterUrl', `"${value}" is not a URL; use e.g. https://my-cluster.example.com:6443`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw fieldError('masterUrl', `must use https:// (or http://), got ${url.protocol}//`);
  }
  return url.toString().replace(/\/+$/, '');
}

function caBundle(c: ConnectionOptions): string | undefined {
  const parts = [
    loadCertificates('caCertData', c.caCertData, 'caCertFile', c.caCertFile),
    c.trustStoreFile ? readTrustStore(c.trustStoreFile, c.trustStorePassphrase) : undefined,
  ].filter((p): p is string => !!p);
  return parts.length ? parts.join('') : undefined;
}

function userFromConnection(c: ConnectionOptions): { user: User; tokenSource?: TokenSource; origin: string } {
  let certPem = loadClientCertificate(c.clientCertData, c.clientCertFile);
  let keyPem = loadPrivateKey({
    data: c.clientKeyData,
    file: c.clientKeyFile,
    passphrase: c.clientKeyPassphrase,
    algo: c.clientKeyAlgo,
  });
  if (c.keyStoreFile) {
    if (certPem || keyPem) {
      throw fieldError('keyStoreFile', 'set either keyStoreFile or clientCert*/clientKey*, not both');
    }
    const store = readKeyStore(c.keyStoreFile, c.keyStorePassphrase);
    certPem = store.certChainPem;
    keyPem = store.keyPem;
  }
  if (!!certPem !== !!keyPem) {
    throw fieldError(
      certPem ? 'clientKeyData' : 'clientCertData',
      'a client certificate needs its key (clientKeyData/clientKeyFile) and a key needs its certificate',
    );
  }
  if (certPem && keyPem) checkKeyMatchesCertificate(certPem, keyPem, c.keyStoreFile ? 'keyStoreFile' : 'clientKeyData');
  if (!!c.username !== !!c.password) {
    throw fieldError(c.username ? 'password' : 'username', 'basic auth needs both username and password');
  }
  if (
    c.oauthTokenProvider !== undefined &&
    c.oauthTokenProvider !== null &&
    typeof c.oauthTokenProvider !== 'function'
  ) {
    throw fieldError(
      'oauthTokenProvider',
      "must be a function returning the token here; the host turns the reference's {task, output} into one",
    );
  }
  const tokenSource = c.oauthTokenProvider ? providerTokenSource(c.oauthTokenProvider) : undefined;
  const user: User = {
    name: 'podrun',
    certData: certPem ? b64(certPem) : undefined,
    keyData: keyPem ? b64(keyPem) : undefined,
    // client-node lets a static token override any authenticator, so the provider wins by omission.
    token: tokenSource ? undefined : c.oauthToken || undefined,
    username: c.username || undefined,
    password: c.password || undefined,
    authProvider: tokenSource ? { name: TOKEN_SOURCE_PROVIDER, config: {} } : undefined,
  };
  return { user, tokenSource, origin: 'Connection' };
}

interface Built {
  cluster: Cluster;
  user: User;
  contexts: Context[];
  clusters: Cluster[];
  users: User[];
  currentContext: string;
  source: KubeConfigSource;
  origin: string;
  tokenSource?: TokenSource;
  verifyHostname: boolean;
}

function overlay(c: ConnectionOptions, base: Discovered | undefined): Built {
  const standalone = !!c.masterUrl;
  const ctx = standalone ? undefined : base?.contexts.find((x) => x.name === base.currentContext);
  const baseCluster = ctx ? base!.clusters.find((x) => x.name === ctx.cluster) : undefined;
  const baseUser = ctx ? base!.users.find((x) => x.name === ctx.user) : undefined;
  const server = c.masterUrl ? masterUrl(c.masterUrl) : (baseCluster?.server ?? DEFAULT_MASTER_URL);
  const ca = caBundle(c);
  const trustCerts = bool('trustCerts', c.trustCerts);
  const cluster: Cluster = {
    name: 'podrun',
    server,
    caData: ca ? b64(ca) : standalone ? undefined : baseCluster?.caData,
    caFile: ca || standalone ? undefined : baseCluster?.caFile,
    // client-node refuses http:// unless TLS verification is off; an http masterUrl is explicit intent.
    skipTLSVerify: trustCerts ?? (server.startsWith('http:') || (baseCluster?.skipTLSVerify ?? false)),
    tlsServerName: standalone ? undefined : baseCluster?.tlsServerName,
    proxyUrl: standalone ? undefined : baseCluster?.proxyUrl,
  };
  const fromConnection = has(c, USER_FIELDS) || standalone || !baseUser;
  const u = fromConnection
    ? userFromConnection(c)
    : { user: { ...baseUser!, name: 'podrun' }, tokenSource: base?.tokenSource, origin: base!.origin };
  const namespace = c.namespace || ctx?.namespace;
  return {
    cluster,
    user: u.user,
    clusters: [cluster],
    users: [u.user],
    contexts: [{ name: 'podrun', cluster: 'podrun', user: 'podrun', namespace }],
    currentContext: 'podrun',
    source: standalone || !base ? (standalone ? 'connection' : 'default-url') : base.source,
    origin: standalone
      ? 'Connection'
      : base
        ? `Connection over ${base.origin}`
        : `Connection with default ${DEFAULT_MASTER_URL}`,
    tokenSource: u.tokenSource,
    verifyHostname: !bool('disableHostnameVerification', c.disableHostnameVerification),
  };
}

function noCluster(env: KubeEnvironment): PodrunError {
  return new PodrunError(
    ErrorCodes.KUBE_CONNECTION,
    'no Kubernetes cluster is configured: no Connection masterUrl, no KUBECONFIG, ' +
      `no ${env.HOME ? `${env.HOME}/.kube/config` : '~/.kube/config (HOME is not set)'}, and not running in a pod; ` +
      'set taskRunner.config.masterUrl, point KUBECONFIG at a kubeconfig, or start the embedded cluster (podrun cluster start)',
    { component: 'kube' },
  );
}

/**
 * Turns the reference runner's Connection into a client-node `KubeConfig` (a
 * {@link PodrunKubeConfig}) that works with client-node's own API clients and with
 * `createKubePort`.
 *
 * - A Connection with `masterUrl` describes the whole connection; nothing else is read.
 * - Otherwise kubectl's conventions find the cluster (`selection.kubeconfigPath`, `KUBECONFIG`,
 *   `~/.kube/config`, the in-cluster service account) and the Connection's fields override it.
 *
 * Throws `ConfigError` for unusable fields and `PodrunError` `PODRUN_KUBE_CONNECTION` when no
 * cluster can be found. No message ever contains a token, password, key or passphrase.
 *
 * @param connection - the runner's `config`; omit for kubectl conventions only
 * @param env - environment to read kubectl conventions from (default: `process.env`, read now)
 * @param selection - `--kubeconfig` file and `--context`
 */
export function createKubeConfig(
  connection?: ConnectionOptions,
  env: KubeEnvironment = process.env,
  selection: KubeconfigSelection = {},
): PodrunKubeConfig {
  const c = connection ?? {};
  if (c.apiVersion && c.apiVersion !== 'v1') {
    throw fieldError('apiVersion', `"${c.apiVersion}" is not a core API version; the only one is v1`);
  }
  const useConnection = has(c, [...USER_FIELDS, ...CLUSTER_FIELDS, 'masterUrl', 'namespace']);
  const base = c.masterUrl ? undefined : discover(env, selection);
  if (!base && !useConnection) throw noCluster(env);

  let built: Built;
  if (useConnection) {
    built = overlay(c, base);
  } else {
    const found = base!;
    const ctx = found.contexts.find((x) => x.name === found.currentContext)!;
    built = {
      cluster: found.clusters.find((x) => x.name === ctx.cluster)!,
      user: found.users.find((x) => x.name === ctx.user) ?? { name: ctx.user },
      ...found,
      verifyHostname: true,
    };
  }
  const plugin = built.tokenSource ? undefined : (built.user.exec as ExecPluginConfig | undefined);
  if (plugin?.command) {
    // podrun runs the exec plugin itself (see exec-plugin.ts); client-node must not run it too.
    const name = built.user.name;
    built = {
      ...built,
      tokenSource: execPluginTokenSource(plugin, built.cluster),
      users: built.users.map((u) =>
        u.name === name ? { ...u, exec: undefined, authProvider: { name: TOKEN_SOURCE_PROVIDER, config: {} } } : u,
      ),
    };
  }
  const context = built.contexts.find((x) => x.name === built.currentContext);
  const kc = new PodrunKubeConfig({
    source: built.source,
    namespace: context?.namespace || 'default',
    verifyHostname: built.verifyHostname,
    tokenSource: built.tokenSource,
    credentials: describeUser(built.user, built.origin),
  });
  kc.loadFromOptions({
    clusters: built.clusters,
    users: built.users,
    contexts: built.contexts,
    currentContext: built.currentContext,
  });
  if (built.tokenSource) kc.addAuthenticator(tokenSourceAuthenticator(built.tokenSource));
  return kc;
}

/**
 * Adopts a plain client-node `KubeConfig` (e.g. one loaded from the emulator's
 * `cluster.kubeconfig`, or an application's own) as a {@link PodrunKubeConfig}: same clusters,
 * users and contexts, plus podrun's shared agents. A `PodrunKubeConfig` is returned as is.
 *
 * Checked structurally, not with `instanceof`: the caller's client-node may be another copy.
 */
export function toPodrunKubeConfig(kubeConfig: KubeConfig): PodrunKubeConfig {
  if (kubeConfig instanceof PodrunKubeConfig) return kubeConfig;
  const plain = kubeConfig as Partial<KubeConfig> | null | undefined;
  if (typeof plain?.getCurrentCluster !== 'function' || !Array.isArray(plain.clusters)) {
    throw fieldError('kubeConfig', 'expected a KubeConfig from createKubeConfig or @kubernetes/client-node');
  }
  if (!kubeConfig.getCurrentCluster()) {
    throw fieldError(
      'kubeConfig',
      `its current context "${kubeConfig.currentContext}" names no cluster; load a kubeconfig first`,
    );
  }
  const context = kubeConfig.getContextObject(kubeConfig.currentContext);
  const kc = new PodrunKubeConfig({
    source: 'kubeconfig',
    namespace: context?.namespace || 'default',
    verifyHostname: true,
    credentials: describeUser(kubeConfig.getCurrentUser(), 'KubeConfig object'),
  });
  kc.loadFromOptions({
    clusters: kubeConfig.clusters,
    users: kubeConfig.users,
    contexts: kubeConfig.contexts,
    currentContext: kubeConfig.currentContext,
  });
  return kc;
}
