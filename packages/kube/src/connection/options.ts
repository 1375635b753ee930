/**
 * The reference runner's `config` (Connection), as a structural type. The zod schema lives in
 * `@podrun/core`; any object with these field names fits. Every field is honoured by
 * {@link createKubeConfig}.
 */
export interface ConnectionOptions {
  /** Core API version; only `v1` exists. */
  apiVersion?: string;
  /** CA certificate(s) as PEM, base64 of PEM, or base64 of DER. */
  caCertData?: string;
  /** Path of a CA certificate (PEM or DER) file. */
  caCertFile?: string;
  /** Client certificate (chain) as PEM, base64 of PEM, or base64 of DER. */
  clientCertData?: string;
  /** Path of a client certificate file. */
  clientCertFile?: string;
  /** Client key algorithm (`RSA` by default, `EC`, `ED25519`...): checked against the key, and the DER type hint. */
  clientKeyAlgo?: string;
  /** Client private key as PEM, base64 of PEM, or base64 of DER; may be encrypted. */
  clientKeyData?: string;
  /** Path of a client private key file; may be encrypted. */
  clientKeyFile?: string;
  /** Passphrase of an encrypted client key. Never logged. */
  clientKeyPassphrase?: string;
  /** Verify the server's certificate chain but not that it names the server's host. */
  disableHostnameVerification?: boolean | string;
  /** PKCS#12 file holding the client key and certificate chain. */
  keyStoreFile?: string;
  /** Passphrase of {@link ConnectionOptions.keyStoreFile}. Never logged. */
  keyStorePassphrase?: string;
  /** API server URL. When set, the Connection alone describes the cluster (no kubeconfig is read). */
  masterUrl?: string;
  /** Default namespace of the port. */
  namespace?: string;
  /** Static bearer token. Never logged. */
  oauthToken?: string;
  /** Returns a bearer token; called again when the API server answers 401. */
  /**
   * Fetches a bearer token; with `expiresAt` (epoch ms) the token is replaced at that time (the
   * provider's cache, or the token's own expiry), besides 30 s before a JWT's `exp` and after a 401.
   */
  oauthTokenProvider?: () => TokenProviderResult | Promise<TokenProviderResult>;
  /** Basic-auth password. Never logged. */
  password?: string;
  /** Skip verification of the server's certificate entirely. */
  trustCerts?: boolean | string;
  /** PKCS#12 file whose certificates are trusted as CAs. */
  trustStoreFile?: string;
  /** Passphrase of {@link ConnectionOptions.trustStoreFile}. Never logged. */
  trustStorePassphrase?: string;
  /** Basic-auth user name. */
  username?: string;
}

/**
 * The environment kubectl conventions read. Pass `process.env` (plus `inClusterRoot` in tests);
 * nothing is read from the process implicitly.
 */
export interface KubeEnvironment {
  /** Path-delimited list of kubeconfig files, merged like kubectl does (first value wins). */
  KUBECONFIG?: string;
  /** Home directory holding `.kube/config`. */
  HOME?: string;
  /** In-cluster API server host, set by the kubelet. */
  KUBERNETES_SERVICE_HOST?: string;
  /** In-cluster API server port, set by the kubelet. */
  KUBERNETES_SERVICE_PORT?: string;
  /** Service-account directory (default `/var/run/secrets/kubernetes.io/serviceaccount`). */
  inClusterRoot?: string;
}

/** Explicit kubeconfig choices, as kubectl's `--kubeconfig` and `--context`. */
export interface KubeconfigSelection {
  /** Read only this kubeconfig file (KUBECONFIG and ~/.kube/config are then ignored). */
  kubeconfigPath?: string;
  /** Use this context instead of the file's current-context. */
  context?: string;
}

/** Where the effective configuration came from. */
export type KubeConfigSource = 'connection' | 'kubeconfig' | 'in-cluster' | 'default-url';

/** What an oauthTokenProvider function returns: the token, or the token and when to replace it. */
export type TokenProviderResult = string | { token: string; expiresAt?: number };
