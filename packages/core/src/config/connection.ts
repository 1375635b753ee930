import { z } from 'zod';
import { booleanText, booleanValue, durationMs, durationText, httpUrl } from './fields.js';
import { dynamic } from './template.js';
import { DEFAULT_MASTER_URL } from './types.js';

/*
 * `config` itself is not dynamic (it must be written as an object), but its fields are, as in
 * the reference: `oauthToken: "{{ secret('K8S_TOKEN') }}"` is the normal way to pass a token.
 * String fields therefore take any string in a flow; typed fields (booleans, the token cache
 * duration, the URL) take a template or the typed value.
 */

const text = () => z.string();

function providerShape<D extends z.ZodType>(cache: D) {
  return z.strictObject({
    task: z
      .looseObject({ type: z.string().min(1) })
      .meta({ description: 'The task that produces the token (at least its `type`).' }),
    output: z
      .string()
      .min(1)
      .meta({ description: 'The output of that task holding the token, e.g. `{{ outputs.token.value }}`.' }),
    cache: cache.meta({ description: 'How long a fetched token is reused (default PT5M).' }),
  });
}

type ConnectionDraft = {
  caCertData?: unknown;
  caCertFile?: unknown;
  clientCertData?: unknown;
  clientCertFile?: unknown;
  clientKeyData?: unknown;
  clientKeyFile?: unknown;
  username?: unknown;
  password?: unknown;
  oauthToken?: unknown;
  oauthTokenProvider?: unknown;
};

/** Combinations that cannot work; reported on the field to change, never with its value. */
function checkConnection(value: ConnectionDraft, ctx: z.RefinementCtx): void {
  const both = (a: keyof ConnectionDraft, b: keyof ConnectionDraft, what: string) => {
    if (value[a] !== undefined && value[b] !== undefined) {
      ctx.addIssue({ code: 'custom', path: [b], message: `set either ${a} or ${b} for the ${what}, not both` });
    }
  };
  both('caCertData', 'caCertFile', 'CA certificate');
  both('clientCertData', 'clientCertFile', 'client certificate');
  both('clientKeyData', 'clientKeyFile', 'client key');
  both('oauthToken', 'oauthTokenProvider', 'bearer token');
  const hasCert = value.clientCertData !== undefined || value.clientCertFile !== undefined;
  const hasKey = value.clientKeyData !== undefined || value.clientKeyFile !== undefined;
  if (hasCert !== hasKey) {
    ctx.addIssue({
      code: 'custom',
      path: [hasCert ? 'clientKeyData' : 'clientCertData'],
      message: hasCert
        ? 'a client certificate needs its key: set clientKeyData or clientKeyFile'
        : 'a client key needs its certificate: set clientCertData or clientCertFile',
    });
  }
  if ((value.username !== undefined) !== (value.password !== undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [value.username === undefined ? 'username' : 'password'],
      message: 'basic authentication needs both username and password',
    });
  }
}

function connectionShape<B extends z.ZodType, U extends z.ZodType, P extends z.ZodType>(bool: B, url: U, provider: P) {
  return z.strictObject({
    apiVersion: z.string().min(1).default('v1').meta({ description: 'The API version.' }),
    caCertData: text().optional().meta({ description: 'CA certificate as data (PEM, or base64 of it).' }),
    caCertFile: text().optional().meta({ description: 'CA certificate as a file path.' }),
    clientCertData: text().optional().meta({ description: 'Client certificate as data (PEM, or base64 of it).' }),
    clientCertFile: text().optional().meta({ description: 'Client certificate as a file path.' }),
    clientKeyAlgo: z.string().min(1).default('RSA').meta({ description: 'Client key algorithm.' }),
    clientKeyData: text().optional().meta({ description: 'Client key as data (secret).' }),
    clientKeyFile: text().optional().meta({ description: 'Client key as a file path.' }),
    clientKeyPassphrase: text().optional().meta({ description: 'Client key passphrase (secret).' }),
    disableHostnameVerification: bool
      .optional()
      .meta({ description: 'Verify the certificate chain but not the host name.' }),
    keyStoreFile: text().optional().meta({ description: 'PKCS#12 key store file.' }),
    keyStorePassphrase: text().optional().meta({ description: 'Key store passphrase (secret).' }),
    masterUrl: url.meta({ description: 'The URL of the Kubernetes API.' }),
    namespace: text().optional().meta({ description: 'The namespace used.' }),
    oauthToken: text().optional().meta({ description: 'OAuth bearer token (secret).' }),
    oauthTokenProvider: provider
      .optional()
      .meta({ description: 'A task that produces the OAuth token, refreshed on expiry and on 401.' }),
    password: text().optional().meta({ description: 'Basic-auth password (secret).' }),
    trustCerts: bool.optional().meta({ description: 'Trust all certificates (skips TLS verification; testing only).' }),
    trustStoreFile: text().optional().meta({ description: 'PKCS#12 trust store file.' }),
    trustStorePassphrase: text().optional().meta({ description: 'Trust store passphrase (secret).' }),
    username: text().optional().meta({ description: 'Basic-auth user name.' }),
  });
}

/** The Connection after rendering: booleans and durations typed, defaults filled in. */
export const connectionSchema = connectionShape(
  booleanValue(),
  httpUrl().default(DEFAULT_MASTER_URL),
  providerShape(durationMs().prefault('PT5M')),
)
  .superRefine(checkConnection)
  .meta({ description: 'The configuration of the target Kubernetes cluster.' });

/** The Connection as written in a flow: its fields may be templates. */
export const dynamicConnectionSchema = connectionShape(
  dynamic(booleanText()),
  dynamic(httpUrl()).default(DEFAULT_MASTER_URL),
  providerShape(dynamic(durationText()).default('PT5M')),
)
  .superRefine(checkConnection)
  .meta({ description: 'The configuration of the target Kubernetes cluster. Not dynamic itself; its fields are.' });
