// Test PKI: a CA, server and client certificates, encrypted keys and PKCS#12 stores, generated
// at test time (keys by node:crypto for speed, certificates and PKCS#12 by node-forge).
import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface Issued {
  certPem: string;
  keyPem: string;
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
}

function keyPair() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  return { keyPem, key, publicKey };
}

function baseCert(cn: string, publicKey: forge.pki.PublicKey, days = 2) {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = '01' + randomBytes(8).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: cn }]);
  return cert;
}

export function createCa(cn: string): Issued {
  const { keyPem, key, publicKey } = keyPair();
  const cert = baseCert(cn, publicKey);
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem, cert, key };
}

export function issue(
  ca: Issued,
  opts: { cn: string; dns?: string[]; ips?: string[]; client?: boolean; organization?: string },
): Issued {
  const { keyPem, key, publicKey } = keyPair();
  const cert = baseCert(opts.cn, publicKey);
  if (opts.organization) cert.subject.addField({ name: 'organizationName', value: opts.organization });
  cert.setIssuer(ca.cert.subject.attributes);
  const altNames = [
    ...(opts.dns ?? []).map((value) => ({ type: 2, value })),
    ...(opts.ips ?? []).map((ip) => ({ type: 7, ip })),
  ];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: !opts.client, clientAuth: !!opts.client },
    ...(altNames.length ? [{ name: 'subjectAltName', altNames }] : []),
  ]);
  cert.sign(ca.key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem, cert, key };
}

/** The key as encrypted PKCS#8 PEM (or legacy encrypted PKCS#1 with `legacy`). */
export function encryptKey(keyPem: string, passphrase: string, legacy = false): string {
  const key = createPrivateKey(keyPem);
  return key
    .export(
      legacy
        ? { type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase }
        : { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase },
    )
    .toString();
}

/** A PKCS#12 file: a key with its chain, or (key null) only trusted certificates. */
export function pkcs12(
  key: forge.pki.rsa.PrivateKey | null,
  certs: forge.pki.Certificate[],
  passphrase: string,
): Buffer {
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, certs, passphrase, { algorithm: '3des' });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}
