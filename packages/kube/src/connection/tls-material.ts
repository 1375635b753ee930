// Turns certificate and key material given as PEM, base64 of PEM or DER, or files into the PEM
// strings client-node hands to node:tls. Encrypted keys are decrypted here so the passphrase never
// travels further than this module.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '@podrun/core';

const COMPONENT = 'kube';
const PEM_MARKER = '-----BEGIN';

/** Raises a configuration error for one Connection field; `message` must never contain secrets. */
export function fieldError(field: string, message: string, cause?: unknown): ConfigError {
  return new ConfigError([{ path: `config.${field}`, message }], {
    component: COMPONENT,
    title: 'cannot use the cluster connection',
    cause: cause instanceof Error ? new Error(`${cause.name}: ${safeCode(cause)}`) : undefined,
  });
}

// Node's crypto errors do not carry key bytes, but a decoder error could echo input; keep the code only.
function safeCode(error: Error): string {
  return (error as NodeJS.ErrnoException).code ?? error.message.split('\n')[0]!.slice(0, 120);
}

/** Reads a file named by a Connection field, with a clear error. */
export function readField(field: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw fieldError(field, `cannot read ${file} (${code}); check that the file exists and is readable`);
  }
}

/** Material decoded from `data` (PEM, base64 of PEM, base64 of DER) or a file. */
function decodeData(field: string, data: string): Buffer {
  if (data.includes(PEM_MARKER)) return Buffer.from(data, 'utf8');
  const compact = data.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/=_-]+$/.test(compact)) {
    throw fieldError(field, 'is neither PEM nor base64; paste the PEM text or its base64 encoding');
  }
  return Buffer.from(compact, 'base64');
}

function material(field: string, data: string | undefined, fileField: string, file: string | undefined) {
  if (data && file) {
    throw fieldError(field, `set either ${field} or ${fileField}, not both`);
  }
  if (data) return { field, bytes: decodeData(field, data) };
  if (file) return { field: fileField, bytes: readField(fileField, file) };
  return undefined;
}

const isPem = (bytes: Buffer) => bytes.includes(PEM_MARKER);

/** Normalises one or more certificates to a PEM bundle. */
export function certificatesToPem(field: string, bytes: Buffer): string {
  if (isPem(bytes)) {
    const text = bytes.toString('utf8');
    const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
    if (!blocks?.length) throw fieldError(field, 'contains no PEM CERTIFICATE block');
    for (const block of blocks) {
      try {
        new X509Certificate(block);
      } catch (error) {
        throw fieldError(field, 'contains a PEM certificate that cannot be parsed', error);
      }
    }
    return blocks.join('\n') + '\n';
  }
  try {
    return new X509Certificate(bytes).toString();
  } catch (error) {
    throw fieldError(field, 'is not a certificate (expected PEM or DER)', error);
  }
}

/** CA bundle from caCertData / caCertFile, or undefined. */
export function loadCertificates(
  field: string,
  data: string | undefined,
  fileField: string,
  file: string | undefined,
): string | undefined {
  const m = material(field, data, fileField, file);
  return m ? certificatesToPem(m.field, m.bytes) : undefined;
}

// clientKeyAlgo values (fabric8 passes them to Java's KeyFactory) -> node's asymmetricKeyType.
const ALGORITHMS: Record<string, string[]> = {
  RSA: ['rsa', 'rsa-pss'],
  EC: ['ec'],
  ECDSA: ['ec'],
  ED25519: ['ed25519'],
  ED448: ['ed448'],
  DSA: ['dsa'],
};

function derType(algo: string | undefined): 'pkcs1' | 'sec1' | 'pkcs8' {
  const a = (algo ?? 'RSA').toUpperCase();
  return a === 'RSA' ? 'pkcs1' : a === 'EC' || a === 'ECDSA' ? 'sec1' : 'pkcs8';
}

function parseKey(field: string, bytes: Buffer, passphrase: string | undefined, algo: string | undefined): KeyObject {
  const attempts: Array<Parameters<typeof createPrivateKey>[0]> = isPem(bytes)
    ? [{ key: bytes, format: 'pem', passphrase }]
    : [
        { key: bytes, format: 'der', type: derType(algo), passphrase },
        { key: bytes, format: 'der', type: 'pkcs8', passphrase },
      ];
  let last: unknown;
  for (const attempt of attempts) {
    try {
      return createPrivateKey(attempt);
    } catch (error) {
      last = error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ERR_MISSING_PASSPHRASE') {
        throw fieldError(field, 'the client key is encrypted; set clientKeyPassphrase', error);
      }
      if (passphrase && /bad decrypt|BAD_DECRYPT/i.test(`${code} ${(error as Error).message}`)) {
        throw fieldError('clientKeyPassphrase', 'does not decrypt the client key; check the passphrase', error);
      }
    }
  }
  throw fieldError(field, 'is not a private key (expected PEM, encrypted PEM or DER)', last);
}

/**
 * Loads the client key, decrypts it with the passphrase when encrypted, checks it against
 * clientKeyAlgo, and returns it as an unencrypted PKCS#8 PEM (kept in memory only).
 */
export function loadPrivateKey(opts: {
  data?: string;
  file?: string;
  passphrase?: string;
  algo?: string;
}): string | undefined {
  const m = material('clientKeyData', opts.data, 'clientKeyFile', opts.file);
  if (!m) return undefined;
  const key = parseKey(m.field, m.bytes, opts.passphrase, opts.algo);
  checkAlgorithm(key, opts.algo);
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Fails when the key's algorithm is not the one clientKeyAlgo names. */
export function checkAlgorithm(key: KeyObject, algo: string | undefined): void {
  if (!algo) return;
  const accepted = ALGORITHMS[algo.toUpperCase()];
  if (!accepted) {
    throw fieldError('clientKeyAlgo', `unknown algorithm "${algo}"; use one of ${Object.keys(ALGORITHMS).join(', ')}`);
  }
  if (!accepted.includes(key.asymmetricKeyType ?? '')) {
    throw fieldError(
      'clientKeyAlgo',
      `is ${algo} but the client key is ${String(key.asymmetricKeyType).toUpperCase()}; fix clientKeyAlgo or the key`,
    );
  }
}

/** Client certificate chain from clientCertData / clientCertFile. */
export function loadClientCertificate(data: string | undefined, file: string | undefined): string | undefined {
  return loadCertificates('clientCertData', data, 'clientCertFile', file);
}

/** Checks that a client key belongs to the first certificate of a chain. */
export function checkKeyMatchesCertificate(certPem: string, keyPem: string, field: string): void {
  const cert = new X509Certificate(certPem);
  if (!cert.checkPrivateKey(createPrivateKey(keyPem))) {
    throw fieldError(field, 'the client key does not belong to the client certificate; use the matching pair');
  }
}
