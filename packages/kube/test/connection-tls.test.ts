// Every TLS-related Connection field against a real HTTPS server with generated PKI.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api } from '@kubernetes/client-node';
import { ConfigError, ErrorCodes, KubeApiError, isPodrunError } from '@podrun/core';
import { createKubeConfig } from '@podrun/kube';
import { createCa, encryptKey, issue, pkcs12, type Issued } from './support/pki.js';
import { expectNoSecrets, probe, rejection } from './support/probe.js';
import { startTlsApiServer, type TlsApiServer } from './support/tls-api-server.js';

const NO_ENV = {};
let dir: string;
let ca: Issued;
let otherCa: Issued;
let client: Issued;
let strangerClient: Issued;
let server: TlsApiServer;
let misnamed: TlsApiServer;
let strict: TlsApiServer;
const file = (name: string, content: string | Buffer) => {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'podrun-kube-tls-'));
  ca = createCa('test-ca');
  otherCa = createCa('other-ca');
  client = issue(ca, { cn: 'alice', client: true });
  strangerClient = issue(otherCa, { cn: 'mallory', client: true });
  server = await startTlsApiServer({
    server: issue(ca, { cn: 'api', ips: ['127.0.0.1'], dns: ['localhost'] }),
    clientCa: ca,
  });
  misnamed = await startTlsApiServer({ server: issue(ca, { cn: 'api', dns: ['other.example'] }), clientCa: ca });
  strict = await startTlsApiServer({
    server: issue(ca, { cn: 'api', ips: ['127.0.0.1'] }),
    clientCa: ca,
    strictHandshake: true,
  });
});

afterAll(async () => {
  await Promise.all([server?.stop(), misnamed?.stop(), strict?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('CA certificate', () => {
  it('accepts caCertData as PEM and as base64 of PEM, and caCertFile', async () => {
    const clientAuth = { clientCertData: client.certPem, clientKeyData: client.keyPem };
    expect(
      await probe(createKubeConfig({ masterUrl: server.url, caCertData: ca.certPem, ...clientAuth }, NO_ENV)),
    ).toBe('v1.32.0-test');
    expect(
      await probe(createKubeConfig({ masterUrl: server.url, caCertData: b64(ca.certPem), ...clientAuth }, NO_ENV)),
    ).toBe('v1.32.0-test');
    const caFile = file('ca.crt', ca.certPem);
    expect(await probe(createKubeConfig({ masterUrl: server.url, caCertFile: caFile, ...clientAuth }, NO_ENV))).toBe(
      'v1.32.0-test',
    );
  });

  it('fails with PODRUN_KUBE_CONNECTION and no secret when the CA is wrong', async () => {
    const kc = createKubeConfig(
      {
        masterUrl: server.url,
        caCertData: otherCa.certPem,
        clientCertData: client.certPem,
        clientKeyData: client.keyPem,
      },
      NO_ENV,
    );
    const error = await rejection(probe(kc));
    expect(error).toBeInstanceOf(KubeApiError);
    expect(isPodrunError(error, ErrorCodes.KUBE_CONNECTION)).toBe(true);
    expect((error as KubeApiError).details.network).toBe('tls');
    expectNoSecrets(error, [client.keyPem.split('\n')[1]!]);
  });

  it('trustCerts skips verification entirely', async () => {
    const auth = { clientCertData: client.certPem, clientKeyData: client.keyPem };
    await expect(probe(createKubeConfig({ masterUrl: server.url, ...auth }, NO_ENV))).rejects.toMatchObject({
      code: ErrorCodes.KUBE_CONNECTION,
    });
    expect(await probe(createKubeConfig({ masterUrl: server.url, trustCerts: true, ...auth }, NO_ENV))).toBe(
      'v1.32.0-test',
    );
    expect(await probe(createKubeConfig({ masterUrl: server.url, trustCerts: 'true', ...auth }, NO_ENV))).toBe(
      'v1.32.0-test',
    );
  });
});

describe('disableHostnameVerification', () => {
  const auth = () => ({ caCertData: ca.certPem, clientCertData: client.certPem, clientKeyData: client.keyPem });

  it('fails for a certificate issued to another name without it, works with it', async () => {
    const error = await rejection(probe(createKubeConfig({ masterUrl: misnamed.url, ...auth() }, NO_ENV)));
    expect(isPodrunError(error, ErrorCodes.KUBE_CONNECTION)).toBe(true);
    expect((error as KubeApiError).details.errno).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    const kc = createKubeConfig({ masterUrl: misnamed.url, disableHostnameVerification: true, ...auth() }, NO_ENV);
    expect(await probe(kc)).toBe('v1.32.0-test');
  });

  it('still verifies the chain', async () => {
    const kc = createKubeConfig(
      {
        masterUrl: misnamed.url,
        disableHostnameVerification: true,
        caCertData: otherCa.certPem,
        clientCertData: client.certPem,
        clientKeyData: client.keyPem,
      },
      NO_ENV,
    );
    const error = await rejection(probe(kc));
    expect((error as KubeApiError).details.network).toBe('tls');
    expect((error as KubeApiError).details.errno).not.toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('applies to client-node API clients made from the kubeconfig', async () => {
    const kc = createKubeConfig({ masterUrl: misnamed.url, disableHostnameVerification: true, ...auth() }, NO_ENV);
    const list = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'default' });
    expect(list.metadata?.resourceVersion).toBe('7');
    kc.close();
  });
});

describe('client certificate and key', () => {
  it('accepts data (PEM, base64) and files', async () => {
    const base = { masterUrl: server.url, caCertData: ca.certPem };
    await probe(
      createKubeConfig({ ...base, clientCertData: b64(client.certPem), clientKeyData: b64(client.keyPem) }, NO_ENV),
    );
    await probe(
      createKubeConfig(
        { ...base, clientCertFile: file('c.crt', client.certPem), clientKeyFile: file('c.key', client.keyPem) },
        NO_ENV,
      ),
    );
    expect(server.seen.slice(-2)).toEqual(['cert:alice', 'cert:alice']);
  });

  it('decrypts an encrypted key (PKCS#8 and legacy PEM) with clientKeyPassphrase', async () => {
    const passphrase = 'key-pass-9c1e';
    const base = {
      masterUrl: server.url,
      caCertData: ca.certPem,
      clientCertData: client.certPem,
      clientKeyPassphrase: passphrase,
    };
    await probe(createKubeConfig({ ...base, clientKeyData: encryptKey(client.keyPem, passphrase) }, NO_ENV));
    await probe(
      createKubeConfig(
        { ...base, clientKeyFile: file('enc.key', encryptKey(client.keyPem, passphrase, true)) },
        NO_ENV,
      ),
    );
    expect(server.seen.slice(-2)).toEqual(['cert:alice', 'cert:alice']);
  });

  it('rejects a wrong or missing passphrase with a ConfigError that names the field, not the secret', () => {
    const encrypted = encryptKey(client.keyPem, 'right-pass-1');
    const attempt = (clientKeyPassphrase?: string) => {
      try {
        createKubeConfig(
          { masterUrl: server.url, clientCertData: client.certPem, clientKeyData: encrypted, clientKeyPassphrase },
          NO_ENV,
        );
      } catch (error) {
        return error as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };
    const wrong = attempt('wrong-pass-2');
    expect(wrong).toBeInstanceOf(ConfigError);
    expect(wrong.issues[0]!.path).toBe('config.clientKeyPassphrase');
    expectNoSecrets(wrong, ['wrong-pass-2', 'right-pass-1']);
    expect(attempt(undefined).issues[0]!.path).toBe('config.clientKeyData');
  });

  it('checks clientKeyAlgo against the key', () => {
    expect(() =>
      createKubeConfig(
        { masterUrl: server.url, clientCertData: client.certPem, clientKeyData: client.keyPem, clientKeyAlgo: 'EC' },
        NO_ENV,
      ),
    ).toThrow(ConfigError);
    expect(() =>
      createKubeConfig(
        { masterUrl: server.url, clientCertData: client.certPem, clientKeyData: client.keyPem, clientKeyAlgo: 'RSA' },
        NO_ENV,
      ),
    ).not.toThrow();
  });

  it('a client certificate from an untrusted CA fails with PODRUN_KUBE_AUTH and no secret', async () => {
    const kc = createKubeConfig(
      {
        masterUrl: server.url,
        caCertData: ca.certPem,
        clientCertData: strangerClient.certPem,
        clientKeyData: strangerClient.keyPem,
      },
      NO_ENV,
    );
    const error = await rejection(probe(kc));
    expect(isPodrunError(error, ErrorCodes.KUBE_AUTH)).toBe(true);
    expect((error as KubeApiError).status).toBe(401);
    expectNoSecrets(error, [strangerClient.keyPem.split('\n')[1]!]);
  });

  it('a server that rejects the certificate in the handshake fails with a clear error and no secret', async () => {
    const kc = createKubeConfig(
      {
        masterUrl: strict.url,
        caCertData: ca.certPem,
        clientCertData: strangerClient.certPem,
        clientKeyData: strangerClient.keyPem,
      },
      NO_ENV,
    );
    const error = await rejection(probe(kc));
    expect(error).toBeInstanceOf(KubeApiError);
    expect([ErrorCodes.KUBE_AUTH, ErrorCodes.KUBE_CONNECTION]).toContain((error as KubeApiError).code);
    expectNoSecrets(error, [strangerClient.keyPem.split('\n')[1]!]);
    const good = createKubeConfig(
      { masterUrl: strict.url, caCertData: ca.certPem, clientCertData: client.certPem, clientKeyData: client.keyPem },
      NO_ENV,
    );
    expect(await probe(good)).toBe('v1.32.0-test');
  });
});

describe('PKCS#12 stores', () => {
  it('uses keyStoreFile and trustStoreFile with their passphrases', async () => {
    const keyStoreFile = file('client.p12', pkcs12(client.key, [client.cert, ca.cert], 'ks-pass-77'));
    const trustStoreFile = file('trust.p12', pkcs12(null, [ca.cert], 'ts-pass-88'));
    const kc = createKubeConfig(
      {
        masterUrl: server.url,
        keyStoreFile,
        keyStorePassphrase: 'ks-pass-77',
        trustStoreFile,
        trustStorePassphrase: 'ts-pass-88',
      },
      NO_ENV,
    );
    expect(await probe(kc)).toBe('v1.32.0-test');
    expect(server.seen.at(-1)).toBe('cert:alice');
  });

  it('rejects wrong store passphrases without printing them', () => {
    const keyStoreFile = file('client2.p12', pkcs12(client.key, [client.cert], 'ks-right'));
    let error: unknown;
    try {
      createKubeConfig({ masterUrl: server.url, keyStoreFile, keyStorePassphrase: 'ks-wrong' }, NO_ENV);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]!.path).toBe('config.keyStorePassphrase');
    expectNoSecrets(error, ['ks-wrong', 'ks-right']);
  });

  it('a trust store without the server CA fails verification', async () => {
    const trustStoreFile = file('trust-other.p12', pkcs12(null, [otherCa.cert], 'p'));
    const kc = createKubeConfig(
      {
        masterUrl: server.url,
        trustStoreFile,
        trustStorePassphrase: 'p',
        clientCertData: client.certPem,
        clientKeyData: client.keyPem,
      },
      NO_ENV,
    );
    await expect(probe(kc)).rejects.toMatchObject({ code: ErrorCodes.KUBE_CONNECTION });
  });
});

// Java KeyStores, made from the same material with the JDK's own keytool (as a Java user has them).
const keytool = spawnSync('keytool', ['-help']).error === undefined;
describe.skipIf(!keytool)('JKS stores', () => {
  const jksOf = (p12: string, pass: string, name: string) => {
    const out = path.join(path.dirname(p12), name);
    execFileSync(
      'keytool',
      [
        '-importkeystore',
        '-noprompt',
        '-srckeystore',
        p12,
        '-srcstoretype',
        'PKCS12',
        '-srcstorepass',
        pass,
        '-destkeystore',
        out,
        '-deststoretype',
        'JKS',
        '-deststorepass',
        pass,
      ],
      { stdio: 'pipe' },
    );
    return out;
  };
  const trustJksOf = (certPem: string, pass: string, name: string) => {
    const pem = file(`${name}.pem`, certPem);
    const out = path.join(path.dirname(pem), name);
    execFileSync(
      'keytool',
      [
        '-importcert',
        '-noprompt',
        '-alias',
        'ca',
        '-file',
        pem,
        '-keystore',
        out,
        '-storetype',
        'JKS',
        '-storepass',
        pass,
      ],
      { stdio: 'pipe' },
    );
    return out;
  };

  it('uses JKS keyStoreFile and trustStoreFile with their passphrases', async () => {
    const keyStoreFile = jksOf(
      file('jks-client.p12', pkcs12(client.key, [client.cert, ca.cert], 'ks-jks-1')),
      'ks-jks-1',
      'client.jks',
    );
    const trustStoreFile = trustJksOf(ca.certPem, 'ts-jks-2', 'trust.jks');
    const kc = createKubeConfig(
      {
        masterUrl: server.url,
        keyStoreFile,
        keyStorePassphrase: 'ks-jks-1',
        trustStoreFile,
        trustStorePassphrase: 'ts-jks-2',
      },
      NO_ENV,
    );
    expect(await probe(kc)).toBe('v1.32.0-test');
    expect(server.seen.at(-1)).toBe('cert:alice');
  });

  it('rejects a wrong JKS passphrase as it does for PKCS#12, without printing it', () => {
    const keyStoreFile = jksOf(
      file('jks-client2.p12', pkcs12(client.key, [client.cert], 'jks-right')),
      'jks-right',
      'client2.jks',
    );
    let error: unknown;
    try {
      createKubeConfig({ masterUrl: server.url, keyStoreFile, keyStorePassphrase: 'jks-wrong' }, NO_ENV);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]!.path).toBe('config.keyStorePassphrase');
    expectNoSecrets(error, ['jks-wrong', 'jks-right']);
  });
});
